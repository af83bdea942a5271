//! A byte string that stores up to 22 bytes inline and longer ones on the heap, in 24
//! bytes either way. Most keys and string values are short, so this saves one
//! allocation (and its allocator overhead) per key.

use std::fmt;

const INLINE_BYTES_MAX: usize = 22;

#[derive(Clone, PartialEq, Eq)]
pub enum SmallBytes {
    Inline {
        len: u8,
        data: [u8; INLINE_BYTES_MAX],
    },
    Heap(Box<[u8]>),
}

impl SmallBytes {
    pub fn new(bytes: &[u8]) -> Self {
        if bytes.len() <= INLINE_BYTES_MAX {
            let mut data = [0u8; INLINE_BYTES_MAX];
            data[..bytes.len()].copy_from_slice(bytes);
            SmallBytes::Inline {
                len: bytes.len() as u8,
                data,
            }
        } else {
            SmallBytes::Heap(bytes.into())
        }
    }

    pub fn from_vec(bytes: Vec<u8>) -> Self {
        if bytes.len() <= INLINE_BYTES_MAX {
            Self::new(&bytes)
        } else {
            SmallBytes::Heap(bytes.into_boxed_slice())
        }
    }

    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match self {
            SmallBytes::Inline { len, data } => &data[..*len as usize],
            SmallBytes::Heap(b) => b,
        }
    }

    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes this value owns beyond its own 24 bytes.
    pub fn heap_bytes(&self) -> usize {
        match self {
            SmallBytes::Inline { .. } => 0,
            SmallBytes::Heap(b) => b.len(),
        }
    }
}

impl std::ops::Deref for SmallBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl fmt::Debug for SmallBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_strings_stay_inline_and_long_ones_go_to_the_heap() {
        assert!(matches!(
            SmallBytes::new(b"key:123"),
            SmallBytes::Inline { .. }
        ));
        let long = [b'x'; 23];
        assert!(matches!(SmallBytes::new(&long), SmallBytes::Heap(_)));
        assert_eq!(SmallBytes::new(&long).as_slice(), &long[..]);
        assert_eq!(std::mem::size_of::<SmallBytes>(), 24);
    }
}

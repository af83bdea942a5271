//! A global allocator that counts allocated bytes for INFO's `used_memory`. It wraps
//! the system allocator and counts what glibc's malloc really hands out: a chunk of
//! at least 32 bytes, 16-byte aligned, with 8 bytes of header, so a request of
//! `size` bytes uses `max(24, round_up(size + 8, 16) - 8)`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes in use. Ember allocates from one thread, so a relaxed load and store (no
/// locked read-modify-write) keeps the count exact at the cost of a plain add.
static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

/// The smallest usable size glibc returns.
const MALLOC_USABLE_MIN: usize = 24;
const MALLOC_HEADER_BYTES: usize = 8;
const MALLOC_ALIGN: usize = 16;

pub struct Counting;

#[inline]
fn usable(size: usize) -> usize {
    let chunk = (size + MALLOC_HEADER_BYTES + MALLOC_ALIGN - 1) & !(MALLOC_ALIGN - 1);
    (chunk - MALLOC_HEADER_BYTES).max(MALLOC_USABLE_MIN)
}

#[inline]
fn add(n: usize) {
    ALLOCATED.store(
        ALLOCATED.load(Ordering::Relaxed).wrapping_add(n),
        Ordering::Relaxed,
    );
}

#[inline]
fn sub(n: usize) {
    ALLOCATED.store(
        ALLOCATED.load(Ordering::Relaxed).wrapping_sub(n),
        Ordering::Relaxed,
    );
}

/// The node's memory probe.
pub fn allocated_bytes() -> usize {
    ALLOCATED.load(Ordering::Relaxed)
}

// SAFETY: every call forwards to `System` with the caller's arguments unchanged; the
// counter is bookkeeping only.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            add(usable(layout.size()));
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            add(usable(layout.size()));
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        sub(usable(layout.size()));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            sub(usable(layout.size()));
            add(usable(new_size));
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usable_size_follows_glibc_chunks() {
        assert_eq!(usable(0), 24);
        assert_eq!(usable(1), 24);
        assert_eq!(usable(24), 24);
        assert_eq!(usable(25), 40);
        assert_eq!(usable(40), 40);
        assert_eq!(usable(41), 56);
        assert_eq!(usable(1000), 1000);
    }
}

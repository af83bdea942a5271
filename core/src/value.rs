//! What a key holds. Strings come in Redis's three encodings so that `OBJECT ENCODING`
//! answers what Redis answers; collections join as their issues land, each boxed so a
//! value stays small.

use crate::types::{Hash, List, Set, Stream, ZSet};
use crate::util::num::{i64_digits, parse_i64};
use crate::util::smallbytes::SmallBytes;

/// Longest string Redis stores as "embstr" (OBJ_ENCODING_EMBSTR_SIZE_LIMIT).
pub const EMBSTR_BYTES_MAX: usize = 44;

/// Longest string Redis tries to turn into an integer.
const INT_CANDIDATE_BYTES_MAX: usize = 20;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string that is the canonical decimal form of an i64 (encoding "int").
    Int(i64),
    /// An immutable string as created from a request argument ("embstr" up to 44
    /// bytes, "raw" beyond).
    Str(SmallBytes),
    /// A string that has been modified in place (APPEND, SETRANGE): always "raw", and
    /// with spare capacity so repeated appends are amortised O(1) as with Redis's sds.
    /// Boxed so that a `Value` stays 24 bytes (an entry then fits glibc's 80-byte chunk).
    Raw(Box<Vec<u8>>),
    List(Box<List>),
    Hash(Box<Hash>),
    Set(Box<Set>),
    ZSet(Box<ZSet>),
    Stream(Box<Stream>),
}

/// The type names TYPE and SCAN TYPE use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    String,
    List,
    Set,
    ZSet,
    Hash,
    Stream,
}

impl ValueType {
    pub const ALL: [ValueType; 6] = [
        ValueType::String,
        ValueType::List,
        ValueType::Set,
        ValueType::ZSet,
        ValueType::Hash,
        ValueType::Stream,
    ];

    /// The name TYPE replies and SCAN TYPE accepts.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::List => "list",
            ValueType::Set => "set",
            ValueType::ZSet => "zset",
            ValueType::Hash => "hash",
            ValueType::Stream => "stream",
        }
    }

    pub fn from_name(name: &[u8]) -> Option<ValueType> {
        Self::ALL
            .into_iter()
            .find(|t| name.eq_ignore_ascii_case(t.name().as_bytes()))
    }
}

impl Value {
    /// A string value from client bytes, encoded as Redis's tryObjectEncoding would.
    pub fn from_bytes(bytes: &[u8]) -> Value {
        if bytes.len() <= INT_CANDIDATE_BYTES_MAX {
            if let Some(n) = parse_i64(bytes) {
                return Value::Int(n);
            }
        }
        if bytes.len() <= EMBSTR_BYTES_MAX {
            Value::Str(SmallBytes::new(bytes))
        } else {
            Value::Raw(Box::new(bytes.to_vec()))
        }
    }

    pub fn value_type(&self) -> ValueType {
        match self {
            Value::Int(_) | Value::Str(_) | Value::Raw(_) => ValueType::String,
            Value::List(_) => ValueType::List,
            Value::Hash(_) => ValueType::Hash,
            Value::Set(_) => ValueType::Set,
            Value::ZSet(_) => ValueType::ZSet,
            Value::Stream(_) => ValueType::Stream,
        }
    }

    /// `OBJECT ENCODING`'s answer.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Str(s) if s.len() <= EMBSTR_BYTES_MAX => "embstr",
            Value::Str(_) | Value::Raw(_) => "raw",
            Value::List(l) => l.encoding_name(),
            Value::Hash(h) => h.encoding_name(),
            Value::Set(s) => s.encoding_name(),
            Value::ZSet(z) => z.encoding_name(),
            Value::Stream(_) => "stream",
        }
    }

    /// The string's bytes, formatting an integer into `scratch` when needed.
    /// `None` if the value is not a string.
    pub fn as_string_bytes<'a>(&'a self, scratch: &'a mut [u8; 20]) -> Option<&'a [u8]> {
        match self {
            Value::Int(n) => Some(i64_digits(*n, scratch)),
            Value::Str(s) => Some(s.as_slice()),
            Value::Raw(v) => Some(v.as_slice()),
            _ => None,
        }
    }

    /// Turns a string value into its mutable raw form (Redis's dbUnshareStringValue).
    pub fn make_raw(&mut self) -> Option<&mut Vec<u8>> {
        let bytes = match self {
            Value::Raw(v) => return Some(v),
            Value::Int(n) => i64_digits(*n, &mut [0u8; 20]).to_vec(),
            Value::Str(s) => s.to_vec(),
            _ => return None,
        };
        *self = Value::Raw(Box::new(bytes));
        match self {
            Value::Raw(v) => Some(v),
            _ => None,
        }
    }

    /// Bytes this value owns outside the entry, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Value::Int(_) => 0,
            Value::Str(s) => s.heap_bytes(),
            Value::Raw(v) => std::mem::size_of::<Vec<u8>>() + v.capacity(),
            // Collections account for themselves when they are built.
            Value::List(_) | Value::Hash(_) | Value::Set(_) | Value::ZSet(_) | Value::Stream(_) => {
                0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_follow_redis_thresholds() {
        assert_eq!(Value::from_bytes(b"12345").encoding_name(), "int");
        assert_eq!(Value::from_bytes(b"012").encoding_name(), "embstr");
        assert_eq!(Value::from_bytes(&[b'a'; 44]).encoding_name(), "embstr");
        assert_eq!(Value::from_bytes(&[b'a'; 45]).encoding_name(), "raw");
    }

    #[test]
    fn a_value_and_an_entry_stay_small() {
        assert_eq!(std::mem::size_of::<Value>(), 24);
    }

    #[test]
    fn making_a_value_raw_keeps_its_bytes() {
        let mut v = Value::from_bytes(b"-17");
        assert_eq!(v.make_raw().map(|b| b.clone()), Some(b"-17".to_vec()));
        assert_eq!(v.encoding_name(), "raw");
    }
}

//! Sorted sets: a listpack while small, a skiplist plus hash table beyond zset-max-listpack-entries/value.
//!
//! Placeholder: the collections issue fills this in.

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ZSet {}

impl ZSet {
    pub fn len(&self) -> usize {
        0
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `OBJECT ENCODING`'s answer.
    pub fn encoding_name(&self) -> &'static str {
        "listpack"
    }
}

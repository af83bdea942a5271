//! Hashes: a listpack while small, a hash table beyond hash-max-listpack-entries/value.
//!
//! Placeholder: the collections issue fills this in.

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Hash {}

impl Hash {
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

//! Sets: an intset while all members are integers and few, a hash table otherwise.
//!
//! Placeholder: the collections issue fills this in.

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Set {}

impl Set {
    pub fn len(&self) -> usize {
        0
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `OBJECT ENCODING`'s answer.
    pub fn encoding_name(&self) -> &'static str {
        "intset"
    }
}

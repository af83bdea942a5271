//! Lists: a listpack while small, a quicklist of listpacks beyond list-max-listpack-size.
//!
//! Placeholder: the collections issue fills this in.

#[derive(Debug, Clone, PartialEq, Default)]
pub struct List {}

impl List {
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

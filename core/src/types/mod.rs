//! The collection types a key can hold, each with Redis's compact encoding while small
//! and its big encoding past the configured thresholds.

pub mod hash;
pub mod hll;
pub mod intset;
pub mod list;
pub mod set;
pub mod skiplist;
pub mod stream;
pub mod zset;

pub use hash::Hash;
pub use list::List;
pub use set::Set;
pub use stream::Stream;
pub use zset::ZSet;

//! Small pure helpers with Redis's exact semantics: glob matching, number parsing and
//! formatting, long double arithmetic, compact byte strings.

pub mod geohash;
pub mod glob;
pub mod longdouble;
pub mod num;
pub mod sha1;
pub mod smallbytes;

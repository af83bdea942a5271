//! Placeholder: rows and handlers of this family are being written.

use super::CommandSpec;

pub static COMMANDS: &[CommandSpec] = &[];

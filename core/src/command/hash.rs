//! Placeholder: this family's rows and handlers are being written (collections issue).

use super::CommandSpec;

pub static COMMANDS: &[CommandSpec] = &[];

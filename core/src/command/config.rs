//! Placeholder: CONFIG GET/SET/RESETSTAT/REWRITE are being written.

use super::CommandSpec;

pub static COMMANDS: &[CommandSpec] = &[];

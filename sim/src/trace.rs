//! The run's trace: every event folded into a 64-bit hash (FNV-1a, stable across
//! builds and platforms) and, with `--trace`, printed as it happens. Two runs of one
//! seed must end with the same hash.

use std::fmt::{self, Write as _};

use ember_core::Input;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

pub struct Trace {
    hash: u64,
    print: bool,
    line: String,
}

impl Trace {
    pub fn new(print: bool) -> Trace {
        Trace {
            hash: FNV_OFFSET,
            print,
            line: String::new(),
        }
    }

    pub fn hash(&self) -> u64 {
        self.hash
    }

    fn mix(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.hash = (self.hash ^ u64::from(b)).wrapping_mul(FNV_PRIME);
        }
    }

    /// Records one event described by `what` at virtual time `vt` (us).
    pub fn event(&mut self, vt: u64, what: fmt::Arguments<'_>) {
        self.line.clear();
        let ms = vt / 1000;
        let _ = write!(
            self.line,
            "{:>6}.{:03}.{:03} {what}",
            ms / 1000,
            ms % 1000,
            vt % 1000
        );
        let line = std::mem::take(&mut self.line);
        self.mix(line.as_bytes());
        if self.print {
            println!("{line}");
        }
        self.line = line;
    }

    /// Records an input handed to node `n` at its clock `now`.
    pub fn input(&mut self, vt: u64, n: usize, now: u64, input: &Input) {
        match input {
            Input::Received { conn, bytes } => {
                self.mix(bytes);
                let shown: String = bytes.escape_ascii().to_string().chars().take(120).collect();
                self.event(vt, format_args!("n{n}@{now} <- c#{conn} {shown}"));
            }
            Input::Tick => self.mix(&now.to_le_bytes()),
            other => self.event(vt, format_args!("n{n}@{now} <- {other:?}")),
        }
    }
}

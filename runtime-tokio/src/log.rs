//! Log lines in Redis's format: `pid:role dd Mon yyyy HH:MM:SS.mmm <level> message`,
//! written to stdout or to the `logfile`, one flushed line at a time as Redis does.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use ember_core::LogLevel;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Where log lines go.
pub enum Sink {
    Stdout,
    File(File),
}

pub struct Logger {
    sink: Sink,
    pid: u32,
    /// `M` for a master, as Redis prints; replicas come later.
    role: char,
}

impl Logger {
    pub fn stdout() -> Self {
        Logger {
            sink: Sink::Stdout,
            pid: std::process::id(),
            role: 'M',
        }
    }

    /// Appends to `path` (Redis opens the logfile in append mode per line).
    pub fn file(path: &str) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Logger {
            sink: Sink::File(file),
            pid: std::process::id(),
            role: 'M',
        })
    }

    /// `C` before the server is set up (as Redis prints while loading its config),
    /// `M` for a master.
    pub fn set_role(&mut self, role: char) {
        self.role = role;
    }

    pub fn log(&mut self, level: LogLevel, msg: &str) {
        let line = format!(
            "{}:{} {} {} {}\n",
            self.pid,
            self.role,
            timestamp(SystemTime::now()),
            level_char(level),
            msg
        );
        // A log that cannot be written is not worth stopping the server for.
        let _ = match &mut self.sink {
            Sink::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(line.as_bytes()).and_then(|()| out.flush())
            }
            Sink::File(file) => file.write_all(line.as_bytes()),
        };
    }
}

/// Redis's level marks: debug `.`, verbose `-`, notice `*`, warning `#`.
pub fn level_char(level: LogLevel) -> char {
    match level {
        LogLevel::Debug => '.',
        LogLevel::Verbose => '-',
        LogLevel::Notice => '*',
        LogLevel::Warning => '#',
    }
}

/// `22 Nov 2026 02:37:25.123` in local time, as Redis's `%d %b %Y %H:%M:%S.%03d`.
pub fn timestamp(at: SystemTime) -> String {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() as libc::time_t;
    let millis = since.subsec_millis();
    // SAFETY: localtime_r only writes into the tm we own; a zeroed tm is a valid value.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&secs, &mut tm);
        tm
    };
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        tm.tm_mday,
        MONTHS[tm.tm_mon.clamp(0, 11) as usize],
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        millis
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_has_redis_shape() {
        let text = timestamp(UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_123));
        let parts: Vec<&str> = text.split(' ').collect();
        assert_eq!(parts.len(), 4, "{text}");
        assert!(parts[3].ends_with(".123"), "{text}");
        assert!(MONTHS.contains(&parts[1]), "{text}");
    }
}

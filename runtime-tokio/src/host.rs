//! The host side of configuration: files, directories and the error texts Redis
//! prints for them (C's strerror, without Rust's "(os error N)" suffix).

use std::ffi::CStr;
use std::io;
use std::path::Path;

use ember_core::config_table::LoadHost;
use ember_core::Config;

/// The system's message for an I/O error, as C's strerror prints it.
pub fn strerror(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => strerror_code(code),
        None => e.to_string(),
    }
}

fn strerror_code(code: i32) -> String {
    // SAFETY: strerror returns a pointer to a NUL-terminated static or thread-local
    // buffer that stays valid until the next call on this thread; we copy it at once.
    unsafe {
        let p = libc::strerror(code);
        if p.is_null() {
            return format!("Unknown error {code}");
        }
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

/// The working directory as an absolute path (CONFIG GET dir).
pub fn current_dir() -> String {
    std::env::current_dir()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `path` made absolute against the current directory.
pub fn absolute_path(path: &str) -> String {
    absolute_path_from(path, None)
}

/// `path` made absolute against `base` (or the current directory).
pub fn absolute_path_from(path: &str, base: Option<&Path>) -> String {
    let p = Path::new(path);
    if p.is_absolute() {
        return path.to_string();
    }
    let base = base
        .map(Path::to_path_buf)
        .or_else(|| std::env::current_dir().ok());
    match base {
        Some(b) => b.join(p).to_string_lossy().into_owned(),
        None => path.to_string(),
    }
}

/// The config hook for CONFIG SET dir.
pub fn chdir(path: &str) -> Result<String, String> {
    std::env::set_current_dir(path).map_err(|e| strerror(&e))?;
    Ok(current_dir())
}

/// The config hook for CONFIG REWRITE: rewrites the file the server started from,
/// keeping its comments and layout, through a temporary file and a rename.
pub fn rewrite(config: &Config) -> Result<(), String> {
    let Some(path) = config.config_file.as_deref() else {
        return Err("The server is running without a config file".into());
    };
    let old = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(strerror(&e)),
    };
    let content = ember_core::config_table::rewrite(&old, config);
    let tmp = format!("{path}.tmp-{}", std::process::id());
    let written = std::fs::write(&tmp, content.as_bytes())
        .and_then(|()| std::fs::File::open(&tmp).and_then(|f| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        strerror(&e)
    })
}

/// File descriptors Redis keeps for itself beyond one per client
/// (CONFIG_MIN_RESERVED_FDS).
const RESERVED_FDS: u64 = 32;

/// Raises the open-files limit so `maxclients` clients fit, as Redis's
/// adjustOpenFilesLimit does. `Err` carries the number of clients that fit.
pub fn adjust_open_files(maxclients: u32) -> Result<(), u32> {
    let wanted = u64::from(maxclients) + RESERVED_FDS;
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the rlimit we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Ok(());
    }
    let current: u64 = limit.rlim_cur;
    if current >= wanted {
        return Ok(());
    }
    // Try the wanted limit, then smaller ones, as Redis does.
    let mut best = wanted;
    while best > current {
        let attempt = libc::rlimit {
            rlim_cur: best as libc::rlim_t,
            rlim_max: (best as libc::rlim_t).max(limit.rlim_max),
        };
        // SAFETY: setrlimit reads the rlimit we own.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &attempt) } == 0 {
            break;
        }
        best = best.saturating_sub(16);
    }
    let reached = best.max(current);
    if reached >= wanted {
        Ok(())
    } else {
        Err(reached.saturating_sub(RESERVED_FDS).max(1) as u32)
    }
}

/// The config hook for CONFIG SET maxclients.
pub fn maxclients(wanted: u32) -> Result<(), u32> {
    adjust_open_files(wanted)
}

/// The files matching a shell wildcard pattern, sorted (C's glob).
fn glob(pattern: &str) -> Vec<String> {
    let Ok(c_pattern) = std::ffi::CString::new(pattern) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    // SAFETY: glob fills the zeroed glob_t we own; we read gl_pathc entries of
    // gl_pathv while it is alive, then release it with globfree.
    unsafe {
        let mut g: libc::glob_t = std::mem::zeroed();
        if libc::glob(c_pattern.as_ptr(), 0, None, &mut g) == 0 {
            for i in 0..g.gl_pathc {
                let p = *g.gl_pathv.add(i);
                if !p.is_null() {
                    found.push(CStr::from_ptr(p).to_string_lossy().into_owned());
                }
            }
        }
        libc::globfree(&mut g);
    }
    found
}

/// Loading with the real file system.
pub struct FsHost;

impl LoadHost for FsHost {
    fn chdir(&mut self, path: &str) -> Result<(), String> {
        std::env::set_current_dir(path).map_err(|e| strerror(&e))
    }

    /// A path with wildcards includes every match in order, and nothing when there
    /// is none (so an empty conf.d works), as Redis does.
    fn include(&mut self, path: &str) -> Result<String, String> {
        if !path.contains(['*', '?', '[']) {
            return std::fs::read_to_string(path).map_err(|e| strerror(&e));
        }
        let mut text = String::new();
        for file in glob(path) {
            text.push_str(&std::fs::read_to_string(&file).map_err(|e| strerror(&e))?);
        }
        Ok(text)
    }

    fn check_logfile(&mut self, path: &str) -> Result<(), String> {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map(drop)
            .map_err(|e| strerror(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strerror_has_no_rust_suffix() {
        let e = io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(strerror(&e), "No such file or directory");
    }

    #[test]
    fn wildcard_includes_read_every_match_and_allow_none() {
        let dir = std::env::temp_dir().join(format!("ember-glob-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.conf"), "hz 11\n").unwrap();
        std::fs::write(dir.join("b.conf"), "port 7001\n").unwrap();
        let pattern = format!("{}/*.conf", dir.display());
        assert_eq!(FsHost.include(&pattern).unwrap(), "hz 11\nport 7001\n");
        let none = format!("{}/*.missing", dir.display());
        assert_eq!(FsHost.include(&none).unwrap(), "");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn relative_paths_become_absolute() {
        assert_eq!(absolute_path_from("/a/b", None), "/a/b");
        assert_eq!(
            absolute_path_from("c.conf", Some(Path::new("/x"))),
            "/x/c.conf"
        );
    }
}

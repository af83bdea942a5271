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

/// Loading with the real file system.
pub struct FsHost;

impl LoadHost for FsHost {
    fn chdir(&mut self, path: &str) -> Result<(), String> {
        std::env::set_current_dir(path).map_err(|e| strerror(&e))
    }

    fn include(&mut self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(path).map_err(|e| strerror(&e))
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
    fn relative_paths_become_absolute() {
        assert_eq!(absolute_path_from("/a/b", None), "/a/b");
        assert_eq!(
            absolute_path_from("c.conf", Some(Path::new("/x"))),
            "/x/c.conf"
        );
    }
}

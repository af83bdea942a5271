//! `ember-server --check-aof [--fix] FILE` (also run when the binary is called
//! `redis-check-aof` or `ember-check-aof`): redis-check-aof 7.0's check of an AOF.
//!
//! FILE is a manifest (`*.manifest`: every base and incr file it lists is checked in
//! order), an AOF directory (Ember's addition: its manifest is used), or a single
//! old-style file, with or without an RDB preamble. The report has redis-check-aof's
//! lines: the RDB check of a preamble or RDB base (as `--check-rdb` prints it),
//! then `AOF analyzed: filename=..., size=..., ok_up_to=..., ok_up_to_line=...,
//! diff=...` for each file with the first error before it (`0x<offset>: ...`), and
//! the verdict. With `--fix` the last file is cut at `ok_up_to` after a `y` on
//! stdin; a bad file that is not the last cannot be fixed. Exit status 0 when every
//! file is valid (or was fixed), 1 otherwise.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use ember_core::aof::check;
use ember_core::aof::manifest::Manifest;

/// How checking one file ended, when it did not stop the check.
enum Checked {
    Valid,
    Empty,
    Truncated,
}

/// Exit status of a failed check.
const FAILED: u8 = 1;

pub fn main(program: &str, args: &[String]) -> u8 {
    let (fix, path) = match args {
        [path] => (false, path.as_str()),
        [flag, path] if flag == "--fix" => (true, path.as_str()),
        _ => {
            println!(
                "Usage: {program} [--fix|--truncate-to-timestamp $timestamp] <file.manifest|file.aof>"
            );
            return FAILED;
        }
    };
    let path = match manifest_in_dir(Path::new(path)) {
        Ok(path) => path,
        Err(message) => {
            println!("{message}");
            return FAILED;
        }
    };
    let result = if path.to_string_lossy().ends_with(".manifest") {
        check_multi_part(&path, fix)
    } else {
        check_old_style(&path, fix)
    };
    match result {
        Ok(()) => 0,
        Err(code) => code,
    }
}

/// A directory stands for the manifest inside it.
fn manifest_in_dir(path: &Path) -> Result<PathBuf, String> {
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    let entries = std::fs::read_dir(path)
        .map_err(|e| format!("Cannot open directory {}: {e}", path.display()))?;
    let mut manifests: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".manifest"))
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("temp-"))
        })
        .collect();
    manifests.sort();
    match manifests.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(format!("No AOF manifest found in {}", path.display())),
        _ => Err(format!("More than one AOF manifest in {}", path.display())),
    }
}

fn check_old_style(path: &Path, fix: bool) -> Result<(), u8> {
    println!("Start checking Old-Style AOF");
    let shown = path.display().to_string();
    let mut line = 1;
    let preamble = std::fs::read(path).is_ok_and(|b| b.starts_with(b"REDIS"));
    match check_single(&shown, path, true, fix, preamble, &mut line)? {
        Checked::Valid => println!("AOF {shown} is valid"),
        Checked::Empty => println!("AOF {shown} is empty"),
        Checked::Truncated => println!("Successfully truncated AOF {shown}"),
    }
    Ok(())
}

fn check_multi_part(manifest_path: &Path, fix: bool) -> Result<(), u8> {
    println!("Start checking Multi Part AOF");
    let dir = manifest_path.parent().unwrap_or(Path::new("."));
    let bytes = std::fs::read(manifest_path).map_err(|e| {
        println!(
            "Fatal error: can't open the AOF manifest file {} for reading: {e}",
            manifest_path.display()
        );
        FAILED
    })?;
    let manifest = Manifest::parse(&bytes).map_err(|e| {
        for line in e.log_lines() {
            println!("{line}");
        }
        FAILED
    })?;
    let files = manifest.files_to_load();
    let mut line = 1;
    for (i, file) in files.iter().enumerate() {
        let last = i + 1 == files.len();
        let path = dir.join(&file.name);
        let base = i == 0 && manifest.base.is_some();
        if base {
            let rdb = std::fs::read(&path).is_ok_and(|b| b.starts_with(b"REDIS"));
            let format = if rdb { "RDB" } else { "RESP" };
            println!("Start to check BASE AOF ({format} format).");
        } else if i == usize::from(manifest.base.is_some()) {
            println!("Start to check INCR files.");
        }
        let kind = if base { "BASE AOF" } else { "INCR AOF" };
        // Only a base may be an RDB, as redis-check-aof reads them.
        let preamble = base && std::fs::read(&path).is_ok_and(|b| b.starts_with(b"REDIS"));
        match check_single(&file.name, &path, last, fix, preamble, &mut line)? {
            Checked::Valid => println!("{kind} {} is valid", file.name),
            Checked::Empty => println!("{kind} {} is empty", file.name),
            Checked::Truncated => println!("Successfully truncated AOF {}", file.name),
        }
    }
    println!("All AOF files and manifest are valid");
    Ok(())
}

/// checkSingleAof: an RDB preamble first if there is one, then the commands.
fn check_single(
    name: &str,
    path: &Path,
    last: bool,
    fix: bool,
    preamble: bool,
    line: &mut u64,
) -> Result<Checked, u8> {
    let bytes = std::fs::read(path).map_err(|e| {
        println!("Cannot open file {}: {e}, aborting...", path.display());
        FAILED
    })?;
    if bytes.is_empty() {
        return Ok(Checked::Empty);
    }
    let start = if preamble {
        check_preamble(name, &bytes)?
    } else {
        0
    };
    let shown = path.display().to_string();
    let processed = check::process(&bytes, start, line, &shown);
    if processed.format_error {
        println!("AOF {shown} format error");
    }
    if let Some(error) = &processed.error {
        println!("{error}");
    }
    let (size, pos) = (bytes.len(), processed.ok_up_to);
    let diff = size - pos;
    println!(
        "AOF analyzed: filename={name}, size={size}, ok_up_to={pos}, ok_up_to_line={line}, diff={diff}"
    );
    if diff == 0 {
        return Ok(Checked::Valid);
    }
    if !fix {
        println!("AOF {name} is not valid. Use the --fix option to try fixing it.");
        return Err(FAILED);
    }
    if !last {
        println!("Failed to truncate AOF {name} because it is not the last file");
        return Err(FAILED);
    }
    println!(
        "This will shrink the AOF {name} from {size} bytes, with {diff} bytes, to {pos} bytes"
    );
    print!("Continue? [y/N]: ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if !answer.to_ascii_lowercase().starts_with('y') {
        println!("Aborting...");
        return Err(FAILED);
    }
    let cut = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|f| f.set_len(pos as u64));
    if cut.is_err() {
        println!("Failed to truncate AOF {name}");
        return Err(FAILED);
    }
    Ok(Checked::Truncated)
}

/// The RDB part, reported as redis-check-rdb does; returns where the commands start.
fn check_preamble(name: &str, bytes: &[u8]) -> Result<usize, u8> {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let (report, verdict) = crate::check_rdb::check_bytes(name, bytes, now_ms);
    print!("{report}");
    let end = ember_core::rdb::load(bytes).map(|c| c.end_offset);
    match (verdict, end) {
        (crate::check_rdb::Verdict::Ok, Ok(end)) => {
            println!("RDB preamble is OK, proceeding with AOF tail...");
            Ok(end)
        }
        _ => {
            println!("RDB preamble of AOF file is not sane, aborting.");
            Err(FAILED)
        }
    }
}

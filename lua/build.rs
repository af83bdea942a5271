//! Builds Lua 5.1.5 with Ember's patches: copies the sources of the `lua-src`
//! crate (found with `cargo metadata`, or `EMBER_LUA_SOURCE_DIR`), applies
//! `patches/*.patch` in name order (unified diffs; a hunk that does not match
//! exactly once fails the build), compiles them with `cc` and links the archive
//! whole, so mlua (in `module` mode, linking nothing itself) finds every symbol.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The lua-src release whose Lua 5.1.5 the patches are written against.
const LUA_SRC_PACKAGE: &str = "lua-src";
const LUA_SRC_VERSION: &str = "547.0.0";
const LUA_SUBDIR: &str = "lua-5.1.5";
const LIB_NAME: &str = "ember_lua51";

/// The C files of the library (lua-src's list for 5.1: everything but the
/// `lua` and `luac` programs).
const SOURCES: &[&str] = &[
    "lapi.c",
    "lauxlib.c",
    "lbaselib.c",
    "lcode.c",
    "ldblib.c",
    "ldebug.c",
    "ldo.c",
    "ldump.c",
    "lfunc.c",
    "lgc.c",
    "linit.c",
    "liolib.c",
    "llex.c",
    "lmathlib.c",
    "lmem.c",
    "loadlib.c",
    "lobject.c",
    "lopcodes.c",
    "loslib.c",
    "lparser.c",
    "lstate.c",
    "lstring.c",
    "lstrlib.c",
    "ltable.c",
    "ltablib.c",
    "ltm.c",
    "lundump.c",
    "lvm.c",
    "lzio.c",
];

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let patches_dir = manifest_dir.join("patches");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=patches");
    println!("cargo:rerun-if-env-changed=EMBER_LUA_SOURCE_DIR");

    let upstream = lua_sources(&manifest_dir);
    let src = out_dir.join("lua-5.1.5-ember");
    copy_sources(&upstream, &src);
    for patch in patch_files(&patches_dir) {
        println!("cargo:rerun-if-changed={}", patch.display());
        apply_patch(&patch, &src);
    }
    compile(&src, &out_dir);
}

/// Where lua-src's Lua 5.1.5 sources are.
fn lua_sources(manifest_dir: &Path) -> PathBuf {
    if let Some(dir) = env::var_os("EMBER_LUA_SOURCE_DIR") {
        return PathBuf::from(dir);
    }
    let package_dir = lua_src_package_dir(manifest_dir).unwrap_or_else(|why| {
        panic!(
            "cannot find the sources of {LUA_SRC_PACKAGE} {LUA_SRC_VERSION}: {why}; \
             set EMBER_LUA_SOURCE_DIR to its {LUA_SUBDIR} directory"
        )
    });
    package_dir.join(LUA_SUBDIR)
}

/// The directory of the pinned lua-src package, from `cargo metadata` (which
/// knows registries, vendoring and path overrides).
fn lua_src_package_dir(manifest_dir: &Path) -> Result<PathBuf, String> {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let target = env::var("TARGET").map_err(|_| "TARGET is not set".to_string())?;
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--filter-platform"])
        .arg(&target)
        .arg("--manifest-path")
        .arg(manifest_dir.join("Cargo.toml"))
        .output()
        .map_err(|e| format!("cargo metadata did not run: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let json = String::from_utf8(output.stdout).map_err(|e| e.to_string())?;
    manifest_path_of(&json, LUA_SRC_PACKAGE, LUA_SRC_VERSION)
        .and_then(|manifest| manifest.parent().map(Path::to_path_buf))
        .ok_or_else(|| "cargo metadata does not list it".to_string())
}

/// The `manifest_path` of a package in `cargo metadata` output. Cargo writes each
/// package object starting with `"name":...,"version":...`, and its
/// `manifest_path` before the next package begins.
fn manifest_path_of(json: &str, name: &str, version: &str) -> Option<PathBuf> {
    let start = format!("{{\"name\":\"{name}\",\"version\":\"{version}\"");
    let package = &json[json.find(&start)?..];
    let key = "\"manifest_path\":\"";
    let value = &package[package.find(key)? + key.len()..];
    let mut path = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(PathBuf::from(path)),
            '\\' => path.push(chars.next()?),
            c => path.push(c),
        }
    }
    None
}

fn copy_sources(from: &Path, to: &Path) {
    if to.exists() {
        fs::remove_dir_all(to).expect("remove old patched sources");
    }
    fs::create_dir_all(to).expect("create patched sources dir");
    let entries = fs::read_dir(from)
        .unwrap_or_else(|e| panic!("cannot read Lua sources at {}: {e}", from.display()));
    for entry in entries {
        let entry = entry.expect("read Lua sources");
        let path = entry.path();
        if path.is_file() {
            fs::copy(&path, to.join(entry.file_name())).expect("copy a Lua source");
        }
    }
}

fn patch_files(dir: &Path) -> Vec<PathBuf> {
    let mut patches: Vec<PathBuf> = fs::read_dir(dir)
        .expect("read patches/")
        .map(|e| e.expect("read patches/").path())
        .filter(|p| p.extension().is_some_and(|e| e == "patch"))
        .collect();
    patches.sort();
    patches
}

/// One hunk: the lines it expects (context and removed) and what replaces them.
struct Hunk {
    line: usize,
    old: Vec<String>,
    new: Vec<String>,
}

/// Applies a unified diff whose paths are relative to the Lua source directory
/// (`--- a/ldo.c`, `+++ b/ldo.c`).
fn apply_patch(patch: &Path, src: &Path) {
    let text = fs::read_to_string(patch).expect("read a patch");
    let name = patch.file_name().unwrap_or_default().to_string_lossy();
    for (file, hunks) in parse_patch(&text, &name) {
        let path = src.join(&file);
        let original =
            fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: cannot read {file}: {e}"));
        let mut lines: Vec<String> = original.lines().map(str::to_string).collect();
        for hunk in hunks.iter().rev() {
            let at = find_once(&lines, &hunk.old).unwrap_or_else(|why| {
                panic!(
                    "{name}: hunk at line {} of {file} does not apply: {why}",
                    hunk.line
                )
            });
            lines.splice(at..at + hunk.old.len(), hunk.new.iter().cloned());
        }
        let mut patched = lines.join("\n");
        patched.push('\n');
        fs::write(&path, patched).expect("write a patched source");
    }
}

fn parse_patch(text: &str, name: &str) -> Vec<(String, Vec<Hunk>)> {
    let mut files: Vec<(String, Vec<Hunk>)> = Vec::new();
    for line in text.lines() {
        if let Some(path) = line.strip_prefix("+++ b/") {
            files.push((path.trim().to_string(), Vec::new()));
        } else if line.starts_with("--- ") {
            continue;
        } else if let Some(header) = line.strip_prefix("@@ -") {
            let start = header
                .split([',', ' '])
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{name}: bad hunk header {line:?}"));
            let (_, hunks) = files
                .last_mut()
                .unwrap_or_else(|| panic!("{name}: hunk before a file header"));
            hunks.push(Hunk {
                line: start,
                old: Vec::new(),
                new: Vec::new(),
            });
        } else if let Some(hunk) = files.last_mut().and_then(|(_, h)| h.last_mut()) {
            match line.split_at(line.len().min(1)) {
                (" ", rest) | ("", rest) => {
                    hunk.old.push(rest.to_string());
                    hunk.new.push(rest.to_string());
                }
                ("-", rest) => hunk.old.push(rest.to_string()),
                ("+", rest) => hunk.new.push(rest.to_string()),
                ("\\", _) => {}
                _ => panic!("{name}: unexpected line in a hunk: {line:?}"),
            }
        }
    }
    files
}

/// The index where `needle` occurs in `lines`, if it occurs exactly once.
fn find_once(lines: &[String], needle: &[String]) -> Result<usize, String> {
    if needle.is_empty() {
        return Err("empty hunk".into());
    }
    let mut found = lines
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i);
    match (found.next(), found.next()) {
        (Some(at), None) => Ok(at),
        (None, _) => Err("its lines are not in the file".into()),
        (Some(_), Some(_)) => Err("its lines occur more than once".into()),
    }
}

fn compile(src: &Path, out_dir: &Path) {
    let lib_dir = out_dir.join("lib");
    fs::create_dir_all(&lib_dir).expect("create lib dir");
    let mut build = cc::Build::new();
    build
        .include(src)
        .warnings(false)
        // Optimised in every profile, as lua-src builds it: tests run scripts
        // too, and an unoptimised VM makes them crawl.
        .opt_level(2)
        .flag_if_supported("-fno-common")
        // POSIX facilities only: no dlopen (C modules can never be loaded) and
        // no readline (used by the `lua` program alone).
        .define("LUA_USE_POSIX", None)
        .out_dir(&lib_dir)
        .cargo_metadata(false);
    if env::var("PROFILE").as_deref() == Ok("debug") {
        build.define("LUA_USE_APICHECK", None);
    }
    for file in SOURCES {
        build.file(src.join(file));
    }
    build.compile(LIB_NAME);
    println!("cargo:rustc-link-search=native={}", lib_dir.display());
    // Whole and unbundled: mlua's objects, which reference Lua, may come after
    // this crate on the linker's command line.
    println!("cargo:rustc-link-lib=static:+whole-archive,-bundle={LIB_NAME}");
    println!("cargo:include={}", src.display());
}

//! Lua 5.1.5 as Ember runs it: the sources of the `lua-src` crate, compiled with
//! the patches in `patches/` (the fixes Redis carries in its own copy of Lua for
//! published CVEs), linked in place of mlua's vendored build.
//!
//! `ember-core` depends on `mlua` without `vendored` and on `mlua-sys` with
//! `module`, so mlua links no Lua of its own; this crate's build script compiles
//! the patched library and links it whole into whatever depends on it. The crate
//! has no Rust API: `ember-core` names it once (`use ember_lua as _;`) so that
//! it is linked.
//!
//! | patch | fixes |
//! |---|---|
//! | `0001` | CVE-2015-4335: precompiled chunks are never loaded; every chunk goes to the parser |
//! | `0002` | CVE-2025-46817: `unpack` counts its range without `int` overflow; `luaH_getnum` without `key - 1` overflow |
//! | `0003` | CVE-2025-46819: long-bracket levels counted in `size_t`; the lexer's first token initialised |
//! | `0004` | CVE-2025-49844: the chunk name stays reachable by the collector while the parser uses it |
//! | `0005` | (no CVE) strings hashed on every byte, as Redis's Lua does, so long keys with a common prefix do not collide |
//! | `0006` | (Ember's own) a thread with no function running (mlua's reference store) may hold more than 8000 values, and growing it never throws: mlua panicked once it held 8000 references |
//!
//! The remaining Lua CVEs Redis fixed are in its C libraries (`bit`, `cjson`,
//! `cmsgpack`, `struct`), which Ember implements in Rust (`ember-core`'s
//! `script/libs`), or in its scripting glue; their regression tests live in
//! `ember-core` (`script::cve_tests`).

#![forbid(unsafe_code)]

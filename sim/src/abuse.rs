//! Abusive requests (issue 14): the inputs of the abuse end-to-end test
//! (`tests/tests/abuse.rs`) that fit one simulated node and one reply per request:
//! counts, offsets and ranges at the edges of their types, patterns that backtrack,
//! Lua integer overflows and sandbox probes, crafted HyperLogLogs, DUMP payloads that
//! claim huge sizes, broken request headers, CLIENT REPLY OFF with SUBSCRIBE.
//!
//! The workload draws them as malformed requests in runs the reference model does not
//! check (their replies are Redis's business, not the model's); the checkers still hold
//! the node to never panicking, answering every request once faults stop, and sending
//! well-formed replies. Inputs that hang or crash the node today wait in
//! [`ABUSE_UNTIL_FIXED`]: one of them would stop the whole simulator.
//!
//! An argument is literal except for placeholders, expanded once per drawn input so
//! the same placeholder names the same key throughout: `{s}` `{l}` `{h}` `{t}` `{z}`
//! `{x}` a key of the workload's strings, lists, hashes, sets, sorted sets and streams,
//! `{block}` a blocking timeout in ms, and the generated payloads `{nested}` (`*?`
//! 1200 times, past Redis's nesting limit of 1000), `{a*b}` (`a*` 1000 times, then
//! `b`), `{long}` (2000 `a`s),
//! `{hll-xzero}` and `{hll-val}` (sparse HyperLogLogs whose runs pass the 16384
//! registers), and `{dump:NAME}` (a DUMP payload, [`dump_payload`]).

use std::collections::BTreeMap;

use crate::resp::encode_multibulk;
use crate::workload::{Request, RequestKind};

/// How the node answers an abusive input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One reply per command; the commands go as consecutive requests.
    Replies,
    /// One command that may block for `{block}` ms.
    Blocks,
    /// All commands go as one request, the last one QUIT (or, for raw bytes, broken
    /// framing): the node closes the connection after at most one reply.
    Closes,
}

/// What an abusive input sends.
#[derive(Debug, Clone, Copy)]
pub enum Wire {
    /// Commands whose arguments may hold placeholders.
    Commands(&'static [&'static [&'static str]]),
    /// Bytes as they are: broken framing, answered by a protocol error and a close.
    Raw(&'static [u8]),
}

/// One abusive input: its name (the CVE or issue first), what it sends, its shape.
#[derive(Debug, Clone, Copy)]
pub struct Abuse {
    pub name: &'static str,
    pub wire: Wire,
    pub shape: Shape,
}

const fn run(name: &'static str, commands: &'static [&'static [&'static str]]) -> Abuse {
    Abuse {
        name,
        wire: Wire::Commands(commands),
        shape: Shape::Replies,
    }
}

const fn shaped(
    name: &'static str,
    commands: &'static [&'static [&'static str]],
    shape: Shape,
) -> Abuse {
    Abuse {
        name,
        wire: Wire::Commands(commands),
        shape,
    }
}

const fn raw(name: &'static str, bytes: &'static [u8]) -> Abuse {
    Abuse {
        name,
        wire: Wire::Raw(bytes),
        shape: Shape::Closes,
    }
}

const I64_MIN: &str = "-9223372036854775808";
const I64_MAX: &str = "9223372036854775807";
const STREAM_ID_MAX: &str = "18446744073709551615-18446744073709551615";

/// The abusive inputs the workload draws.
pub const ABUSE: &[Abuse] = &[
    // Lua: integer overflows, the sandbox, the lexer, CRLF in replies.
    run("CVE-2025-46817 unpack over -2147483648..-2", &[&["EVAL", "return {unpack({1,2,3}, -2147483648, -2)}", "0"]]),
    run("CVE-2025-46817 unpack over -1..-2", &[&["EVAL", "return {unpack({1,2,3}, -1, -2)}", "0"]]),
    run("CVE-2025-46817 unpack over 1..1000000", &[&["EVAL", "return {unpack({1,2,3}, 1, 1000000)}", "0"]]),
    run("CVE-2025-46817 unpack's nils near INT_MIN", &[&["EVAL", "local n = select('#', unpack({1,2,3}, -2147483648, -2147483646)) return n", "0"]]),
    run("CVE-2024-31449 bit.tohex with INT_MIN digits", &[&["EVAL", "return bit.tohex(65535, -2147483648)", "0"]]),
    run("CVE-2025-46818 the string metatable", &[&["EVAL", "getmetatable('').__index = function() return 1 end", "0"]]),
    run("CVE-2025-46818 the nil metatable", &[&["EVAL", "getmetatable(nil).__index = function() return 1 end", "0"]]),
    run("CVE-2025-46818 setfenv", &[&["EVAL", "local f = function() return 1 end setfenv(f, {}) return 0", "0"]]),
    run("CVE-2024-46981 newproxy with __gc", &[&["EVAL", "local p = newproxy(true) getmetatable(p).__gc = function() end return 0", "0"], &["SCRIPT", "FLUSH"]]),
    run("CVE-2015-4335 loadstring of bytecode", &[&["EVAL", "return loadstring(string.dump(function() return 1 end))()", "0"]]),
    run("CVE-2025-67733 CRLF in redis.error_reply", &[&["EVAL", "return redis.error_reply('X\\r\\n+INJECTED')", "0"]]),
    run("CVE-2025-67733 CRLF in redis.status_reply", &[&["EVAL", "return redis.status_reply('X\\r\\n+INJECTED')", "0"]]),
    run("CVE-2025-67733 CRLF in error()", &[&["EVAL", "error(redis.error_reply('X\\r\\n+INJECTED'))", "0"]]),
    run("CVE-2025-46819 a 3000-'=' long bracket", &[&["EVAL", "local s = string.rep('=', 3000) return #loadstring('return [' .. s .. '[x]' .. s .. ']')()", "0"]]),
    run("CVE-2025-46819 a broken long bracket", &[&["EVAL", "local f, e = loadstring('return [==x') return e", "0"]]),
    run("CVE-2025-46819 an unterminated long string", &[&["EVAL", "local f, e = loadstring('return [==[abc') return e", "0"]]),
    run("CVE-2025-46819 a broken long comment", &[&["EVAL", "local f, e = loadstring('--[==x\\nreturn 1') return tostring(e)", "0"]]),
    run("CVE-2025-49844 chunk names collected while parsing", &[&["EVAL", "for i = 1, 20 do loadstring(string.rep('local a = \"' .. i .. '\" ', 50), 'chunk' .. string.rep('c', 100) .. i) collectgarbage('step') end return 1", "0"]]),
    run("CVE-2022-24834 cjson.encode of a sparse array", &[&["EVAL", "local t = {} t[1] = 1 t[1000000000] = 2 local ok, e = pcall(cjson.encode, t) return e", "0"]]),
    run("CVE-2020-14147 struct.pack of 'i999999999'", &[&["EVAL", "local ok, e = pcall(struct.pack, 'i999999999', 1) return e", "0"]]),
    run("CVE-2020-14147 struct.unpack of 'c2147483647'", &[&["EVAL", "local ok, e = pcall(struct.unpack, 'c2147483647', 'a') return e", "0"]]),
    run("CVE-2020-14147 struct.unpack at INT_MIN", &[&["EVAL", "local ok, e = pcall(struct.unpack, 'i4', 'abcd', -2147483648) return e", "0"]]),
    run("CVE-2018-11218 cmsgpack.unpack of 2000 nested arrays", &[&["EVAL", "local ok, e = pcall(cmsgpack.unpack, string.rep('\\145', 2000)) return tostring(e)", "0"]]),
    run("CVE-2018-11218 cmsgpack.unpack of a 4G-element array", &[&["EVAL", "local ok, e = pcall(cmsgpack.unpack, '\\221\\255\\255\\255\\255') return tostring(e)", "0"]]),
    run("CVE-2018-11218 cmsgpack.unpack_limit at INT_MIN", &[&["EVAL", "local ok, e = pcall(cmsgpack.unpack_limit, '\\1\\1', 2147483647, -2147483648) return tostring(e)", "0"]]),
    run("issue 14 FCALL with numkeys LONG_MAX", &[&["FCALL", "f", I64_MAX]]),
    // Counts near LONG_MIN for the random-member commands.
    run("CVE-2023-22458 ZRANDMEMBER LONG_MIN WITHSCORES", &[&["ZRANDMEMBER", "{z}", I64_MIN, "WITHSCORES"]]),
    run("CVE-2023-22458 ZRANDMEMBER -2^63+5808 WITHSCORES", &[&["ZRANDMEMBER", "{z}", "-9223372036854770000", "WITHSCORES"]]),
    run("CVE-2023-22458 ZRANDMEMBER LONG_MAX WITHSCORES", &[&["ZRANDMEMBER", "{z}", I64_MAX, "WITHSCORES"]]),
    run("CVE-2023-22458 HRANDFIELD LONG_MIN", &[&["HRANDFIELD", "{h}", I64_MIN]]),
    run("CVE-2023-22458 HRANDFIELD LONG_MIN WITHVALUES", &[&["HRANDFIELD", "{h}", I64_MIN, "WITHVALUES"]]),
    run("CVE-2023-22458 HRANDFIELD -2^63+5808 WITHVALUES", &[&["HRANDFIELD", "{h}", "-9223372036854770000", "WITHVALUES"]]),
    run("CVE-2023-25155 SRANDMEMBER LONG_MIN", &[&["SRANDMEMBER", "{t}", I64_MIN]]),
    run("CVE-2023-25155 SPOP LONG_MIN", &[&["SPOP", "{t}", I64_MIN]]),
    // Offsets and ranges.
    run("CVE-2022-35977 SETRANGE at LONG_MAX", &[&["SETRANGE", "{s}", I64_MAX, "x"]]),
    run("CVE-2022-35977 SETRANGE past 512 MiB", &[&["SETRANGE", "{s}", "536870911", "xx"]]),
    run("CVE-2022-35977 SETBIT at LONG_MAX", &[&["SETBIT", "{s}", I64_MAX, "1"]]),
    run("CVE-2022-35977 BITFIELD at #LONG_MAX", &[&["BITFIELD", "{s}", "SET", "u8", "#9223372036854775807", "1"]]),
    run("CVE-2022-35977 BITFIELD_RO at 4 Gibit", &[&["BITFIELD_RO", "{s}", "GET", "u8", "4294967295"]]),
    run("CVE-2022-35977 BITCOUNT, BITPOS, GETRANGE over i64", &[&["BITCOUNT", "{s}", I64_MIN, I64_MAX], &["BITPOS", "{s}", "1", I64_MIN, I64_MAX], &["GETRANGE", "{s}", I64_MIN, I64_MAX]]),
    run("CVE-2022-35977 SORT LIMIT over i64", &[&["SORT", "{l}", "LIMIT", I64_MIN, I64_MAX, "ALPHA"], &["SORT", "{l}", "LIMIT", "1", I64_MAX, "ALPHA"]]),
    run("CVE-2022-35951 XAUTOCLAIM COUNT LONG_MAX", &[&["XAUTOCLAIM", "{x}", "g", "c0", "0", "0-0", "COUNT", I64_MAX]]),
    run("CVE-2022-35951 XAUTOCLAIM COUNT 2^30", &[&["XAUTOCLAIM", "{x}", "g", "c0", "0", "0-0", "COUNT", "1073741824"]]),
    run("CVE-2023-28856 HINCRBYFLOAT nan and inf", &[&["HINCRBYFLOAT", "{h}", "m1", "nan"], &["HINCRBYFLOAT", "{h}", "m1", "inf"]]),
    run("CVE-2023-28425 MSETNX of one key twice", &[&["MSETNX", "{s}", "v1", "{s}", "v2"]]),
    run("issue 14 LPOS RANK LONG_MIN", &[&["LPOS", "{l}", "a", "RANK", I64_MIN], &["LRANGE", "{l}", I64_MIN, I64_MAX], &["LINDEX", "{l}", I64_MIN]]),
    run("issue 14 EXPIRE at LONG_MAX", &[&["EXPIRE", "{s}", I64_MAX], &["SET", "{s}", "v", "EX", I64_MAX], &["GETEX", "{s}", "EX", "9223372036854776"]]),
    run("CVE-2023-36824 numkeys LONG_MAX", &[&["ZUNIONSTORE", "{z}", I64_MAX, "a"], &["SINTERCARD", I64_MAX, "a"], &["LMPOP", I64_MAX, "a", "LEFT"], &["EVAL", "return 1", I64_MAX], &["COMMAND", "GETKEYS", "ZUNIONSTORE", "t", I64_MAX, "a"]]),
    run("issue 14 LMPOP and ZMPOP COUNT LONG_MAX", &[&["LMPOP", "1", "{l}", "LEFT", "COUNT", I64_MAX], &["ZMPOP", "1", "{z}", "MIN", "COUNT", I64_MAX]]),
    // Streams at the last possible ID.
    run("issue 14 XADD at the last possible ID", &[&["XADD", "{x}", STREAM_ID_MAX, "f", "v"], &["XADD", "{x}", "18446744073709551615-*", "f", "v"]]),
    run("CVE-2022-33105 XSETID to the last possible ID", &[&["XSETID", "{x}", STREAM_ID_MAX, "ENTRIESADDED", I64_MAX, "MAXDELETEDID", STREAM_ID_MAX]]),
    // Patterns that backtrack (CVE-2022-36021, CVE-2024-31228).
    run("CVE-2024-31228 KEYS *? x1200 against a 2000-byte key", &[&["SET", "{long}", "1"], &["KEYS", "{nested}"]]),
    run("CVE-2024-31228 SCAN MATCH *? x1200", &[&["SCAN", "0", "MATCH", "{nested}", "COUNT", "100"]]),
    run("CVE-2022-36021 KEYS a*a*...*b", &[&["KEYS", "{a*b}"]]),
    run("CVE-2024-31228 HSCAN MATCH *? x1200", &[&["HSCAN", "{h}", "0", "MATCH", "{nested}"]]),
    run("CVE-2024-31228 PSUBSCRIBE *? x1200", &[&["PSUBSCRIBE", "{nested}"], &["PUNSUBSCRIBE"]]),
    run("CVE-2024-31228 PUBSUB CHANNELS *? x1200", &[&["SUBSCRIBE", "{long}"], &["UNSUBSCRIBE"], &["PUBSUB", "CHANNELS", "{nested}"]]),
    // A limit raised to its maximum (not proto-max-bulk-len: the broken headers
    // below count on it).
    run("CVE-2021-32687 CONFIG SET set-max-intset-entries LONG_MAX", &[&["CONFIG", "SET", "set-max-intset-entries", I64_MAX], &["SADD", "{t}", "1", "2", "3"]]),
    // Crafted HyperLogLogs (CVE-2025-32023, CVE-2019-10192/10193); not PFDEBUG GETREG,
    // whose 16384 registers the simulator's decoder would re-read for every piece.
    run("CVE-2025-32023 a sparse HLL whose XZERO runs overflow", &[&["SET", "{s}", "{hll-xzero}"], &["PFCOUNT", "{s}", "{s}"], &["PFMERGE", "{s}", "{s}"], &["PFADD", "{s}", "a"]]),
    run("CVE-2019-10192 a sparse HLL whose VAL runs overflow", &[&["SET", "{s}", "{hll-val}"], &["PFCOUNT", "{s}", "{s}"], &["PFADD", "{s}", "a", "b"]]),
    // DUMP payloads claiming huge sizes, with a valid checksum (CVE-2026-25243).
    run("CVE-2026-25243 RESTORE a string of 2^64-9 bytes", &[&["RESTORE", "{s}", "0", "{dump:string-huge}", "REPLACE"]]),
    run("CVE-2026-25243 RESTORE a set of 2^63 members", &[&["RESTORE", "{t}", "0", "{dump:set-huge}", "REPLACE"]]),
    run("CVE-2026-25243 RESTORE a list of 2^63 elements", &[&["RESTORE", "{l}", "0", "{dump:list-huge}", "REPLACE"]]),
    run("CVE-2026-25243 RESTORE an LZF string inflating to 2^63", &[&["RESTORE", "{s}", "0", "{dump:lzf-huge}", "REPLACE"]]),
    run("CVE-2026-25243 RESTORE a zipmap with a 5-byte small length", &[&["RESTORE", "{h}", "0", "{dump:zipmap-small-field}", "REPLACE"]]),
    run("CVE-2026-25243 RESTORE without a checksum", &[&["RESTORE", "{s}", "0", "{dump:unchecked}", "REPLACE"]]),
    // A blocked XREADGROUP whose stream goes away.
    shaped("issue 14 XREADGROUP BLOCK", &[&["XREADGROUP", "GROUP", "g", "c0", "BLOCK", "{block}", "STREAMS", "{x}", ">"]], Shape::Blocks),
    run("issue 14 DEL of a stream", &[&["DEL", "{x}"]]),
    run("issue 14 SET over a stream", &[&["SET", "{x}", "v"]]),
    // CLIENT REPLY OFF, then SUBSCRIBE: Redis still sends the subscription.
    shaped("issue 14 CLIENT REPLY OFF then SUBSCRIBE", &[&["CLIENT", "REPLY", "OFF"], &["SUBSCRIBE", "ch"], &["QUIT"]], Shape::Closes),
    // Broken request headers (CVE-2021-32675, CVE-2021-32627).
    raw("CVE-2021-32675 a multibulk count of INT_MAX", b"*2147483647\r\n*1\r\n"),
    raw("CVE-2021-32675 a multibulk count past i64", b"*99999999999999999999\r\n"),
    raw("CVE-2021-32627 a bulk length of 2 GiB", b"*1\r\n$2147483648\r\n"),
    raw("CVE-2021-32627 a bulk length past 512 MiB", b"*1\r\n$536870913\r\n"),
    // Lua's unpack over ranges that overflowed int (patch 0002 of ember-lua).
    run(
        "CVE-2025-46817 unpack over the whole int range",
        &[&[
            "EVAL",
            "return unpack({1,2,3}, -2147483648, 2147483647)",
            "0",
        ]],
    ),
    run(
        "CVE-2025-46817 unpack over -2..INT_MAX",
        &[&["EVAL", "return {unpack({1,2,3}, -2, 2147483647)}", "0"]],
    ),
    run(
        "CVE-2025-46817 unpack over 0..INT_MAX",
        &[&["EVAL", "return {unpack({1,2,3}, 0, 2147483647)}", "0"]],
    ),
    // 2^63 repeated members: an error, or the connection closed at once (a
    // reply that must pass 64 MiB is refused before it is built).
    shaped(
        "CVE-2023-22458 ZRANDMEMBER -2^63+5808",
        &[&["ZRANDMEMBER", "{z}", "-9223372036854770000"]],
        Shape::Closes,
    ),
    shaped(
        "CVE-2023-22458 HRANDFIELD -2^63+5808",
        &[&["HRANDFIELD", "{h}", "-9223372036854770000"]],
        Shape::Closes,
    ),
    shaped(
        "CVE-2023-25155 SRANDMEMBER -2^63+5808",
        &[&["SRANDMEMBER", "{t}", "-9223372036854770000"]],
        Shape::Closes,
    ),
    run(
        "CVE-2023-22458 ZRANDMEMBER LONG_MIN",
        &[&["ZRANDMEMBER", "{z}", I64_MIN]],
    ),
    // Thousands of string arguments to one call (mlua's references; patch 0006).
    run(
        "CVE-2021-32626 redis.call with 7999 arguments",
        &[&[
            "EVAL",
            "local t = {} for i = 1, 7999 do t[i] = 'x' end return redis.call('DEL', unpack(t))",
            "0",
        ]],
    ),
    // A library whose top level never returns: FUNCTION LOAD's limit (by
    // instructions in the simulator, which gives no clock).
    run(
        "issue 14 FUNCTION LOAD of an endless loop",
        &[&[
            "FUNCTION",
            "LOAD",
            "REPLACE",
            "#!lua name=abuse\nwhile 1 do end",
        ]],
    ),
];

/// Abusive inputs that overflow a 2 MiB debug test thread today (the abuse e2e test lists
/// them failing). Move each into [`ABUSE`] once its fix lands; `cargo test -p ember-sim`
/// then runs it against a fresh node, and the swarm draws it.
pub const ABUSE_UNTIL_FIXED: &[Abuse] = &[
    // Stack overflow in a 2 MiB thread (a debug build's test thread): the decoder
    // recurses once per level up to its limit of 1000 (both ways).
    run("CVE-2022-24834 cjson.encode of 2000 nested tables", &[&["EVAL", "local t = {} local c = t for i = 1, 2000 do c[1] = {} c = c[1] end local ok, e = pcall(cjson.encode, t) return e", "0"]]),
    run("CVE-2022-24834 cjson.decode of 2000 nested arrays", &[&["EVAL", "local ok, e = pcall(cjson.decode, string.rep('[', 2000)) return e", "0"]]),

];

/// The requests of one abusive input, in order: its placeholders expanded once each
/// (`key(prefix)` names a key of the workload's `s`, `l`, `h`, `t`, `z` or `x` keys;
/// `{block}` is `timeout_ms`).
pub fn requests(
    abuse: &Abuse,
    timeout_ms: u64,
    key: &mut dyn FnMut(&str) -> Vec<u8>,
) -> Vec<Request> {
    let request = |args: Vec<Vec<u8>>, wire: Vec<u8>, kind| Request {
        args,
        wire,
        kind,
        abuse: Some(abuse.name),
    };
    let commands = match abuse.wire {
        Wire::Raw(bytes) => {
            let args = vec![abuse.name.as_bytes().to_vec()];
            return vec![request(args, bytes.to_vec(), RequestKind::ProtocolError)];
        }
        Wire::Commands(commands) => commands,
    };
    let mut expanded = BTreeMap::new();
    let mut commands: Vec<Vec<Vec<u8>>> = commands
        .iter()
        .map(|command| {
            command
                .iter()
                .map(|arg| expand(arg, timeout_ms, key, &mut expanded))
                .collect()
        })
        .collect();
    match abuse.shape {
        Shape::Replies => commands
            .into_iter()
            .map(|args| {
                let wire = encode_multibulk(&args);
                request(args, wire, RequestKind::Normal)
            })
            .collect(),
        Shape::Blocks => {
            let args = commands.remove(0);
            let wire = encode_multibulk(&args);
            vec![request(args, wire, RequestKind::Blocking { timeout_ms })]
        }
        Shape::Closes => {
            let wire = commands.iter().flat_map(|c| encode_multibulk(c)).collect();
            let args = commands.join(&b";".to_vec());
            vec![request(args, wire, RequestKind::Closes)]
        }
    }
}

/// `arg` with its placeholder (if any) expanded, the same way each time per input.
fn expand(
    arg: &'static str,
    timeout_ms: u64,
    key: &mut dyn FnMut(&str) -> Vec<u8>,
    expanded: &mut BTreeMap<&'static str, Vec<u8>>,
) -> Vec<u8> {
    if !(arg.starts_with('{') && arg.ends_with('}')) {
        return arg.as_bytes().to_vec();
    }
    if let Some(value) = expanded.get(arg) {
        return value.clone();
    }
    let value = match arg {
        "{s}" | "{l}" | "{h}" | "{t}" | "{z}" | "{x}" => key(&arg[1..2]),
        "{block}" => timeout_ms.to_string().into_bytes(),
        _ => generated(arg).unwrap_or_else(|| panic!("no placeholder {arg}")),
    };
    expanded.insert(arg, value.clone());
    value
}

/// The DUMP payloads `{dump:NAME}` expands to: an RDB value (type byte and body), then
/// RDB version 10 and its CRC64, so RESTORE reaches the value's parser; `unchecked`
/// is CVE-2026-25243's own payload, version 12 with a zero CRC.
pub fn dump_payload(name: &str) -> Option<Vec<u8>> {
    let body: &[u8] =
        match name {
            "string-huge" => b"\x00\x81\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xF7",
            "set-huge" => b"\x02\x81\x7f\xff\xff\xff\xff\xff\xff\xff",
            "list-huge" => b"\x01\x81\x7f\xff\xff\xff\xff\xff\xff\xff",
            "lzf-huge" => b"\x00\xc3\x05\x81\x7f\xff\xff\xff\xff\xff\xff\xff\x01\x00\x00\x00\x00",
            // A zipmap (type 9) whose one-byte field length is written in five bytes.
            "zipmap-small-field" => {
                b"\x09\x11\x01\xfe\x04\x00\x00\x00\x01\x00\xff\x00\x04\x00\x76\x61\x6c\x31\xff"
            }
            "unchecked" => return Some(
                b"\x00\x81\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xF7\x0c\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                    .to_vec(),
            ),
            _ => return None,
        };
    let version: u8 = if body[0] == 0x09 { 9 } else { 10 };
    let mut payload = [body, &[version, 0]].concat();
    let crc = ember_core::rdb::crc64(&payload);
    payload.extend_from_slice(&crc.to_le_bytes());
    Some(payload)
}

/// The generated payload a placeholder names, if it is one of them.
pub fn generated(name: &str) -> Option<Vec<u8>> {
    const SPARSE_HEADER: &[u8] = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0";
    let bytes = match name {
        "{nested}" => "*?".repeat(1200).into_bytes(),
        "{a*b}" => format!("{}b", "a*".repeat(1000)).into_bytes(),
        "{long}" => vec![b'a'; 2000],
        // XZERO runs of 16384 registers, 2000 of them, then a VAL opcode.
        "{hll-xzero}" => [SPARSE_HEADER, &[0x7f, 0xff].repeat(2000), &[0xff]].concat(),
        // VAL runs of 4 registers of value 32, 5000 of them.
        "{hll-val}" => [SPARSE_HEADER, &[0xff; 5000]].concat(),
        _ => return dump_payload(name.strip_prefix("{dump:")?.strip_suffix('}')?),
    };
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_in_the_lists_expands() {
        let keys = ["{s}", "{l}", "{h}", "{t}", "{z}", "{x}", "{block}"];
        for abuse in ABUSE.iter().chain(ABUSE_UNTIL_FIXED) {
            let Wire::Commands(commands) = abuse.wire else {
                continue;
            };
            for arg in commands.iter().flat_map(|c| c.iter()) {
                if arg.starts_with('{') && arg.ends_with('}') && !keys.contains(arg) {
                    assert!(generated(arg).is_some(), "{}: {arg}", abuse.name);
                }
            }
        }
    }

    #[test]
    fn a_dump_payload_ends_with_its_version_and_crc() {
        let payload = dump_payload("set-huge").unwrap();
        let (data, crc) = payload.split_at(payload.len() - 8);
        assert_eq!(&data[data.len() - 2..], &[10, 0]);
        assert_eq!(crc, ember_core::rdb::crc64(data).to_le_bytes());
    }
}

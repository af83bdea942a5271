//! Random Lua through EVAL (and FUNCTION LOAD / FCALL) in the sandbox, with
//! random KEYS and ARGV: the node must never crash or hang, every reply must be
//! well-formed RESP, and the node must answer PING afterwards.
//!
//! The input is `mode, source, 0xff, key or argument, 0xff, ...`. Mode bit 0
//! builds the source from Lua tokens (one token per byte) instead of taking
//! the bytes as they are (`fuzz/dicts/lua.dict` helps that case), bit 1 loads
//! the source as a function library and calls its `f`, the other bits choose
//! how many of the extra fields are keys.
//!
//! Scripts may loop for ever. The node gets a busy-poll host hook whose clock
//! jumps a second per call, so a script is past `busy-reply-threshold` within
//! a few million instructions; the hook then delivers SCRIPT KILL (or FUNCTION
//! KILL) from a second client. A script that wrote cannot be killed, so only
//! sources with no loop, function or loader keyword may write: the others run
//! as EVAL_RO / FCALL_RO. Library loads end at FUNCTION LOAD's time limit.
#![no_main]

use std::cell::Cell;

use bytes::Bytes;
use ember_core::io::BusyIo;
use ember_core::{Config, Input, Node, Output};
use libfuzzer_sys::fuzz_target;

const NOW: u64 = 1_700_000_000_000;
const CALLER: u64 = 1;
const KILLER: u64 = 2;

thread_local! {
    /// The fake host's clock, and whether it has sent the kill yet.
    static CLOCK: Cell<u64> = const { Cell::new(NOW) };
    static KILL_SENT: Cell<bool> = const { Cell::new(false) };
    static KILL_COMMAND: Cell<&'static [u8]> = const { Cell::new(b"") };
}

fn fake_poll(io: &mut BusyIo) -> u64 {
    let now = CLOCK.with(|c| {
        c.set(c.get() + 1_000);
        c.get()
    });
    if io.exchange {
        io.outputs.clear();
        if !KILL_SENT.with(|k| k.replace(true)) {
            io.inputs.push(Input::Accepted {
                conn: KILLER,
                peer: "127.0.0.1:50002".into(),
                local: "127.0.0.1:6379".into(),
            });
            io.inputs.push(Input::Received {
                conn: KILLER,
                bytes: Bytes::from_static(KILL_COMMAND.with(Cell::get)),
            });
        }
    }
    now
}

const TOKENS: &[&str] = &[
    "return ",
    "local x = ",
    "x",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    "1",
    "-2147483648",
    "2147483647",
    "1e308",
    "0/0",
    "'s'",
    "''",
    ",",
    ";",
    " + ",
    " .. ",
    " = ",
    "#",
    ".",
    ":",
    "redis.call",
    "redis.pcall",
    "'set'",
    "'get'",
    "'mget'",
    "'k'",
    "KEYS[1]",
    "ARGV[1]",
    "unpack",
    "select",
    "cjson.encode",
    "cjson.decode",
    "cmsgpack.pack",
    "cmsgpack.unpack",
    "cmsgpack.unpack_limit",
    "struct.pack",
    "struct.unpack",
    "struct.size",
    "'>i4'",
    "'c0'",
    "'!8i'",
    "bit.tohex",
    "bit.band",
    "string.rep",
    "string.find",
    "string.gsub",
    "string.format",
    "'%d'",
    "'a?'",
    "'(a*)'",
    "string.char",
    "string.dump",
    "string.byte",
    "table.concat",
    "table.sort",
    "math.random",
    "math.huge",
    "pcall",
    "error",
    "setmetatable",
    "getmetatable",
    "rawset",
    "rawget",
    "next",
    "pairs",
    "ipairs",
    "tostring",
    "tonumber",
    "type",
    "_G",
    "loadstring",
    "load",
    "coroutine.wrap",
    "coroutine.create",
    "coroutine.resume",
    "coroutine.yield",
    "collectgarbage",
    "redis.error_reply",
    "redis.status_reply",
    "redis.sha1hex",
    "redis.setresp",
    "redis.set_repl",
    "redis.register_function",
    "'f'",
    "function() ",
    " end",
    " if ",
    " then ",
    " else ",
    " for i = 1, 3 do ",
    " while true do ",
    " repeat ",
    " until true ",
    " and ",
    " or ",
    " not ",
    "nil",
    "true",
    "false",
    "[[",
    "]]",
    "[==[",
    "]==]",
    "\n",
    "--",
    "...",
];

fn from_tokens(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .flat_map(|&b| TOKENS[b as usize % TOKENS.len()].bytes())
        .collect()
}

/// Whether a script surely ends (no loop, no new function, no loader): only
/// such scripts may write, since SCRIPT KILL cannot stop a script that wrote.
fn surely_ends(source: &[u8]) -> bool {
    const WORDS: &[&[u8]] = &[b"while", b"repeat", b"for", b"function", b"load", b"goto"];
    !WORDS
        .iter()
        .any(|w| source.windows(w.len()).any(|win| win == *w))
}

fn request(args: &[&[u8]]) -> Bytes {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    Bytes::from(out)
}

/// Length of the RESP value at the start of `buf`; None if malformed or cut. A
/// line (status, error, number) must not hold a lone CR or LF: that is the
/// protocol injection of CVE-2025-67733.
fn frame(buf: &[u8]) -> Option<usize> {
    let end = buf.windows(2).position(|w| w == b"\r\n")?;
    let line = &buf[1..end];
    if line.iter().any(|&b| b == b'\r' || b == b'\n') {
        return None;
    }
    let after = end + 2;
    let number = || -> Option<i64> { std::str::from_utf8(line).ok()?.parse().ok() };
    match *buf.first()? {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Some(after),
        b'$' | b'=' | b'!' => {
            let n = number()?;
            if n < 0 {
                return Some(after);
            }
            let total = after + n as usize + 2;
            (buf.get(total - 2..total)? == b"\r\n").then_some(total)
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = number()?;
            let items = if matches!(buf[0], b'%' | b'|') {
                n * 2
            } else {
                n
            };
            let mut pos = after;
            for _ in 0..items.max(0) {
                pos += frame(&buf[pos..])?;
            }
            Some(pos)
        }
        _ => None,
    }
}

fn replies_are_resp(mut buf: &[u8]) -> bool {
    while !buf.is_empty() {
        match frame(buf) {
            Some(n) => buf = &buf[n..],
            None => return false,
        }
    }
    true
}

fn sent_to(node: &mut Node, conn: u64) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(o) = node.poll_output() {
        if let Output::Send { conn: to, bytes } = o {
            if to == conn {
                out.extend_from_slice(&bytes);
            }
        }
    }
    out
}

fn send(node: &mut Node, args: &[&[u8]]) -> Vec<u8> {
    node.handle(
        NOW,
        Input::Received {
            conn: CALLER,
            bytes: request(args),
        },
    );
    sent_to(node, CALLER)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut fields = rest.split(|&b| b == 0xff);
    let raw = fields.next().unwrap_or_default();
    let source = if mode & 1 == 1 {
        from_tokens(raw)
    } else {
        raw.to_vec()
    };
    let extra: Vec<&[u8]> = fields.take(16).collect();
    let numkeys = (mode >> 2) as usize % (extra.len() + 1);
    let numkeys_text = numkeys.to_string();

    CLOCK.with(|c| c.set(NOW));
    KILL_SENT.with(|k| k.set(false));
    let mut config = Config::default();
    config.hooks.busy_poll = Some(fake_poll);
    let mut node = Node::new(config, [5; 32], NOW);
    node.handle(
        NOW,
        Input::Accepted {
            conn: CALLER,
            peer: "127.0.0.1:50001".into(),
            local: "127.0.0.1:6379".into(),
        },
    );

    let writes = surely_ends(&source);
    let mut reply = Vec::new();
    if mode & 2 == 2 {
        KILL_COMMAND.with(|k| k.set(b"*2\r\n$8\r\nFUNCTION\r\n$4\r\nKILL\r\n"));
        let mut code = b"#!lua name=fz\n".to_vec();
        code.extend_from_slice(&source);
        reply.extend(send(&mut node, &[b"FUNCTION", b"LOAD", &code]));
        let call: &[u8] = if writes { b"FCALL" } else { b"FCALL_RO" };
        let mut args: Vec<&[u8]> = vec![call, b"f", numkeys_text.as_bytes()];
        args.extend(&extra);
        reply.extend(send(&mut node, &args));
    } else {
        KILL_COMMAND.with(|k| k.set(b"*2\r\n$6\r\nSCRIPT\r\n$4\r\nKILL\r\n"));
        let eval: &[u8] = if writes { b"EVAL" } else { b"EVAL_RO" };
        let mut args: Vec<&[u8]> = vec![eval, &source, numkeys_text.as_bytes()];
        args.extend(&extra);
        reply.extend(send(&mut node, &args));
    }
    assert!(replies_are_resp(&reply), "malformed reply: {reply:?}");
    let pong = send(&mut node, &[b"PING"]);
    assert_eq!(pong, b"+PONG\r\n", "the node stopped answering");
});

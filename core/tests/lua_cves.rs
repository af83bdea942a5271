//! One regression test per CVE Redis fixed in its Lua engine (its patched Lua
//! 5.1 and the C libraries it links in). Each drives a node with the CVE's kind
//! of input and checks the answer redis-server 7.0.15 (Debian's, with its
//! security fixes) gives, and that the node keeps serving. The same inputs run
//! against the real server in `tests/scripts/scripting.txt`.
//!
//! The Lua fixes live in `lua/patches` (built by the `ember-lua` crate); the
//! library fixes in `core/src/script/libs`, Rust rewrites of Redis's C.

mod support;

use ember_core::{Config, Node};
use support::{bulk, call, connect, Reply, START_MS};

fn node() -> Node {
    let mut node = Node::new(Config::default(), [3; 32], START_MS);
    connect(&mut node, START_MS, 1);
    node
}

fn eval(node: &mut Node, script: &str) -> Reply {
    call(node, START_MS, 1, &["EVAL", script, "0"])
}

/// The error a script ends in, without Redis's " script: <sha>, on ..." tail.
fn eval_error(node: &mut Node, script: &str) -> String {
    match eval(node, script) {
        Reply::Error(e) => match e.find(" script: ") {
            Some(at) => e[..at].to_string(),
            None => e,
        },
        other => panic!("{script}: expected an error, got {other:?}"),
    }
}

/// EVAL's reply as raw bytes.
fn raw_eval(node: &mut Node, script: &str) -> Vec<u8> {
    support::send(node, START_MS, 1, &["EVAL", script, "0"]);
    let mut out = Vec::new();
    while let Some(output) = node.poll_output() {
        if let ember_core::Output::Send { bytes, .. } = output {
            out.extend_from_slice(&bytes);
        }
    }
    out
}

fn assert_serving(node: &mut Node) {
    assert_eq!(eval(node, "return 'still here'"), bulk(b"still here"));
}

fn bulks(items: &[&str]) -> Reply {
    Reply::Array(items.iter().map(|s| bulk(s.as_bytes())).collect())
}

/// CVE-2015-4335: hand-made bytecode can read and write outside the Lua VM, so
/// no chunk is ever loaded as bytecode: it goes to the parser, which refuses
/// the signature byte.
#[test]
fn cve_2015_4335_precompiled_chunks_never_load() {
    let mut node = node();
    let Reply::Bulk(Some(bytecode)) =
        eval(&mut node, "return string.dump(function() return 1 end)")
    else {
        panic!("string.dump gives bytes");
    };
    assert!(bytecode.starts_with(b"\x1bLua"));
    let reply = call(&mut node, START_MS, 1, &[&b"EVAL"[..], &bytecode, b"0"]);
    assert_eq!(
        reply,
        Reply::Error(
            "ERR Error compiling script (new function): user_script:1: unexpected symbol near 'char(27)'"
                .into()
        )
    );
    assert_eq!(
        eval(
            &mut node,
            "return {select(2, loadstring(string.dump(function() return 1 end)))}"
        ),
        Reply::Array(vec![bulk(
            b"[string \"\x1bLuaQ\"]:1: unexpected symbol near 'char(27)'"
        )])
    );
    // load() with a reader goes through the same parser.
    assert_eq!(
        eval(
            &mut node,
            "local d = string.dump(function() return 1 end) local done = false \
             return {select(2, load(function() if done then return nil end done = true return d end))}"
        ),
        Reply::Array(vec![bulk(b"(load):1: unexpected symbol near 'char(27)'")])
    );
    assert_serving(&mut node);
}

/// CVE-2025-46817: unpack's `e - i + 1` overflowed int, so a huge range pushed
/// past the stack (a segfault in Ember before). Ranges from Redis's own test.
#[test]
fn cve_2025_46817_unpack_counts_its_range_without_overflow() {
    let mut node = node();
    for range in [
        "-2147483648, 2147483647",
        "-2, 2147483647",
        "0, 2147483647",
        "-2147483648, -2",
    ] {
        assert_eq!(
            eval_error(&mut node, &format!("return {{unpack({{1,2,3}}, {range})}}")),
            "ERR user_script:1: too many results to unpack",
            "{range}"
        );
    }
    assert_eq!(
        eval(&mut node, "return {unpack({1,2,3}, -1, -2)}"),
        Reply::Array(vec![])
    );
    let listed = "local function list(t, i, j) \
                  local n, v = select('#', unpack(t, i, j)), {unpack(t, i, j)} \
                  for k = 1, n do v[k] = v[k] or '_NIL_' end return v end ";
    assert_eq!(
        eval(
            &mut node,
            &format!("{listed} return list({{1,2,3}}, -1, 5)")
        ),
        Reply::Array(vec![
            bulk(b"_NIL_"),
            bulk(b"_NIL_"),
            Reply::Int(1),
            Reply::Int(2),
            Reply::Int(3),
            bulk(b"_NIL_"),
            bulk(b"_NIL_"),
        ])
    );
    assert_eq!(
        eval(
            &mut node,
            &format!("{listed} return list({{1,2,3}}, -2147483648, -2147483646)")
        ),
        bulks(&["_NIL_", "_NIL_", "_NIL_"])
    );
    // The key INT_MIN itself (luaH_getnum no longer computes key - 1).
    assert_eq!(
        eval(
            &mut node,
            "local t = {} t[-2147483648] = 'min' return unpack(t, -2147483648, -2147483648)"
        ),
        bulk(b"min")
    );
    assert_serving(&mut node);
}

/// CVE-2025-46818: a script could change the metatable shared by every string
/// (or another basic type) and so run its code inside other users' scripts.
/// Those metatables are read-only or absent, and the deprecated functions that
/// reach environments and userdata metatables are gone.
#[test]
fn cve_2025_46818_metatables_of_basic_types_cannot_be_changed() {
    let mut node = node();
    for value in [
        "nil",
        "''",
        "123.222",
        "true",
        "function() return 1 end",
        "coroutine.create(function() return 1 end)",
    ] {
        let e = eval_error(
            &mut node,
            &format!("getmetatable({value}).__index = function() return 1 end"),
        );
        assert!(
            e.contains("attempt to index a nil value")
                || e.contains("Attempt to modify a readonly table"),
            "{value}: {e}"
        );
    }
    assert_eq!(
        eval_error(
            &mut node,
            "getmetatable('').__index.upper = function() return 'pwned' end"
        ),
        "ERR user_script:1: Attempt to modify a readonly table"
    );
    assert_eq!(
        eval_error(
            &mut node,
            "rawset(getmetatable('').__index, 'upper', function() return 'pwned' end)"
        ),
        "ERR Attempt to modify a readonly table"
    );
    assert_eq!(eval(&mut node, "return ('a'):upper()"), bulk(b"A"));
    for name in ["newproxy", "setfenv", "getfenv"] {
        assert_eq!(
            eval_error(&mut node, &format!("return {name}")),
            format!("ERR user_script:1: Script attempted to access nonexistent global variable '{name}'")
        );
    }
    assert_serving(&mut node);
}

/// CVE-2025-46819: the lexer counted a long bracket's level in an int (more
/// than 2^31 '=' overflowed it, and the string's bounds with it) and read an
/// uninitialised token when a chunk failed before its first token. Levels are
/// size_t now; 2 GB of '=' cannot be built under the Lua memory limit, so the
/// test covers the rewritten paths with large and odd levels instead.
#[test]
fn cve_2025_46819_long_brackets_of_any_level_lex_correctly() {
    let mut node = node();
    assert_eq!(eval(&mut node, "return [==[abc]==]"), bulk(b"abc"));
    assert_eq!(eval(&mut node, "return [[a [[ b]]"), bulk(b"a [[ b"));
    assert_eq!(
        eval(&mut node, "--[==[ comment ]==] return 1"),
        Reply::Int(1)
    );
    assert_eq!(
        eval(&mut node, "return [=x"),
        Reply::Error(
            "ERR Error compiling script (new function): user_script:1: invalid long string delimiter near '[='"
                .into()
        )
    );
    assert_eq!(
        eval(
            &mut node,
            "local sep = string.rep('=', 1000000) \
             return loadstring('return [' .. sep .. '[x]' .. sep .. ']')()"
        ),
        bulk(b"x")
    );
    assert_eq!(
        eval(
            &mut node,
            "local sep = string.rep('=', 1000000) \
             return {loadstring('return [' .. sep .. '[x]' .. sep .. '=]')}"
        ),
        Reply::Array(vec![])
    );
    assert_serving(&mut node);
}

/// CVE-2025-46819's other half: a chunk of 2^31 newlines (streamed through a
/// reader, so it needs no memory) fails with "chunk has too many lines" before
/// its first token, when the lexer reports its current token. Redis 7.0.15
/// answers exactly this. Lexing 2 GB takes about 15 s.
#[test]
fn cve_2025_46819_a_chunk_of_only_newlines_fails_cleanly() {
    let mut node = node();
    assert_eq!(
        eval(
            &mut node,
            "local i = 0 local s = string.rep('\\n', 1048576) \
             local f, e = load(function() i = i + 1 if i <= 2048 then return s end end) \
             return e"
        ),
        bulk(b"(load):2147483645: chunk has too many lines")
    );
    assert_serving(&mut node);
}

/// CVE-2025-49844: the parser held the chunk's name only in a C variable, so a
/// collection while parsing freed it (a use-after-free). A reader function
/// runs while the parser starts, and this one runs the collector then, when
/// the name (`=(load)`, referenced by nothing else) is most exposed. The name
/// must survive and show in the syntax error.
#[test]
fn cve_2025_49844_a_collection_while_parsing_keeps_the_chunk_name() {
    let mut node = node();
    let script = "local errors = {} \
        for round = 1, 50 do \
          local done = false \
          local f, e = load(function() \
            if done then return nil end \
            done = true \
            collectgarbage('collect') \
            local junk = {} for k = 1, 200 do junk[k] = 'junk' .. k .. round end \
            return 'return x x' \
          end) \
          errors[e] = (errors[e] or 0) + 1 \
        end \
        local out = {} for e, n in pairs(errors) do out[#out + 1] = e .. ' x' .. n end \
        return out";
    assert_eq!(
        eval(&mut node, script),
        bulks(&["(load):1: '<eof>' expected near 'x' x50"])
    );
    assert_serving(&mut node);
}

/// CVE-2024-31449: bit.tohex negated INT_MIN into a negative count and wrote
/// past its buffer. It counts as -(2^31 - 1): eight upper-case digits.
#[test]
fn cve_2024_31449_bit_tohex_of_int_min_gives_eight_digits() {
    let mut node = node();
    assert_eq!(
        eval(&mut node, "return bit.tohex(65535, -2147483648)"),
        bulk(b"0000FFFF")
    );
    assert_eq!(
        eval(&mut node, "return bit.tohex(65535, 2147483647)"),
        bulk(b"0000ffff")
    );
    assert_eq!(
        eval(&mut node, "return bit.tohex(-1, -8)"),
        bulk(b"FFFFFFFF")
    );
    assert_serving(&mut node);
}

/// CVE-2024-46981: a script could leave a userdata whose __gc finalizer ran
/// script code while Redis closed the Lua state after SCRIPT FLUSH. Scripts can
/// make no userdata (newproxy is gone) and tables have no finalizers in Lua
/// 5.1, so nothing a script leaves behind runs when the state closes.
#[test]
fn cve_2024_46981_nothing_a_script_leaves_runs_when_the_state_closes() {
    let mut node = node();
    assert_eq!(
        eval_error(
            &mut node,
            "getmetatable(newproxy(true)).__gc = function() redis.call('set', 'gc', 'ran') end"
        ),
        "ERR user_script:1: Script attempted to access nonexistent global variable 'newproxy'"
    );
    eval(
        &mut node,
        "local t = setmetatable({}, {__gc = function() redis.call('set', 'gc', 'ran') end}) \
         local keep = {t, t} return 1",
    );
    for flush in [&["SCRIPT", "FLUSH"][..], &["SCRIPT", "FLUSH", "ASYNC"]] {
        assert_eq!(
            call(&mut node, START_MS, 1, flush),
            Reply::Status("OK".into())
        );
    }
    assert_eq!(
        call(&mut node, START_MS, 1, &["GET", "gc"]),
        Reply::Bulk(None)
    );
    assert_serving(&mut node);
}

/// CVE-2022-24834: cjson (and cmsgpack) computed the escaped size in a 32-bit
/// integer and overflowed their buffers. Sizes are computed in usize, and
/// output that could never become a Lua string stops at the memory limit
/// instead of growing in Rust memory (180 MB of NULs would escape to 1 GB).
#[test]
fn cve_2022_24834_json_and_msgpack_encode_large_escaped_strings() {
    let mut node = node();
    assert_eq!(
        eval(&mut node, "return #cjson.encode(string.rep('\"', 1000000))"),
        Reply::Int(2_000_002)
    );
    assert_eq!(
        eval(
            &mut node,
            "return #cjson.encode(string.rep('\\0', 1000000))"
        ),
        Reply::Int(6_000_002)
    );
    assert_eq!(
        eval(&mut node, "return #cmsgpack.pack(string.rep('x', 70000))"),
        Reply::Int(70_005)
    );
    let e = eval_error(
        &mut node,
        "return #cjson.encode(string.rep('\\0', 180 * 1024 * 1024))",
    );
    assert!(e.contains("not enough memory"), "{e}");
    assert_serving(&mut node);
}

/// CVE-2022-24834 (depth): with cjson's depth limits raised to INT_MAX, Redis's
/// C code stops where `lua_checkstack` finds no room in the 8000 slots a C
/// function may hold. Ember's encoder and decoder keep the nesting on an
/// explicit stack, so this runs on a test thread's 2 MiB stack too, and stop
/// at the same depths with the same errors.
#[test]
fn cve_2022_24834_cjson_nesting_stops_where_the_lua_stack_does() {
    let mut node = node();
    let raised = "cjson.encode_max_depth(2147483647) cjson.decode_max_depth(2147483647) ";
    let restore = " cjson.encode_max_depth(1000) cjson.decode_max_depth(1000) return e";
    let cases = [
        (
            "local ok, e = pcall(cjson.decode, string.rep('[', 100000))",
            "Found too many nested data structures (7999) at character 7999",
        ),
        (
            "local ok, e = pcall(cjson.decode, string.rep('{\"a\":', 100000))",
            "Found too many nested data structures (4000) at character 19996",
        ),
        (
            "local t = {} for i = 1, 100000 do t = {t} end local ok, e = pcall(cjson.encode, t)",
            "Cannot serialise, excessive nesting (7998)",
        ),
        (
            "local t = {} for i = 1, 100000 do t = {a = t} end local ok, e = pcall(cjson.encode, t)",
            "Cannot serialise, excessive nesting (4000)",
        ),
    ];
    for (script, error) in cases {
        assert_eq!(
            eval(&mut node, &format!("{raised}{script}{restore}")),
            bulk(error.as_bytes()),
            "{script}"
        );
    }
    assert_eq!(
        eval(
            &mut node,
            &format!(
                "{raised}local t = 1 for i = 1, 7997 do t = {{t}} end \
                 local e = #cjson.encode(cjson.decode(cjson.encode(t))){restore}"
            )
        ),
        Reply::Int(2 * 7997 + 1)
    );
    // The defaults are back: 1001 levels fail again.
    assert_eq!(
        eval_error(
            &mut node,
            "return cjson.decode(string.rep('[', 1001) .. string.rep(']', 1001))"
        ),
        "ERR user_script:1: Found too many nested data structures (1001) at character 1001"
    );
    assert_serving(&mut node);
}

/// CVE-2020-14147 (and CVE-2018-11219): struct's size and alignment counts
/// overflowed int and then its buffers. Counts past INT_MAX are refused.
#[test]
fn cve_2020_14147_struct_counts_past_int_max_are_refused() {
    let mut node = node();
    for script in [
        "return struct.pack('i2147483648', 1)",
        "return struct.pack('i99999999999999999999', 1)",
        "return struct.size('c4294967295')",
        "return struct.pack('!2147483648i', 1)",
    ] {
        assert_eq!(
            eval_error(&mut node, script),
            "ERR user_script:1: integral size overflow",
            "{script}"
        );
    }
    assert_eq!(
        eval_error(&mut node, "return struct.unpack('i2147483647', 'x')"),
        "ERR user_script:1: integral size 2147483647 is larger than limit of 32"
    );
    assert_eq!(
        eval(&mut node, "return struct.size('c2147483647c2147483647')"),
        Reply::Int(4_294_967_294)
    );
    assert_eq!(
        eval_error(&mut node, "return struct.pack('c2147483647', 'x')"),
        "ERR user_script:1: bad argument #3 to 'pack' (string too short)"
    );
    assert_eq!(
        eval_error(&mut node, "return struct.unpack('>i4', 'abcd', -1)"),
        "ERR user_script:1: bad argument #2 to 'unpack' (data string too short)"
    );
    assert_eq!(
        eval(
            &mut node,
            "return {pcall(struct.unpack, string.rep('c1', 9000), string.rep('x', 9000))}"
        ),
        Reply::Array(vec![
            Reply::Bulk(None),
            bulk(b"stack overflow (too many results)")
        ])
    );
    assert_serving(&mut node);
}

/// CVE-2018-11218: cmsgpack pushed onto the Lua stack without checking it. Too
/// many arguments, results or nested levels now fail where Redis's checks
/// fail, with its errors.
#[test]
fn cve_2018_11218_cmsgpack_checks_the_stack_as_redis() {
    let mut node = node();
    assert_eq!(
        eval(
            &mut node,
            "local t = {} for i = 1, 4000 do t[i] = i end return #cmsgpack.pack(unpack(t))"
        ),
        Reply::Int(11_618)
    );
    assert_eq!(
        eval_error(
            &mut node,
            "local t = {} for i = 1, 4001 do t[i] = i end return cmsgpack.pack(unpack(t))"
        ),
        "ERR user_script:1: bad argument #0 to 'pack' (Too many arguments for MessagePack pack.)"
    );
    // Lists nested `depth` deep around a 1: how deep the decoded value is.
    let nested = |depth: usize| {
        format!(
            "local s = string.rep(string.char(0x91), {depth}) .. string.char(1) \
             return {{pcall(function() \
               local t, d = cmsgpack.unpack(s), 0 \
               while type(t) == 'table' do d = d + 1 t = t[1] end return d end)}}"
        )
    };
    assert_eq!(
        eval(&mut node, &nested(3999)),
        Reply::Array(vec![Reply::Int(1), Reply::Int(3999)])
    );
    assert_eq!(
        eval(&mut node, &nested(4000)),
        Reply::Array(vec![
            Reply::Bulk(None),
            bulk(b"user_script:1: stack overflow (in function mp_decode_to_lua_array)")
        ])
    );
    assert_eq!(
        eval(
            &mut node,
            "return {pcall(cmsgpack.unpack, string.rep(string.char(1), 8000))}"
        ),
        Reply::Array(vec![
            Reply::Bulk(None),
            bulk(b"stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)")
        ])
    );
    assert_eq!(
        eval(
            &mut node,
            "local t = {} for i = 1, 3999 do t[i] = i end t[4000] = {1} \
             return {pcall(cmsgpack.pack, unpack(t))}"
        ),
        Reply::Array(vec![
            Reply::Bulk(None),
            bulk(b"stack overflow (in function table_is_an_array)")
        ])
    );
    assert_serving(&mut node);
}

/// CVE-2021-32626: converting between Lua and Redis values pushed onto the Lua
/// stack unchecked (thousands of command arguments, deep replies). Those
/// inputs get answers or Redis's errors; holding thousands of values no longer
/// exhausts mlua's reference store either (it panicked inside the node).
#[test]
fn cve_2021_32626_thousands_of_values_between_lua_and_redis() {
    let mut node = node();
    assert_eq!(
        eval(
            &mut node,
            "local a = {} for i = 1, 7997 do a[i] = i end return redis.call('rpush', 'l', unpack(a))"
        ),
        Reply::Int(7997)
    );
    assert_eq!(
        eval(
            &mut node,
            "local a = {} for i = 1, 7990 do a[i] = 'k' .. i end return #redis.call('mget', unpack(a))"
        ),
        Reply::Int(7990)
    );
    assert_eq!(
        eval(&mut node, "return #redis.call('lrange', 'l', 0, -1)"),
        Reply::Int(7997)
    );
    // A reply nested past the Lua stack ends, 7995 levels down, in Redis's
    // error (compared as bytes: the test's reply parser recurses).
    let mut expected = b"*1\r\n".repeat(7995);
    expected.extend_from_slice(b"-ERR reached lua stack limit\r\n");
    assert_eq!(
        raw_eval(
            &mut node,
            "local a = {} local c = a for i = 1, 10000 do c[1] = {} c = c[1] end return a"
        ),
        expected
    );
    // 20000 cached scripts, each a function in the Lua state.
    for i in 0..20_000 {
        let body = format!("return {i}");
        let reply = call(&mut node, START_MS, 1, &["SCRIPT", "LOAD", body.as_str()]);
        assert!(matches!(reply, Reply::Bulk(Some(_))), "{i}: {reply:?}");
    }
    let sha = match call(&mut node, START_MS, 1, &["SCRIPT", "LOAD", "return 19999"]) {
        Reply::Bulk(Some(sha)) => String::from_utf8(sha).expect("hex"),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        call(&mut node, START_MS, 1, &["EVALSHA", sha.as_str(), "0"]),
        Reply::Int(19999)
    );
    assert_serving(&mut node);
}

/// Not a Redis CVE (redis-server 7.0.15 crashes on the first input): Lua 5.1's
/// string matcher recursed once per optional item with no bound, and a
/// backtracking match ran in C where SCRIPT KILL cannot reach. The matcher
/// now stops at 200 nested calls, as Lua 5.2 does, and lets the count hook
/// run while it works (ember-lua's patch 0007).
#[test]
fn deep_string_patterns_fail_instead_of_overflowing_the_stack() {
    let mut node = node();
    assert_eq!(
        eval_error(
            &mut node,
            "return string.find(string.rep('a', 200000), string.rep('a?', 200000))"
        ),
        "ERR user_script:1: pattern too complex"
    );
    assert_eq!(
        eval(
            &mut node,
            "return {string.find(string.rep('a', 300), string.rep('a?', 150))}"
        ),
        Reply::Array(vec![Reply::Int(1), Reply::Int(150)])
    );
    assert_eq!(
        eval(&mut node, "return #string.rep('', 2147483647)"),
        Reply::Int(0)
    );
    assert_serving(&mut node);
}

/// Not a CVE, found by the eval fuzz target's neighbourhood: an error value
/// that is a table without a string `err` crashes redis-server 7.0.15 (a NULL
/// message in luaCallFunction). Ember answers an error and keeps serving; a
/// numeric `err` reads as Redis reads it.
#[test]
fn error_tables_without_a_message_get_an_error_reply() {
    let mut node = node();
    for script in [
        "error({})",
        "error({err={}})",
        "error(setmetatable({}, {__tostring = function() return 'x' end}))",
    ] {
        assert_eq!(
            eval_error(&mut node, script),
            "ERR unknown error",
            "{script}"
        );
    }
    assert_eq!(eval_error(&mut node, "error({err=1})"), "1");
    assert_serving(&mut node);
}

//! Abusive inputs against the real ember-server: the inputs of the published Redis
//! CVEs that apply to a server, and the counts, offsets, patterns and payloads that
//! once crashed, hung or exhausted Redis or Ember. No single request may do any of
//! that: after each case ember-server must answer PING within a second and its peak
//! RSS must stay under 512 MiB (`ember_tests::abuse` says why), and where
//! redis-server 7.0.15 answers something definite Ember's replies must equal it byte
//! for byte. Each case is data (a name, the CVE or issue, the requests, the oracle);
//! every failing case is reported by name, after the server is restarted, and the
//! test fails at the end.
//!
//! `cargo test -p ember-tests --test abuse` runs them all (about 15 s when every
//! case passes); `ABUSE_CASES=CVE-2025-46817` (any part of a name or an issue) runs
//! a subset.

use std::time::Duration;

use ember_tests::abuse::{case, run_cases, Case, Expect};

const I64_MIN: &str = "-9223372036854775808";
const I64_MAX: &str = "9223372036854775807";
/// A count past what any reply could hold, but above LONG_MIN (no range error).
const HUGE_NEGATIVE_COUNT: &str = "-9223372036854770000";
const STREAM_ID_MAX: &str = "18446744073709551615-18446744073709551615";

/// An unauthenticated client's world: the server asks for a password.
const REQUIREPASS: &[&str] = &["--requirepass", "foobar"];
/// Normal clients are disconnected once a megabyte of replies waits for them.
const OUTPUT_LIMIT: &[&str] = &["--client-output-buffer-limit", "normal 1mb 0 0"];

#[test]
fn every_abusive_input_leaves_ember_answering_within_its_memory_bound() {
    let cases: Vec<Case> = [
        lua_cases(),
        lua_encoder_cases(),
        random_member_cases(),
        offset_and_count_cases(),
        pattern_cases(),
        protocol_cases(),
        config_cases(),
        hyperloglog_cases(),
        restore_cases(),
        blocking_and_reply_mode_cases(),
        client_limit_cases(),
    ]
    .concat();
    // `ABUSE_CASES=unpack` runs only the cases whose name or issue contains "unpack".
    let only = std::env::var("ABUSE_CASES").unwrap_or_default();
    let cases: Vec<Case> = cases
        .into_iter()
        .filter(|c| c.name.contains(&only) || c.issue.contains(&only))
        .collect();
    let report = run_cases(&cases);
    assert!(report.passed(), "{report}");
    eprintln!("{report}");
}

/// The Lua interpreter: integer overflows, sandbox escapes, the lexer and parser,
/// the CRLF of error and status replies, and scripts that never end while loading.
fn lua_cases() -> Vec<Case> {
    let unpack_ranges = [
        ("-2147483648, 2147483647", "CVE-2025-46817"),
        ("-2, 2147483647", "CVE-2025-46817"),
        ("0, 2147483647", "CVE-2025-46817"),
        ("-2147483648, -2", "CVE-2025-46817"),
        ("-1, -2", "CVE-2025-46817"),
        ("1, -1", "CVE-2025-46817"),
        ("1, 1000000", "CVE-2025-46817"),
    ];
    let mut cases: Vec<Case> = unpack_ranges
        .iter()
        .map(|(range, cve)| {
            case(format!("unpack({{1,2,3}}, {range})"), cve)
                .eval(&format!("return {{unpack({{1,2,3}}, {range})}}"))
        })
        .collect();
    // The nils unpack yields inside and around the table, counted with select('#').
    let nils = "local function list(t, i, j) \
                local n, v = select('#', unpack(t, i, j)), {unpack(t, i, j)} \
                for k = 1, n do v[k] = v[k] or '_NIL_' end return v end ";
    for range in ["-1, 5", "-2147483648, -2147483646"] {
        cases.push(
            case(format!("unpack yields nils over {range}"), "CVE-2025-46817")
                .eval(&format!("{nils}return list({{1,2,3}}, {range})")),
        );
    }
    cases.push(
        case("unpack of the whole int range, unwrapped", "CVE-2025-46817")
            .eval("return unpack({1,2,3}, -2147483648, 2147483647)"),
    );
    cases.push(
        case("bit.tohex with INT_MIN digits", "CVE-2024-31449")
            .eval("return bit.tohex(65535, -2147483648)"),
    );
    for value in [
        "nil",
        "''",
        "123.222",
        "true",
        "function() return 1 end",
        "coroutine.create(function() return 1 end)",
    ] {
        cases.push(
            case(
                format!("the metatable of {value} is read-only"),
                "CVE-2025-46818",
            )
            .eval(&format!(
                "getmetatable({value}).__index = function() return 1 end"
            )),
        );
    }
    for (name, script) in [
        (
            "setfenv",
            "local f = function() return 1 end setfenv(f, {}) return 0",
        ),
        (
            "getfenv",
            "local f = function() return 1 end getfenv(f) return 0",
        ),
        (
            "newproxy",
            "getmetatable(newproxy(true)).__gc = function() return 1 end return 0",
        ),
    ] {
        cases.push(case(format!("the deprecated {name} is gone"), "CVE-2025-46818").eval(script));
    }
    cases.push(
        case("a __gc finalizer then SCRIPT FLUSH", "CVE-2024-46981")
            .eval(
                "local p = newproxy(true) \
                 getmetatable(p).__gc = function() redis.call('SET', 'gc', '1') end return 0",
            )
            .cmd(["SCRIPT", "FLUSH"])
            .cmd(["GET", "gc"]),
    );
    cases.push(
        case("loadstring of bytecode", "CVE-2015-4335")
            .eval("return loadstring(string.dump(function() return 1 end))()"),
    );
    for (name, script) in [
        (
            "error_reply",
            "return redis.error_reply('X\\r\\n+INJECTED')",
        ),
        (
            "error(error_reply)",
            "error(redis.error_reply('X\\r\\n+INJECTED'))",
        ),
        (
            "status_reply",
            "return redis.status_reply('X\\r\\n+INJECTED')",
        ),
        ("error with a table", "error({err='X\\r\\n+INJECTED'})"),
        (
            "pcall of a failing command",
            "return redis.pcall('X\\r\\n+INJECTED')",
        ),
    ] {
        cases.push(case(format!("CRLF inside redis.{name}"), "CVE-2025-67733").eval(script));
    }
    cases.push(
        case("CRLF inside a FUNCTION LIST argument", "CVE-2025-67733").cmd([
            "FUNCTION",
            "LIST",
            "X\r\n+INJECTED",
        ]),
    );
    cases.extend(lexer_cases());
    cases.push(
        case("FUNCTION LOAD of a library that loops forever", "issue 14").cmd([
            "FUNCTION",
            "LOAD",
            "#!lua name=lib\nwhile 1 do end",
        ]),
    );
    cases.push(
        case(
            "FUNCTION LOAD of a library that recurses forever",
            "issue 14",
        )
        .cmd([
            "FUNCTION",
            "LOAD",
            "#!lua name=lib\nlocal function f(n) return 1 + f(n) end f(1)",
        ]),
    );
    cases.push(
        case("FUNCTION LOAD with a CRLF shebang", "CVE-2025-67733").cmd([
            "FUNCTION",
            "LOAD",
            "#!lua name=l\r\n+X",
        ]),
    );
    cases.push(case("FCALL with a huge numkeys", "issue 14").cmd(["FCALL", "f", I64_MAX]));
    cases
        .push(case("deep recursion inside pcall", "issue 14").eval(
            "local function f(n) return 1 + f(n + 1) end local ok, e = pcall(f, 1) return e",
        ));
    cases.push(
        case("string.format with a huge width", "issue 14")
            .eval("local ok, e = pcall(string.format, '%99999999999d', 1) return e"),
    );
    cases.push(
        case("table.concat over a huge range", "issue 14")
            .eval("local ok, e = pcall(table.concat, {}, ',', 1, 2147483647) return e"),
    );
    cases
}

/// CVE-2025-46819 (long-bracket delimiters read out of bounds) and CVE-2025-49844
/// (the chunk name freed by the GC while the parser still uses it).
fn lexer_cases() -> Vec<Case> {
    let compile = |source: &str| {
        format!("local f, e = loadstring({source}) if f then return {{f()}} end return e")
    };
    let mut cases: Vec<Case> = [
        (
            "a 100000-'=' long bracket string",
            "'return [' .. string.rep('=', 100000) .. '[x]' .. string.rep('=', 100000) .. ']'",
        ),
        ("an unfinished long bracket", "'return [==x'"),
        ("a long bracket cut after '='", "'return [='"),
        ("an unterminated long string", "'return [==[abc'"),
        (
            "a long comment with a broken delimiter",
            "'--[==x\\nreturn 1'",
        ),
        (
            "a long comment that never closes",
            "'--[==[ ' .. string.rep('x', 100000)",
        ),
        (
            "100000 newlines then garbage",
            "string.rep('\\n', 100000) .. '+'",
        ),
        ("a closing bracket sequence alone", "']==]'"),
    ]
    .iter()
    .map(|(name, source)| {
        case(format!("loadstring of {name}"), "CVE-2025-46819").eval(&compile(source))
    })
    .collect();
    cases.push(
        case("loadstring with a 100000-byte chunk name", "CVE-2025-49844")
            .eval("local f, e = loadstring('x=', string.rep('n', 100000)) return e"),
    );
    cases.push(
        case("chunk names collected while parsing", "CVE-2025-49844").eval(
            "for i = 1, 200 do \
               local src = string.rep('local a = \"' .. i .. '\" ', 200) \
               loadstring(src, 'chunk-' .. string.rep('c', 200) .. i) \
               collectgarbage('step') \
             end return 1",
        ),
    );
    cases
}

/// cjson, struct and cmsgpack: huge and deep data, huge repetition counts and
/// offsets; tables returned from Lua; huge argument lists handed to redis.call.
fn lua_encoder_cases() -> Vec<Case> {
    let pcall = |name: &str, call: &str, cve: &'static str| {
        case(name, cve).eval(&format!("local ok, e = pcall({call}) return tostring(e)"))
    };
    let deep = "local t = {} local c = t for i = 1, 100000 do c[1] = {} c = c[1] end ";
    vec![
        pcall("cjson.decode of 100000 nested arrays", "cjson.decode, string.rep('[', 100000)", "CVE-2022-24834"),
        pcall("cjson.decode of 100000 nested objects", "cjson.decode, string.rep('{\"a\":', 100000)", "CVE-2022-24834"),
        case("cjson.encode of 100000 nested tables", "CVE-2022-24834")
            .eval(&format!("{deep}local ok, e = pcall(cjson.encode, t) return e")),
        case("cjson.encode of 2 MiB of quotes", "CVE-2022-24834")
            .eval("return #cjson.encode(string.rep('\"', 2 * 1024 * 1024))"),
        case("cjson.encode of an excessively sparse array", "CVE-2022-24834")
            .eval("local t = {} t[1] = 1 t[1000000000] = 2 local ok, e = pcall(cjson.encode, t) return e"),
        // With the depth limits raised, the Lua stack stops both at 7999.
        case("cjson with the depth limits raised to INT_MAX", "CVE-2022-24834").eval(
            "cjson.encode_max_depth(2147483647) cjson.decode_max_depth(2147483647) \
             local ok, e = pcall(cjson.decode, string.rep('[', 100000)) \
             cjson.encode_max_depth(1000) cjson.decode_max_depth(1000) return tostring(e)",
        ),
        case("cjson.decode of huge exponents", "CVE-2022-24834")
            .eval("return cjson.encode(cjson.decode('[1e999999, -1e999999, 123456789012345678901234567890]'))"),
        pcall("struct.pack of 'i999999999'", "struct.pack, 'i999999999', 1", "CVE-2020-14147"),
        pcall("struct.unpack of 'i999999999'", "struct.unpack, 'i999999999', 'abc'", "CVE-2020-14147"),
        pcall("struct.pack of 'c2147483647'", "struct.pack, 'c2147483647', 'a'", "CVE-2020-14147"),
        pcall("struct.unpack of 'c2147483647'", "struct.unpack, 'c2147483647', 'a'", "CVE-2020-14147"),
        pcall("struct.unpack at offset INT_MAX", "struct.unpack, 'i4', 'abcd', 2147483647", "CVE-2020-14147"),
        pcall("struct.unpack at offset INT_MIN", "struct.unpack, 'i4', 'abcd', -2147483648", "CVE-2020-14147"),
        pcall("struct.pack with an overflowing repetition count", "struct.pack, '99999999999999999999i', 1", "CVE-2020-14147"),
        pcall("struct.pack with a huge alignment", "struct.pack, '!999999999i', 1", "CVE-2020-14147"),
        pcall("struct.size of three 999999999-byte strings", "struct.size, 'c999999999c999999999c999999999'", "CVE-2020-14147"),
        case("cmsgpack.pack of 7000 arguments", "CVE-2018-11218").eval(
            "local t = {} for i = 1, 7000 do t[i] = i end return #cmsgpack.pack(unpack(t))",
        ),
        case("cmsgpack.pack of 100000 nested tables", "CVE-2018-11218")
            .eval(&format!("{deep}return #cmsgpack.pack(t)")),
        case("cmsgpack.pack of a table that contains itself", "CVE-2018-11218")
            .eval("local a = {} a[1] = a return #cmsgpack.pack(a)"),
        pcall("cmsgpack.unpack of 100000 nested arrays", "cmsgpack.unpack, string.rep('\\145', 100000)", "CVE-2018-11218"),
        pcall("cmsgpack.unpack of 100000 values", "cmsgpack.unpack, string.rep('\\1', 100000)", "CVE-2018-11218"),
        pcall("cmsgpack.unpack of a 4G-element array header", "cmsgpack.unpack, '\\221\\255\\255\\255\\255'", "CVE-2018-11218"),
        pcall("cmsgpack.unpack of a 4G-pair map header", "cmsgpack.unpack, '\\223\\255\\255\\255\\255'", "CVE-2018-11218"),
        pcall("cmsgpack.unpack of a 4 GiB string header", "cmsgpack.unpack, '\\219\\255\\255\\255\\255'", "CVE-2018-11218"),
        pcall("cmsgpack.unpack_limit at offset INT_MIN", "cmsgpack.unpack_limit, string.rep('\\1', 10), 2147483647, -2147483648", "CVE-2018-11218"),
        pcall("cmsgpack.unpack_one at offset INT_MAX", "cmsgpack.unpack_one, '\\1', 2147483647", "CVE-2018-11218"),
        case("a table that contains itself, returned", "issue 14").eval("local t = {} t[1] = t return t"),
        case("100000 nested tables, returned", "issue 14").eval(&format!("{deep}return t")),
        case("redis.call with 7999 string arguments", "CVE-2021-32626").eval(
            "local t = {} for i = 1, 7999 do t[i] = 'x' end return redis.call('DEL', unpack(t))",
        ),
        case("redis.call with 7999 integer arguments", "CVE-2021-32626").eval(
            "local t = {} for i = 1, 7999 do t[i] = 1 end return redis.call('LPUSH', 'l', unpack(t))",
        ),
        case("redis.call with 100000 arguments", "CVE-2021-32626").eval(
            "local t = {} for i = 1, 100000 do t[i] = 'x' end return redis.call('DEL', unpack(t))",
        ),
        case("a 20000-element reply converted to Lua", "CVE-2021-32626").eval(
            "for i = 1, 100 do local t = {} for j = 1, 200 do t[j] = j end \
             redis.call('RPUSH', 'big', unpack(t)) end \
             return #redis.call('LRANGE', 'big', 0, -1)",
        ),
        case("redis.call with no arguments", "CVE-2022-24736").eval("return redis.call()"),
        case("redis.call with a table argument", "CVE-2022-24736").eval("return redis.call({})"),
        case("redis.call with a nil argument", "CVE-2022-24736").eval("return redis.call('GET', nil)"),
        case("redis.setresp(INT_MAX)", "CVE-2022-24736").eval("redis.setresp(2147483647) return 1"),
    ]
}

/// SRANDMEMBER, HRANDFIELD and ZRANDMEMBER with counts near LONG_MIN.
fn random_member_cases() -> Vec<Case> {
    let setups = [
        (
            "ZRANDMEMBER",
            ["ZADD", "key", "0", "a"],
            "WITHSCORES",
            "CVE-2023-22458",
        ),
        (
            "HRANDFIELD",
            ["HSET", "key", "f", "v"],
            "WITHVALUES",
            "CVE-2023-22458",
        ),
        (
            "SRANDMEMBER",
            ["SADD", "key", "a", "b"],
            "",
            "CVE-2023-25155",
        ),
    ];
    let mut cases = Vec::new();
    for (command, setup, with, cve) in setups {
        let counted = |count: &str, with: &str| {
            let mut args = vec![command, "key", count];
            if !with.is_empty() {
                args.push(with);
            }
            case(args.join(" "), cve).cmd(setup).cmd(args)
        };
        cases.push(counted(I64_MIN, ""));
        // Ember refuses a count whose reply must pass command::RANDOM_REPLY_BYTES_MAX
        // (64 MiB) and closes the connection at once.
        cases.push(
            counted(HUGE_NEGATIVE_COUNT, "")
                .unchecked("Redis streams the 2^63 repeated members, without bound"),
        );
        if !with.is_empty() {
            cases.push(counted(I64_MIN, with));
            cases.push(counted(HUGE_NEGATIVE_COUNT, with));
            cases.push(counted(I64_MAX, with));
        }
    }
    cases.push(
        case(
            "ZRANDMEMBER of a missing key with LONG_MIN WITHSCORES",
            "CVE-2023-22458",
        )
        .cmd(["ZRANDMEMBER", "missing", I64_MIN, "WITHSCORES"]),
    );
    cases.push(
        case("SPOP with LONG_MAX and LONG_MIN", "CVE-2023-25155")
            .cmd(["SADD", "s", "a"])
            .cmd(["SPOP", "s", I64_MIN])
            .cmd(["SPOP", "s", I64_MAX]),
    );
    cases
}

/// Offsets, counts and limits at the edges of their types.
fn offset_and_count_cases() -> Vec<Case> {
    let single = |name: &str, issue: &'static str, args: &[&str]| case(name, issue).cmd(args);
    vec![
        single(
            "SETRANGE at LONG_MAX",
            "CVE-2022-35977",
            &["SETRANGE", "k", I64_MAX, "x"],
        ),
        single(
            "SETRANGE at INT_MAX",
            "CVE-2022-35977",
            &["SETRANGE", "k", "2147483647", "x"],
        ),
        single(
            "SETRANGE one byte past 512 MiB",
            "CVE-2022-35977",
            &["SETRANGE", "k", "536870911", "xx"],
        ),
        single(
            "SETRANGE of nothing at 512 MiB",
            "CVE-2022-35977",
            &["SETRANGE", "k", "536870911", ""],
        ),
        single(
            "SETBIT at LONG_MAX",
            "CVE-2022-35977",
            &["SETBIT", "k", I64_MAX, "1"],
        ),
        single(
            "SETBIT at 4 Gibit",
            "CVE-2022-35977",
            &["SETBIT", "k", "4294967296", "1"],
        ),
        single(
            "GETBIT at LONG_MAX",
            "CVE-2022-35977",
            &["GETBIT", "k", I64_MAX],
        ),
        single(
            "BITFIELD SET at LONG_MAX",
            "CVE-2022-35977",
            &["BITFIELD", "k", "SET", "u8", I64_MAX, "1"],
        ),
        single(
            "BITFIELD SET at 4 Gibit",
            "CVE-2022-35977",
            &["BITFIELD", "k", "SET", "i64", "4294967296", "1"],
        ),
        single(
            "BITFIELD SET at #LONG_MAX",
            "CVE-2022-35977",
            &["BITFIELD", "k", "SET", "u8", "#9223372036854775807", "1"],
        ),
        single(
            "BITFIELD GET at LONG_MAX",
            "CVE-2022-35977",
            &["BITFIELD", "k", "GET", "u8", I64_MAX],
        ),
        single(
            "BITFIELD_RO GET at 4 Gibit",
            "CVE-2022-35977",
            &["BITFIELD_RO", "k", "GET", "u8", "4294967295"],
        ),
        case(
            "BITCOUNT, BITPOS and GETRANGE over the whole i64 range",
            "CVE-2022-35977",
        )
        .cmd(["SET", "b", "abc"])
        .cmd(["BITCOUNT", "b", I64_MIN, I64_MAX])
        .cmd(["BITPOS", "b", "1", I64_MIN, I64_MAX])
        .cmd(["BITPOS", "b", "0", I64_MIN, I64_MAX, "BIT"])
        .cmd(["GETRANGE", "b", I64_MIN, I64_MAX]),
        case(
            "LCS whose table would pass proto-max-bulk-len",
            "CVE-2021-32625",
        )
        .cmd(["SET", "a", &"a".repeat(20_000)])
        .cmd(["SET", "b", &"b".repeat(20_000)])
        .cmd(["LCS", "a", "b"]),
        case("SORT LIMIT at the edges of i64", "CVE-2022-35977")
            .cmd(["RPUSH", "l", "3", "1", "2"])
            .cmd(["SORT", "l", "LIMIT", "1", I64_MAX])
            .cmd(["SORT", "l", "LIMIT", I64_MIN, I64_MAX])
            .cmd(["SORT", "l", "LIMIT", I64_MAX, I64_MAX])
            .cmd(["SORT_RO", "l", "LIMIT", "-1", I64_MAX]),
        case("ZRANGE LIMIT at the edges of i64", "CVE-2022-35977")
            .cmd(["ZADD", "z", "1", "a", "2", "b"])
            .cmd([
                "ZRANGEBYSCORE",
                "z",
                "-inf",
                "+inf",
                "LIMIT",
                I64_MAX,
                I64_MAX,
            ])
            .cmd([
                "ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", I64_MIN,
            ])
            .cmd([
                "ZRANGESTORE",
                "d",
                "z",
                "0",
                "-1",
                "BYSCORE",
                "LIMIT",
                I64_MIN,
                I64_MAX,
            ]),
        stream_with_pending(
            "XAUTOCLAIM COUNT at LONG_MAX and LONG_MAX/8",
            "CVE-2022-35951",
        )
        .cmd(["XAUTOCLAIM", "x", "g", "c2", "0", "0-0", "COUNT", I64_MAX])
        .cmd([
            "XAUTOCLAIM",
            "x",
            "g",
            "c2",
            "0",
            "0-0",
            "COUNT",
            "2305843009213693951",
        ]),
        stream_with_pending("XAUTOCLAIM COUNT of 2^30", "CVE-2022-35951")
            .cmd([
                "XAUTOCLAIM",
                "x",
                "g",
                "c2",
                "0",
                "0-0",
                "COUNT",
                "1073741824",
            ])
            .unchecked("Redis answers by whether it can malloc COUNT * 16 bytes"),
        stream_with_pending(
            "XCLAIM, XPENDING, XRANGE and XREAD with i64 edges",
            "CVE-2022-35951",
        )
        .cmd([
            "XCLAIM",
            "x",
            "g",
            "c3",
            "0",
            "1-1",
            "RETRYCOUNT",
            I64_MAX,
            "IDLE",
            I64_MAX,
        ])
        .cmd(["XPENDING", "x", "g", "IDLE", I64_MAX, "-", "+", I64_MAX])
        .cmd(["XRANGE", "x", "-", "+", "COUNT", I64_MAX])
        .cmd(["XREAD", "COUNT", I64_MAX, "STREAMS", "x", "0"]),
        case(
            "HINCRBYFLOAT and INCRBYFLOAT to nan and inf",
            "CVE-2023-28856",
        )
        .cmd(["HINCRBYFLOAT", "h", "f", "nan"])
        .cmd(["HINCRBYFLOAT", "h", "f", "inf"])
        .cmd(["HSET", "h", "g", "1"])
        .cmd(["HINCRBYFLOAT", "h", "g", "-inf"])
        .cmd(["HSET", "h", "big", "1e308"])
        .cmd(["HINCRBYFLOAT", "h", "big", "1e308"])
        .cmd(["INCRBYFLOAT", "f", "nan"])
        .cmd(["ZADD", "z", "inf", "a"])
        .cmd(["ZINCRBY", "z", "-inf", "a"]),
        case("MSETNX with a repeated key", "CVE-2023-28425")
            .cmd(["MSETNX", "k", "v1", "k", "v2"])
            .cmd(["GET", "k"]),
        case("MSETNX with one key 1000 times", "CVE-2023-28425")
            .cmd(["MSETNX"].into_iter().chain(["k", "v"].repeat(1000)))
            .cmd(["STRLEN", "k"]),
        case("XADD at the last possible ID", "issue 14")
            .cmd(["XADD", "x", STREAM_ID_MAX, "f", "v"])
            .cmd(["XADD", "x", "*", "f", "v"])
            .cmd(["XADD", "y", "18446744073709551615-*", "f", "v"])
            .cmd(["XADD", "y", "18446744073709551615-*", "f", "v"])
            .cmd(["XADD", "z", "18446744073709551616-1", "f", "v"])
            .cmd(["XADD", "z", "0-0", "f", "v"]),
        case("XSETID at and past the last possible ID", "CVE-2022-33105")
            .cmd(["XADD", "x", "1-1", "f", "v"])
            .cmd(["XSETID", "x", STREAM_ID_MAX])
            .cmd(["XADD", "x", "*", "f", "v"])
            .cmd([
                "XSETID",
                "x",
                STREAM_ID_MAX,
                "ENTRIESADDED",
                I64_MAX,
                "MAXDELETEDID",
                STREAM_ID_MAX,
            ])
            .cmd(["XSETID", "x", "0-1"])
            .cmd(["XSETID", "x", "1-1", "ENTRIESADDED", "-1"])
            .cmd(["XSETID", "missing", "1-1"])
            .cmd(["XGROUP", "CREATE", "x", "g", "$"])
            .cmd(["XGROUP", "SETID", "x", "g", "0", "ENTRIESREAD", I64_MIN]),
        case("XADD and XTRIM with i64 edges", "issue 14")
            .cmd(["XADD", "x", "MAXLEN", I64_MAX, "1-1", "f", "v"])
            .cmd([
                "XADD", "x", "MAXLEN", "~", "0", "LIMIT", I64_MAX, "2-1", "f", "v",
            ])
            .cmd(["XTRIM", "x", "MAXLEN", I64_MIN]),
        case("LPOS with RANK and COUNT at the edges of i64", "issue 14")
            .cmd(["RPUSH", "l", "a", "b"])
            .cmd(["LPOS", "l", "a", "RANK", I64_MIN])
            .cmd([
                "LPOS", "l", "a", "RANK", I64_MAX, "COUNT", I64_MAX, "MAXLEN", I64_MAX,
            ])
            .cmd(["LPOS", "l", "a", "COUNT", I64_MIN])
            .cmd(["LRANGE", "l", I64_MIN, I64_MAX])
            .cmd(["LINDEX", "l", I64_MIN])
            .cmd(["LTRIM", "l", I64_MAX, I64_MIN]),
        case("expiry times at the edges of i64", "issue 14")
            .cmd(["SET", "k", "1"])
            .cmd(["EXPIRE", "k", I64_MAX])
            .cmd(["SET", "k", "1", "EX", I64_MAX])
            .cmd(["GETEX", "k", "EX", "9223372036854776"])
            .cmd(["SET", "k", "1", "PXAT", I64_MAX])
            .cmd(["PEXPIRE", "k", I64_MIN]),
        case("numkeys at LONG_MAX", "CVE-2023-36824")
            .cmd(["ZUNIONSTORE", "t", I64_MAX, "a"])
            .cmd(["ZUNION", "2147483647", "a"])
            .cmd(["SINTERCARD", I64_MAX, "a"])
            .cmd(["LMPOP", I64_MAX, "a", "LEFT"])
            .cmd(["EVAL", "return 1", I64_MAX])
            .cmd(["EVAL", "return 1", "-1"]),
        case(
            "COMMAND GETKEYS of 300 keys and of LONG_MAX numkeys",
            "CVE-2023-36824",
        )
        .cmd(
            ["COMMAND", "GETKEYS", "ZUNIONSTORE", "t", "300"]
                .into_iter()
                .map(String::from)
                .chain(keys(300)),
        )
        .cmd(
            ["COMMAND", "GETKEYS", "EVAL", "s", "300"]
                .into_iter()
                .map(String::from)
                .chain(keys(300)),
        )
        .cmd(
            ["COMMAND", "GETKEYS", "XREAD", "STREAMS"]
                .into_iter()
                .map(String::from)
                .chain(keys(300)),
        )
        .cmd(["COMMAND", "GETKEYS", "ZUNIONSTORE", "t", I64_MAX, "a"])
        .cmd(["COMMAND", "GETKEYS", "EVAL", "s", I64_MAX, "a"])
        .cmd(["COMMAND", "GETKEYS", "LMPOP", I64_MAX, "a", "LEFT"])
        .cmd(
            ["COMMAND", "GETKEYSANDFLAGS", "ZUNIONSTORE", "t", "300"]
                .into_iter()
                .map(String::from)
                .chain(keys(300)),
        ),
        case("LMPOP, BLMPOP and ZMPOP with COUNT LONG_MAX", "issue 14")
            .cmd(["RPUSH", "l", "1"])
            .cmd(["LMPOP", "1", "l", "LEFT", "COUNT", I64_MAX])
            .cmd(["ZADD", "z", "1", "a"])
            .cmd(["ZMPOP", "1", "z", "MIN", "COUNT", I64_MAX])
            .cmd(["BLMPOP", "0.01", "1", "l", "LEFT", "COUNT", I64_MAX]),
        case(
            "GEOSEARCH and GEORADIUS with huge radii and counts",
            "issue 14",
        )
        .cmd(["GEOADD", "g", "13.361389", "38.115556", "p"])
        .cmd(["GEORADIUS", "g", "15", "37", "200", "km", "COUNT", I64_MAX])
        .cmd([
            "GEOSEARCH",
            "g",
            "FROMLONLAT",
            "15",
            "37",
            "BYRADIUS",
            "1e300",
            "km",
        ])
        .cmd([
            "GEOSEARCH",
            "g",
            "FROMLONLAT",
            "15",
            "37",
            "BYBOX",
            "1e300",
            "1e300",
            "km",
            "COUNT",
            I64_MAX,
            "ANY",
        ]),
        case("DEBUG POPULATE of LONG_MAX keys", "issue 14")
            .cmd(["DEBUG", "POPULATE", I64_MAX])
            .unchecked("Redis creates keys until it runs out of memory"),
        case("DEBUG POPULATE of LONG_MAX-byte values", "issue 14")
            .cmd(["DEBUG", "POPULATE", "1", "k", I64_MAX])
            .unchecked("Redis aborts on the allocation"),
        case("DEBUG POPULATE of 4 GiB values", "issue 14")
            .cmd(["DEBUG", "POPULATE", "1", "k", "4294967296"])
            .unchecked("Redis aborts on the allocation"),
        case("SUBSCRIBE to 10000 channels", "issue 14")
            .send(
                ember_tests::resp::encode_command(
                    &["SUBSCRIBE"]
                        .into_iter()
                        .map(String::from)
                        .chain((0..10_000).map(|i| format!("c{i}")))
                        .collect::<Vec<_>>(),
                ),
                Expect::Replies(10_000),
            )
            .cmd(["PING"]),
        case("CLIENT SETNAME of 1 MiB", "issue 14").cmd([
            "CLIENT",
            "SETNAME",
            &"x".repeat(1 << 20),
        ]),
    ]
}

/// Glob patterns that backtrack without bound (CVE-2022-36021, CVE-2024-31228).
fn pattern_cases() -> Vec<Case> {
    let nested = "*?".repeat(50_000);
    let long_key = "a".repeat(50_000);
    let a_star_b = format!("{}b", "a*".repeat(1000));
    vec![
        case("KEYS *? x50000 against a 50000-byte key", "CVE-2024-31228")
            .cmd(["SET", &long_key, "1"])
            .cmd(["KEYS", &nested]),
        case("SCAN MATCH *? x50000", "CVE-2024-31228")
            .cmd(["SET", &long_key, "1"])
            .cmd(["SCAN", "0", "MATCH", &nested, "COUNT", "100"]),
        case("KEYS a*a*...*b", "CVE-2022-36021")
            .cmd(["SET", &"a".repeat(40), "1"])
            .cmd(["KEYS", &format!("{}b", "a*".repeat(20))])
            .cmd(["SET", &long_key, "1"])
            .cmd(["KEYS", &a_star_b]),
        case("SSCAN, HSCAN and ZSCAN MATCH *? x50000", "CVE-2024-31228")
            .cmd(["SADD", "s", &long_key])
            .cmd(["SSCAN", "s", "0", "MATCH", &nested])
            .cmd(["HSET", "h", &long_key, "v"])
            .cmd(["HSCAN", "h", "0", "MATCH", &nested])
            .cmd(["ZADD", "z", "1", &long_key])
            .cmd(["ZSCAN", "z", "0", "MATCH", &nested]),
        case("PUBSUB CHANNELS *? x50000", "CVE-2024-31228")
            .on("sub")
            .cmd(["SUBSCRIBE", &long_key])
            .on("main")
            .cmd(["PUBSUB", "CHANNELS", &nested]),
        case(
            "PSUBSCRIBE *? x50000 then PUBLISH to a 50000-byte channel",
            "CVE-2024-31228",
        )
        .on("sub")
        .cmd(["PSUBSCRIBE", &nested])
        .on("main")
        .cmd(["PUBLISH", &long_key, "m"]),
        case(
            "PSUBSCRIBE a*a*...*b then PUBLISH to a 50000-byte channel",
            "CVE-2022-36021",
        )
        .on("sub")
        .cmd(["PSUBSCRIBE", &a_star_b])
        .on("main")
        .cmd(["PUBLISH", &long_key, "m"]),
    ]
}

/// Request headers: multibulk counts and bulk lengths at and past the limits, from an
/// authenticated and an unauthenticated client (CVE-2021-32675, CVE-2021-32627/32628).
fn protocol_cases() -> Vec<Case> {
    let ping = b"*1\r\n$4\r\nPING\r\n".to_vec();
    let mut cases = vec![
        case(
            "a multibulk count of INT_MAX, then a PING",
            "CVE-2021-32675",
        )
        .send(b"*2147483647\r\n".to_vec(), Expect::Quiet)
        .send(ping.clone(), Expect::Close),
        case("a multibulk count past 1M", "CVE-2021-32675")
            .send(b"*1048577\r\n$4\r\nPING\r\n".to_vec(), Expect::Quiet),
        case("a multibulk count past i64", "CVE-2021-32675")
            .send(b"*99999999999999999999\r\n".to_vec(), Expect::Close),
        case("a bulk length of 2 GiB", "CVE-2021-32627")
            .send(b"*1\r\n$2147483648\r\n".to_vec(), Expect::Close),
        case("a bulk length of exactly 512 MiB", "CVE-2021-32627")
            .send(b"*1\r\n$536870912\r\n".to_vec(), Expect::Quiet),
        case("a bulk length one past 512 MiB", "CVE-2021-32627")
            .send(b"*1\r\n$536870913\r\n".to_vec(), Expect::Close),
        case("a 512 MiB bulk that sends its first MiB", "CVE-2021-32627").send(
            [b"*1\r\n$536870912\r\n".as_slice(), &[b'x'; 1 << 20]].concat(),
            Expect::Quiet,
        ),
    ];
    let unauthenticated = [
        (
            "a multibulk count of INT_MAX",
            b"*2147483647\r\n".to_vec(),
            Expect::Close,
        ),
        (
            "a multibulk count of 11",
            b"*11\r\n".to_vec(),
            Expect::Close,
        ),
        (
            "a bulk length of 2 GiB",
            b"*1\r\n$2147483648\r\n".to_vec(),
            Expect::Close,
        ),
        (
            "a bulk length of 16385",
            b"*1\r\n$16385\r\n".to_vec(),
            Expect::Close,
        ),
        (
            "a 70000-byte inline line",
            vec![b'x'; 70_000],
            Expect::Close,
        ),
        (
            "a 10 KiB password",
            ember_tests::resp::encode_command(&["AUTH", &"x".repeat(10_000)]),
            Expect::Replies(1),
        ),
    ];
    for (name, bytes, expect) in unauthenticated {
        cases.push(
            case(format!("unauthenticated: {name}"), "CVE-2021-32675")
                .config(REQUIREPASS)
                .send(bytes, expect),
        );
    }
    cases
}

/// CONFIG SET of limits to huge values, then inputs that lean on them.
fn config_cases() -> Vec<Case> {
    vec![
        case(
            "CONFIG SET proto-max-bulk-len to LONG_MAX and 4 GiB",
            "CVE-2021-41099",
        )
        .cmd(["CONFIG", "SET", "proto-max-bulk-len", I64_MAX])
        .cmd(["CONFIG", "SET", "proto-max-bulk-len", "4294967296"])
        .cmd(["CONFIG", "GET", "proto-max-bulk-len"])
        .changes_config(),
        case(
            "a 4 GiB bulk header under proto-max-bulk-len 4 GiB",
            "CVE-2021-41099",
        )
        .cmd(["CONFIG", "SET", "proto-max-bulk-len", "4294967296"])
        .send(
            [b"*1\r\n$4294967295\r\n".as_slice(), &[b'x'; 1000]].concat(),
            Expect::Quiet,
        )
        .unchecked("Redis allocates the whole bulk up front")
        .changes_config(),
        case(
            "CONFIG SET client-query-buffer-limit to LONG_MAX",
            "CVE-2021-41099",
        )
        .cmd(["CONFIG", "SET", "client-query-buffer-limit", I64_MAX])
        .changes_config(),
        case(
            "set-max-intset-entries at LONG_MAX, then 20000 integers",
            "CVE-2021-32687",
        )
        .cmd(["CONFIG", "SET", "set-max-intset-entries", I64_MAX])
        .cmd(["CONFIG", "GET", "set-max-intset-entries"])
        .cmd(
            ["SADD", "s"]
                .into_iter()
                .map(String::from)
                .chain((0..20_000).map(|i| (i * 7919).to_string())),
        )
        .cmd(["OBJECT", "ENCODING", "s"])
        .cmd(["SCARD", "s"])
        .changes_config(),
        case("CONFIG SET of numbers past their bounds", "CVE-2021-32687")
            .cmd(["CONFIG", "SET", "hz", I64_MAX])
            .cmd(["CONFIG", "SET", "maxclients", I64_MAX])
            .cmd(["CONFIG", "SET", "list-max-listpack-size", I64_MIN])
            .cmd([
                "CONFIG",
                "SET",
                "client-output-buffer-limit",
                "normal -1 -1 -1",
            ])
            .changes_config(),
    ]
}

/// Crafted HyperLogLog strings: sparse runs past the 16384 registers, then every
/// command that reads them (CVE-2025-32023, CVE-2019-10192, CVE-2019-10193).
fn hyperloglog_cases() -> Vec<Case> {
    let sparse = |body: &[u8]| [b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0".as_slice(), body].concat();
    // XZERO runs of 16384 registers, enough to pass 2^31, then a VAL opcode.
    let xzero = [[0x7f, 0xff].repeat(131_072 + 1000), vec![0xff]].concat();
    // ZERO runs of 64 registers, enough to pass 2^31, then a VAL opcode.
    let zero = [vec![0x3f; 33_554_432 + 1000], vec![0xff]].concat();
    // VAL runs of 4 registers of value 32, 5000 of them.
    let val = vec![0xff; 5000];
    let reads = |name: &str, cve: &'static str, body: &[u8]| {
        case(name, cve)
            .cmd([b"SET".as_slice(), b"h", &sparse(body)])
            .cmd(["PFCOUNT", "h", "h"])
            .cmd(["PFDEBUG", "GETREG", "h"])
            .cmd(["PFMERGE", "d", "h"])
            .cmd(["PFADD", "h", "a", "b", "c"])
            .cmd(["PFCOUNT", "h"])
    };
    vec![
        reads(
            "sparse HLL whose XZERO runs overflow an int",
            "CVE-2025-32023",
            &xzero,
        ),
        // 32 MiB: only the two reads of the CVE's own test, to keep the run fast.
        case(
            "sparse HLL whose ZERO runs overflow an int",
            "CVE-2025-32023",
        )
        .cmd([b"SET".as_slice(), b"h", &sparse(&zero)])
        .cmd(["PFCOUNT", "h", "h"])
        .cmd(["PFDEBUG", "GETREG", "h"])
        .patience(Duration::from_secs(10)),
        reads(
            "sparse HLL whose VAL runs pass the registers",
            "CVE-2019-10192",
            &val,
        ),
        reads(
            "sparse HLL with too few registers",
            "CVE-2019-10193",
            &[0x80],
        ),
        case(
            "a sparse HLL promoted to dense after corrupt appends",
            "CVE-2019-10193",
        )
        .cmd(["PFADD", "h", "a", "b", "c"])
        .cmd(["APPEND", "h", "hello"])
        .cmd(["PFCOUNT", "h"])
        .cmd(["PFMERGE", "d", "h", "h"])
        .cmd(["SETRANGE", "h", "4", "\x00"])
        .cmd(["PFCOUNT", "h"])
        .cmd(["PFADD", "h", "x"]),
    ]
}

/// DUMP payloads that claim huge lengths and counts, and the corrupt zipmaps and
/// stream PELs of CVE-2026-25243; the ones with a valid checksum reach the parser.
fn restore_cases() -> Vec<Case> {
    let restore = |payload: Vec<u8>| {
        vec![
            b"RESTORE".to_vec(),
            b"key".to_vec(),
            b"0".to_vec(),
            payload,
            b"REPLACE".to_vec(),
        ]
    };
    let mut cases = vec![
        case("RESTORE of a string claiming 2^64-9 bytes", "CVE-2026-25243")
            .cmd(restore(b"\x00\x81\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xF7\x0c\x00\x00\x00\x00\x00\x00\x00\x00\x00".to_vec())),
        case("RESTORE of a zipmap with a 5-byte length for a small field", "CVE-2026-25243")
            .cmd(restore(b"\x09\x11\x01\xfe\x04\x00\x00\x00\x01\x00\xff\x00\x04\x00\x76\x61\x6c\x31\xff\x09\x00\xf9\xd5\xa4\xf7\x7d\x00\x3f\x1b".to_vec()))
            .cmd(["TYPE", "key"]),
        case("RESTORE of a zipmap with a 5-byte length for a small value", "CVE-2026-25243")
            .cmd(restore(b"\x09\x0e\x01\x01\x6b\xfe\x04\x00\x00\x00\x00\x76\x61\x6c\x31\xff\x09\x00\xd0\xf9\xe4\x1d\xe4\xfb\x11\x4c".to_vec()))
            .cmd(["TYPE", "key"]),
        case("RESTORE of a stream whose consumer PEL repeats an entry", "CVE-2026-25243")
            .cmd(restore(STREAM_DUPLICATE_PEL.to_vec()))
            .cmd(["TYPE", "key"]),
        case("RESTORE of a stream whose NACK two consumers share", "CVE-2026-66373")
            .cmd(restore(STREAM_SHARED_NACK.to_vec()))
            .cmd(["XACK", "key", "mygroup", "1-0"])
            .cmd(["XREADGROUP", "GROUP", "mygroup", "consumerA", "COUNT", "10", "STREAMS", "key", "0"])
            .cmd(["DEL", "key"]),
    ];
    let claims: [(&str, &[u8]); 12] = [
        (
            "a string of 2^64-9 bytes",
            b"\x00\x81\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xF7",
        ),
        (
            "a string of 2 GiB",
            b"\x00\x81\x00\x00\x00\x00\x80\x00\x00\x00",
        ),
        ("a string of 2^56 bytes", b"\x00\x81\x01"),
        (
            "a set of 2^63 members",
            b"\x02\x81\x7f\xff\xff\xff\xff\xff\xff\xff",
        ),
        (
            "a set whose dict would init huge",
            b"\x02\x81\xC0\x00\x02\x5F\x31\xC0\x02",
        ),
        (
            "a list of 2^63 elements",
            b"\x01\x81\x7f\xff\xff\xff\xff\xff\xff\xff",
        ),
        (
            "a sorted set of 2^63 members",
            b"\x05\x81\x7f\xff\xff\xff\xff\xff\xff\xff",
        ),
        (
            "a hash of 2^63 fields",
            b"\x04\x81\x7f\xff\xff\xff\xff\xff\xff\xff",
        ),
        (
            "a quicklist of 2^63 nodes",
            b"\x12\x81\x7f\xff\xff\xff\xff\xff\xff\xff",
        ),
        (
            "a stream of 2^63 listpacks",
            b"\x15\x81\x7f\xff\xff\xff\xff\xff\xff\xff",
        ),
        (
            "an LZF string that inflates to 2^63 bytes",
            b"\x00\xc3\x05\x81\x7f\xff\xff\xff\xff\xff\xff\xff\x01\x00\x00\x00\x00",
        ),
        (
            "an intset of 2^31 elements",
            b"\x0b\x0c\x08\x00\x00\x00\xff\xff\xff\x7f\x01\x00\x00\x00",
        ),
    ];
    for (name, body) in claims {
        cases.push(
            case(
                format!("RESTORE with a valid checksum of {name}"),
                "CVE-2026-25243",
            )
            .cmd(restore(dump_payload(body))),
        );
    }
    let zipmap_huge_field = [
        b"\x09\x41\x15\x02\x04\x6b\x65\x79\x31\x04\x00\x76\x61\x6c\x31\xfe\x04\x00\x00\x00\xfe\xff\xff\xff\xfd\x00".as_slice(),
        &[0x42; 246],
        b"\xff",
    ]
    .concat();
    cases.push(
        case(
            "RESTORE with a valid checksum of a zipmap with a huge field",
            "CVE-2026-25243",
        )
        .cmd(restore(dump_payload_versioned(&zipmap_huge_field, 9))),
    );
    cases
}

/// Blocked clients woken by a key that went away, and CLIENT REPLY OFF/SKIP with
/// Pub/Sub, whose pushes Redis still sends.
fn blocking_and_reply_mode_cases() -> Vec<Case> {
    let blocked_reader = |name: &str, stream: &str| {
        case(name, "issue 14")
            .on("reader")
            .cmd(["XGROUP", "CREATE", stream, "g", "$", "MKSTREAM"])
            .send(
                ember_tests::resp::encode_command(&[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c",
                    "BLOCK",
                    "0",
                    "STREAMS",
                    stream,
                    ">",
                ]),
                Expect::Quiet,
            )
            .wait_blocked(1)
    };
    vec![
        blocked_reader("XREADGROUP BLOCK 0, then DEL of its stream", "s")
            .on("writer")
            .cmd(["DEL", "s"])
            .on("reader")
            .read(Expect::Replies(1)),
        blocked_reader("XREADGROUP BLOCK 0, then SET over its stream", "s")
            .on("writer")
            .cmd(["SET", "s", "x"])
            .on("reader")
            .read(Expect::Replies(1)),
        blocked_reader("XREADGROUP BLOCK 0, then XGROUP DESTROY", "s")
            .on("writer")
            .cmd(["XGROUP", "DESTROY", "s", "g"])
            .on("reader")
            .read(Expect::Replies(1)),
        blocked_reader("XREADGROUP BLOCK 0, then DEL and XADD in one MULTI", "s")
            .on("writer")
            .cmd(["MULTI"])
            .cmd(["DEL", "s"])
            .cmd(["XADD", "s", "1-1", "f", "v"])
            .cmd(["EXEC"])
            .on("reader")
            .read(Expect::Replies(1)),
        case("CLIENT REPLY OFF, then SUBSCRIBE in RESP3", "issue 14")
            .on("sub")
            .prepare(["HELLO", "3"])
            .send(
                [
                    ember_tests::resp::encode_command(&["CLIENT", "REPLY", "OFF"]),
                    ember_tests::resp::encode_command(&["SUBSCRIBE", "ch"]),
                    ember_tests::resp::encode_command(&["PSUBSCRIBE", "p*"]),
                ]
                .concat(),
                Expect::Replies(2),
            )
            .on("pub")
            .cmd(["PUBLISH", "ch", "m"])
            .on("sub")
            .read(Expect::Replies(1))
            .cmd(["CLIENT", "REPLY", "ON"])
            .cmd(["PING"]),
        case("CLIENT REPLY OFF, then SUBSCRIBE in RESP2", "issue 14")
            .on("sub")
            .send(
                [
                    ember_tests::resp::encode_command(&["CLIENT", "REPLY", "OFF"]),
                    ember_tests::resp::encode_command(&["SUBSCRIBE", "ch"]),
                ]
                .concat(),
                Expect::Replies(1),
            )
            .on("pub")
            .cmd(["PUBLISH", "ch", "m"])
            .on("sub")
            .read(Expect::Replies(1)),
        case("CLIENT REPLY SKIP, then SUBSCRIBE in RESP3", "issue 14")
            .on("sub")
            .prepare(["HELLO", "3"])
            .send(
                [
                    ember_tests::resp::encode_command(&["CLIENT", "REPLY", "SKIP"]),
                    ember_tests::resp::encode_command(&["SUBSCRIBE", "ch"]),
                    ember_tests::resp::encode_command(&["PING"]),
                ]
                .concat(),
                Expect::Replies(2),
            ),
    ]
}

/// Clients that never read: the output buffer limits of normal and of
/// unauthenticated clients (CVE-2025-21605), and connections that come and go
/// without reading (CVE-2025-48367).
fn client_limit_cases() -> Vec<Case> {
    let set = ember_tests::resp::encode_command(&["SET", "x", "5"]);
    let lrange = ember_tests::resp::encode_command(&["LRANGE", "big", "0", "-1"]);
    let big_list = ["RPUSH", "big"]
        .into_iter()
        .map(String::from)
        .chain(std::iter::repeat_n("x".repeat(1000), 1000));
    vec![
        case(
            "an unauthenticated client pipelines SET without reading",
            "CVE-2025-21605",
        )
        .config(REQUIREPASS)
        .send(set.clone(), Expect::Replies(1))
        .flood(set.repeat(1000), 64 << 20),
        case(
            "an unauthenticated client pipelines garbage without reading",
            "CVE-2025-21605",
        )
        .config(REQUIREPASS)
        .flood(b"garbage garbage garbage\r\n".repeat(1000), 64 << 20),
        case(
            "200 unauthenticated connections send garbage and go",
            "CVE-2025-48367",
        )
        .config(REQUIREPASS)
        .churn(b"garbage\r\nPING\r\n".to_vec(), 200)
        .on("after")
        .send(b"PING\r\n".to_vec(), Expect::Replies(1)),
        case(
            "a client pipelines LRANGE of a 1 MB list without reading",
            "issue 14",
        )
        .config(OUTPUT_LIMIT)
        .cmd(big_list)
        .on("reader")
        .flood(lrange.repeat(100), 256 << 20),
    ]
}

/// A DUMP payload of RDB version 10 for `body` with its CRC64, so RESTORE parses it.
fn dump_payload(body: &[u8]) -> Vec<u8> {
    dump_payload_versioned(body, 10)
}

fn dump_payload_versioned(body: &[u8], rdb_version: u8) -> Vec<u8> {
    let mut payload = [body, &[rdb_version, 0]].concat();
    let crc = ember_core::rdb::crc64(&payload);
    payload.extend_from_slice(&crc.to_le_bytes());
    payload
}

/// A stream of one group and consumer whose consumer PEL lists an entry twice.
const STREAM_DUPLICATE_PEL: &[u8] = b"\x15\x01\x10\x00\x00\x01\x9b\x0d\x56\xa9\xb7\x00\x00\x00\x00\x00\x00\x00\x00\xc3\x39\x40\x42\x15\x42\x00\x00\x00\x11\x00\x02\x01\x00\x01\x01\x01\x86\x66\x69\x65\x6c\x64\x31\x07\x00\x01\x40\x0f\x0a\x00\x01\x86\x76\x61\x6c\x75\x65\x31\x07\x04\x20\x0b\x02\xcd\xd9\x02\xe0\x01\x22\x01\x32\x07\x80\x1a\x04\x32\x07\x06\x01\xff\x02\x81\x00\x00\x01\x9b\x0d\x56\xb7\x90\x00\x81\x00\x00\x01\x9b\x0d\x56\xa9\xb7\x00\x00\x00\x02\x01\x07\x6d\x79\x67\x72\x6f\x75\x70\x81\x00\x00\x01\x9b\x0d\x56\xb7\x90\x00\x02\x02\x00\x00\x01\x9b\x0d\x56\xa9\xb7\x00\x00\x00\x00\x00\x00\x00\x00\x80\xd9\x56\x0d\x9b\x01\x00\x00\x01\x00\x00\x01\x9b\x0d\x56\xb7\x90\x00\x00\x00\x00\x00\x00\x00\x00\x80\xd9\x56\x0d\x9b\x01\x00\x00\x01\x01\x09\x63\x6f\x6e\x73\x75\x6d\x65\x72\x31\x80\xd9\x56\x0d\x9b\x01\x00\x00\x80\xd9\x56\x0d\x9b\x01\x00\x00\x02\x00\x00\x01\x9b\x0d\x56\xa9\xb7\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x9b\x0d\x56\xa9\xb7\x00\x00\x00\x00\x00\x00\x00\x00\x0c\x00\x00\x00\x00\x00\x00\x00\x00\x00\x09\x00\x4b\xe0\x99\x30\x67\x4d\xe5\x87";

/// A stream whose two consumers' PELs both hold entry 1-0 (one shared NACK).
const STREAM_SHARED_NACK: &[u8] = b"\x0f\x01\x10\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x25\x25\x00\x00\x00\x0a\x00\x01\x01\x00\x01\x01\x01\x85\x66\x69\x65\x6c\x64\x06\x00\x01\x02\x01\x00\x01\x00\x01\x85\x76\x61\x6c\x75\x65\x06\x04\x01\xff\x01\x01\x00\x01\x07\x6d\x79\x67\x72\x6f\x75\x70\x01\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x4a\x79\x89\x8f\x9f\x01\x00\x00\x01\x02\x09\x63\x6f\x6e\x73\x75\x6d\x65\x72\x41\x4a\x79\x89\x8f\x9f\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x09\x63\x6f\x6e\x73\x75\x6d\x65\x72\x42\x54\x79\x89\x8f\x9f\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x09\x00\xf6\xea\x7b\x6c\xb8\xb8\xd8\xb4";

/// A stream `x` with entry 1-1 delivered to consumer `c` of group `g`.
fn stream_with_pending(name: &str, issue: &'static str) -> Case {
    case(name, issue)
        .cmd(["XADD", "x", "1-1", "f", "v"])
        .cmd(["XGROUP", "CREATE", "x", "g", "0"])
        .cmd(["XREADGROUP", "GROUP", "g", "c", "STREAMS", "x", ">"])
}

fn keys(n: usize) -> impl Iterator<Item = String> {
    (0..n).map(|i| format!("k{i}"))
}

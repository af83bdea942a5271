//! No script can crash a node or break out of it: random token soups (most do
//! not compile, some run) and random bytes go through EVAL and FUNCTION LOAD,
//! and the node must answer each with some reply and keep serving.

use bytes::Bytes;
use ember_core::{Config, Input, Node, Output};
use proptest::prelude::*;

const NOW: u64 = 1_700_000_000_000;

fn request(args: &[&[u8]]) -> Bytes {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    Bytes::from(out)
}

fn send(node: &mut Node, args: &[&[u8]]) -> Vec<u8> {
    node.handle(
        NOW,
        Input::Received {
            conn: 1,
            bytes: request(args),
        },
    );
    let mut reply = Vec::new();
    while let Some(o) = node.poll_output() {
        if let Output::Send { bytes, .. } = o {
            reply.extend_from_slice(&bytes);
        }
    }
    reply
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
    "'s'",
    ",",
    ";",
    " + ",
    " .. ",
    "redis.call",
    "redis.pcall",
    "'set'",
    "'get'",
    "'k'",
    "KEYS[1]",
    "ARGV[1]",
    "cjson.encode",
    "cjson.decode",
    "cmsgpack.pack",
    "cmsgpack.unpack",
    "struct.pack",
    "'>i4'",
    "bit.band",
    "string.rep",
    "math.random",
    "pcall",
    "error",
    "setmetatable",
    "getmetatable",
    "rawset",
    "_G",
    "loadstring",
    "function() ",
    " end",
    " if ",
    " then ",
    " else ",
    "redis.setresp(3)",
    "{err='e'}",
    "{ok='o'}",
    "{double=1.5}",
    "nil",
    "true",
    "redis.sha1hex",
    "'[1,{\"a\":2}]'",
    "coroutine.wrap",
    "tostring",
    "#",
    " = ",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 1..24).prop_map(|t| t.concat())
}

fn node() -> Node {
    let mut node = Node::new(Config::default(), [3; 32], NOW);
    node.handle(
        NOW,
        Input::Accepted {
            conn: 1,
            peer: "127.0.0.1:5000".into(),
            local: "127.0.0.1:6379".into(),
        },
    );
    node
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_scripts_get_a_reply_and_the_node_keeps_serving(body in soup(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut node = node();
        for script in [body.as_bytes(), &bytes[..]] {
            let reply = send(&mut node, &[b"EVAL", script, b"1", b"k", b"arg"]);
            prop_assert!(!reply.is_empty());
            let mut code = b"#!lua name=fuzz\n".to_vec();
            code.extend_from_slice(script);
            let reply = send(&mut node, &[b"FUNCTION", b"LOAD", b"REPLACE", &code]);
            prop_assert!(!reply.is_empty());
            prop_assert_eq!(send(&mut node, &[b"PING"]), b"+PONG\r\n".to_vec());
        }
    }

    #[test]
    fn the_c_libraries_survive_random_input(
        fmt in "[bBhHlLTiIfdxcs0-9<>=! ]{0,12}",
        data in prop::collection::vec(any::<u8>(), 0..48),
        json in "[\\[\\]{}:,\"0-9a-z.eE+\\- \\\\u]{0,24}",
    ) {
        let mut node = node();
        let scripts: [&[u8]; 6] = [
            b"return {pcall(struct.unpack, ARGV[1], ARGV[2])}",
            b"return {pcall(struct.pack, ARGV[1], 1, 2, 'abc', 3.5, ARGV[2])}",
            b"return {pcall(struct.size, ARGV[1])}",
            b"return {pcall(cmsgpack.unpack, ARGV[2])}",
            b"return {pcall(cjson.decode, ARGV[3])}",
            b"local ok, v = pcall(cjson.decode, ARGV[3]) if ok then return {pcall(cjson.encode, v)} end return 0",
        ];
        for script in scripts {
            let reply = send(&mut node, &[b"EVAL", script, b"0", fmt.as_bytes(), &data, json.as_bytes()]);
            prop_assert!(!reply.is_empty());
        }
        prop_assert_eq!(send(&mut node, &[b"PING"]), b"+PONG\r\n".to_vec());
    }
}

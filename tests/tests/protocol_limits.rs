//! Differential cases too large to write in a script line: requests at and past
//! Redis's 64 KB limits for inline lines and `*`/`$` header lines, and a NUL that keeps
//! an inline line from ever ending. Built as scripts in code and run against
//! redis-server and ember-server like `tests/scripts/*.txt`.

use ember_tests::script::{Action, Compare, Step};
use ember_tests::{run_script, Script, ServerKind};

/// Redis's PROTO_INLINE_MAX_SIZE.
const INLINE_BYTES_MAX: usize = 64 * 1024;

fn raw_close(line: usize, source: &str, bytes: Vec<u8>) -> Step {
    Step {
        line,
        source: source.to_owned(),
        action: Action::RawClose(bytes),
        compare: Compare::Exact,
    }
}

fn repeated(prefix: &[u8], byte: u8, total: usize) -> Vec<u8> {
    let mut bytes = prefix.to_vec();
    bytes.resize(total, byte);
    bytes
}

#[test]
fn oversized_headers_and_inline_lines_fail_as_in_redis() {
    let steps = vec![
        raw_close(
            1,
            "inline line one byte past 64 KB, no newline",
            repeated(b"ECHO ", b'a', INLINE_BYTES_MAX + 1),
        ),
        raw_close(
            2,
            "multibulk count line past 64 KB",
            repeated(b"*", b'1', INLINE_BYTES_MAX + 10),
        ),
        raw_close(
            3,
            "bulk length line past 64 KB",
            repeated(b"*1\r\n$", b'1', INLINE_BYTES_MAX + 10),
        ),
        raw_close(
            4,
            "a NUL before the newline: the line never ends, then is too big",
            repeated(b"PING\0\r\nPING\r\n", b'x', INLINE_BYTES_MAX + 10),
        ),
    ];
    let script = Script {
        name: "protocol_limits".into(),
        server_args: Vec::new(),
        steps,
    };
    if let Err(report) = run_script(&script, ServerKind::Ember) {
        panic!("{report}");
    }
}

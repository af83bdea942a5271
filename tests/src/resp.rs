//! RESP framing for the harness: encode requests, and find where one reply ends so the
//! raw bytes of each reply can be compared byte for byte without interpreting them.

use std::fmt;

/// Aggregate counts above this are treated as corrupt rather than waited for.
const AGGREGATE_ELEMENTS_MAX: u64 = 1 << 32;
/// Bulk lengths above this are treated as corrupt (Redis's `proto-max-bulk-len` ceiling).
const BULK_BYTES_MAX: u64 = 1 << 40;

/// Why bytes are not a valid reply frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// A frame starts with a byte that is no RESP2/RESP3 type.
    UnknownType { offset: usize, byte: u8 },
    /// A length or count header is not a number this type allows.
    BadHeader { offset: usize },
    /// A bulk payload is not followed by CRLF.
    MissingBulkTerminator { offset: usize },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownType { offset, byte } => {
                write!(f, "unknown RESP type byte 0x{byte:02x} at offset {offset}")
            }
            Self::BadHeader { offset } => write!(f, "bad length header at offset {offset}"),
            Self::MissingBulkTerminator { offset } => {
                write!(f, "bulk payload not followed by CRLF at offset {offset}")
            }
        }
    }
}

impl std::error::Error for FrameError {}

/// Encodes a request as a RESP2 multibulk, the form every client sends.
pub fn encode_command<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        let arg = arg.as_ref();
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Length of the one complete reply at the start of `buf`, or `None` when more bytes are
/// needed. An attribute (`|`) is returned together with the reply it annotates.
///
/// Iterative rather than recursive: `frames_pending` counts frames still owed, so a
/// deeply nested reply cannot overflow the stack.
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, FrameError> {
    let mut pos = 0;
    let mut frames_pending: u64 = 1;
    while frames_pending > 0 {
        let Some(line_end) = find_crlf(buf, pos + 1) else {
            return Ok(None);
        };
        let header = &buf[pos + 1..line_end];
        let body = line_end + 2;
        frames_pending -= 1;
        match buf[pos] {
            b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => pos = body,
            b'$' | b'!' | b'=' => match bulk_end(buf, pos, header, body)? {
                Some(end) => pos = end,
                None => return Ok(None),
            },
            kind @ (b'*' | b'~' | b'>' | b'%' | b'|') => {
                frames_pending += elements_owed(kind, header, pos)?;
                pos = body;
            }
            byte => return Err(FrameError::UnknownType { offset: pos, byte }),
        }
    }
    Ok(Some(pos))
}

/// Splits a complete aggregate reply into its header line and its top-level elements
/// (a map's key and value stay together as one element); `None` for non-aggregates and
/// nulls. Used to compare unordered replies as multisets.
pub fn split_aggregate(frame: &[u8]) -> Option<(&[u8], Vec<&[u8]>)> {
    let frames_per_element = match frame.first()? {
        b'*' | b'~' | b'>' => 1,
        b'%' => 2,
        _ => return None,
    };
    let header_end = find_crlf(frame, 1)? + 2;
    let count = parse_count(&frame[1..header_end - 2]).ok()?;
    let mut elements = Vec::new();
    let mut pos = header_end;
    for _ in 0..count.unwrap_or(0) {
        let start = pos;
        for _ in 0..frames_per_element {
            pos += frame_len(&frame[pos..]).ok()??;
        }
        elements.push(&frame[start..pos]);
    }
    Some((&frame[..header_end], elements))
}

/// End offset of a bulk-like frame (`$`, `!`, `=`) whose header ended at `body`.
fn bulk_end(
    buf: &[u8],
    start: usize,
    header: &[u8],
    body: usize,
) -> Result<Option<usize>, FrameError> {
    let bad_header = FrameError::BadHeader { offset: start };
    let len = match parse_count(header).map_err(|_| bad_header.clone())? {
        None if buf[start] == b'$' => return Ok(Some(body)),
        None => return Err(bad_header),
        Some(len) if len > BULK_BYTES_MAX => return Err(bad_header),
        Some(len) => len as usize,
    };
    let end = body + len + 2;
    if buf.len() < end {
        return Ok(None);
    }
    if &buf[end - 2..end] != b"\r\n" {
        return Err(FrameError::MissingBulkTerminator { offset: end - 2 });
    }
    Ok(Some(end))
}

/// How many more frames an aggregate header adds: its elements, map/attribute pairs
/// twice, and for an attribute also the reply it annotates. `*-1` (null array) adds none.
fn elements_owed(kind: u8, header: &[u8], offset: usize) -> Result<u64, FrameError> {
    let bad_header = FrameError::BadHeader { offset };
    let count = match parse_count(header).map_err(|_| bad_header.clone())? {
        None if kind == b'*' => return Ok(0),
        None => return Err(bad_header),
        Some(count) if count > AGGREGATE_ELEMENTS_MAX => return Err(bad_header),
        Some(count) => count,
    };
    Ok(match kind {
        b'%' => 2 * count,
        b'|' => 2 * count + 1,
        _ => count,
    })
}

/// A length header: `Ok(None)` for `-1` (null), `Ok(Some(n))` for a non-negative number.
fn parse_count(header: &[u8]) -> Result<Option<u64>, ()> {
    if header == b"-1" {
        return Ok(None);
    }
    if header.is_empty() || !header.iter().all(u8::is_ascii_digit) {
        return Err(());
    }
    std::str::from_utf8(header)
        .ok()
        .and_then(|text| text.parse().ok())
        .map(Some)
        .ok_or(())
}

/// Offset of the first CRLF at or after `from`.
fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let rest = buf.get(from..)?;
    rest.windows(2)
        .position(|pair| pair == b"\r\n")
        .map(|index| from + index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every reply type, as Redis 7 sends it or as the RESP3 spec defines it.
    const FRAMES: &[&[u8]] = &[
        b"+OK\r\n",
        b"-ERR unknown command 'FOO'\r\n",
        b":-42\r\n",
        b"$5\r\nhello\r\n",
        b"$0\r\n\r\n",
        b"$4\r\na\r\nb\r\n",
        b"$-1\r\n",
        b"*-1\r\n",
        b"*0\r\n",
        b"*2\r\n$1\r\na\r\n:1\r\n",
        b"_\r\n",
        b",3.14\r\n",
        b",inf\r\n",
        b"#t\r\n",
        b"!21\r\nSYNTAX invalid syntax\r\n",
        b"=15\r\ntxt:Some string\r\n",
        b"(3492890328409238509324850943850943825024385\r\n",
        b"%2\r\n+first\r\n:1\r\n+second\r\n*1\r\n:2\r\n",
        b"~3\r\n+a\r\n+b\r\n_\r\n",
        b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
        b"|1\r\n+ttl\r\n:3600\r\n$3\r\nval\r\n",
        b"*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n*1\r\n*1\r\n*-1\r\n",
    ];

    #[test]
    fn every_type_frames_to_its_full_length() {
        for frame in FRAMES {
            assert_eq!(frame_len(frame), Ok(Some(frame.len())), "{frame:?}");
        }
    }

    #[test]
    fn every_strict_prefix_needs_more_bytes() {
        for frame in FRAMES {
            for cut in 0..frame.len() {
                assert_eq!(frame_len(&frame[..cut]), Ok(None), "{:?}", &frame[..cut]);
            }
        }
    }

    #[test]
    fn bytes_after_the_frame_are_left_alone() {
        assert_eq!(frame_len(b"+OK\r\n:1\r\n"), Ok(Some(5)));
        assert_eq!(frame_len(b"$-1\r\n+OK\r\n"), Ok(Some(5)));
    }

    #[test]
    fn attribute_is_framed_with_the_reply_it_annotates() {
        let attribute_only = b"|1\r\n+key\r\n+value\r\n";
        assert_eq!(frame_len(attribute_only), Ok(None));
    }

    #[test]
    fn malformed_frames_are_errors() {
        let unknown = FrameError::UnknownType {
            offset: 0,
            byte: b'x',
        };
        assert_eq!(frame_len(b"x\r\n"), Err(unknown));
        let bad = FrameError::BadHeader { offset: 0 };
        assert_eq!(frame_len(b"$abc\r\n"), Err(bad.clone()));
        assert_eq!(frame_len(b"%-1\r\n"), Err(bad.clone()));
        assert_eq!(frame_len(b"!-1\r\n"), Err(bad));
        let unterminated = FrameError::MissingBulkTerminator { offset: 6 };
        assert_eq!(frame_len(b"$2\r\nabXY"), Err(unterminated));
    }

    #[test]
    fn nested_error_reports_its_own_offset() {
        let frame = b"*2\r\n:1\r\n?\r\n";
        let error = FrameError::UnknownType {
            offset: 8,
            byte: b'?',
        };
        assert_eq!(frame_len(frame), Err(error));
    }

    #[test]
    fn commands_encode_as_multibulk() {
        assert_eq!(
            encode_command(&["SET", "k", ""]),
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"
        );
    }

    #[test]
    fn aggregates_split_into_top_level_elements() {
        let (header, elements) = split_aggregate(b"*2\r\n*1\r\n:1\r\n$1\r\nb\r\n").unwrap();
        assert_eq!(header, b"*2\r\n");
        assert_eq!(elements, [&b"*1\r\n:1\r\n"[..], b"$1\r\nb\r\n"]);
        let (_, pairs) = split_aggregate(b"%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n").unwrap();
        assert_eq!(pairs, [&b"+a\r\n:1\r\n"[..], b"+b\r\n:2\r\n"]);
    }

    #[test]
    fn scalars_and_nulls_do_not_split() {
        assert_eq!(split_aggregate(b"+OK\r\n"), None);
        assert_eq!(split_aggregate(b"*-1\r\n").unwrap().1.len(), 0);
    }

    /// A random reply, nested up to a few levels, encoded as Redis would.
    fn any_reply() -> impl Strategy<Value = Vec<u8>> {
        let leaf = prop_oneof![
            "[a-z ]{0,8}".prop_map(|text| format!("+{text}\r\n").into_bytes()),
            any::<i64>().prop_map(|number| format!(":{number}\r\n").into_bytes()),
            proptest::collection::vec(any::<u8>(), 0..12).prop_map(|bytes| {
                let mut out = format!("${}\r\n", bytes.len()).into_bytes();
                out.extend_from_slice(&bytes);
                out.extend_from_slice(b"\r\n");
                out
            }),
            Just(b"$-1\r\n".to_vec()),
            Just(b"_\r\n".to_vec()),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            (
                prop_oneof![Just(b'*'), Just(b'~'), Just(b'>'), Just(b'%'), Just(b'|')],
                proptest::collection::vec(inner, 1..6),
            )
                .prop_map(|(kind, children)| encode_aggregate(kind, &children))
        })
    }

    /// Maps and attributes take the children in pairs; an attribute's last child
    /// is the reply it annotates.
    fn encode_aggregate(kind: u8, children: &[Vec<u8>]) -> Vec<u8> {
        let (kind, children) = match kind {
            b'%' if !children.len().is_multiple_of(2) => (b'*', children),
            b'|' if children.len().is_multiple_of(2) => (b'*', children),
            _ => (kind, children),
        };
        let count = match kind {
            b'%' => children.len() / 2,
            b'|' => children.len() / 2,
            _ => children.len(),
        };
        let mut out = format!("{}{count}\r\n", kind as char).into_bytes();
        children
            .iter()
            .for_each(|child| out.extend_from_slice(child));
        out
    }

    proptest! {
        #[test]
        fn random_replies_frame_exactly_and_prefixes_wait(reply in any_reply()) {
            prop_assert_eq!(frame_len(&reply), Ok(Some(reply.len())));
            for cut in 0..reply.len() {
                prop_assert_eq!(frame_len(&reply[..cut]), Ok(None));
            }
        }
    }
}

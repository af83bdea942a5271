//! The simulator's own RESP: requests are encoded as clients send them (multibulk or
//! inline), replies are decoded incrementally from whatever bytes have arrived.

use std::fmt;

/// A decoded reply (RESP2, plus the RESP3 types a node could send after HELLO 3).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reply {
    Status(String),
    Error(String),
    Int(i64),
    /// `$n` with its bytes, `None` for the null bulk `$-1` (and RESP3 `_`).
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
    /// `*-1`.
    NullArray,
    /// Any other RESP3 frame, kept as its first line.
    Other(String),
}

impl Reply {
    pub fn bulk(b: &[u8]) -> Reply {
        Reply::Bulk(Some(b.to_vec()))
    }

    pub fn err(msg: &str) -> Reply {
        Reply::Error(msg.to_owned())
    }

    pub fn ok() -> Reply {
        Reply::Status("OK".into())
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// The RESP2 bytes of this reply (what Redis sends for it).
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Reply::Status(s) => out.extend_from_slice(format!("+{s}\r\n").as_bytes()),
            Reply::Error(s) => out.extend_from_slice(format!("-{s}\r\n").as_bytes()),
            Reply::Int(n) => out.extend_from_slice(format!(":{n}\r\n").as_bytes()),
            Reply::Bulk(None) => out.extend_from_slice(b"$-1\r\n"),
            Reply::Bulk(Some(b)) => {
                out.extend_from_slice(format!("${}\r\n", b.len()).as_bytes());
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
            Reply::Array(items) => {
                out.extend_from_slice(format!("*{}\r\n", items.len()).as_bytes());
                for item in items {
                    item.encode(out);
                }
            }
            Reply::NullArray => out.extend_from_slice(b"*-1\r\n"),
            Reply::Other(line) => {
                out.extend_from_slice(line.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Status(s) => write!(f, "+{s}"),
            Reply::Error(s) => write!(f, "-{s}"),
            Reply::Int(n) => write!(f, ":{n}"),
            Reply::Bulk(None) => write!(f, "(nil)"),
            Reply::Bulk(Some(b)) => write!(f, "{:?}", String::from_utf8_lossy(b)),
            Reply::NullArray => write!(f, "(nil array)"),
            Reply::Other(s) => write!(f, "{s}"),
            Reply::Array(items) => {
                write!(f, "[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{item}")?;
                }
                write!(f, "]")
            }
        }
    }
}

/// Encodes a request as a RESP multibulk.
pub fn encode_multibulk(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Encodes a request as an inline command (arguments must hold no space, quote or CRLF).
pub fn encode_inline(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = args.join(&b' ');
    out.extend_from_slice(b"\r\n");
    out
}

/// Arguments as text for traces and failure reports.
pub fn show_args(args: &[Vec<u8>]) -> String {
    let parts: Vec<String> = args
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    parts.join(" ")
}

/// Why bytes are not a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed(pub String);

/// Decodes the reply at the start of `buf`: `Ok(None)` when it is not whole yet,
/// else the reply and how many bytes it took.
pub fn decode(buf: &[u8]) -> Result<Option<(Reply, usize)>, Malformed> {
    let mut pos = 0;
    match decode_at(buf, &mut pos, 0)? {
        Some(reply) => Ok(Some((reply, pos))),
        None => Ok(None),
    }
}

/// Nesting bound: replies the simulator provokes are shallow.
const DEPTH_MAX: usize = 16;

fn line(buf: &[u8], pos: &mut usize) -> Option<String> {
    let rest = &buf[*pos..];
    let end = rest.windows(2).position(|w| w == b"\r\n")?;
    let text = String::from_utf8_lossy(&rest[..end]).into_owned();
    *pos += end + 2;
    Some(text)
}

fn number(text: &str) -> Result<i64, Malformed> {
    text.parse()
        .map_err(|_| Malformed(format!("bad length or integer {text:?}")))
}

fn decode_at(buf: &[u8], pos: &mut usize, depth: usize) -> Result<Option<Reply>, Malformed> {
    if depth > DEPTH_MAX {
        return Err(Malformed("reply nested too deep".into()));
    }
    let Some(&kind) = buf.get(*pos) else {
        return Ok(None);
    };
    let start = *pos;
    *pos += 1;
    let Some(text) = line(buf, pos) else {
        *pos = start;
        return Ok(None);
    };
    let reply = match kind {
        b'+' => Reply::Status(text),
        b'-' => Reply::Error(text),
        b':' => Reply::Int(number(&text)?),
        b'_' => Reply::Bulk(None),
        b'$' => {
            let len = number(&text)?;
            if len < 0 {
                Reply::Bulk(None)
            } else {
                let len = len as usize;
                if buf.len() < *pos + len + 2 {
                    *pos = start;
                    return Ok(None);
                }
                if &buf[*pos + len..*pos + len + 2] != b"\r\n" {
                    return Err(Malformed("bulk not followed by CRLF".into()));
                }
                let data = buf[*pos..*pos + len].to_vec();
                *pos += len + 2;
                Reply::Bulk(Some(data))
            }
        }
        b'*' | b'~' | b'>' | b'%' => {
            let n = number(&text)?;
            if n < 0 {
                Reply::NullArray
            } else {
                let n = if kind == b'%' { n * 2 } else { n };
                let mut items = Vec::new();
                for _ in 0..n {
                    match decode_at(buf, pos, depth + 1)? {
                        Some(item) => items.push(item),
                        None => {
                            *pos = start;
                            return Ok(None);
                        }
                    }
                }
                Reply::Array(items)
            }
        }
        b',' | b'#' | b'(' => Reply::Other(format!("{}{text}", kind as char)),
        other => return Err(Malformed(format!("unknown reply type byte {other:#04x}"))),
    };
    Ok(Some(reply))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_split_anywhere_decodes_once_whole() {
        let reply = Reply::Array(vec![
            Reply::bulk(b"a\r\nb"),
            Reply::Int(-3),
            Reply::Bulk(None),
            Reply::NullArray,
            Reply::err("ERR x"),
        ]);
        let bytes = reply.to_bytes();
        for cut in 0..bytes.len() {
            assert_eq!(decode(&bytes[..cut]), Ok(None), "cut at {cut}");
        }
        assert_eq!(decode(&bytes), Ok(Some((reply, bytes.len()))));
    }

    #[test]
    fn garbage_is_malformed() {
        assert!(decode(b"?x\r\n").is_err());
    }
}

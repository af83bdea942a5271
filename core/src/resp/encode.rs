//! Reply encoding for RESP2 and RESP3. Each client owns a [`ReplyBuf`]; commands write
//! replies in the protocol the client chose with HELLO, and the node hands the whole
//! buffer to the runtime as one write per batch of requests.

use bytes::{BufMut, Bytes, BytesMut};

use crate::util::num::i64_digits;

/// Protocol version chosen with HELLO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Resp2,
    Resp3,
}

/// A client's pending output.
#[derive(Debug)]
pub struct ReplyBuf {
    buf: BytesMut,
    pub proto: Protocol,
    /// CLIENT REPLY OFF or SKIP is in force: replies written now will be dropped,
    /// so pushes (which those modes do not silence) note where they are.
    silenced: bool,
    /// Byte ranges of the pushes written while silenced, in order.
    pushes: Vec<(usize, usize)>,
    /// Where pushes go instead of this buffer: a script's scratch buffer sends
    /// the pushes its client gets meanwhile to the client's own buffer.
    push_target: Option<Box<ReplyBuf>>,
}

impl Default for ReplyBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl ReplyBuf {
    pub fn new() -> Self {
        ReplyBuf {
            buf: BytesMut::new(),
            proto: Protocol::Resp2,
            silenced: false,
            pushes: Vec::new(),
            push_target: None,
        }
    }

    /// Sends the pushes written from now on to `target` (in its protocol),
    /// until [`ReplyBuf::take_push_target`].
    pub fn set_push_target(&mut self, target: ReplyBuf) {
        self.push_target = Some(Box::new(target));
    }

    /// The buffer given to [`ReplyBuf::set_push_target`], with the pushes it got.
    pub fn take_push_target(&mut self) -> Option<ReplyBuf> {
        self.push_target.take().map(|target| *target)
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Takes everything written so far, leaving the buffer's spare capacity for reuse.
    pub fn take(&mut self) -> Bytes {
        self.pushes.clear();
        self.buf.split().freeze()
    }

    /// Drops whatever was written after `len` bytes (used to undo a partial reply).
    pub fn truncate(&mut self, len: usize) {
        self.buf.truncate(len);
        self.pushes.retain(|&(_, end)| end <= len);
    }

    /// Notes whether the client's replies are being dropped (CLIENT REPLY OFF, or
    /// the command CLIENT REPLY SKIP applies to).
    pub fn set_silenced(&mut self, silenced: bool) {
        self.silenced = silenced;
    }

    /// Writes a push (a Pub/Sub message or (un)subscribe confirmation, in either
    /// protocol): CLIENT REPLY OFF/SKIP do not silence these, as Redis lets
    /// output through while CLIENT_PUSHING is set.
    pub fn push_message(&mut self, write: impl FnOnce(&mut ReplyBuf)) {
        if let Some(target) = self.push_target.as_deref_mut() {
            return target.push_message(write);
        }
        let start = self.buf.len();
        write(self);
        if self.silenced {
            self.pushes.push((start, self.buf.len()));
        }
    }

    /// Drops the replies written after `from` by a command whose reply is
    /// silenced, keeping the pushes among them in order.
    pub fn drop_replies_from(&mut self, from: usize) {
        let mut end = from;
        for (start, stop) in std::mem::take(&mut self.pushes) {
            if start < from || stop > self.buf.len() {
                continue;
            }
            self.buf.copy_within(start..stop, end);
            end += stop - start;
        }
        self.buf.truncate(end.min(self.buf.len()));
    }

    pub fn is_resp3(&self) -> bool {
        self.proto == Protocol::Resp3
    }

    fn header(&mut self, prefix: u8, n: i64) {
        let mut digits = [0u8; 20];
        self.buf.reserve(24);
        self.buf.put_u8(prefix);
        self.buf.put_slice(i64_digits(n, &mut digits));
        self.buf.put_slice(b"\r\n");
    }

    /// `+OK`.
    pub fn ok(&mut self) {
        self.buf.put_slice(b"+OK\r\n");
    }

    /// A simple string (`+...`). `s` must not contain CR or LF.
    pub fn status(&mut self, s: &str) {
        self.buf.reserve(s.len() + 3);
        self.buf.put_u8(b'+');
        self.buf.put_slice(s.as_bytes());
        self.buf.put_slice(b"\r\n");
    }

    /// An error line; `msg` is the text after `-`, e.g. `ERR syntax error`. Newlines
    /// are replaced by spaces as Redis does, so the reply stays one line.
    pub fn error(&mut self, msg: impl AsRef<[u8]>) {
        let msg = msg.as_ref();
        self.buf.reserve(msg.len() + 3);
        self.buf.put_u8(b'-');
        for &b in msg {
            self.buf
                .put_u8(if b == b'\r' || b == b'\n' { b' ' } else { b });
        }
        self.buf.put_slice(b"\r\n");
    }

    pub fn int(&mut self, n: i64) {
        self.header(b':', n);
    }

    pub fn bulk(&mut self, data: &[u8]) {
        self.buf.reserve(data.len() + 16);
        self.header(b'$', data.len() as i64);
        self.buf.put_slice(data);
        self.buf.put_slice(b"\r\n");
    }

    /// A bulk string holding an integer's decimal form.
    pub fn bulk_i64(&mut self, n: i64) {
        let mut digits = [0u8; 20];
        let s = i64_digits(n, &mut digits);
        self.header(b'$', s.len() as i64);
        self.buf.put_slice(s);
        self.buf.put_slice(b"\r\n");
    }

    /// The null bulk string: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        match self.proto {
            Protocol::Resp2 => self.buf.put_slice(b"$-1\r\n"),
            Protocol::Resp3 => self.buf.put_slice(b"_\r\n"),
        }
    }

    /// The null array: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&mut self) {
        match self.proto {
            Protocol::Resp2 => self.buf.put_slice(b"*-1\r\n"),
            Protocol::Resp3 => self.buf.put_slice(b"_\r\n"),
        }
    }

    pub fn array(&mut self, len: usize) {
        self.header(b'*', len as i64);
    }

    /// A map of `len` pairs: `%` in RESP3, a flat array of 2*len in RESP2.
    pub fn map(&mut self, len: usize) {
        match self.proto {
            Protocol::Resp2 => self.header(b'*', 2 * len as i64),
            Protocol::Resp3 => self.header(b'%', len as i64),
        }
    }

    /// A set: `~` in RESP3, an array in RESP2.
    pub fn set(&mut self, len: usize) {
        match self.proto {
            Protocol::Resp2 => self.header(b'*', len as i64),
            Protocol::Resp3 => self.header(b'~', len as i64),
        }
    }

    /// A push message header (`>` in RESP3, an array in RESP2).
    pub fn push(&mut self, len: usize) {
        match self.proto {
            Protocol::Resp2 => self.header(b'*', len as i64),
            Protocol::Resp3 => self.header(b'>', len as i64),
        }
    }

    /// A boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    pub fn boolean(&mut self, b: bool) {
        match (self.proto, b) {
            (Protocol::Resp2, true) => self.buf.put_slice(b":1\r\n"),
            (Protocol::Resp2, false) => self.buf.put_slice(b":0\r\n"),
            (Protocol::Resp3, true) => self.buf.put_slice(b"#t\r\n"),
            (Protocol::Resp3, false) => self.buf.put_slice(b"#f\r\n"),
        }
    }

    /// A double already formatted as Redis formats it: a bulk string in RESP2,
    /// `,` in RESP3.
    pub fn double_str(&mut self, formatted: &str) {
        match self.proto {
            Protocol::Resp2 => self.bulk(formatted.as_bytes()),
            Protocol::Resp3 => {
                self.buf.put_u8(b',');
                self.buf.put_slice(formatted.as_bytes());
                self.buf.put_slice(b"\r\n");
            }
        }
    }

    /// Verbatim text (INFO, CLIENT LIST, ...): `=N\r\ntxt:...` in RESP3, bulk in RESP2.
    pub fn verbatim(&mut self, text: &[u8]) {
        match self.proto {
            Protocol::Resp2 => self.bulk(text),
            Protocol::Resp3 => {
                self.header(b'=', text.len() as i64 + 4);
                self.buf.put_slice(b"txt:");
                self.buf.put_slice(text);
                self.buf.put_slice(b"\r\n");
            }
        }
    }

    /// Bytes already encoded by someone else (e.g. a shared reply).
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.put_slice(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silenced_replies_are_dropped_but_pushes_between_them_kept_in_order() {
        let mut out = ReplyBuf::new();
        out.ok();
        let from = out.len();
        out.set_silenced(true);
        out.int(1);
        out.push_message(|o| o.bulk(b"first"));
        out.status("QUEUED");
        out.push_message(|o| o.bulk(b"second"));
        out.null();
        out.drop_replies_from(from);
        assert_eq!(&out.take()[..], b"+OK\r\n$5\r\nfirst\r\n$6\r\nsecond\r\n");
        out.push_message(|o| o.int(7));
        out.truncate(0);
        out.int(8);
        out.drop_replies_from(0);
        assert!(out.is_empty());
    }

    fn encoded(proto: Protocol, write: impl FnOnce(&mut ReplyBuf)) -> Vec<u8> {
        let mut out = ReplyBuf::new();
        out.proto = proto;
        write(&mut out);
        out.take().to_vec()
    }

    #[test]
    fn nulls_differ_between_protocols() {
        assert_eq!(encoded(Protocol::Resp2, |o| o.null()), b"$-1\r\n");
        assert_eq!(encoded(Protocol::Resp2, |o| o.null_array()), b"*-1\r\n");
        assert_eq!(encoded(Protocol::Resp3, |o| o.null()), b"_\r\n");
    }

    #[test]
    fn maps_flatten_to_arrays_in_resp2() {
        assert_eq!(encoded(Protocol::Resp2, |o| o.map(2)), b"*4\r\n");
        assert_eq!(encoded(Protocol::Resp3, |o| o.map(2)), b"%2\r\n");
    }

    #[test]
    fn errors_stay_on_one_line() {
        assert_eq!(
            encoded(Protocol::Resp2, |o| o.error("ERR a\r\nb")),
            b"-ERR a  b\r\n"
        );
    }

    #[test]
    fn integers_and_bulks() {
        assert_eq!(encoded(Protocol::Resp2, |o| o.int(-42)), b":-42\r\n");
        assert_eq!(encoded(Protocol::Resp2, |o| o.bulk(b"hi")), b"$2\r\nhi\r\n");
        assert_eq!(
            encoded(Protocol::Resp2, |o| o.bulk_i64(i64::MIN)),
            b"$20\r\n-9223372036854775808\r\n"
        );
    }
}

//! A raw RESP connection: bytes in, whole reply frames out, never a hang.

use std::fmt;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::escape::escape_bytes;
use crate::resp::{encode_command, frame_len, FrameError};

/// How long one reply (or one close) may take before the read gives up.
pub const REPLY_TIMEOUT_DEFAULT: Duration = Duration::from_secs(5);
/// How much one `read` call asks the socket for.
const READ_CHUNK_BYTES: usize = 16 * 1024;

/// Why no complete reply could be read.
#[derive(Debug)]
pub enum ReadError {
    /// The deadline passed; `buffered` is whatever partial reply had arrived.
    Timeout { buffered: Vec<u8> },
    /// The peer closed the connection before a complete reply.
    Closed { buffered: Vec<u8> },
    /// The bytes are not RESP.
    Malformed {
        error: FrameError,
        buffered: Vec<u8>,
    },
    /// The socket failed.
    Io(io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout { buffered } => {
                write!(f, "timed out; buffered \"{}\"", escape_bytes(buffered))
            }
            Self::Closed { buffered } => {
                write!(
                    f,
                    "connection closed; buffered \"{}\"",
                    escape_bytes(buffered)
                )
            }
            Self::Malformed { error, buffered } => {
                write!(
                    f,
                    "malformed reply ({error}): \"{}\"",
                    escape_bytes(buffered)
                )
            }
            Self::Io(error) => write!(f, "socket error: {error}"),
        }
    }
}

impl std::error::Error for ReadError {}

/// A client connection to 127.0.0.1 that speaks raw bytes.
pub struct RawConn {
    stream: TcpStream,
    /// Bytes received but not yet returned (the start of the next reply, if any).
    buffered: Vec<u8>,
    reply_timeout: Duration,
}

impl RawConn {
    /// Connects to 127.0.0.1:`port`, panicking with the reason if it cannot.
    pub fn connect(port: u16) -> RawConn {
        Self::try_connect(port)
            .unwrap_or_else(|error| panic!("cannot connect to 127.0.0.1:{port}: {error}"))
    }

    pub fn try_connect(port: u16) -> io::Result<RawConn> {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let stream = TcpStream::connect_timeout(&address, REPLY_TIMEOUT_DEFAULT)?;
        stream.set_nodelay(true)?;
        stream.set_write_timeout(Some(REPLY_TIMEOUT_DEFAULT))?;
        Ok(RawConn {
            stream,
            buffered: Vec::new(),
            reply_timeout: REPLY_TIMEOUT_DEFAULT,
        })
    }

    /// Bounds each later `read_reply` / `read_until_close`.
    pub fn set_reply_timeout(&mut self, timeout: Duration) {
        self.reply_timeout = timeout;
    }

    /// Bounds each later send: a server that stops reading makes it fail with
    /// `WouldBlock`/`TimedOut` instead of blocking for the default five seconds.
    pub fn set_write_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        self.stream.set_write_timeout(Some(timeout))
    }

    /// Sends one request encoded as a RESP2 multibulk.
    pub fn send_command<A: AsRef<[u8]>>(&mut self, args: &[A]) {
        self.send_raw(&encode_command(args));
    }

    /// Sends bytes as they are (inline commands, pipelines, malformed input).
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.try_send_raw(bytes)
            .unwrap_or_else(|error| panic!("cannot send to the server: {error}"));
    }

    pub fn try_send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// The raw bytes of exactly one reply frame; panics on timeout, close or garbage.
    pub fn read_reply(&mut self) -> Vec<u8> {
        self.try_read_reply()
            .unwrap_or_else(|error| panic!("no reply from the server: {error}"))
    }

    pub fn try_read_reply(&mut self) -> Result<Vec<u8>, ReadError> {
        let deadline = Instant::now() + self.reply_timeout;
        loop {
            match frame_len(&self.buffered) {
                Ok(Some(len)) => return Ok(self.buffered.drain(..len).collect()),
                Ok(None) => {}
                Err(error) => {
                    let buffered = std::mem::take(&mut self.buffered);
                    return Err(ReadError::Malformed { error, buffered });
                }
            }
            if !self.read_more(deadline)? {
                let buffered = std::mem::take(&mut self.buffered);
                return Err(ReadError::Closed { buffered });
            }
        }
    }

    /// Everything the server sends until it closes the connection; panics on timeout.
    pub fn read_until_close(&mut self) -> Vec<u8> {
        self.try_read_until_close()
            .unwrap_or_else(|error| panic!("server did not close the connection: {error}"))
    }

    pub fn try_read_until_close(&mut self) -> Result<Vec<u8>, ReadError> {
        let deadline = Instant::now() + self.reply_timeout;
        while self.read_more(deadline)? {}
        Ok(std::mem::take(&mut self.buffered))
    }

    /// Appends what the socket has to `buffered`; `Ok(false)` once the peer has closed.
    /// A reset counts as a close: a server that closes with our unread request still
    /// in its socket sends RST instead of FIN, as Redis does after a protocol error.
    fn read_more(&mut self, deadline: Instant) -> Result<bool, ReadError> {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            let buffered = std::mem::take(&mut self.buffered);
            return Err(ReadError::Timeout { buffered });
        }
        self.stream
            .set_read_timeout(Some(remaining))
            .map_err(ReadError::Io)?;
        let mut chunk = [0u8; READ_CHUNK_BYTES];
        match self.stream.read(&mut chunk) {
            Ok(0) => Ok(false),
            Ok(read) => {
                self.buffered.extend_from_slice(&chunk[..read]);
                Ok(true)
            }
            Err(error) => self.classify_read_error(error),
        }
    }

    fn classify_read_error(&mut self, error: io::Error) -> Result<bool, ReadError> {
        match error.kind() {
            ErrorKind::Interrupted => Ok(true),
            ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => Ok(false),
            // A read timeout shows up as WouldBlock on Unix and TimedOut on Windows.
            ErrorKind::WouldBlock | ErrorKind::TimedOut => Err(ReadError::Timeout {
                buffered: std::mem::take(&mut self.buffered),
            }),
            _ => Err(ReadError::Io(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    /// A one-shot peer on a free port: it writes `chunks` with a pause between each,
    /// then closes (or, with `linger`, stays open for that long first).
    fn fake_server(chunks: Vec<&'static [u8]>, linger: Duration) -> u16 {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            for chunk in chunks {
                stream.write_all(chunk).unwrap();
                stream.flush().unwrap();
                thread::sleep(Duration::from_millis(20));
            }
            thread::sleep(linger);
        });
        port
    }

    #[test]
    fn reply_split_across_reads_is_reassembled() {
        let chunks: Vec<&[u8]> = vec![b"*2\r\n$5\r", b"\nhel", b"lo\r\n:", b"7\r\n+OK\r\n"];
        let mut conn = RawConn::connect(fake_server(chunks, Duration::ZERO));
        assert_eq!(conn.read_reply(), b"*2\r\n$5\r\nhello\r\n:7\r\n");
        assert_eq!(conn.read_reply(), b"+OK\r\n");
    }

    #[test]
    fn pipelined_replies_in_one_read_come_out_one_at_a_time() {
        let chunks: Vec<&[u8]> = vec![b"+OK\r\n$-1\r\n_\r\n"];
        let mut conn = RawConn::connect(fake_server(chunks, Duration::ZERO));
        assert_eq!(conn.read_reply(), b"+OK\r\n");
        assert_eq!(conn.read_reply(), b"$-1\r\n");
        assert_eq!(conn.read_reply(), b"_\r\n");
    }

    #[test]
    fn silent_server_times_out_with_what_arrived() {
        let chunks: Vec<&[u8]> = vec![b"$10\r\nabc"];
        let mut conn = RawConn::connect(fake_server(chunks, Duration::from_secs(2)));
        conn.set_reply_timeout(Duration::from_millis(200));
        match conn.try_read_reply() {
            Err(ReadError::Timeout { buffered }) => assert_eq!(buffered, b"$10\r\nabc"),
            other => panic!("expected a timeout, got {other:?}"),
        }
    }

    #[test]
    #[should_panic(expected = "no reply from the server: timed out")]
    fn read_reply_panics_instead_of_hanging() {
        let mut conn = RawConn::connect(fake_server(vec![], Duration::from_secs(2)));
        conn.set_reply_timeout(Duration::from_millis(100));
        conn.read_reply();
    }

    #[test]
    fn close_mid_reply_is_reported() {
        let chunks: Vec<&[u8]> = vec![b"*3\r\n:1\r\n"];
        let mut conn = RawConn::connect(fake_server(chunks, Duration::ZERO));
        match conn.try_read_reply() {
            Err(ReadError::Closed { buffered }) => assert_eq!(buffered, b"*3\r\n:1\r\n"),
            other => panic!("expected a close, got {other:?}"),
        }
    }

    #[test]
    fn read_until_close_returns_everything() {
        let chunks: Vec<&[u8]> = vec![b"-ERR Protocol error\r\n", b"trailing"];
        let mut conn = RawConn::connect(fake_server(chunks, Duration::ZERO));
        assert_eq!(conn.read_until_close(), b"-ERR Protocol error\r\ntrailing");
    }
}

//! Every error string Ember sends, defined once. Texts are Redis 7.0's, byte for byte,
//! without the leading `-` and trailing CRLF (the encoder adds them).

use std::fmt;

pub const SYNTAX: &str = "ERR syntax error";
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
pub const OVERFLOW: &str = "ERR increment or decrement would overflow";
pub const NAN_OR_INFINITY: &str = "ERR increment would produce NaN or Infinity";
pub const NO_SUCH_KEY: &str = "ERR no such key";
pub const DB_INDEX_OUT_OF_RANGE: &str = "ERR DB index is out of range";
pub const INVALID_EXPIRE: &str = "ERR invalid expire time in '{}' command";
pub const NOAUTH: &str = "NOAUTH Authentication required.";
pub const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
pub const AUTH_NOT_CONFIGURED: &str = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";
pub const STRING_TOO_LONG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
pub const OFFSET_OUT_OF_RANGE: &str = "ERR offset is out of range";
pub const SAME_OBJECT: &str = "ERR source and destination objects are the same";
pub const INVALID_CURSOR: &str = "ERR invalid cursor";
pub const TIMEOUT_NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
pub const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";
pub const MUST_BE_POSITIVE: &str = "ERR value is out of range, must be positive";
/// A count whose doubling (WITHSCORES, WITHVALUES) would overflow a C long.
pub const OUT_OF_RANGE: &str = "ERR value is out of range";
/// getRangeLongFromObjectOrReply's message for -LONG_MAX..=LONG_MAX (every long but
/// LONG_MIN, whose negation would overflow): SRANDMEMBER, ZRANDMEMBER, HRANDFIELD.
pub const NOT_IN_SYMMETRIC_LONG_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
/// What other clients get while an EVAL runs past busy-reply-threshold (slowevalerr).
pub const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
/// The same while an FCALL runs (slowscripterr).
pub const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
pub const UNKILLABLE: &str = "UNKILLABLE Sorry the script already executed write commands \
    against the dataset. You can either wait the script termination or kill the server in a \
    hard way using the SHUTDOWN NOSAVE command.";
/// The error a killed script ends with (the script name and line are appended).
pub const SCRIPT_KILLED: &str = "ERR Script killed by user with SCRIPT KILL...";

/// A command that may grow memory, refused while used memory is over `maxmemory`
/// and eviction cannot bring it back (shared.oomerr).
pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// A write refused because fewer replicas than `min-replicas-to-write` are in
/// good standing (shared.noreplicaserr).
pub const NOREPLICAS: &str = "NOREPLICAS Not enough good replicas to write.";

/// Why a command failed: the error line to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdError {
    Static(&'static str),
    Owned(String),
    /// A message that quotes client bytes verbatim (Redis's errors are binary-safe).
    Bytes(Vec<u8>),
}

impl CmdError {
    pub fn message(&self) -> &[u8] {
        match self {
            CmdError::Static(s) => s.as_bytes(),
            CmdError::Owned(s) => s.as_bytes(),
            CmdError::Bytes(b) => b,
        }
    }
}

impl From<&'static str> for CmdError {
    fn from(s: &'static str) -> Self {
        CmdError::Static(s)
    }
}

impl From<String> for CmdError {
    fn from(s: String) -> Self {
        CmdError::Owned(s)
    }
}

impl fmt::Display for CmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(self.message()))
    }
}

pub type CmdResult = Result<(), CmdError>;

/// `ERR wrong number of arguments for '<name>' command` (name as Redis's fullname,
/// e.g. `config|get`).
pub fn wrong_arity(name: &str) -> CmdError {
    CmdError::Owned(format!(
        "ERR wrong number of arguments for '{name}' command"
    ))
}

/// `ERR invalid expire time in '<cmd>' command`.
pub fn invalid_expire(cmd: &str) -> CmdError {
    CmdError::Owned(INVALID_EXPIRE.replace("{}", cmd))
}

/// `ERR unknown subcommand '<sub>'. Try <CMD> HELP.`
pub fn unknown_subcommand(sub: &[u8], container: &str) -> CmdError {
    let mut msg = b"ERR unknown subcommand '".to_vec();
    msg.extend_from_slice(truncated(sub, 128));
    msg.extend_from_slice(format!("'. Try {} HELP.", container.to_ascii_uppercase()).as_bytes());
    CmdError::Bytes(msg)
}

/// `ERR unknown command '<name>', with args beginning with: '<a>' '<b>' `: the argument
/// list stops once it reaches 128 bytes, as Redis's processCommand builds it.
pub fn unknown_command(args: &[bytes::Bytes]) -> CmdError {
    let mut listed = Vec::new();
    for arg in args.iter().skip(1) {
        if listed.len() >= 128 {
            break;
        }
        let room = 128 - listed.len();
        listed.push(b'\'');
        listed.extend_from_slice(truncated(arg, room));
        listed.extend_from_slice(b"' ");
    }
    let name = args.first().map(|a| truncated(a, 128)).unwrap_or_default();
    let mut msg = b"ERR unknown command '".to_vec();
    msg.extend_from_slice(name);
    msg.extend_from_slice(b"', with args beginning with: ");
    msg.extend_from_slice(&listed);
    CmdError::Bytes(msg)
}

/// At most `max` bytes of `s`, stopping at a NUL byte as C's `%.*s` does.
fn truncated(s: &[u8], max: usize) -> &[u8] {
    let s = match s.iter().position(|&b| b == 0) {
        Some(nul) => &s[..nul],
        None => s,
    };
    &s[..s.len().min(max)]
}

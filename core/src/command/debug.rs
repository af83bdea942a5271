//! DEBUG: the introspection and test hooks Redis's own test suite leans on. Like
//! Redis, DEBUG runs only when `enable-debug-command` allows it.

use bytes::Bytes;

use super::args::{int, is};
use super::client::{quoting_error, write_help};
use super::keys::{refcount, shares_integers};
use super::{CommandSpec, DocFlag, Flag, Group};
use crate::config::Config;
use crate::db::idle_ms;
use crate::error::{CmdError, CmdResult, NO_SUCH_KEY};
use crate::io::{LogLevel, Output};
use crate::node::Ctx;
use crate::types::stream::StreamId;
use crate::util::num::parse_f64;
use crate::util::sha1;
use crate::value::{Value, ValueType};

pub(crate) const DEBUG_NOT_ALLOWED: &str =
    "ERR DEBUG command not allowed. If the enable-debug-command \
    option is set to \"local\", you can run it from a local connection, otherwise you need to \
    set this option in the configuration file, and then restart the server.";

const HELP: &[&str] = &[
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "AOF-FLUSH-SLEEP <microsec>",
    "    Server will sleep before flushing the AOF, this is used for testing.",
    "ASSERT",
    "    Crash by assertion failed.",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "CONFIG-REWRITE-FORCE-ALL",
    "    Like CONFIG REWRITE but writes all configuration options, including",
    "    keywords not listed in original configuration file or default values.",
    "CRASH-AND-RECOVER [<milliseconds>]",
    "    Hard crash and restart after a <milliseconds> delay (default 0).",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LEAK <string>",
    "    Create a memory leak of the input string.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "HTSTATS <dbid>",
    "    Return hash table statistics of the specified Redis database.",
    "HTSTATS-KEY <key>",
    "    Like HTSTATS but for the hash table stored at <key>'s value.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "REPLICATE <string>",
    "    Replicates the provided string to replicas, allowing data divergence.",
    "MALLCTL <key> [<val>]",
    "    Get or set a malloc tuning integer.",
    "MALLCTL-STR <key> [<val>]",
    "    Get or set a malloc tuning string.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "DROP-CLUSTER-PACKET-FILTER <packet-type>",
    "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
    "OOM",
    "    Crash the server simulating an out-of-memory error.",
    "PANIC",
    "    Crash the server simulating a panic.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "RESTART [<milliseconds>]",
    "    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
    "SDSLEN <key>",
    "    Show low level SDS string info representing `key` and value.",
    "SEGFAULT",
    "    Crash the server with sigsegv.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "STRUCTSIZE",
    "    Return the size of different Redis core C structures.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "QUICKLIST <key> [<0|1>]",
    "    Show low level info about the quicklist encoding of <key>.",
    "    The optional argument (0 by default) sets the level of detail",
    "CLIENT-EVICTION",
    "    Show low level client eviction pools info (maxmemory-clients).",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>",
    "    Enable or disable the reply buffer resize cron job",
    "CLUSTERLINK KILL <to|from|all> <node-id>",
    "    Kills the link based on the direction to/from (both) with the provided node.",
    "HELP",
    "    Prints this help.",
];

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "debug",
    arity: -2,
    flags: &[Flag::Admin, Flag::Noscript, Flag::Loading, Flag::Stale],
    group: Group::Server,
    summary: "A container for debugging commands.",
    complexity: "Depends on subcommand.",
    doc_flags: &[DocFlag::Syscmd],
    handler: Some(debug),
    ..CommandSpec::DEFAULT
}];

/// Whether `cmd` is DEBUG and `enable-debug-command` keeps this client from it. The
/// node asks before the authentication check, in Redis's order.
pub(crate) fn denied(cmd: &'static CommandSpec, config: &Config, peer: &str) -> bool {
    // By name and group: SCRIPT DEBUG is the only other "debug" row. (Addresses of
    // table rows are not reliable across statics: const evaluation may copy them.)
    cmd.name == "debug" && cmd.group == Group::Server && !config.enable_debug_command.allows(peer)
}

/// DEBUG subcommand [argument ...]
fn debug(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let sub = &args[1];
    match args.len() {
        2 if is(sub, "HELP") => {
            write_help(ctx, HELP);
            Ok(())
        }
        3 if is(sub, "OBJECT") => object(ctx, &args[2]),
        3..=5 if is(sub, "POPULATE") => populate(ctx, &args[2..]),
        3 if is(sub, "SLEEP") => sleep(ctx, &args[2]),
        2 if is(sub, "DIGEST") => digest(ctx),
        n if n >= 2 && is(sub, "DIGEST-VALUE") => digest_values(ctx, &args[2..]),
        3 if is(sub, "PROTOCOL") => protocol(ctx, &args[2]),
        3 if is(sub, "ERROR") => {
            // Sent as is, not as an error reply: Redis does not count it either.
            let mut line = b"-".to_vec();
            line.extend(
                args[2]
                    .iter()
                    .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
            );
            line.extend_from_slice(b"\r\n");
            ctx.out().raw(&line);
            Ok(())
        }
        3 if is(sub, "LOG") => {
            let line = format!("DEBUG LOG: {}", String::from_utf8_lossy(&args[2]));
            if LogLevel::Warning >= ctx.srv.config.loglevel {
                ctx.outputs.push_back(Output::Log {
                    level: LogLevel::Warning,
                    line,
                });
            }
            ctx.out().ok();
            Ok(())
        }
        _ if is(sub, "RELOAD") => reload(ctx, &args[2..]),
        3 if is(sub, "SET-ACTIVE-EXPIRE") => {
            ctx.srv.active_expire_enabled = c_atoi(&args[2]) != 0;
            ctx.out().ok();
            Ok(())
        }
        3 if is(sub, "SET-DISABLE-DENY-SCRIPTS") => {
            ctx.srv.scripts.disable_deny_script = c_atoi(&args[2]) != 0;
            ctx.out().ok();
            Ok(())
        }
        3 if is(sub, "SET-SKIP-CHECKSUM-VALIDATION") => {
            ctx.srv.skip_checksum_validation = c_atoi(&args[2]) != 0;
            ctx.out().ok();
            Ok(())
        }
        _ => Err(quoting_error(
            "ERR unknown subcommand or wrong number of arguments for '",
            &c_string(sub)[..c_string(sub).len().min(128)],
            "'. Try DEBUG HELP.",
        )),
    }
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]
fn reload(ctx: &mut Ctx<'_>, options: &[Bytes]) -> CmdResult {
    let mut opts = crate::persist::ReloadOptions::default();
    for opt in options {
        if is(opt, "MERGE") {
            opts.merge = true;
        } else if is(opt, "NOFLUSH") {
            opts.flush = false;
        } else if is(opt, "NOSAVE") {
            opts.save = false;
        } else {
            return Err(crate::persist::RELOAD_OPTIONS.into());
        }
    }
    if opts.flush {
        // emptyData's signalFlushedDb.
        for db in 0..ctx.srv.dbs.len() {
            ctx.touch_watched_in_db(db, None);
        }
    }
    let conn = ctx.client.conn;
    crate::persist::debug_reload(ctx.srv, ctx.outputs, ctx.now, conn, opts)?;
    // The +OK goes out once the dump is on disk (or read and loaded).
    ctx.client.blocked = true;
    Ok(())
}

const PROTOCOL_TYPES: &str = "ERR Wrong protocol type name. Please use one of the following: \
    string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false";
const PUSH_NEEDS_RESP3: &str = "ERR RESP2 is not supported by this command";

/// DEBUG PROTOCOL type: a sample reply of each RESP type, for client tests.
fn protocol(ctx: &mut Ctx<'_>, kind: &[u8]) -> CmdResult {
    let out = ctx.out();
    let resp3 = out.is_resp3();
    let name = kind.to_ascii_lowercase();
    match &name[..] {
        b"string" => out.bulk(b"Hello World"),
        b"integer" => out.int(12345),
        b"double" => out.double_str("3.141"),
        b"bignum" if resp3 => out.raw(b"(1234567999999999999999999999999999999\r\n"),
        b"bignum" => out.bulk(b"1234567999999999999999999999999999999"),
        b"null" => out.null(),
        b"array" | b"set" => {
            if &name[..] == b"set" {
                out.set(3);
            } else {
                out.array(3);
            }
            (0..3).for_each(|j| out.int(j));
        }
        b"map" => {
            out.map(3);
            for j in 0..3 {
                out.int(j);
                out.boolean(j == 1);
            }
        }
        b"attrib" => {
            if resp3 {
                out.raw(b"|1\r\n");
                out.bulk(b"key-popularity");
                out.array(2);
                out.bulk(b"key:123");
                out.int(90);
            }
            out.bulk(b"Some real reply following the attribute");
        }
        b"push" if !resp3 => return Err(PUSH_NEEDS_RESP3.into()),
        b"push" => {
            out.push_message(|out| {
                out.push(2);
                out.bulk(b"server-cpu-usage");
                out.int(42);
            });
            out.bulk(b"Some real reply following the push reply");
        }
        b"verbatim" => out.verbatim(b"This is a verbatim\nstring"),
        b"true" => out.boolean(true),
        b"false" => out.boolean(false),
        _ => return Err(PROTOCOL_TYPES.into()),
    }
    Ok(())
}

/// DEBUG DIGEST: a hash of the whole dataset, all zeros when it is empty. Keys
/// combine by XOR, so the order of iteration does not matter.
fn digest(ctx: &mut Ctx<'_>) -> CmdResult {
    let mut total = [0u8; 20];
    for (index, db) in ctx.srv.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        mix_digest(&mut total, &(index as u32).to_be_bytes());
        for entry in db.iter() {
            let mut one = [0u8; 20];
            mix_digest(&mut one, entry.key());
            value_digest(&mut one, &entry.value, entry.expire_at().is_some())?;
            xor_digest(&mut total, &one);
        }
    }
    ctx.out().status(&sha1::hex(&total));
    Ok(())
}

/// DEBUG DIGEST-VALUE [key ...]: each value's hash (zeros for a missing key).
fn digest_values(ctx: &mut Ctx<'_>, keys: &[Bytes]) -> CmdResult {
    let mut digests = Vec::with_capacity(keys.len());
    for key in keys {
        let mut one = [0u8; 20];
        if let Some(entry) = ctx.lookup_peek(key) {
            value_digest(&mut one, &entry.value, entry.expire_at().is_some())?;
        }
        digests.push(one);
    }
    let out = ctx.out();
    out.array(digests.len());
    for one in &digests {
        out.status(&sha1::hex(one));
    }
    Ok(())
}

/// Redis's xorObjectDigest: the type, the contents, and whether a TTL is set.
fn value_digest(digest: &mut [u8; 20], value: &Value, has_ttl: bool) -> CmdResult {
    let type_code: u32 = match value.value_type() {
        ValueType::String => 0,
        ValueType::List => 1,
        ValueType::Set => 2,
        ValueType::ZSet => 3,
        ValueType::Hash => 4,
        ValueType::Stream => 6,
    };
    mix_digest(digest, &type_code.to_be_bytes());
    let mut scratch = [0u8; 20];
    match value {
        Value::Hash(hash) => {
            // Pairs combine by XOR: field order does not matter.
            for (field, val) in hash.iter() {
                let mut pair = [0u8; 20];
                mix_digest(&mut pair, field.bytes(&mut scratch));
                mix_digest(&mut pair, val.bytes(&mut scratch));
                xor_digest(digest, &pair);
            }
        }
        Value::Set(set) => {
            // Members combine by XOR: iteration order does not matter.
            for member in set.iter() {
                xor_digest(digest, member.bytes(&mut scratch));
            }
        }
        Value::ZSet(zset) => {
            // Each (member, "%.17g" score) pair mixes on its own; pairs combine by XOR.
            let mut text = Vec::with_capacity(24);
            zset.for_each(|member, score| {
                let mut pair = [0u8; 20];
                mix_digest(&mut pair, member);
                text.clear();
                crate::util::num::write_f64_g17(score, &mut text);
                mix_digest(&mut pair, &text);
                xor_digest(digest, &pair);
            });
        }
        Value::List(list) => {
            // Elements in order, each mixed in turn.
            for element in list.iter() {
                mix_digest(digest, element.to_bytes(&mut scratch));
            }
        }
        Value::Stream(stream) => {
            // Entries in order: "<ms>.<seq>", then each field and value (groups are
            // not part of Redis's digest).
            let all = stream.range(StreamId::MIN, StreamId::MAX, false, 0);
            for entry in all {
                let id = format!("{}.{}", entry.id.ms, entry.id.seq);
                mix_digest(digest, id.as_bytes());
                for (field, val) in &entry.fields {
                    mix_digest(digest, field);
                    mix_digest(digest, val);
                }
            }
        }
        Value::Int(_) | Value::Str(_) | Value::Raw(_) => {
            if let Some(bytes) = value.as_string_bytes(&mut scratch) {
                mix_digest(digest, bytes);
            }
        }
    }
    if has_ttl {
        xor_digest(digest, b"!!expire!!");
    }
    Ok(())
}

/// digest ^= SHA1(data)
fn xor_digest(digest: &mut [u8; 20], data: &[u8]) {
    for (d, h) in digest.iter_mut().zip(sha1::sha1(data)) {
        *d ^= h;
    }
}

/// digest = SHA1(digest ^ SHA1(data)): order-sensitive mixing.
fn mix_digest(digest: &mut [u8; 20], data: &[u8]) {
    xor_digest(digest, data);
    *digest = sha1::sha1(digest.as_slice());
}

/// DEBUG OBJECT key
fn object(ctx: &mut Ctx<'_>, key: &[u8]) -> CmdResult {
    let shared_ok = shares_integers(&ctx.srv.config);
    let now = ctx.now;
    // dictFind, as debug.c: no lazy expiry, no keyspace hit or miss.
    let Some(entry) = ctx.srv.dbs[ctx.client.db].peek(key) else {
        return Err(NO_SUCH_KEY.into());
    };
    let refcount = refcount(&entry.value, shared_ok);
    let line = format!(
        "Value at:0x{:x} refcount:{} encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
        fake_address(key),
        refcount,
        entry.value.encoding_name(),
        serialized_len(&entry.value),
        entry.access,
        idle_ms(entry.access, now) / 1000
    );
    ctx.out().status(&line);
    Ok(())
}

/// A stable stand-in for the object's address: Ember has no stable pointers to show,
/// and a real one would make replies differ between replays.
fn fake_address(key: &[u8]) -> u64 {
    let hash = key.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    0x7f00_0000_0000 | (hash & 0xff_ffff_fff0)
}

/// Bytes the value takes in an RDB file (rdbSavedObjectLen for strings), without
/// LZF compression, which Ember does not do yet.
fn serialized_len(value: &Value) -> usize {
    match value {
        Value::Int(n) => int_encoded_len(*n).unwrap_or_else(|| {
            let digits = n.to_string().len();
            rdb_len_len(digits) + digits
        }),
        Value::Str(s) => string_serialized_len(s),
        Value::Raw(v) => string_serialized_len(v),
        // Collections report their RDB size once persistence can write them.
        _ => 0,
    }
}

fn string_serialized_len(s: &[u8]) -> usize {
    if s.len() <= 11 {
        if let Some(n) = crate::util::num::parse_i64(s) {
            if let Some(len) = int_encoded_len(n) {
                return len;
            }
        }
    }
    rdb_len_len(s.len()) + s.len()
}

/// The RDB integer encodings: a type byte and 1, 2 or 4 bytes.
fn int_encoded_len(n: i64) -> Option<usize> {
    if i8::try_from(n).is_ok() {
        Some(2)
    } else if i16::try_from(n).is_ok() {
        Some(3)
    } else if i32::try_from(n).is_ok() {
        Some(5)
    } else {
        None
    }
}

/// Bytes of an RDB length prefix.
fn rdb_len_len(len: usize) -> usize {
    match len {
        0..=63 => 1,
        64..=16383 => 2,
        _ if len <= u32::MAX as usize => 5,
        _ => 9,
    }
}

/// Memory one populated key takes at the least besides its value (the entry,
/// its bucket and the key), and the least a value takes: what DEBUG POPULATE
/// multiplies by its count to tell a request that could never fit.
const POPULATE_KEY_BYTES: u64 = 96;
const POPULATE_VALUE_BYTES_MIN: u64 = 16;

/// Ember's own: DEBUG POPULATE asked for more keys than the host's memory holds.
const POPULATE_TOO_BIG: &str = "ERR DEBUG POPULATE would need more memory than the host has";

/// DEBUG POPULATE count [prefix] [size]: creates `prefix:N` = `value:N` for N in
/// 0..count, skipping keys that exist; with a size, each value is cut or padded with
/// zero bytes to exactly that length.
fn populate(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let count = positive(&args[0])?;
    let prefix: &[u8] = match args.get(1) {
        Some(prefix) => c_string(prefix),
        None => b"key",
    };
    let size = match args.get(2) {
        Some(size) => positive(size)?,
        None => 0,
    };
    // Redis allocates whatever it is asked for and aborts (or loops for ever)
    // when it cannot; Ember refuses what could never fit instead.
    if size > ctx.srv.config.proto_max_bulk_len.max(0) as u64 {
        return Err(crate::error::STRING_TOO_LONG.into());
    }
    let needed = count.saturating_mul(size.max(POPULATE_VALUE_BYTES_MIN) + POPULATE_KEY_BYTES);
    let memory = ctx.srv.host.total_system_memory;
    if memory > 0 && needed > memory {
        return Err(POPULATE_TOO_BIG.into());
    }
    let size = size as usize;
    let now = ctx.now;
    let policy = ctx.srv.access_policy();
    for j in 0..count {
        let mut key = prefix.to_vec();
        key.extend_from_slice(format!(":{j}").as_bytes());
        if ctx.lookup_write(&key).is_some() {
            continue;
        }
        let mut value = format!("value:{j}").into_bytes();
        if size != 0 {
            value.resize(size, 0);
        }
        ctx.db()
            .insert_new(&key, Value::from_bytes(&value), None, now, policy);
    }
    ctx.out().ok();
    Ok(())
}

/// A C string's view of an argument: up to its first NUL.
fn c_string(arg: &[u8]) -> &[u8] {
    let end = arg.iter().position(|&b| b == 0).unwrap_or(arg.len());
    &arg[..end]
}

fn positive(arg: &[u8]) -> Result<u64, CmdError> {
    match int(arg) {
        Ok(n) if n >= 0 => Ok(n as u64),
        _ => Err(crate::error::MUST_BE_POSITIVE.into()),
    }
}

/// DEBUG SLEEP seconds: the whole server stops, as Redis does. The argument is read
/// like C's strtod, so text that is not a number sleeps 0 seconds. Redis converts
/// the seconds to a `long long` of microseconds; a value that does not fit (above
/// about 9.2e12 seconds, inf, nan) becomes LLONG_MIN on x86, and nanosleep returns
/// at once for the negative time, so such a sleep takes no time instead of forever.
fn sleep(ctx: &mut Ctx<'_>, arg: &[u8]) -> CmdResult {
    let seconds = parse_f64(c_number_prefix(arg)).unwrap_or(0.0);
    let micros = seconds * 1_000_000.0;
    let ms = if micros.is_finite() && micros > 0.0 && micros < i64::MAX as f64 {
        micros as u64 / 1000
    } else {
        0
    };
    ctx.outputs.push_back(Output::Sleep { ms });
    ctx.out().ok();
    Ok(())
}

/// The longest leading part of `arg` that reads as a decimal number (strtod's view).
fn c_number_prefix(arg: &[u8]) -> &[u8] {
    let start = arg.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let mut end = start;
    let mut seen_dot = false;
    if matches!(arg.get(end), Some(b'+' | b'-')) {
        end += 1;
    }
    while let Some(&b) = arg.get(end) {
        if b.is_ascii_digit() || (b == b'.' && !seen_dot) {
            seen_dot |= b == b'.';
            end += 1;
        } else {
            break;
        }
    }
    // An exponent counts only when digits follow it, as strtod reads it.
    if end > start && matches!(arg.get(end), Some(b'e' | b'E')) {
        let mut exp_end = end + 1;
        if matches!(arg.get(exp_end), Some(b'+' | b'-')) {
            exp_end += 1;
        }
        let digits = arg[exp_end..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits > 0 {
            end = exp_end + digits;
        }
    }
    &arg[start..end]
}

/// C's atoi: optional sign and leading digits; anything else reads as 0.
fn c_atoi(arg: &[u8]) -> i64 {
    let s = arg.iter().skip_while(|b| b.is_ascii_whitespace());
    let mut sign = 1;
    let mut n: i64 = 0;
    for (i, &b) in s.enumerate() {
        match b {
            b'-' if i == 0 => sign = -1,
            b'+' if i == 0 => {}
            b'0'..=b'9' => n = n.wrapping_mul(10).wrapping_add(i64::from(b - b'0')),
            _ => break,
        }
    }
    sign * n
}

#[cfg(test)]
mod tests {
    use crate::command::testkit::{TestNode, T0};
    use crate::config::{Config, ProtectedAction};
    use crate::io::Output;

    fn node(access: ProtectedAction) -> TestNode {
        let mut t = TestNode::new(Config {
            enable_debug_command: access,
            ..Config::default()
        });
        t.connect(1);
        t
    }

    #[test]
    fn debug_runs_only_when_enable_debug_command_allows_it() {
        let mut t = node(ProtectedAction::No);
        assert!(t
            .cmd(1, &["DEBUG", "HELP"])
            .starts_with("-ERR DEBUG command not allowed."));
        let mut t = node(ProtectedAction::Local);
        assert!(t
            .cmd(1, &["DEBUG", "HELP"])
            .starts_with("*106\r\n+DEBUG <subcommand>"));
    }

    #[test]
    fn debug_populate_names_pads_and_skips_existing_keys() {
        let mut t = node(ProtectedAction::Yes);
        t.cmd(1, &["SET", "key:1", "mine"]);
        assert_eq!(t.cmd(1, &["DEBUG", "POPULATE", "3"]), "+OK\r\n");
        assert_eq!(t.cmd(1, &["GET", "key:0"]), "$7\r\nvalue:0\r\n");
        assert_eq!(t.cmd(1, &["GET", "key:1"]), "$4\r\nmine\r\n");
        assert_eq!(t.cmd(1, &["DEBUG", "POPULATE", "2", "p", "3"]), "+OK\r\n");
        assert_eq!(t.cmd(1, &["GET", "p:1"]), "$3\r\nval\r\n");
        assert_eq!(t.cmd(1, &["DEBUG", "POPULATE", "1", "z", "9"]), "+OK\r\n");
        assert_eq!(t.cmd(1, &["GET", "z:0"]), "$9\r\nvalue:0\0\0\r\n");
        assert_eq!(
            t.cmd(1, &["DEBUG", "POPULATE", "-1"]),
            "-ERR value is out of range, must be positive\r\n"
        );
        assert_eq!(t.cmd(1, &["DBSIZE"]), ":6\r\n");
    }

    #[test]
    fn debug_populate_refuses_what_could_never_fit_instead_of_aborting() {
        let mut t = node(ProtectedAction::Yes);
        for args in [
            &["DEBUG", "POPULATE", "1", "k", "9223372036854775807"][..],
            &["DEBUG", "POPULATE", "1", "k", "4294967296"],
        ] {
            assert_eq!(
                t.cmd(1, args),
                format!("-{}\r\n", crate::error::STRING_TOO_LONG)
            );
        }
        assert_eq!(
            t.cmd(1, &["DEBUG", "POPULATE", "9223372036854775807"]),
            format!("-{}\r\n", super::POPULATE_TOO_BIG)
        );
        assert_eq!(t.cmd(1, &["DBSIZE"]), ":0\r\n");
    }

    #[test]
    fn debug_sleep_asks_the_runtime_to_stop_the_server() {
        let mut t = node(ProtectedAction::Yes);
        assert_eq!(t.cmd(1, &["DEBUG", "SLEEP", "0.25"]), "+OK\r\n");
        assert_eq!(t.cmd(1, &["DEBUG", "SLEEP", "soon"]), "+OK\r\n");
        let sleeps: Vec<&Output> = t
            .effects
            .iter()
            .filter(|o| matches!(o, Output::Sleep { .. }))
            .collect();
        assert_eq!(
            sleeps,
            [&Output::Sleep { ms: 250 }, &Output::Sleep { ms: 0 }]
        );
    }

    #[test]
    fn debug_sleep_past_the_microsecond_long_range_returns_at_once_as_redis() {
        let mut t = node(ProtectedAction::Yes);
        for (arg, ms) in [
            ("2e-3", 2),
            ("9e12", 9_000_000_000_000_000),
            ("9223372036854775807", 0),
            ("1e13", 0),
            ("1e308", 0),
            ("inf", 0),
            ("-5", 0),
        ] {
            t.effects.clear();
            assert_eq!(t.cmd(1, &["DEBUG", "SLEEP", arg]), "+OK\r\n");
            let sleeps: Vec<&Output> = t
                .effects
                .iter()
                .filter(|o| matches!(o, Output::Sleep { .. }))
                .collect();
            assert_eq!(sleeps, [&Output::Sleep { ms }], "DEBUG SLEEP {arg}");
        }
    }

    #[test]
    fn debug_set_active_expire_0_leaves_expired_keys_for_lazy_expiry() {
        let mut t = node(ProtectedAction::Yes);
        assert_eq!(t.cmd(1, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), "+OK\r\n");
        t.cmd(1, &["SET", "k", "v", "PX", "10"]);
        for step in 1..=20 {
            t.now = T0 + step * 100;
            t.node.handle(t.now, crate::io::Input::Tick);
        }
        assert_eq!(t.cmd(1, &["DBSIZE"]), ":1\r\n");
        assert_eq!(t.cmd(1, &["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), "+OK\r\n");
        t.now += 1_000;
        t.node.handle(t.now, crate::io::Input::Tick);
        assert_eq!(t.cmd(1, &["DBSIZE"]), ":0\r\n");
    }

    #[test]
    fn debug_digest_value_matches_redis_for_a_string() {
        let mut t = node(ProtectedAction::Yes);
        assert_eq!(
            t.cmd(1, &["DEBUG", "DIGEST"]),
            "+0000000000000000000000000000000000000000\r\n"
        );
        t.cmd(1, &["SET", "a", "1"]);
        // Taken from redis-server 7.0.15.
        assert_eq!(
            t.cmd(1, &["DEBUG", "DIGEST-VALUE", "a", "b"]),
            "*2\r\n+b4fc66738120fba0b5aa500ab5c2bf89cea1c5da\r\n\
             +0000000000000000000000000000000000000000\r\n"
        );
    }

    #[test]
    fn debug_object_describes_encoding_refcount_and_rdb_size() {
        let mut t = node(ProtectedAction::Yes);
        t.cmd(1, &["SET", "small", "123"]);
        t.cmd(1, &["SET", "big", "123456"]);
        t.cmd(1, &["SET", "s", "hello"]);
        let small = t.cmd(1, &["DEBUG", "OBJECT", "small"]);
        assert!(
            small.contains(" refcount:2147483647 encoding:int serializedlength:2 "),
            "{small}"
        );
        let big = t.cmd(1, &["DEBUG", "OBJECT", "big"]);
        assert!(
            big.contains(" refcount:1 encoding:int serializedlength:5 "),
            "{big}"
        );
        let s = t.cmd(1, &["DEBUG", "OBJECT", "s"]);
        assert!(s.starts_with("+Value at:0x"), "{s}");
        assert!(
            s.contains(" encoding:embstr serializedlength:6 lru:"),
            "{s}"
        );
        assert!(s.ends_with(" lru_seconds_idle:0\r\n"), "{s}");
        assert_eq!(
            t.cmd(1, &["DEBUG", "OBJECT", "none"]),
            "-ERR no such key\r\n"
        );
        assert_eq!(
            t.cmd(1, &["DEBUG", "nope"]),
            "-ERR unknown subcommand or wrong number of arguments for 'nope'. Try DEBUG HELP.\r\n"
        );
    }
}

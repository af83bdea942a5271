//! DUMP and RESTORE (Redis's cluster.c): a key's value as a DUMP payload (its RDB
//! encoding, the RDB version and a CRC64), and a key made from one.

use bytes::Bytes;

use crate::config::notify;

use super::{args, Acl, CommandSpec, Flag, KeySpec};
use crate::db::{self, AccessPolicy, Millis, Touch};
use crate::error::{CmdError, CmdResult, SYNTAX};
use crate::node::Ctx;
use crate::propagate;
use crate::rdb::{self, LoadOptions, RdbErrorKind, RdbWriter};
use crate::value::Value;

const BUSYKEY: &str = "BUSYKEY Target key name already exists.";
const INVALID_TTL: &str = "ERR Invalid TTL value, must be >= 0";
const INVALID_IDLETIME: &str = "ERR Invalid IDLETIME value, must be >= 0";
const INVALID_FREQ: &str = "ERR Invalid FREQ value, must be >= 0 and <= 255";
const BAD_FOOTER: &str = "ERR DUMP payload version or checksum are wrong";
const BAD_DATA: &str = "ERR Bad data format";

/// Redis's LRU field is 24 bits wide (LRU_CLOCK_MAX).
const LRU_CLOCK_MAX: i64 = (1 << 24) - 1;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "dump",
        arity: 2,
        flags: &[Flag::Readonly],
        acl: &[Acl::Keyspace],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_specs: &[KeySpec::first(&["RO", "access"])],
        since: "2.6.0",
        summary: "Serializes the value at a key into RESTORE's payload format.",
        complexity: "O(1) to find the key, plus the size of the value to serialize it.",
        tips: &["nondeterministic_output"],
        handler: Some(dump),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "restore",
        arity: -4,
        flags: &[Flag::Write, Flag::Denyoom],
        acl: &[Acl::Keyspace, Acl::Dangerous],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_specs: &[KeySpec::first(&["OW", "update"])],
        since: "2.6.0",
        summary: "Creates a key from a DUMP payload.",
        complexity: "O(1) to create the key, plus the size of the value to rebuild it \
                     (O(N log N) for sorted sets).",
        history: &[
            ("3.0.0", "Added the `REPLACE` modifier."),
            ("5.0.0", "Added the `ABSTTL` modifier."),
            ("5.0.0", "Added the `IDLETIME` and `FREQ` options."),
        ],
        handler: Some(restore),
        ..CommandSpec::DEFAULT
    },
];

/// DUMP key: the payload in the encoding the key holds, compressed as
/// `rdbcompression` says; a null bulk for a missing key.
fn dump(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let compress = ctx.srv.config.rdbcompression;
    let Some(entry) = ctx.lookup_read(&args[1]) else {
        ctx.out().null();
        return Ok(());
    };
    // Every type Ember holds has an RDB form; the error is for types still to come.
    let payload = RdbWriter::dump_payload(&entry.value, compress)
        .map_err(|e| CmdError::Owned(format!("ERR DUMP of {} values is not supported", e.0)))?;
    ctx.out().bulk(&payload);
    Ok(())
}

/// What RESTORE's options ask for.
#[derive(Debug, Default, PartialEq, Eq)]
struct RestoreOptions {
    replace: bool,
    absttl: bool,
    /// IDLETIME seconds (>= 0).
    idle_secs: Option<i64>,
    /// FREQ counter (0..=255).
    freq: Option<u8>,
}

/// `[REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]` in any order. IDLETIME
/// and FREQ exclude each other: the second one met is a syntax error, as in Redis
/// (which checks them in order, so a bad value before the clash is reported first).
fn parse_restore_options(opts: &[Bytes]) -> Result<RestoreOptions, CmdError> {
    let mut parsed = RestoreOptions::default();
    let mut i = 0;
    while i < opts.len() {
        let has_value = i + 1 < opts.len();
        if args::is(&opts[i], "REPLACE") {
            parsed.replace = true;
        } else if args::is(&opts[i], "ABSTTL") {
            parsed.absttl = true;
        } else if args::is(&opts[i], "IDLETIME") && has_value && parsed.freq.is_none() {
            let idle = args::int(&opts[i + 1])?;
            if idle < 0 {
                return Err(CmdError::Static(INVALID_IDLETIME));
            }
            parsed.idle_secs = Some(idle);
            i += 1;
        } else if args::is(&opts[i], "FREQ") && has_value && parsed.idle_secs.is_none() {
            let freq = args::int(&opts[i + 1])?;
            // The counter is a byte: 0 to 255.
            let freq = u8::try_from(freq).map_err(|_| CmdError::Static(INVALID_FREQ))?;
            parsed.freq = Some(freq);
            i += 1;
        } else {
            return Err(CmdError::Static(SYNTAX));
        }
        i += 1;
    }
    Ok(parsed)
}

/// The value in `payload`, built in the encodings the configuration picks. The
/// checksum is verified whatever `rdbchecksum` says, as Redis does, unless DEBUG
/// SET-SKIP-CHECKSUM-VALIDATION turned that off.
fn decode_payload(ctx: &Ctx<'_>, payload: &[u8]) -> Result<Value, CmdError> {
    let opts = LoadOptions {
        verify_checksum: !ctx.srv.skip_checksum_validation,
        ..LoadOptions::from_config(&ctx.srv.config, ctx.srv.hasher)
    };
    match rdb::restore_payload(payload, &opts) {
        Ok(value) => Ok(value.into_value(&opts)),
        Err(e) if e.kind == RdbErrorKind::BadDumpFooter => Err(CmdError::Static(BAD_FOOTER)),
        Err(_) => Err(CmdError::Static(BAD_DATA)),
    }
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
///
/// Checks in Redis's order: options, an existing key (unless REPLACE), the TTL, the
/// payload's footer, then its contents. A deadline already past (a relative TTL
/// never is, unless it overflows) deletes the old key under REPLACE and creates
/// nothing, still replying OK.
///
/// Propagation (not done here yet): a relative TTL goes out as the absolute
/// deadline with ABSTTL appended; the past-deadline case with a deleted key goes out
/// as DEL key. Both use `deadline` and `replaced` below.
fn restore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let opts = parse_restore_options(&args[4..])?;
    if !opts.replace && ctx.lookup_write(key).is_some() {
        return Err(CmdError::Static(BUSYKEY));
    }
    let ttl = args::int(&args[2])?;
    if ttl < 0 {
        return Err(CmdError::Static(INVALID_TTL));
    }
    let value = decode_payload(ctx, &args[3])?;
    // Like Redis's dbDelete: a key past its deadline but not yet expired counts.
    let replaced = opts.replace && ctx.db().remove(key).is_some();
    let now = ctx.now;
    let deadline = match ttl {
        0 => None,
        // C's signed addition wraps; a wrapped deadline is in the past.
        _ if !opts.absttl => Some(ttl.wrapping_add(now as i64)),
        _ => Some(ttl),
    };
    // Redis's checkAlreadyExpired; a replica (not yet in Ember) keeps such keys.
    if deadline.is_some_and(|at| at <= now as i64) {
        if replaced {
            // The old key went away: that deletion is the effect.
            let lazy = ctx.srv.config.lazyfree_lazy_server_del;
            ctx.rewrite_argv(vec![propagate::deletion_command(lazy), key.clone()]);
            ctx.modified(key);
            ctx.notify(notify::GENERIC, "del", key);
        }
        ctx.out().ok();
        return Ok(());
    }
    if let (Some(at), false) = (deadline, opts.absttl) {
        // A relative TTL propagates as the absolute deadline it gave, so a replica
        // or a reload sets the same one.
        let mut argv = args.to_vec();
        argv[2] = Bytes::from(at.to_string());
        argv.push(Bytes::from_static(b"ABSTTL"));
        ctx.rewrite_argv(argv);
    }
    let policy = ctx.srv.access_policy();
    let expire_at = deadline.map(|at| at as Millis);
    ctx.db().insert_new(key, value, expire_at, now, policy);
    set_access(ctx, key, &opts, policy);
    ctx.modified(key);
    ctx.notify(notify::GENERIC, "restore", key);
    ctx.signal_key_ready(key);
    ctx.out().ok();
    Ok(())
}

/// Applies IDLETIME (under an LRU policy) or FREQ (under LFU) to the new key, as
/// Redis's objectSetLRUOrLFU: the other one is ignored.
fn set_access(ctx: &mut Ctx<'_>, key: &[u8], opts: &RestoreOptions, policy: AccessPolicy) {
    let now = ctx.now;
    let access = match policy {
        AccessPolicy::Lfu { .. } => match opts.freq {
            Some(freq) => lfu_minutes(now) << 8 | u32::from(freq),
            None => return,
        },
        AccessPolicy::Lru => match opts.idle_secs {
            Some(idle) => lru_with_idle(db::lru_clock(now), idle),
            None => return,
        },
    };
    let srv = &mut *ctx.srv;
    let stats = &mut srv.keyspace_stats;
    if let Some(entry) = srv.dbs[ctx.client.db].lookup(key, now, Touch::No, policy, stats, 0) {
        entry.access = access;
    }
}

/// The LFU clock: minutes, modulo 2^16 (LFUGetTimeInMinutes).
fn lfu_minutes(now: Millis) -> u32 {
    ((now / 60_000) & 0xffff) as u32
}

/// The LRU field of a key idle for `idle_secs`: the clock moved back that far. One
/// idle longer than the clock's range wraps into the future, so such a key counts
/// as very idle (Redis stores LRU_CLOCK_MAX plus the negative difference, cut to
/// the field's 24 bits).
fn lru_with_idle(clock: u32, idle_secs: i64) -> u32 {
    // Redis scales by its clock resolution (1000 ms per 1000 ms): a no-op, but the
    // multiplication wraps for huge values as C's does.
    let idle = idle_secs.wrapping_mul(1000) / 1000;
    let abs = i64::from(clock).wrapping_sub(idle);
    let field = if abs >= 0 {
        abs
    } else {
        LRU_CLOCK_MAX.wrapping_add(abs)
    };
    (field as u64 & LRU_CLOCK_MAX as u64) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::testkit::{argv, Harness, T0};
    use crate::config::{Config, MaxmemoryPolicy};

    /// The payload DUMP sends for `key` (the harness hands replies back as text, so
    /// binary payloads are taken from the writer DUMP calls).
    fn dump_of(h: &mut Harness, key: &str) -> Vec<u8> {
        let entry = h.srv.dbs[0].peek(key.as_bytes()).expect("key");
        RdbWriter::dump_payload(&entry.value, true).expect("dumpable")
    }

    fn restore(h: &mut Harness, key: &str, ttl: &str, payload: &[u8], opts: &str) -> String {
        let mut args = argv(&format!("RESTORE {key} {ttl}"));
        args.push(Bytes::copy_from_slice(payload));
        if !opts.is_empty() {
            args.extend(argv(opts));
        }
        h.run_args(&args)
    }

    #[test]
    fn dump_of_a_missing_key_is_null() {
        let mut h = Harness::new();
        assert_eq!(h.run("DUMP nope"), "$-1\r\n");
    }

    #[test]
    fn a_small_string_dumps_as_redis_does() {
        let mut h = Harness::new();
        h.set("k", "hello", None);
        // Type 0, length 5, "hello", RDB version 10, CRC64 (from redis-server 7.0.15).
        let want = b"\x00\x05hello\x0a\x00cr\xdfve4 \x0a";
        assert_eq!(dump_of(&mut h, "k"), want.to_vec());
        let reply = format!("${}\r\n{}\r\n", want.len(), String::from_utf8_lossy(want));
        assert_eq!(h.run("DUMP k"), reply);
    }

    #[test]
    fn restore_round_trips_and_refuses_an_existing_key() {
        let mut h = Harness::new();
        h.run("RPUSH l a b 3");
        let payload = dump_of(&mut h, "l");
        let dirty = h.srv.dirty;
        assert_eq!(restore(&mut h, "l2", "0", &payload, ""), "+OK\r\n");
        assert_eq!(
            h.run("LRANGE l2 0 -1"),
            "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\n3\r\n"
        );
        assert_eq!(
            restore(&mut h, "l2", "0", &payload, ""),
            "-BUSYKEY Target key name already exists.\r\n"
        );
        assert_eq!(restore(&mut h, "l2", "0", &payload, "REPLACE"), "+OK\r\n");
        assert_eq!(h.srv.dirty, dirty + 2);
    }

    #[test]
    fn restore_checks_options_then_key_then_ttl_then_payload() {
        let mut h = Harness::new();
        h.set("k", "v", None);
        let bad = b"junk";
        let cases = [
            ("k", "0", "FREQ 300", INVALID_FREQ),
            ("k", "0", "IDLETIME -1", INVALID_IDLETIME),
            ("k", "0", "IDLETIME x", crate::error::NOT_INTEGER),
            ("k", "0", "IDLETIME 1 FREQ 1", SYNTAX),
            ("k", "0", "FREQ 1 IDLETIME 1", SYNTAX),
            ("k", "0", "IDLETIME", SYNTAX),
            ("k", "-1", "", BUSYKEY),
            ("k", "-1", "REPLACE", INVALID_TTL),
            ("n", "x", "", crate::error::NOT_INTEGER),
            ("n", "0", "", BAD_FOOTER),
        ];
        for (key, ttl, opts, want) in cases {
            let got = restore(&mut h, key, ttl, bad, opts);
            assert_eq!(got, format!("-{want}\r\n"), "{key} {ttl} {opts}");
        }
    }

    #[test]
    fn a_payload_with_a_good_footer_and_bad_body_is_bad_data() {
        let mut h = Harness::new();
        let mut payload = vec![0x42u8, 10, 0];
        let crc = rdb::crc64(&payload);
        payload.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(
            restore(&mut h, "k", "0", &payload, ""),
            format!("-{BAD_DATA}\r\n")
        );
        assert_eq!(h.srv.dbs[0].len(), 0);
    }

    #[test]
    fn a_ttl_in_the_past_creates_nothing_and_replace_deletes() {
        let mut h = Harness::new();
        h.set("k", "old", None);
        let payload = dump_of(&mut h, "k");
        let past = (T0 - 1000).to_string();
        assert_eq!(restore(&mut h, "n", &past, &payload, "ABSTTL"), "+OK\r\n");
        assert!(h.srv.dbs[0].peek(b"n").is_none());
        assert_eq!(h.srv.dirty, 0);
        assert_eq!(
            restore(&mut h, "k", &past, &payload, "ABSTTL REPLACE"),
            "+OK\r\n"
        );
        assert!(h.srv.dbs[0].peek(b"k").is_none());
        assert_eq!(h.srv.dirty, 1);
        assert_eq!(
            restore(&mut h, "w", &i64::MAX.to_string(), &payload, ""),
            "+OK\r\n"
        );
        assert!(h.srv.dbs[0].peek(b"w").is_none());
    }

    #[test]
    fn a_relative_ttl_sets_an_absolute_deadline() {
        let mut h = Harness::new();
        h.set("k", "v", None);
        let payload = dump_of(&mut h, "k");
        assert_eq!(restore(&mut h, "a", "5000", &payload, ""), "+OK\r\n");
        assert_eq!(h.expire_at("a"), Some(T0 + 5000));
        let at = (T0 + 9000).to_string();
        assert_eq!(restore(&mut h, "b", &at, &payload, "ABSTTL"), "+OK\r\n");
        assert_eq!(h.expire_at("b"), Some(T0 + 9000));
    }

    #[test]
    fn idletime_and_freq_set_what_object_reports() {
        let mut h = Harness::new();
        h.set("k", "v", None);
        let payload = dump_of(&mut h, "k");
        assert_eq!(
            restore(&mut h, "a", "0", &payload, "IDLETIME 1000"),
            "+OK\r\n"
        );
        assert_eq!(h.run("OBJECT IDLETIME a"), ":1000\r\n");
        assert_eq!(restore(&mut h, "b", "0", &payload, "FREQ 7"), "+OK\r\n");
        assert_eq!(h.run("OBJECT IDLETIME b"), ":0\r\n");

        let config = Config {
            maxmemory_policy: MaxmemoryPolicy::AllkeysLfu,
            ..Config::default()
        };
        let mut h = Harness::with_config(config);
        assert_eq!(restore(&mut h, "c", "0", &payload, "FREQ 200"), "+OK\r\n");
        assert_eq!(h.run("OBJECT FREQ c"), ":200\r\n");
        assert_eq!(restore(&mut h, "d", "0", &payload, "IDLETIME 5"), "+OK\r\n");
        assert_eq!(h.run("OBJECT FREQ d"), ":5\r\n");
    }

    #[test]
    fn an_idle_time_past_the_clock_wraps_into_the_field() {
        assert_eq!(lru_with_idle(100, 40), 60);
        assert_eq!(lru_with_idle(100, 101), (LRU_CLOCK_MAX - 1) as u32);
        // i64::MAX * 1000 wraps to -1000, as it does in Redis: one second ahead.
        assert_eq!(lru_with_idle(5, i64::MAX), 6);
    }

    #[test]
    fn restored_values_take_the_configured_encodings() {
        let mut h = Harness::new();
        h.run("HSET h a 1 b 2 c 3");
        let payload = dump_of(&mut h, "h");
        h.srv.config.hash_max_listpack_entries = 2;
        assert_eq!(restore(&mut h, "h2", "0", &payload, ""), "+OK\r\n");
        assert_eq!(h.encoding("h2"), Some("hashtable"));
    }
}

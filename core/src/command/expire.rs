//! Expiry commands (Redis's expire.c): EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, TTL, PTTL,
//! EXPIRETIME, PEXPIRETIME, PERSIST. Deadlines are absolute Unix milliseconds.

use bytes::Bytes;

use crate::config::notify;

use super::keys::lookup_read_notouch;
use super::{args, Acl, CommandSpec, Flag, KeySpec};
use crate::error::{invalid_expire, CmdError, CmdResult};
use crate::node::Ctx;

const NX_WITH_OTHERS: &str = "ERR NX and XX, GT or LT options at the same time are not compatible";
const GT_WITH_LT: &str = "ERR GT and LT options at the same time are not compatible";

/// Milliseconds in a second.
const MS_PER_SEC: i64 = 1000;

const WRITE_KEY: &[KeySpec] = &[KeySpec::first(&["RW", "update"])];
const READ_KEY: &[KeySpec] = &[KeySpec::first(&["RO", "access"])];

/// A row for one of the four EXPIRE forms.
const fn expire_row(
    name: &'static str,
    since: &'static str,
    summary: &'static str,
    handler: super::Handler,
) -> CommandSpec {
    CommandSpec {
        name,
        arity: -3,
        flags: &[Flag::Write, Flag::Fast],
        acl: &[Acl::Keyspace],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_specs: WRITE_KEY,
        since,
        summary,
        handler: Some(handler),
        ..CommandSpec::DEFAULT
    }
}

/// A row for one of the four TTL forms.
const fn ttl_row(
    name: &'static str,
    since: &'static str,
    summary: &'static str,
    tips: &'static [&'static str],
    handler: super::Handler,
) -> CommandSpec {
    CommandSpec {
        name,
        arity: 2,
        flags: &[Flag::Readonly, Flag::Fast],
        acl: &[Acl::Keyspace],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_specs: READ_KEY,
        since,
        summary,
        tips,
        handler: Some(handler),
        ..CommandSpec::DEFAULT
    }
}

const TIME_DEPENDENT: &[&str] = &["nondeterministic_output"];

pub static COMMANDS: &[CommandSpec] = &[
    expire_row(
        "expire",
        "1.0.0",
        "Sets a key's time to live in seconds.",
        expire,
    ),
    expire_row(
        "pexpire",
        "2.6.0",
        "Sets a key's time to live in milliseconds.",
        pexpire,
    ),
    expire_row(
        "expireat",
        "1.2.0",
        "Sets a key's deadline as a Unix time in seconds.",
        expireat,
    ),
    expire_row(
        "pexpireat",
        "2.6.0",
        "Sets a key's deadline as a Unix time in milliseconds.",
        pexpireat,
    ),
    ttl_row(
        "ttl",
        "1.0.0",
        "Returns a key's remaining time to live in seconds.",
        TIME_DEPENDENT,
        ttl,
    ),
    ttl_row(
        "pttl",
        "2.6.0",
        "Returns a key's remaining time to live in milliseconds.",
        TIME_DEPENDENT,
        pttl,
    ),
    ttl_row(
        "expiretime",
        "7.0.0",
        "Returns a key's deadline as a Unix time in seconds.",
        &[],
        expiretime,
    ),
    ttl_row(
        "pexpiretime",
        "7.0.0",
        "Returns a key's deadline as a Unix time in milliseconds.",
        &[],
        pexpiretime,
    ),
    CommandSpec {
        name: "persist",
        arity: 2,
        flags: &[Flag::Write, Flag::Fast],
        acl: &[Acl::Keyspace],
        first_key: 1,
        last_key: 1,
        step: 1,
        key_specs: WRITE_KEY,
        since: "2.2.0",
        summary: "Removes a key's deadline.",
        handler: Some(persist),
        ..CommandSpec::DEFAULT
    },
];

/// The unit a time argument or reply is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Seconds,
    Millis,
}

// ---------------------------------------------------------------------------------
// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT

/// EXPIRE key seconds [NX | XX | GT | LT]
fn expire(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let now = ctx.now as i64;
    expire_generic(ctx, args, now, Unit::Seconds)
}

/// PEXPIRE key milliseconds [NX | XX | GT | LT]
fn pexpire(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let now = ctx.now as i64;
    expire_generic(ctx, args, now, Unit::Millis)
}

/// EXPIREAT key unix-time-seconds [NX | XX | GT | LT]
fn expireat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    expire_generic(ctx, args, 0, Unit::Seconds)
}

/// PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]
fn pexpireat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    expire_generic(ctx, args, 0, Unit::Millis)
}

/// The NX/XX/GT/LT conditions, as given.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Conditions {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl Conditions {
    /// Every trailing argument must be one of the four; then incompatible pairs are
    /// refused, NX's conflicts first.
    fn parse(opts: &[Bytes]) -> Result<Conditions, CmdError> {
        let mut c = Conditions::default();
        for opt in opts {
            if args::is(opt, "NX") {
                c.nx = true;
            } else if args::is(opt, "XX") {
                c.xx = true;
            } else if args::is(opt, "GT") {
                c.gt = true;
            } else if args::is(opt, "LT") {
                c.lt = true;
            } else {
                return Err(unsupported_option(opt));
            }
        }
        if c.nx && (c.xx || c.gt || c.lt) {
            return Err(CmdError::Static(NX_WITH_OTHERS));
        }
        if c.gt && c.lt {
            return Err(CmdError::Static(GT_WITH_LT));
        }
        Ok(c)
    }

    /// Whether a key whose deadline is `current` may get the deadline `when`. No
    /// deadline counts as infinitely far: GT never passes, LT always does.
    fn allow(self, current: Option<i64>, when: i64) -> bool {
        let refused = (self.nx && current.is_some())
            || (self.xx && current.is_none())
            || (self.gt && current.is_none_or(|cur| when <= cur))
            || (self.lt && current.is_some_and(|cur| when >= cur));
        !refused
    }
}

/// `ERR Unsupported option <opt>`, the option read as a C string (up to a NUL).
fn unsupported_option(opt: &[u8]) -> CmdError {
    let end = opt.iter().position(|&b| b == 0).unwrap_or(opt.len());
    CmdError::Owned(format!(
        "ERR Unsupported option {}",
        String::from_utf8_lossy(&opt[..end])
    ))
}

/// The absolute deadline in ms: `arg` in `unit`, plus `base` (now, or 0 for the AT
/// forms). Conversions that would overflow are refused, as Redis refuses them.
fn deadline(ctx: &Ctx<'_>, arg: &[u8], base: i64, unit: Unit) -> Result<i64, CmdError> {
    let mut when = args::int(arg)?;
    let invalid = || invalid_expire(ctx.cmd.name);
    if unit == Unit::Seconds {
        when = when.checked_mul(MS_PER_SEC).ok_or_else(invalid)?;
    }
    when.checked_add(base).ok_or_else(invalid)
}

/// Applies `key arg [conditions]`: 0 when the key is missing or a condition refuses,
/// else 1. A deadline already past deletes the key at once.
fn expire_generic(ctx: &mut Ctx<'_>, args: &[Bytes], base: i64, unit: Unit) -> CmdResult {
    let conditions = Conditions::parse(&args[3..])?;
    let when = deadline(ctx, &args[2], base, unit)?;
    let key = &args[1];
    let Some(current) = ctx.lookup_write(key).map(|e| e.expire_at()) else {
        ctx.out().int(0);
        return Ok(());
    };
    let current = current.map(|at| at as i64);
    if !conditions.allow(current, when) {
        ctx.out().int(0);
        return Ok(());
    }
    if when <= ctx.now as i64 {
        ctx.db().remove(key);
        // Propagates as a deletion, UNLINK under lazyfree-lazy-expire.
        let del = crate::propagate::deletion_command(ctx.srv.config.lazyfree_lazy_expire);
        ctx.rewrite_argv(vec![del, key.clone()]);
    } else {
        ctx.db().set_expire(key, Some(when as u64));
        // Relative and second forms propagate as PEXPIREAT with the absolute time,
        // keeping the condition arguments; PEXPIREAT goes as sent.
        if base != 0 || unit == Unit::Seconds {
            ctx.rewrite_arg(args, 0, Bytes::from_static(b"PEXPIREAT"));
            ctx.rewrite_arg(args, 2, Bytes::from(when.to_string()));
        }
    }
    ctx.modified(key);
    let event = if when <= ctx.now as i64 {
        "del"
    } else {
        "expire"
    };
    ctx.notify(notify::GENERIC, event, key);
    ctx.out().int(1);
    Ok(())
}

// ---------------------------------------------------------------------------------
// TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST

/// TTL key
fn ttl(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, &args[1], Unit::Seconds, false);
    Ok(())
}

/// PTTL key
fn pttl(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, &args[1], Unit::Millis, false);
    Ok(())
}

/// EXPIRETIME key
fn expiretime(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, &args[1], Unit::Seconds, true);
    Ok(())
}

/// PEXPIRETIME key
fn pexpiretime(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, &args[1], Unit::Millis, true);
    Ok(())
}

/// Replies -2 for a missing key, -1 for one without a deadline, else the time left
/// (or the deadline when `absolute`) in `unit`; seconds round to nearest as Redis's
/// `(ms + 500) / 1000`.
fn ttl_generic(ctx: &mut Ctx<'_>, key: &[u8], unit: Unit, absolute: bool) {
    let now = ctx.now as i64;
    let reply = match lookup_read_notouch(ctx, key).map(|e| e.expire_at()) {
        None => -2,
        Some(None) => -1,
        Some(Some(at)) => {
            let at = at as i64;
            let ms = if absolute { at } else { (at - now).max(0) };
            match unit {
                Unit::Millis => ms,
                // Rounded without overflow near i64::MAX, as Redis's build computes it.
                Unit::Seconds => ((i128::from(ms) + 500) / i128::from(MS_PER_SEC)) as i64,
            }
        }
    };
    ctx.out().int(reply);
}

/// PERSIST key: 1 if a deadline was removed.
fn persist(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let had_deadline = ctx
        .lookup_write(key)
        .is_some_and(|e| e.expire_at().is_some());
    if had_deadline {
        ctx.db().set_expire(key, None);
        ctx.modified(key);
        ctx.notify(notify::GENERIC, "persist", key);
    }
    ctx.out().int(i64::from(had_deadline));
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::command::testkit::{Harness, T0};

    #[test]
    fn option_errors_come_before_the_integer_check() {
        let mut h = Harness::new();
        assert_eq!(h.run("EXPIRE k abc FOO"), "-ERR Unsupported option FOO\r\n");
        let nx = "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n";
        for opts in ["NX XX", "nx gt", "LT NX"] {
            assert_eq!(h.run(&format!("EXPIRE k 10 {opts}")), nx, "{opts}");
        }
        assert_eq!(
            h.run("PEXPIRE k 10 GT LT"),
            "-ERR GT and LT options at the same time are not compatible\r\n"
        );
        assert_eq!(
            h.run("EXPIRE k abc"),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(h.run("EXPIRE k 10 NX NX"), ":0\r\n");
    }

    #[test]
    fn overflowing_times_are_refused_with_the_command_name() {
        let mut h = Harness::new();
        h.set("k", "v", None);
        assert_eq!(
            h.run("EXPIRE k 9223372036854776"),
            "-ERR invalid expire time in 'expire' command\r\n"
        );
        assert_eq!(
            h.run("EXPIREAT k -9223372036854776"),
            "-ERR invalid expire time in 'expireat' command\r\n"
        );
        assert_eq!(
            h.run("PEXPIRE k 9223372036854775807"),
            "-ERR invalid expire time in 'pexpire' command\r\n"
        );
        assert_eq!(h.run("PEXPIREAT k 9223372036854775807"), ":1\r\n");
        assert_eq!(h.run("PEXPIRETIME k"), ":9223372036854775807\r\n");
        assert_eq!(h.run("EXPIRETIME k"), ":9223372036854776\r\n");
    }

    #[test]
    fn a_deadline_in_the_past_deletes_the_key_at_once() {
        let mut h = Harness::new();
        h.set("k", "v", None);
        assert_eq!(h.run("EXPIRE k 0"), ":1\r\n");
        assert!(h.srv.dbs[0].peek(b"k").is_none());
        h.set("k", "v", None);
        assert_eq!(h.run(&format!("PEXPIREAT k {T0}")), ":1\r\n");
        assert!(h.srv.dbs[0].peek(b"k").is_none());
        assert_eq!(h.run("EXPIRE k 100"), ":0\r\n");
    }

    #[test]
    fn conditions_compare_with_the_current_deadline() {
        let mut h = Harness::new();
        h.set("k", "v", None);
        assert_eq!(h.run("EXPIRE k 100 XX"), ":0\r\n");
        assert_eq!(
            h.run("EXPIRE k 100 GT"),
            ":0\r\n",
            "no deadline is infinite"
        );
        assert_eq!(h.run("EXPIRE k 100 LT"), ":1\r\n");
        assert_eq!(h.run("EXPIRE k 50 NX"), ":0\r\n");
        assert_eq!(h.run("EXPIRE k 100 GT"), ":0\r\n", "equal is not greater");
        assert_eq!(h.run("EXPIRE k 200 GT"), ":1\r\n");
        assert_eq!(h.run("EXPIRE k 300 LT"), ":0\r\n");
        assert_eq!(h.run("EXPIRE k 150 xx lt"), ":1\r\n");
        assert_eq!(h.run("TTL k"), ":150\r\n");
    }

    #[test]
    fn ttl_forms_report_missing_persistent_and_rounded_values() {
        let mut h = Harness::new();
        assert_eq!(h.run("TTL nope"), ":-2\r\n");
        assert_eq!(h.run("PEXPIRETIME nope"), ":-2\r\n");
        h.set("p", "v", None);
        assert_eq!(h.run("PTTL p"), ":-1\r\n");
        assert_eq!(h.run("EXPIRETIME p"), ":-1\r\n");
        h.set("v", "v", Some(T0 + 1_499));
        assert_eq!(h.run("TTL v"), ":1\r\n");
        assert_eq!(h.run("PTTL v"), ":1499\r\n");
        h.now += 999;
        assert_eq!(h.run("TTL v"), ":1\r\n", "500 ms rounds up");
        h.set("w", "v", Some(1_500));
        h.now = 1_000;
        assert_eq!(h.run("EXPIRETIME w"), ":2\r\n", "EXPIRETIME rounds too");
        assert_eq!(h.run("PEXPIRETIME w"), ":1500\r\n");
        h.now = 1_500;
        assert_eq!(
            h.run("PTTL w"),
            ":0\r\n",
            "a key lives through its deadline"
        );
        assert_eq!(h.run("TTL w"), ":0\r\n");
        h.now = 1_501;
        assert_eq!(h.run("TTL w"), ":-2\r\n");
    }

    #[test]
    fn persist_removes_only_an_existing_deadline() {
        let mut h = Harness::new();
        assert_eq!(h.run("PERSIST nope"), ":0\r\n");
        h.set("k", "v", None);
        assert_eq!(h.run("PERSIST k"), ":0\r\n");
        assert_eq!(h.run("EXPIRE k 10"), ":1\r\n");
        assert_eq!(h.run("PERSIST k"), ":1\r\n");
        assert_eq!(h.run("TTL k"), ":-1\r\n");
        assert_eq!(h.srv.dbs[0].volatile_len(), 0);
    }
}

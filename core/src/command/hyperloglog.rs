//! HyperLogLog commands (Redis's hyperloglog.c): PFADD, PFCOUNT, PFMERGE and the
//! debugging pair PFDEBUG / PFSELFTEST. An HLL is a string value in Redis's exact
//! layout ([`crate::types::hll`]), so GET, SETRANGE and DUMP see the same bytes as on
//! Redis; every command checks a value is a valid HLL before reading it.

use bytes::Bytes;

use crate::config::notify;

use super::{args, Acl, CommandSpec, DocFlag, Flag, Group, KeySpec};
use crate::error::{CmdError, CmdResult, WRONGTYPE};
use crate::node::Ctx;
use crate::types::hll::{self, Encoding, REGISTERS};
use crate::value::Value;

/// A string that is not an HLL (isHLLObjectOrReply).
const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
/// Register data that does not add up (Redis's invalid_hll_err).
const CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";
const NO_SUCH_KEY: &str = "ERR The specified key does not exist";
const NOT_SPARSE: &str = "ERR HLL encoding is not sparse";

const HLL_ROW: CommandSpec = CommandSpec {
    first_key: 1,
    last_key: 1,
    step: 1,
    acl: &[Acl::HyperLogLog],
    group: Group::HyperLogLog,
    since: "2.8.9",
    ..CommandSpec::DEFAULT
};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "pfadd",
        arity: -2,
        flags: &[Flag::Write, Flag::Denyoom, Flag::Fast],
        key_specs: &[KeySpec::first(&["RW", "INSERT"])],
        summary: "Adds elements to a HyperLogLog, creating the key if needed.",
        complexity: "O(1) to add every element.",
        handler: Some(pfadd),
        ..HLL_ROW
    },
    CommandSpec {
        name: "pfcount",
        arity: -2,
        flags: &[Flag::Readonly, Flag::MayReplicate],
        last_key: -1,
        key_specs: &[KeySpec::range(&["RW", "ACCESS"], 1, -1)],
        summary: "Returns the approximated cardinality of the union of HyperLogLogs.",
        complexity: "O(1) with a cached cardinality for one key, O(N) for N keys.",
        handler: Some(pfcount),
        ..HLL_ROW
    },
    CommandSpec {
        name: "pfmerge",
        arity: -2,
        flags: &[Flag::Write, Flag::Denyoom],
        last_key: -1,
        key_specs: &[
            KeySpec::first(&["RW", "ACCESS", "INSERT"]),
            KeySpec::range(&["RO", "ACCESS"], 2, -1),
        ],
        summary: "Merges HyperLogLogs into a destination HyperLogLog.",
        complexity: "O(N) to merge N HyperLogLogs, with a high constant.",
        handler: Some(pfmerge),
        ..HLL_ROW
    },
    CommandSpec {
        name: "pfdebug",
        arity: 3,
        flags: &[Flag::Write, Flag::Denyoom, Flag::Admin],
        first_key: 2,
        last_key: 2,
        key_specs: &[KeySpec::range(&["RW", "ACCESS"], 2, 0)],
        summary: "Debugging helpers for HyperLogLog values.",
        complexity: "N/A",
        doc_flags: &[DocFlag::Syscmd],
        handler: Some(pfdebug),
        ..HLL_ROW
    },
    CommandSpec {
        name: "pfselftest",
        arity: 1,
        flags: &[Flag::Admin],
        first_key: 0,
        last_key: 0,
        step: 0,
        summary: "Tests the HyperLogLog implementation.",
        complexity: "N/A",
        doc_flags: &[DocFlag::Syscmd],
        handler: Some(pfselftest),
        ..HLL_ROW
    },
];

// ---------------------------------------------------------------------------------
// Helpers

/// The bytes of a valid HLL value (isHLLObjectOrReply), without changing it.
fn hll_bytes(value: &Value) -> Result<&[u8], CmdError> {
    let bytes = match value {
        Value::Str(s) => s.as_slice(),
        Value::Raw(v) => v.as_slice(),
        // An integer-encoded string is never an HLL.
        Value::Int(_) => return Err(NOT_HLL.into()),
        _ => return Err(WRONGTYPE.into()),
    };
    match hll::encoding_of(bytes) {
        Some(_) => Ok(bytes),
        None => Err(NOT_HLL.into()),
    }
}

/// A valid HLL value made raw for writing (isHLLObjectOrReply then
/// dbUnshareStringValue).
fn hll_mut(value: &mut Value) -> Result<&mut Vec<u8>, CmdError> {
    hll_bytes(value)?;
    value.make_raw().ok_or(CmdError::Static(WRONGTYPE))
}

fn corrupt(_: hll::Corrupt) -> CmdError {
    CmdError::Static(CORRUPT)
}

/// Adds a key the caller has just looked up and found absent.
fn insert(ctx: &mut Ctx<'_>, key: &[u8], value: Value) {
    let (now, policy) = (ctx.now, ctx.srv.access_policy());
    ctx.db().insert_new(key, value, None, now, policy);
}

/// Looks `key` up for writing, creating an empty HLL if it is absent; the value
/// checked and made raw. Also says whether it was created.
fn hll_for_write<'c>(
    ctx: &'c mut Ctx<'_>,
    key: &[u8],
) -> Result<(&'c mut Vec<u8>, bool), CmdError> {
    let created = ctx.lookup_write(key).is_none();
    if created {
        insert(ctx, key, Value::Raw(Box::new(hll::new_sparse())));
    }
    match ctx.lookup_write_untouched(key) {
        Some(entry) => Ok((hll_mut(&mut entry.value)?, created)),
        None => Err(CORRUPT.into()),
    }
}

// ---------------------------------------------------------------------------------
// Commands

/// PFADD key [element [element ...]]
fn pfadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let sparse_max = ctx.srv.config.hll_sparse_max_bytes;
    let (hll, created) = hll_for_write(ctx, key)?;
    let mut updated = u64::from(created);
    for element in &args[2..] {
        if hll::add(hll, element, sparse_max).map_err(corrupt)? {
            updated += 1;
        }
    }
    if updated > 0 {
        hll::invalidate_cache(hll);
        ctx.modified(key);
        ctx.notify(notify::STRING, "pfadd", key);
        // Redis counts one change per updated register.
        ctx.srv.dirty += updated - 1;
    }
    ctx.out().int(i64::from(updated > 0));
    Ok(())
}

/// PFCOUNT key [key ...]
fn pfcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    if args.len() > 2 {
        return pfcount_union(ctx, &args[1..]);
    }
    let key = &args[1];
    if ctx.lookup_read(key).is_none() {
        ctx.out().int(0);
        return Ok(());
    }
    // Refreshing the cached cardinality changes the value: a write lookup (so a
    // snapshot keeps the old bytes).
    let Some(entry) = ctx.lookup_write_untouched(key) else {
        ctx.out().int(0);
        return Ok(());
    };
    let hll = hll_mut(&mut entry.value)?;
    let (card, computed) = match hll::cached_cardinality(hll) {
        Some(card) => (card, false),
        None => {
            let card = hll::count(hll).map_err(corrupt)?;
            hll::set_cached_cardinality(hll, card);
            (card, true)
        }
    };
    if computed {
        ctx.modified(key);
    }
    ctx.out().int(card as i64);
    Ok(())
}

/// PFCOUNT of several keys: the count of their union, cached nowhere.
fn pfcount_union(ctx: &mut Ctx<'_>, keys: &[Bytes]) -> CmdResult {
    let mut max = [0u8; REGISTERS];
    for key in keys {
        if let Some(entry) = ctx.lookup_read(key) {
            hll::merge_into(&mut max, hll_bytes(&entry.value)?).map_err(corrupt)?;
        }
    }
    ctx.out().int(hll::count_registers(&max) as i64);
    Ok(())
}

/// PFMERGE destkey [sourcekey [sourcekey ...]]: the destination is one of the
/// sources; it becomes dense if any source is dense.
fn pfmerge(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let mut max = [0u8; REGISTERS];
    let mut use_dense = false;
    for key in &args[1..] {
        if let Some(entry) = ctx.lookup_read(key) {
            let bytes = hll_bytes(&entry.value)?;
            use_dense |= hll::encoding_of(bytes) == Some(Encoding::Dense);
            hll::merge_into(&mut max, bytes).map_err(corrupt)?;
        }
    }
    let dest = &args[1];
    let sparse_max = ctx.srv.config.hll_sparse_max_bytes;
    let (hll, _) = hll_for_write(ctx, dest)?;
    if use_dense {
        hll::to_dense(hll).map_err(corrupt)?;
    }
    for (i, &value) in max.iter().enumerate() {
        if value != 0 {
            // Redis ignores a failure here: the sources were checked already.
            let _ = hll::set_register(hll, i, value, sparse_max);
        }
    }
    hll::invalidate_cache(hll);
    ctx.modified(dest);
    ctx.notify(notify::STRING, "pfadd", dest);
    ctx.out().ok();
    Ok(())
}

/// What PFDEBUG answers.
enum Debug {
    Registers(Vec<u8>),
    Text(String),
    Status(&'static str),
    Int(i64),
}

/// PFDEBUG <GETREG|DECODE|ENCODING|TODENSE> key
fn pfdebug(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (sub, key) = (&args[1], &args[2]);
    let Some(entry) = ctx.lookup_write(key) else {
        return Err(NO_SUCH_KEY.into());
    };
    let hll = hll_mut(&mut entry.value)?;
    let sparse = hll::encoding_of(hll) == Some(Encoding::Sparse);
    let (reply, converted) = if args::is(sub, "GETREG") {
        let converted = hll::to_dense(hll).map_err(corrupt)?;
        (Debug::Registers(hll::dense_registers(hll)), converted)
    } else if args::is(sub, "DECODE") {
        if !sparse {
            return Err(NOT_SPARSE.into());
        }
        (Debug::Text(hll::decode_sparse(hll)), false)
    } else if args::is(sub, "ENCODING") {
        let encoding = if sparse {
            Encoding::Sparse
        } else {
            Encoding::Dense
        };
        (Debug::Status(encoding.name()), false)
    } else if args::is(sub, "TODENSE") {
        let converted = hll::to_dense(hll).map_err(corrupt)?;
        (Debug::Int(i64::from(converted)), converted)
    } else {
        let name = sub.split(|&b| b == 0).next().unwrap_or_default();
        let mut msg = b"ERR Unknown PFDEBUG subcommand '".to_vec();
        msg.extend_from_slice(name);
        msg.push(b'\'');
        return Err(CmdError::Bytes(msg));
    };
    if converted {
        ctx.modified(key);
    }
    let out = ctx.out();
    match reply {
        Debug::Registers(regs) => {
            out.array(regs.len());
            for r in regs {
                out.int(i64::from(r));
            }
        }
        Debug::Text(text) => out.bulk(text.as_bytes()),
        Debug::Status(s) => out.status(s),
        Debug::Int(n) => out.int(n),
    }
    Ok(())
}

/// PFSELFTEST
fn pfselftest(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    hll::self_test().map_err(CmdError::Owned)?;
    ctx.out().ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testkit::Harness;

    #[test]
    fn pfadd_creates_a_sparse_hll_and_pfcount_caches_the_count() {
        let mut h = Harness::new();
        assert_eq!(h.run("PFADD h a b c"), ":1\r\n");
        assert_eq!(h.run("PFADD h a"), ":0\r\n");
        assert_eq!(h.run("PFDEBUG ENCODING h"), "+sparse\r\n");
        assert_eq!(h.run("PFCOUNT h"), ":3\r\n");
        assert_eq!(h.encoding("h"), Some("raw"));
    }

    #[test]
    fn strings_that_are_not_hlls_are_refused() {
        let mut h = Harness::new();
        h.run("SET i 12345");
        h.run("SET s HYLLxxxxxxxxxxxxxxxxxxxxxx");
        let err = "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n";
        assert_eq!(h.run("PFCOUNT i"), err);
        assert_eq!(h.run("PFADD s a"), err);
        h.run("LPUSH l a");
        assert!(h.run("PFCOUNT l").starts_with("-WRONGTYPE Operation"));
    }

    #[test]
    fn a_truncated_sparse_hll_is_corrupt() {
        let mut h = Harness::new();
        h.run("PFADD h a");
        h.run("SETRANGE h 16 \x01");
        assert_eq!(
            h.run("PFCOUNT h"),
            "-INVALIDOBJ Corrupted HLL object detected\r\n"
        );
    }

    #[test]
    fn pfmerge_of_a_dense_source_makes_the_destination_dense() {
        let mut h = Harness::new();
        h.run("PFADD a x y z");
        h.run("PFDEBUG TODENSE a");
        assert_eq!(h.run("PFMERGE d a"), "+OK\r\n");
        assert_eq!(h.run("PFDEBUG ENCODING d"), "+dense\r\n");
        assert_eq!(h.run("PFCOUNT d"), ":3\r\n");
        assert_eq!(h.run("PFCOUNT a d missing"), ":3\r\n");
    }
}

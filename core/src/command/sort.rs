//! SORT and SORT_RO (Redis 7.0's sort.c): sort the members of a list, set or sorted
//! set numerically (by default) or as strings (ALPHA), optionally by weights read
//! from other keys (BY pattern, with `->field` for hash fields), with LIMIT, GET
//! patterns and STORE into a list.
//!
//! The comparisons are Redis's: numeric ties fall back to comparing the members as
//! binary strings; ALPHA compares as C strings (strcoll in the C locale) unless the
//! result is stored, where it compares binary strings. The sort is stable, as
//! glibc's qsort (a merge sort) is.

use std::cmp::Ordering;

use bytes::Bytes;

use crate::config::notify;

use super::introspect::KeyRef;
use super::keys::range_key_spec;
use super::{args, Acl, BeginSearch, CommandSpec, FindKeys, Flag, Group, KeySpec};
use crate::error::{CmdError, CmdResult, SYNTAX, WRONGTYPE};
use crate::listpack::LpValue;
use crate::node::Ctx;
use crate::types::hash::Item as HashItem;
use crate::types::List;
use crate::util::num::{i64_digits, parse_f64};
use crate::value::Value;

const SCORE_NOT_DOUBLE: &str = "ERR One or more scores can't be converted into double";

/// The key spec of the keys BY and GET patterns name.
const PATTERN_KEYS: KeySpec = KeySpec {
    flags: &["RO", "access"],
    begin_search: BeginSearch::Unknown,
    find_keys: FindKeys::Unknown,
};

const SORT_ROW: CommandSpec = CommandSpec {
    arity: -2,
    first_key: 1,
    last_key: 1,
    step: 1,
    acl: &[Acl::Set, Acl::SortedSet, Acl::List, Acl::Dangerous],
    group: Group::Generic,
    complexity: "O(N+M*log(M)): N members, M of them returned.",
    ..CommandSpec::DEFAULT
};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "sort",
        flags: &[Flag::Write, Flag::Denyoom, Flag::MovableKeys],
        key_specs: &[
            range_key_spec(&["RO", "access"], 1, 0),
            PATTERN_KEYS,
            KeySpec {
                flags: &["OW", "update"],
                begin_search: BeginSearch::Unknown,
                find_keys: FindKeys::Unknown,
            },
        ],
        summary: "Sorts a list, set or sorted set, optionally storing the result.",
        handler: Some(sort),
        ..SORT_ROW
    },
    CommandSpec {
        name: "sort_ro",
        flags: &[Flag::Readonly, Flag::MovableKeys],
        key_specs: &[range_key_spec(&["RO", "access"], 1, 0), PATTERN_KEYS],
        since: "7.0.0",
        summary: "Sorts a list, set or sorted set without storing (read-only SORT).",
        handler: Some(sort_ro),
        ..SORT_ROW
    },
];

/// Redis's sortGetKeys / sortROGetKeys: the sorted key, plus the last STORE key.
/// `None` for other commands.
pub fn get_keys(fullname: &str, argv: &[Bytes]) -> Option<Vec<KeyRef>> {
    let sorted = KeyRef {
        pos: 1,
        flags: vec!["RO", "access"],
    };
    match fullname {
        "sort_ro" => Some(vec![sorted]),
        "sort" => {
            let mut store = None;
            let mut i = 2;
            while i < argv.len() {
                let arg = &argv[i];
                if args::is(arg, "LIMIT") {
                    i += 2;
                } else if args::is(arg, "GET") || args::is(arg, "BY") {
                    i += 1;
                } else if args::is(arg, "STORE") && i + 1 < argv.len() {
                    store = Some(i + 1);
                }
                i += 1;
            }
            let mut keys = vec![sorted];
            keys.extend(store.map(|pos| KeyRef {
                pos,
                flags: vec!["OW", "update"],
            }));
            Some(keys)
        }
        _ => None,
    }
}

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
/// [STORE destination]
fn sort(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    sort_generic(ctx, args, false)
}

/// SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
fn sort_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    sort_generic(ctx, args, true)
}

/// The parsed options.
struct SortOptions<'a> {
    desc: bool,
    alpha: bool,
    limit_start: i64,
    limit_count: i64,
    by: Option<&'a [u8]>,
    /// BY names a pattern without `*`: keep the stored order.
    dont_sort: bool,
    gets: Vec<&'a [u8]>,
    store: Option<&'a [u8]>,
}

impl<'a> SortOptions<'a> {
    /// Options in any order, each keyword case-insensitive, the last one winning.
    fn parse(opts: &'a [Bytes], readonly: bool) -> Result<Self, CmdError> {
        let mut o = SortOptions {
            desc: false,
            alpha: false,
            limit_start: 0,
            limit_count: -1,
            by: None,
            dont_sort: false,
            gets: Vec::new(),
            store: None,
        };
        let mut i = 0;
        while i < opts.len() {
            let arg = &opts[i];
            let left = opts.len() - i - 1;
            if args::is(arg, "ASC") {
                o.desc = false;
            } else if args::is(arg, "DESC") {
                o.desc = true;
            } else if args::is(arg, "ALPHA") {
                o.alpha = true;
            } else if args::is(arg, "LIMIT") && left >= 2 {
                o.limit_start = args::int(&opts[i + 1])?;
                o.limit_count = args::int(&opts[i + 2])?;
                i += 2;
            } else if !readonly && args::is(arg, "STORE") && left >= 1 {
                o.store = Some(&opts[i + 1]);
                i += 1;
            } else if args::is(arg, "BY") && left >= 1 {
                let pattern = &opts[i + 1][..];
                o.by = Some(pattern);
                // Redis looks for the `*` with strchr, which stops at a NUL byte.
                o.dont_sort = !c_str(pattern).contains(&b'*');
                i += 1;
            } else if args::is(arg, "GET") && left >= 1 {
                o.gets.push(&opts[i + 1]);
                i += 1;
            } else {
                return Err(CmdError::Static(SYNTAX));
            }
            i += 1;
        }
        Ok(o)
    }
}

/// The bytes before the first NUL, as C string functions see them.
fn c_str(bytes: &[u8]) -> &[u8] {
    bytes.split(|&b| b == 0).next().unwrap_or_default()
}

/// What the sorted key holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A missing key sorts as an empty list.
    List,
    Set,
    ZSet,
}

/// One element being sorted.
struct Item {
    member: Vec<u8>,
    score: f64,
    /// The BY value compared under ALPHA (None when the BY key is missing).
    by_value: Option<Vec<u8>>,
}

impl Item {
    fn new(member: Vec<u8>) -> Item {
        Item {
            member,
            score: 0.0,
            by_value: None,
        }
    }
}

/// A value read through a BY or GET pattern.
enum Found {
    Int(i64),
    Bytes(Vec<u8>),
}

impl Found {
    fn into_bytes(self) -> Vec<u8> {
        match self {
            Found::Int(n) => i64_digits(n, &mut [0u8; 20]).to_vec(),
            Found::Bytes(b) => b,
        }
    }
}

fn sort_generic(ctx: &mut Ctx<'_>, args: &[Bytes], readonly: bool) -> CmdResult {
    let mut o = SortOptions::parse(&args[2..], readonly)?;
    let key = &args[1];

    let kind = match ctx.lookup_read(key).map(|e| &e.value) {
        None => None,
        Some(Value::Set(_)) => Some(Kind::Set),
        Some(Value::List(_)) => Some(Kind::List),
        Some(Value::ZSet(_)) => Some(Kind::ZSet),
        Some(_) => return Err(CmdError::Static(WRONGTYPE)),
    };
    if kind == Some(Kind::ZSet) {
        // Redis converts a sorted set it sorts to the skiplist encoding for good
        // (visible in OBJECT ENCODING afterwards).
        let hasher = ctx.srv.hasher;
        if let Some(Value::ZSet(zset)) = ctx.lookup_write_untouched(key).map(|e| &mut e.value) {
            zset.convert_to_skiplist(hasher);
        }
    }
    // A set has no order of its own: sorted output must not depend on the hash
    // seed when it is stored (replicated) or a script reads it, so BY without
    // `*` sorts ALPHA then.
    let script = crate::script::runs_for(ctx);
    if o.dont_sort && kind == Some(Kind::Set) && (o.store.is_some() || script) {
        o.dont_sort = false;
        o.alpha = true;
        o.by = None;
    }
    let (mut items, start, end) = load(ctx, key, &o);
    let mut bad_score = false;
    if !o.dont_sort {
        bad_score = score_items(ctx, &mut items, &o);
        let store = o.store.is_some();
        items.sort_by(|a, b| compare(a, b, &o, store));
    }
    if bad_score {
        return Err(CmdError::Static(SCORE_NOT_DOUBLE));
    }
    let range = if end >= start {
        &items[start as usize..=end as usize]
    } else {
        &items[..0]
    };
    match o.store {
        None => reply_items(ctx, range, &o.gets),
        Some(dst) => store_items(ctx, dst, range, &o.gets),
    }
    Ok(())
}

/// Loads the elements to sort, and the output range [start, end] over them (Redis's
/// LIMIT clamping). When nothing is to be sorted, a list (or sorted set) loads
/// only that range, walking from the end DESC names, and the range is then all of
/// what was loaded.
fn load(ctx: &mut Ctx<'_>, key: &[u8], o: &SortOptions<'_>) -> (Vec<Item>, i64, i64) {
    let value = ctx.db().peek(key).map(|e| &e.value);
    let len = match value {
        Some(Value::Set(set)) => set.len(),
        Some(Value::List(list)) => list.len(),
        Some(Value::ZSet(zset)) => zset.len(),
        _ => 0,
    } as i64;
    let mut start = o.limit_start.max(0).min(len);
    let count = o.limit_count.max(-1).min(len);
    let mut end = if count < 0 {
        len - 1
    } else {
        start + count - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }
    let items = match value {
        Some(Value::Set(set)) => set.iter().map(|e| Item::new(e.to_vec())).collect(),
        Some(Value::List(list)) if o.dont_sort => {
            if end < start {
                Vec::new()
            } else {
                let (from, take) = (start as usize, (end - start + 1) as usize);
                let range: Vec<Item> = if o.desc {
                    let upto = list.len() - from;
                    list.range(0, upto).rev().take(take).map(lp_item).collect()
                } else {
                    list.range(from, take).map(lp_item).collect()
                };
                end -= start;
                start = 0;
                range
            }
        }
        Some(Value::List(list)) => list.iter().map(lp_item).collect(),
        // Unsorted output keeps the sorted set's own order (reversed by DESC), and
        // only the LIMIT range is loaded, as for lists.
        Some(Value::ZSet(zset)) if o.dont_sort => {
            if end < start {
                Vec::new()
            } else {
                // Seek rank `start` from the end DESC names (log N), then walk.
                let (from, take) = (start as usize, (end - start + 1) as usize);
                let rank = if o.desc { zset.len() - 1 - from } else { from };
                let mut range = Vec::with_capacity(take);
                let mut pos = zset.at_rank(rank);
                while let Some(p) = pos.filter(|_| range.len() < take) {
                    range.push(lp_item(zset.get(p).0));
                    pos = zset.step(p, o.desc);
                }
                end -= start;
                start = 0;
                range
            }
        }
        Some(Value::ZSet(zset)) => zset.iter().map(|(m, _)| lp_item(m)).collect(),
        _ => Vec::new(),
    };
    (items, start, end)
}

fn lp_item(value: LpValue<'_>) -> Item {
    Item::new(value.to_bytes(&mut [0u8; 20]).to_vec())
}

/// Computes each item's sort key (its own value or its BY value); true if some
/// numeric key is not a double.
fn score_items(ctx: &mut Ctx<'_>, items: &mut [Item], o: &SortOptions<'_>) -> bool {
    let mut bad = false;
    for item in items.iter_mut() {
        let found = match o.by {
            Some(pattern) => match lookup_by_pattern(ctx, pattern, &item.member) {
                Some(found) => found,
                None => continue,
            },
            None => Found::Bytes(Vec::new()),
        };
        if o.alpha {
            if o.by.is_some() {
                item.by_value = Some(found.into_bytes());
            }
            continue;
        }
        let score = match (&found, o.by) {
            (Found::Int(n), _) => Some(*n as f64),
            (Found::Bytes(b), Some(_)) => strtod_score(b),
            (Found::Bytes(_), None) => strtod_score(&item.member),
        };
        match score {
            Some(score) => item.score = score,
            None => bad = true,
        }
    }
    bad
}

/// Redis's check of a sort key: C strtod must reach the end of the C string (so
/// leading blanks pass, an empty string is 0) and give neither NaN nor a range
/// error.
fn strtod_score(bytes: &[u8]) -> Option<f64> {
    let s = c_str(bytes);
    if s.is_empty() {
        return Some(0.0);
    }
    let blanks = s
        .iter()
        .take_while(|&&b| matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'))
        .count();
    parse_f64(&s[blanks..])
}

/// Redis's sortCompare.
fn compare(a: &Item, b: &Item, o: &SortOptions<'_>, store: bool) -> Ordering {
    let cmp = if !o.alpha {
        match a.score.partial_cmp(&b.score) {
            Some(Ordering::Equal) | None => a.member.cmp(&b.member),
            Some(ord) => ord,
        }
    } else if o.by.is_some() {
        match (&a.by_value, &b.by_value) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) if store => x.cmp(y),
            (Some(x), Some(y)) => c_str(x).cmp(c_str(y)),
        }
    } else if store {
        a.member.cmp(&b.member)
    } else {
        c_str(&a.member).cmp(c_str(&b.member))
    };
    if o.desc {
        cmp.reverse()
    } else {
        cmp
    }
}

/// Redis's lookupKeyByPattern: `#` is the element itself; otherwise the first `*`
/// is replaced by the element and the key read, as a string, or (with `->field`
/// after the `*`) as a hash field.
fn lookup_by_pattern(ctx: &mut Ctx<'_>, pattern: &[u8], subst: &[u8]) -> Option<Found> {
    if c_str(pattern) == b"#" {
        return Some(Found::Bytes(subst.to_vec()));
    }
    let star = c_str(pattern).iter().position(|&b| b == b'*')?;
    let after = &pattern[star + 1..];
    // strstr, then a non-empty field: both stop at a NUL byte.
    let arrow = c_str(after)
        .windows(2)
        .position(|w| w == b"->")
        .filter(|&at| !c_str(&after[at + 2..]).is_empty());
    let (postfix, field) = match arrow {
        Some(at) => (&after[..at], Some(&after[at + 2..])),
        None => (after, None),
    };
    let mut key = Vec::with_capacity(pattern.len() + subst.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(subst);
    key.extend_from_slice(postfix);
    let value = &ctx.lookup_read(&key)?.value;
    match (field, value) {
        (Some(field), value) => hash_field(value, field),
        (None, Value::Int(n)) => Some(Found::Int(*n)),
        (None, value) => value
            .as_string_bytes(&mut [0u8; 20])
            .map(|b| Found::Bytes(b.to_vec())),
    }
}

/// A hash field's value, when `value` is a hash that has it.
fn hash_field(value: &Value, field: &[u8]) -> Option<Found> {
    let Value::Hash(hash) = value else {
        return None;
    };
    Some(match hash.get(field)? {
        HashItem::Int(n) => Found::Int(n),
        HashItem::Str(b) => Found::Bytes(b.to_vec()),
    })
}

/// Replies with the sorted range, or with the GET patterns' values for each element.
fn reply_items(ctx: &mut Ctx<'_>, items: &[Item], gets: &[&[u8]]) {
    let per_item = gets.len().max(1);
    ctx.out().array(items.len() * per_item);
    for item in items {
        if gets.is_empty() {
            ctx.out().bulk(&item.member);
        }
        for pattern in gets {
            match lookup_by_pattern(ctx, pattern, &item.member) {
                Some(Found::Int(n)) => ctx.out().bulk_i64(n),
                Some(Found::Bytes(b)) => ctx.out().bulk(&b),
                None => ctx.out().null(),
            }
        }
    }
}

/// STORE: the result (GET values, "" for missing ones) as a list at `dst`, which is
/// deleted when the result is empty; replies with the list's length.
fn store_items(ctx: &mut Ctx<'_>, dst: &[u8], items: &[Item], gets: &[&[u8]]) {
    let mut values: Vec<Vec<u8>> = Vec::with_capacity(items.len() * gets.len().max(1));
    for item in items {
        if gets.is_empty() {
            values.push(item.member.clone());
        }
        for pattern in gets {
            let found = lookup_by_pattern(ctx, pattern, &item.member);
            values.push(found.map(Found::into_bytes).unwrap_or_default());
        }
    }
    let len = values.len();
    if len > 0 {
        let mut list = List::new(ctx.srv.config.list_max_listpack_size);
        for value in &values {
            list.push_back(value);
        }
        let existed = ctx.lookup_write(dst).is_some();
        let (now, policy) = (ctx.now, ctx.srv.access_policy());
        ctx.db()
            .set(dst, Value::List(Box::new(list)), false, now, policy);
        ctx.modified(dst);
        ctx.notify(notify::LIST, "sortstore", dst);
        // Redis's dbAdd wakes clients blocked on a new key; an overwrite does not.
        if !existed {
            ctx.signal_key_ready(dst);
        }
    } else if ctx.lookup_write(dst).is_some() {
        ctx.db().remove(dst);
        ctx.modified(dst);
        ctx.notify(notify::GENERIC, "del", dst);
    }
    ctx.out().int(len as i64);
}

//! Introspection: COMMAND and its subcommands (COUNT, INFO, DOCS, LIST, GETKEYS,
//! GETKEYSANDFLAGS, HELP). Every reply is derived from the command table in
//! `command/mod.rs`; nothing here knows about a particular command except the few
//! facts the table cannot hold yet (key-spec notes, variable key flags), kept in
//! small tables at the top.

use bytes::Bytes;

use super::client::write_help;
use super::{
    all_commands, args, lookup, lookup_sub, Acl, BeginSearch, CommandSpec, DocFlag, FindKeys, Flag,
    Group, KeySpec,
};
use crate::error::CmdResult;
use crate::node::Ctx;
use crate::resp::ReplyBuf;
use crate::util::glob::glob_match;

const INVALID_COMMAND: &str = "ERR Invalid command specified";
const INVALID_ARGC: &str = "ERR Invalid number of arguments specified for command";
const NO_KEY_ARGUMENTS: &str = "ERR The command has no key arguments";
const INVALID_ARGUMENTS: &str = "ERR Invalid arguments specified for command";
const SYNTAX: &str = crate::error::SYNTAX;

/// Key-spec notes COMMAND INFO reports, by (full name, key-spec index). The text is
/// part of Redis's reply, so it is reproduced as sent. (Kept here rather than in
/// [`KeySpec`] so that rows written elsewhere need no new field.)
const KEY_SPEC_NOTES: &[(&str, usize, &str)] = &[
    ("set", 0, "RW and ACCESS due to the optional `GET` argument"),
    ("getex", 0, "RW and UPDATE because it changes the TTL"),
    ("sort", 1, "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort"),
    ("sort", 2, "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array"),
    ("bitfield", 0, "This command allows both access and modification of the key"),
    ("pfcount", 0, "RW because it may change the internal representation of the key, and propagate to replicas"),
    ("xadd", 0, "UPDATE instead of INSERT because of the optional trimming feature"),
    ("eval", 0, "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE"),
    ("eval_ro", 0, "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS"),
    ("fcall", 0, "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE"),
    ("fcall_ro", 0, "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS"),
    ("sort_ro", 1, "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort"),
];

/// Key-spec flags in the order and spelling Redis reports them.
const KEY_FLAG_NAMES: [&str; 11] = [
    "RO",
    "RW",
    "OW",
    "RM",
    "access",
    "update",
    "insert",
    "delete",
    "not_key",
    "incomplete",
    "variable_flags",
];

/// The flags of COMMAND INFO that Redis never reports.
const HIDDEN_FLAGS: [Flag; 4] = [
    Flag::MayReplicate,
    Flag::Sentinel,
    Flag::OnlySentinel,
    Flag::Protected,
];

const HELP: &[&str] = &[
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
    "HELP",
    "    Prints this help.",
];

/// What every COMMAND row shares.
const SUB: CommandSpec = CommandSpec {
    flags: &[Flag::Loading, Flag::Stale],
    acl: &[Acl::Connection],
    group: Group::Server,
    ..CommandSpec::DEFAULT
};

const NONDETERMINISTIC_ORDER: &[&str] = &["nondeterministic_output_order"];

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "command",
    arity: -1,
    tips: NONDETERMINISTIC_ORDER,
    since: "2.8.13",
    summary: "Returns detailed information about all commands.",
    complexity: "O(N) where N is the total number of commands",
    handler: Some(command_all),
    subcommands: SUBCOMMANDS,
    ..SUB
}];

static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "count",
        arity: 2,
        since: "2.8.13",
        summary: "Returns a count of commands.",
        handler: Some(command_count),
        ..SUB
    },
    CommandSpec {
        name: "docs",
        arity: -2,
        tips: NONDETERMINISTIC_ORDER,
        since: "7.0.0",
        summary: "Returns documentary information about one, several or all commands.",
        complexity: "O(N) where N is the number of commands to look up",
        handler: Some(command_docs),
        ..SUB
    },
    CommandSpec {
        name: "getkeys",
        arity: -4,
        since: "2.8.13",
        summary: "Extracts the key names from an arbitrary command.",
        complexity: "O(N) where N is the number of arguments to the command",
        handler: Some(command_getkeys),
        ..SUB
    },
    CommandSpec {
        name: "getkeysandflags",
        arity: -4,
        since: "7.0.0",
        summary: "Extracts the key names and access flags for an arbitrary command.",
        complexity: "O(N) where N is the number of arguments to the command",
        handler: Some(command_getkeysandflags),
        ..SUB
    },
    CommandSpec {
        name: "help",
        arity: 2,
        since: "5.0.0",
        summary: "Returns helpful text about the different subcommands.",
        handler: Some(command_help),
        ..SUB
    },
    CommandSpec {
        name: "info",
        arity: -2,
        tips: NONDETERMINISTIC_ORDER,
        since: "2.8.13",
        summary: "Returns information about one, multiple or all commands.",
        complexity: "O(N) where N is the number of commands to look up",
        history: &[("7.0.0", "Lists every command when called without names.")],
        handler: Some(command_info),
        ..SUB
    },
    CommandSpec {
        name: "list",
        arity: -2,
        tips: NONDETERMINISTIC_ORDER,
        since: "7.0.0",
        summary: "Returns a list of command names.",
        complexity: "O(N) where N is the total number of commands",
        handler: Some(command_list),
        ..SUB
    },
];

/// A table row together with its container, which gives it its full name.
#[derive(Clone, Copy)]
pub struct Named {
    pub spec: &'static CommandSpec,
    pub parent: Option<&'static CommandSpec>,
}

impl Named {
    fn top(spec: &'static CommandSpec) -> Named {
        Named { spec, parent: None }
    }

    /// `get`, or `config|get` for a subcommand.
    pub fn fullname(&self) -> String {
        match self.parent {
            Some(parent) => format!("{}|{}", parent.name, self.spec.name),
            None => self.spec.name.to_owned(),
        }
    }

    fn subcommands(&self) -> impl Iterator<Item = Named> {
        let parent = self.spec;
        parent.subcommands.iter().map(move |spec| Named {
            spec,
            parent: Some(parent),
        })
    }
}

/// Finds a command by the name COMMAND INFO/DOCS take: `get` or `config|get`
/// (Redis's lookupCommandBySds).
pub fn lookup_fullname(name: &[u8]) -> Option<Named> {
    let mut parts = name.split(|&b| b == b'|');
    let first = parts.next()?;
    let second = parts.next();
    if parts.next().is_some() {
        return None;
    }
    let top = lookup(first)?;
    match second {
        None => Some(Named::top(top)),
        Some(sub) => lookup_sub(top, sub).map(|spec| Named {
            spec,
            parent: Some(top),
        }),
    }
}

/// Finds the command an argv runs, as COMMAND GETKEYS does: a container followed by
/// an argument means its subcommand (Redis's lookupCommand).
fn lookup_argv(argv: &[Bytes]) -> Option<Named> {
    let top = lookup(argv.first()?)?;
    match argv.get(1) {
        Some(sub) if !top.subcommands.is_empty() => lookup_sub(top, sub).map(|spec| Named {
            spec,
            parent: Some(top),
        }),
        _ => Some(Named::top(top)),
    }
}

/// The flags COMMAND INFO reports: the row's flags in Redis's order without the
/// hidden ones, plus `movablekeys` when first/last/step cannot find every key.
pub fn reported_flags(cmd: &CommandSpec) -> impl Iterator<Item = Flag> + '_ {
    let movable = has_movable_keys(cmd);
    Flag::ALL.into_iter().filter(move |&flag| {
        !HIDDEN_FLAGS.contains(&flag)
            && (cmd.has_flag(flag) || (flag == Flag::MovableKeys && movable))
    })
}

/// Whether some key spec is not a plain index + range (Redis's
/// populateCommandMovableKeys).
pub fn has_movable_keys(cmd: &CommandSpec) -> bool {
    cmd.key_specs.iter().any(|spec| {
        !matches!(
            (spec.begin_search, spec.find_keys),
            (BeginSearch::Index(_), FindKeys::Range { .. })
        )
    })
}

/// A key spec's flags in Redis's spelling and order; names the table spells
/// differently ("ACCESS") are matched ignoring case, unknown ones follow as written.
pub fn key_spec_flags(spec: &KeySpec) -> Vec<&'static str> {
    let known = |f: &str| KEY_FLAG_NAMES.iter().any(|k| k.eq_ignore_ascii_case(f));
    let mut flags: Vec<&'static str> = KEY_FLAG_NAMES
        .into_iter()
        .filter(|name| spec.flags.iter().any(|f| f.eq_ignore_ascii_case(name)))
        .collect();
    flags.extend(spec.flags.iter().copied().filter(|f| !known(f)));
    flags
}

fn key_spec_has(spec: &KeySpec, flag: &str) -> bool {
    spec.flags.iter().any(|f| f.eq_ignore_ascii_case(flag))
}

/// The `notes` of a command's key spec, if Redis reports one.
pub fn key_spec_notes(fullname: &str, index: usize) -> Option<&'static str> {
    KEY_SPEC_NOTES
        .iter()
        .find(|(name, i, _)| *name == fullname && *i == index)
        .map(|(_, _, notes)| *notes)
}

// ---------------------------------------------------------------------------
// COMMAND INFO

/// One COMMAND INFO entry (Redis's addReplyCommandInfo).
fn reply_info(out: &mut ReplyBuf, cmd: Named) {
    let spec = cmd.spec;
    let fullname = cmd.fullname();
    out.array(10);
    out.bulk(fullname.as_bytes());
    out.int(i64::from(spec.arity));
    let flags: Vec<Flag> = reported_flags(spec).collect();
    out.set(flags.len());
    for flag in flags {
        out.status(flag.name());
    }
    out.int(i64::from(spec.first_key));
    out.int(i64::from(spec.last_key));
    out.int(i64::from(spec.step));
    let categories: Vec<Acl> = spec.acl_categories().collect();
    out.set(categories.len());
    for category in categories {
        out.status(&format!("@{}", category.name()));
    }
    out.set(spec.tips.len());
    for tip in spec.tips {
        out.bulk(tip.as_bytes());
    }
    out.set(spec.key_specs.len());
    for (index, key_spec) in spec.key_specs.iter().enumerate() {
        reply_key_spec(out, key_spec, key_spec_notes(&fullname, index));
    }
    if spec.subcommands.is_empty() {
        out.set(0);
    } else {
        out.array(spec.subcommands.len());
        for sub in cmd.subcommands() {
            reply_info(out, sub);
        }
    }
}

fn reply_key_spec(out: &mut ReplyBuf, spec: &KeySpec, notes: Option<&str>) {
    out.map(if notes.is_some() { 4 } else { 3 });
    if let Some(notes) = notes {
        out.bulk(b"notes");
        out.bulk(notes.as_bytes());
    }
    out.bulk(b"flags");
    reply_key_flags(out, &key_spec_flags(spec));
    out.bulk(b"begin_search");
    out.map(2);
    out.bulk(b"type");
    match spec.begin_search {
        BeginSearch::Index(index) => {
            out.bulk(b"index");
            out.bulk(b"spec");
            out.map(1);
            out.bulk(b"index");
            out.int(i64::from(index));
        }
        BeginSearch::Keyword {
            keyword,
            start_from,
        } => {
            out.bulk(b"keyword");
            out.bulk(b"spec");
            out.map(2);
            out.bulk(b"keyword");
            out.bulk(keyword.as_bytes());
            out.bulk(b"startfrom");
            out.int(i64::from(start_from));
        }
        BeginSearch::Unknown => {
            out.bulk(b"unknown");
            out.bulk(b"spec");
            out.map(0);
        }
    }
    out.bulk(b"find_keys");
    out.map(2);
    out.bulk(b"type");
    match spec.find_keys {
        FindKeys::Range {
            last_key,
            step,
            limit,
        } => {
            out.bulk(b"range");
            out.bulk(b"spec");
            reply_int_map(
                out,
                &[("lastkey", last_key), ("keystep", step), ("limit", limit)],
            );
        }
        FindKeys::Keynum {
            keynum_idx,
            first_key,
            step,
        } => {
            out.bulk(b"keynum");
            out.bulk(b"spec");
            reply_int_map(
                out,
                &[
                    ("keynumidx", keynum_idx),
                    ("firstkey", first_key),
                    ("keystep", step),
                ],
            );
        }
        FindKeys::Unknown => {
            out.bulk(b"unknown");
            out.bulk(b"spec");
            out.map(0);
        }
    }
}

fn reply_int_map(out: &mut ReplyBuf, pairs: &[(&str, i32)]) {
    out.map(pairs.len());
    for (name, value) in pairs {
        out.bulk(name.as_bytes());
        out.int(i64::from(*value));
    }
}

fn reply_key_flags(out: &mut ReplyBuf, flags: &[&str]) {
    out.set(flags.len());
    for flag in flags {
        out.status(flag);
    }
}

/// COMMAND
fn command_all(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    reply_all_info(ctx.out());
    Ok(())
}

fn reply_all_info(out: &mut ReplyBuf) {
    out.array(all_commands().count());
    for cmd in all_commands() {
        reply_info(out, Named::top(cmd));
    }
}

/// COMMAND COUNT
fn command_count(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    ctx.out().int(all_commands().count() as i64);
    Ok(())
}

/// COMMAND INFO [command-name ...]
fn command_info(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let out = ctx.out();
    if args.len() == 2 {
        reply_all_info(out);
        return Ok(());
    }
    out.array(args.len() - 2);
    for name in &args[2..] {
        match lookup_fullname(name) {
            Some(cmd) => reply_info(out, cmd),
            None => out.null(),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// COMMAND DOCS

/// One COMMAND DOCS entry (Redis's addReplyCommandDocs). Argument descriptions are
/// not in the table yet, so `arguments` is never reported.
fn reply_docs(out: &mut ReplyBuf, cmd: Named) {
    let spec = cmd.spec;
    let present = [
        !spec.summary.is_empty(),
        !spec.since.is_empty(),
        true, // group
        !spec.complexity.is_empty(),
        !spec.doc_flags.is_empty(),
        !spec.deprecated_since.is_empty(),
        !spec.replaced_by.is_empty(),
        !spec.history.is_empty(),
        !spec.subcommands.is_empty(),
    ];
    out.map(present.iter().filter(|&&p| p).count());
    bulk_field(out, "summary", spec.summary);
    bulk_field(out, "since", spec.since);
    out.bulk(b"group");
    out.bulk(spec.group.name().as_bytes());
    bulk_field(out, "complexity", spec.complexity);
    if !spec.doc_flags.is_empty() {
        out.bulk(b"doc_flags");
        let flags: Vec<DocFlag> = DocFlag::ALL
            .into_iter()
            .filter(|f| spec.doc_flags.contains(f))
            .collect();
        out.set(flags.len());
        for flag in flags {
            out.status(flag.name());
        }
    }
    bulk_field(out, "deprecated_since", spec.deprecated_since);
    bulk_field(out, "replaced_by", spec.replaced_by);
    if !spec.history.is_empty() {
        out.bulk(b"history");
        out.set(spec.history.len());
        for (version, change) in spec.history {
            out.array(2);
            out.bulk(version.as_bytes());
            out.bulk(change.as_bytes());
        }
    }
    if !spec.subcommands.is_empty() {
        out.bulk(b"subcommands");
        out.map(spec.subcommands.len());
        for sub in cmd.subcommands() {
            out.bulk(sub.fullname().as_bytes());
            reply_docs(out, sub);
        }
    }
}

/// A `name => text` pair, left out when the text is empty.
fn bulk_field(out: &mut ReplyBuf, name: &str, text: &str) {
    if !text.is_empty() {
        out.bulk(name.as_bytes());
        out.bulk(text.as_bytes());
    }
}

/// COMMAND DOCS [command-name ...]
fn command_docs(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let found: Vec<Named> = if args.len() == 2 {
        all_commands().map(Named::top).collect()
    } else {
        args[2..]
            .iter()
            .filter_map(|name| lookup_fullname(name))
            .collect()
    };
    let out = ctx.out();
    out.map(found.len());
    for cmd in found {
        out.bulk(cmd.fullname().as_bytes());
        reply_docs(out, cmd);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// COMMAND LIST

/// A COMMAND LIST filter.
enum Filter<'a> {
    All,
    /// Ember has no modules, so a module filter matches nothing.
    Module,
    /// `None`: an unknown category, which matches nothing (as in Redis).
    AclCat(Option<Acl>),
    Pattern(&'a [u8]),
}

impl Filter<'_> {
    fn matches(&self, cmd: &Named) -> bool {
        match self {
            Filter::All => true,
            Filter::Module => false,
            Filter::AclCat(category) => {
                category.is_some_and(|cat| cmd.spec.acl_categories().any(|c| c == cat))
            }
            Filter::Pattern(pattern) => glob_match(pattern, cmd.fullname().as_bytes(), true),
        }
    }
}

/// COMMAND LIST [FILTERBY MODULE module-name | ACLCAT category | PATTERN pattern]
fn command_list(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let filter = parse_list_filter(&args[2..])?;
    let mut names = Vec::new();
    for cmd in all_commands().map(Named::top) {
        for named in std::iter::once(cmd).chain(cmd.subcommands()) {
            if filter.matches(&named) {
                names.push(named.fullname());
            }
        }
    }
    let out = ctx.out();
    out.array(names.len());
    for name in names {
        out.bulk(name.as_bytes());
    }
    Ok(())
}

fn parse_list_filter(rest: &[Bytes]) -> Result<Filter<'_>, &'static str> {
    match rest {
        [] => Ok(Filter::All),
        [by, kind, arg] if args::is(by, "FILTERBY") => {
            if args::is(kind, "MODULE") {
                Ok(Filter::Module)
            } else if args::is(kind, "ACLCAT") {
                let category = Acl::ALL
                    .into_iter()
                    .find(|c| c.name().as_bytes().eq_ignore_ascii_case(arg));
                Ok(Filter::AclCat(category))
            } else if args::is(kind, "PATTERN") {
                Ok(Filter::Pattern(arg))
            } else {
                Err(SYNTAX)
            }
        }
        _ => Err(SYNTAX),
    }
}

// ---------------------------------------------------------------------------
// COMMAND GETKEYS / GETKEYSANDFLAGS

/// A key found in an argv: its position and its key-spec flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRef {
    pub pos: usize,
    pub flags: Vec<&'static str>,
}

/// Why keys could not be extracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetKeysError {
    /// No such command or subcommand.
    UnknownCommand,
    /// Every key spec is `not_key` (or there is none).
    NoKeys,
    /// The argv does not satisfy the command's arity.
    WrongArity,
    /// The key specs do not fit the argv (bad numkeys, out of range, incomplete).
    Invalid,
}

/// The keys of a full command `argv` (argv[0] is the command name), found from its
/// key specs, as COMMAND GETKEYSANDFLAGS reports them.
pub fn keys_of(argv: &[Bytes]) -> Result<Vec<KeyRef>, GetKeysError> {
    let cmd = lookup_argv(argv).ok_or(GetKeysError::UnknownCommand)?;
    let spec = cmd.spec;
    if !spec.key_specs.iter().any(|s| !key_spec_has(s, "not_key")) {
        return Err(GetKeysError::NoKeys);
    }
    let argc = argv.len() as i64;
    let arity = i64::from(spec.arity);
    if (arity > 0 && arity != argc) || argc < -arity {
        return Err(GetKeysError::WrongArity);
    }
    // Commands whose key specs cannot find every key use their own procedure.
    if let Some(keys) = super::sort::get_keys(&cmd.fullname(), argv) {
        return Ok(keys);
    }
    let mut keys = keys_from_specs(spec, argv).ok_or(GetKeysError::Invalid)?;
    apply_variable_flags(&cmd.fullname(), argv, &mut keys);
    Ok(keys)
}

/// Redis's getKeysUsingKeySpecs: `None` when a spec does not fit the argv.
pub fn keys_from_specs(cmd: &CommandSpec, argv: &[Bytes]) -> Option<Vec<KeyRef>> {
    let mut keys = Vec::new();
    for spec in cmd.key_specs {
        if key_spec_has(spec, "not_key") {
            continue;
        }
        let Some(first) = begin_search(spec, argv)? else {
            continue;
        };
        let (first, last, step) = find_keys(spec, argv, first)?;
        let argc = argv.len() as i64;
        if last >= argc || last < first || first >= argc || first < 0 || step < 1 {
            return None;
        }
        let flags = key_spec_flags(spec);
        let mut pos = first;
        while pos <= last {
            keys.push(KeyRef {
                pos: pos as usize,
                flags: flags.clone(),
            });
            pos += step;
        }
        if key_spec_has(spec, "incomplete") {
            return None;
        }
    }
    Some(keys)
}

/// Where a spec's keys start: `Some(None)` when its keyword is absent (the spec
/// finds no key), `None` when the spec cannot be used.
fn begin_search(spec: &KeySpec, argv: &[Bytes]) -> Option<Option<i64>> {
    let argc = argv.len() as i64;
    match spec.begin_search {
        BeginSearch::Index(index) => Some(Some(i64::from(index))),
        BeginSearch::Keyword {
            keyword,
            start_from,
        } => {
            let start_from = i64::from(start_from);
            let start = if start_from > 0 {
                start_from
            } else {
                argc + start_from
            };
            let end = if start_from > 0 { argc - 1 } else { 1 };
            let mut i = start;
            while i != end {
                if i >= argc || i < 1 {
                    break;
                }
                if args::is(&argv[i as usize], keyword) {
                    return Some(Some(i + 1));
                }
                i += if start <= end { 1 } else { -1 };
            }
            Some(None)
        }
        BeginSearch::Unknown => None,
    }
}

/// (first, last, step) of a spec's keys, starting at `first`.
fn find_keys(spec: &KeySpec, argv: &[Bytes], first: i64) -> Option<(i64, i64, i64)> {
    let argc = argv.len() as i64;
    match spec.find_keys {
        FindKeys::Range {
            last_key,
            step,
            limit,
        } => {
            let last_key = i64::from(last_key);
            let last = if last_key >= 0 {
                first + last_key
            } else if limit == 0 {
                argc + last_key
            } else {
                first + ((argc - first) / i64::from(limit) + last_key)
            };
            Some((first, last, i64::from(step)))
        }
        FindKeys::Keynum {
            keynum_idx,
            first_key,
            step,
        } => {
            let at = usize::try_from(first + i64::from(keynum_idx)).ok()?;
            let numkeys = args::int(argv.get(at)?).ok().filter(|&n| n >= 0)?;
            // Redis narrows the count to a C int before using it.
            let numkeys = i64::from(numkeys as i32);
            let first = first + i64::from(first_key);
            Some((first, first + numkeys - 1, i64::from(step)))
        }
        FindKeys::Unknown => None,
    }
}

/// Commands whose key-spec flags are `variable_flags` report the flags that this
/// argv implies (Redis's per-command getkeys procedures).
fn apply_variable_flags(fullname: &str, argv: &[Bytes], keys: &mut [KeyRef]) {
    if fullname == "bitfield" {
        let flags: &[&'static str] = if bitfield_reads_only(argv) {
            &["RO", "access"]
        } else {
            &["RW", "access", "update"]
        };
        for key in keys.iter_mut() {
            key.flags = flags.to_vec();
        }
    }
    if fullname == "set" {
        let with_get = argv.iter().skip(3).any(|arg| args::is(arg, "GET"));
        let flags: &[&'static str] = if with_get {
            &["RW", "access", "update"]
        } else {
            &["OW", "update"]
        };
        for key in keys.iter_mut() {
            key.flags = flags.to_vec();
        }
    }
}

/// Whether a BITFIELD argv has only GET and OVERFLOW operations (Redis's
/// bitfieldGetKeys; anything it cannot read counts as a write).
fn bitfield_reads_only(argv: &[Bytes]) -> bool {
    let mut i = 2;
    while i < argv.len() {
        let left = argv.len() - i - 1;
        if args::is(&argv[i], "GET") && left >= 2 {
            i += 3;
        } else if args::is(&argv[i], "OVERFLOW") && left >= 1 {
            i += 2;
        } else {
            return false;
        }
    }
    true
}

/// COMMAND GETKEYS command [arg ...]
fn command_getkeys(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    getkeys(ctx, args, false)
}

/// COMMAND GETKEYSANDFLAGS command [arg ...]
fn command_getkeysandflags(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    getkeys(ctx, args, true)
}

fn getkeys(ctx: &mut Ctx<'_>, args: &[Bytes], with_flags: bool) -> CmdResult {
    let argv = &args[2..];
    let keys = match keys_of(argv) {
        Ok(keys) => keys,
        Err(GetKeysError::UnknownCommand) => return Err(INVALID_COMMAND.into()),
        Err(GetKeysError::NoKeys) => return Err(NO_KEY_ARGUMENTS.into()),
        Err(GetKeysError::WrongArity) => return Err(INVALID_ARGC.into()),
        Err(GetKeysError::Invalid) => Vec::new(),
    };
    if keys.is_empty() {
        let no_mandatory =
            lookup_argv(argv).is_some_and(|c| c.spec.has_flag(Flag::NoMandatoryKeys));
        if !no_mandatory {
            return Err(INVALID_ARGUMENTS.into());
        }
    }
    let out = ctx.out();
    out.array(keys.len());
    for key in keys {
        if with_flags {
            out.array(2);
            out.bulk(&argv[key.pos]);
            reply_key_flags(out, &key.flags);
        } else {
            out.bulk(&argv[key.pos]);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// COMMAND HELP

/// COMMAND HELP
fn command_help(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CmdResult {
    write_help(ctx, HELP);
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Expected bytes below were captured from redis-server 7.0.15.

    use super::*;
    use crate::resp::encode::Protocol;
    use crate::{Config, Input, Node, Output};

    const NOW: u64 = 1_700_000_000_000;

    /// Sends `argv` as one request on a fresh connection and returns the reply bytes.
    fn reply(argv: &[&str]) -> Vec<u8> {
        let mut node = Node::new(Config::default(), [7; 32], NOW);
        node.handle(
            NOW,
            Input::Accepted {
                conn: 1,
                peer: "127.0.0.1:5000".into(),
                local: "127.0.0.1:6379".into(),
            },
        );
        let mut request = format!("*{}\r\n", argv.len()).into_bytes();
        for arg in argv {
            request.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
        }
        node.handle(
            NOW,
            Input::Received {
                conn: 1,
                bytes: Bytes::from(request),
            },
        );
        let mut sent = Vec::new();
        while let Some(output) = node.poll_output() {
            if let Output::Send { bytes, .. } = output {
                sent.extend_from_slice(&bytes);
            }
        }
        sent
    }

    fn info_bytes(name: &str, proto: Protocol) -> Vec<u8> {
        let mut out = ReplyBuf::new();
        out.proto = proto;
        reply_info(&mut out, lookup_fullname(name.as_bytes()).expect(name));
        out.take().to_vec()
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    fn bytes(args: &[&str]) -> Vec<Bytes> {
        args.iter()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect()
    }

    #[test]
    fn command_info_of_a_subcommand_matches_redis_in_both_protocols() {
        assert_eq!(
            info_bytes("command|count", Protocol::Resp2),
            b"*10\r\n$13\r\ncommand|count\r\n:2\r\n*2\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n\
              *2\r\n+@slow\r\n+@connection\r\n*0\r\n*0\r\n*0\r\n"
                .to_vec()
        );
        assert_eq!(
            info_bytes("COMMAND|COUNT", Protocol::Resp3),
            b"*10\r\n$13\r\ncommand|count\r\n:2\r\n~2\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n\
              ~2\r\n+@slow\r\n+@connection\r\n~0\r\n~0\r\n~0\r\n"
                .to_vec()
        );
    }

    #[test]
    fn command_info_of_a_container_nests_its_subcommands() {
        let resp3 = info_bytes("command", Protocol::Resp3);
        let head = b"*10\r\n$7\r\ncommand\r\n:-1\r\n~2\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n\
              ~2\r\n+@slow\r\n+@connection\r\n~1\r\n$29\r\nnondeterministic_output_order\r\n~0\r\n*7\r\n";
        assert!(resp3.starts_with(head));
    }

    #[test]
    fn command_info_answers_nil_for_unknown_or_malformed_names() {
        assert_eq!(
            reply(&[
                "COMMAND",
                "INFO",
                "nosuch",
                "ping|x",
                "command|count|x",
                "|",
                ""
            ]),
            b"*5\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n".to_vec()
        );
    }

    #[test]
    fn command_info_of_a_key_spec_reports_every_part() {
        static SPEC: CommandSpec = CommandSpec {
            name: "xread",
            arity: -4,
            flags: &[Flag::Readonly, Flag::Blocking],
            acl: &[Acl::Stream],
            key_specs: &[KeySpec::keyword(&["RO", "ACCESS"], "STREAMS", 1, -1, 2)],
            ..CommandSpec::DEFAULT
        };
        let mut out = ReplyBuf::new();
        reply_info(&mut out, Named::top(&SPEC));
        let expected: &[u8] = b"*10\r\n$5\r\nxread\r\n:-4\r\n*3\r\n+readonly\r\n+blocking\r\n+movablekeys\r\n\
            :0\r\n:0\r\n:0\r\n*4\r\n+@read\r\n+@stream\r\n+@slow\r\n+@blocking\r\n*0\r\n*1\r\n*6\r\n\
            $5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n\
            $7\r\nkeyword\r\n$4\r\nspec\r\n*4\r\n$7\r\nkeyword\r\n$7\r\nSTREAMS\r\n$9\r\nstartfrom\r\n:1\r\n\
            $9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:-1\r\n\
            $7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:2\r\n*0\r\n";
        assert_eq!(
            String::from_utf8_lossy(&out.take()),
            String::from_utf8_lossy(expected)
        );
    }

    #[test]
    fn hidden_flags_are_not_reported() {
        static SPEC: CommandSpec = CommandSpec {
            name: "publish",
            flags: &[
                Flag::Pubsub,
                Flag::Loading,
                Flag::Stale,
                Flag::Fast,
                Flag::MayReplicate,
            ],
            ..CommandSpec::DEFAULT
        };
        let names: Vec<&str> = reported_flags(&SPEC).map(Flag::name).collect();
        assert_eq!(names, ["pubsub", "loading", "stale", "fast"]);
    }

    #[test]
    fn command_alone_lists_every_command_and_count_agrees() {
        let count = all_commands().count();
        let all = reply(&["COMMAND"]);
        assert!(all.starts_with(format!("*{count}\r\n*10\r\n").as_bytes()));
        assert_eq!(
            reply(&["command", "count"]),
            format!(":{count}\r\n").into_bytes()
        );
        assert_eq!(reply(&["COMMAND", "INFO"]), all);
    }

    #[test]
    fn command_with_an_unknown_subcommand_or_bad_arity_fails_as_redis() {
        assert_eq!(
            reply(&["COMMAND", "nosuch"]),
            b"-ERR unknown subcommand 'nosuch'. Try COMMAND HELP.\r\n".to_vec()
        );
        assert_eq!(
            reply(&["COMMAND", "COUNT", "x"]),
            b"-ERR wrong number of arguments for 'command|count' command\r\n".to_vec()
        );
        assert_eq!(
            reply(&["COMMAND", "GETKEYS", "get"]),
            b"-ERR wrong number of arguments for 'command|getkeys' command\r\n".to_vec()
        );
    }

    #[test]
    fn command_help_lists_the_subcommands() {
        let help = reply(&["COMMAND", "HELP"]);
        assert!(help.starts_with(
            b"*21\r\n+COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"
        ));
        assert!(help.ends_with(b"+HELP\r\n+    Prints this help.\r\n"));
    }

    #[test]
    fn command_list_filters_by_pattern_aclcat_and_module() {
        assert_eq!(
            reply(&["COMMAND", "LIST", "filterby", "pattern", "COMMAND|C*"]),
            b"*1\r\n$13\r\ncommand|count\r\n".to_vec()
        );
        let connection = reply(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "Connection"]);
        assert!(contains(&connection, b"$7\r\ncommand\r\n"));
        for empty in [
            ["COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"],
            ["COMMAND", "LIST", "FILTERBY", "ACLCAT", "@read"],
            ["COMMAND", "LIST", "FILTERBY", "MODULE", "m"],
        ] {
            assert_eq!(reply(&empty), b"*0\r\n".to_vec());
        }
        for bad in [
            &["COMMAND", "LIST", "FILTERBY", "PATTERN"][..],
            &["COMMAND", "LIST", "FILTERBY", "foo", "bar"],
            &["COMMAND", "LIST", "x"],
            &["COMMAND", "LIST", "FILTERBY", "PATTERN", "a", "b"],
        ] {
            assert_eq!(reply(bad), b"-ERR syntax error\r\n".to_vec());
        }
    }

    #[test]
    fn command_list_puts_a_container_before_its_subcommands() {
        let list = reply(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "comm*"]);
        assert!(list.starts_with(b"*8\r\n$7\r\ncommand\r\n$13\r\ncommand|count\r\n"));
    }

    #[test]
    fn command_docs_skips_unknown_names_and_keys_by_full_name() {
        assert_eq!(reply(&["COMMAND", "DOCS", "nosuch"]), b"*0\r\n".to_vec());
        let docs = reply(&["COMMAND", "DOCS", "COMMAND|COUNT"]);
        assert!(docs.starts_with(b"*2\r\n$13\r\ncommand|count\r\n*8\r\n$7\r\nsummary\r\n"));
        assert!(docs.ends_with(b"$5\r\nsince\r\n$6\r\n2.8.13\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n"));
    }

    #[test]
    fn command_docs_of_a_container_maps_its_subcommands() {
        let docs = reply(&["COMMAND", "DOCS", "command"]);
        assert!(contains(&docs, b"$11\r\nsubcommands\r\n*14\r\n"));
        assert!(contains(
            &docs,
            b"$7\r\nhistory\r\n*1\r\n*2\r\n$5\r\n7.0.0\r\n"
        ));
    }

    #[test]
    fn getkeys_errors_match_redis() {
        assert_eq!(
            reply(&["COMMAND", "GETKEYS", "nosuch", "a"]),
            b"-ERR Invalid command specified\r\n".to_vec()
        );
        assert_eq!(
            reply(&["COMMAND", "GETKEYS", "command", "nosuch"]),
            b"-ERR Invalid command specified\r\n".to_vec()
        );
        assert_eq!(
            reply(&["COMMAND", "GETKEYSANDFLAGS", "ping", "x"]),
            b"-ERR The command has no key arguments\r\n".to_vec()
        );
        assert_eq!(
            reply(&["COMMAND", "GETKEYS", "command", "info"]),
            b"-ERR The command has no key arguments\r\n".to_vec()
        );
    }

    /// Key specs of real Redis commands, with the keys Redis 7.0 reports for them.
    static ZUNIONSTORE: CommandSpec = CommandSpec {
        name: "zunionstore",
        arity: -4,
        key_specs: &[
            KeySpec::first(&["OW", "update"]),
            KeySpec::keynum(&["RO", "access"], 2),
        ],
        ..CommandSpec::DEFAULT
    };

    static XREAD: CommandSpec = CommandSpec {
        name: "xread",
        arity: -4,
        key_specs: &[KeySpec::keyword(&["RO", "access"], "STREAMS", 1, -1, 2)],
        ..CommandSpec::DEFAULT
    };

    static MSET: CommandSpec = CommandSpec {
        name: "mset",
        arity: -3,
        key_specs: &[KeySpec::range_step(&["OW", "update"], 1, -1, 2)],
        ..CommandSpec::DEFAULT
    };

    static MIGRATE_KEYS: CommandSpec = CommandSpec {
        name: "migrate",
        arity: -6,
        key_specs: &[KeySpec::keyword(
            &["RW", "access", "delete", "incomplete"],
            "KEYS",
            -2,
            -1,
            0,
        )],
        ..CommandSpec::DEFAULT
    };

    fn positions(cmd: &CommandSpec, argv: &[&str]) -> Option<Vec<usize>> {
        keys_from_specs(cmd, &bytes(argv)).map(|keys| keys.iter().map(|k| k.pos).collect())
    }

    #[test]
    fn keynum_specs_read_the_key_count_from_the_argv() {
        assert_eq!(
            positions(&ZUNIONSTORE, &["zunionstore", "d", "2", "a", "b"]),
            Some(vec![1, 3, 4])
        );
        assert_eq!(
            positions(&ZUNIONSTORE, &["zunionstore", "d", "3", "a", "b"]),
            None
        );
        assert_eq!(
            positions(&ZUNIONSTORE, &["zunionstore", "d", "0", "a", "b"]),
            None
        );
        assert_eq!(
            positions(&ZUNIONSTORE, &["zunionstore", "d", "x", "a", "b"]),
            None
        );
        assert_eq!(
            positions(
                &ZUNIONSTORE,
                &["zunionstore", "d", "9223372036854775807", "a"]
            ),
            None
        );
    }

    #[test]
    fn keyword_specs_with_a_limit_take_their_share_of_the_rest() {
        let xread = |argv: &[&str]| positions(&XREAD, argv);
        assert_eq!(
            xread(&["xread", "streams", "a", "b", "0", "0"]),
            Some(vec![2, 3])
        );
        assert_eq!(
            xread(&["xread", "count", "1", "streams", "a", "0"]),
            Some(vec![4])
        );
        assert_eq!(xread(&["xread", "streams", "a", "b", "0"]), Some(vec![2]));
        assert_eq!(
            xread(&["xread", "COUNT", "1", "STREAMS", "a", "b", "c", "1", "2", "3"]),
            Some(vec![4, 5, 6])
        );
        // No STREAMS keyword: the spec finds nothing.
        assert_eq!(xread(&["xread", "count", "1", "x"]), Some(vec![]));
    }

    #[test]
    fn range_specs_step_over_values() {
        assert_eq!(
            positions(&MSET, &["mset", "a", "1", "c", "2"]),
            Some(vec![1, 3])
        );
        assert_eq!(positions(&MSET, &["mset", "a", "1", "c"]), Some(vec![1, 3]));
    }

    #[test]
    fn incomplete_specs_and_backward_keyword_searches() {
        // A backward search finds KEYS; the spec is incomplete, so the result is not
        // trusted (Redis then asks MIGRATE's own key finder).
        let argv = ["migrate", "h", "p", "", "0", "5", "KEYS", "a", "b"];
        assert_eq!(positions(&MIGRATE_KEYS, &argv), None);
        let flags = key_spec_flags(&MIGRATE_KEYS.key_specs[0]);
        assert_eq!(flags, ["RW", "access", "delete", "incomplete"]);
    }

    #[test]
    fn key_spec_flags_use_redis_spelling_and_order() {
        let spec = KeySpec {
            flags: &["UPDATE", "ACCESS", "rw", "VARIABLE_FLAGS"],
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Unknown,
        };
        assert_eq!(
            key_spec_flags(&spec),
            ["RW", "access", "update", "variable_flags"]
        );
    }

    #[test]
    fn set_reports_its_key_flags_from_the_get_option() {
        let mut keys = vec![KeyRef {
            pos: 1,
            flags: vec!["RW", "access", "update", "variable_flags"],
        }];
        apply_variable_flags(
            "set",
            &bytes(&["set", "k", "v", "ex", "10", "Get"]),
            &mut keys,
        );
        assert_eq!(keys[0].flags, ["RW", "access", "update"]);
        apply_variable_flags("set", &bytes(&["set", "k", "get"]), &mut keys);
        assert_eq!(keys[0].flags, ["OW", "update"]);
    }
}

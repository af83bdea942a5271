//! Geospatial commands (Redis's geo.c): GEOADD, GEODIST, GEOHASH, GEOPOS and the
//! searches (GEORADIUS, GEORADIUSBYMEMBER and their _RO forms, GEOSEARCH,
//! GEOSEARCHSTORE). A geo index is a sorted set whose scores are 52-bit geohashes;
//! the arithmetic lives in [`crate::util::geohash`].
//!
//! As in Redis, GEOADD rewrites itself into a ZADD of computed scores, and one
//! generic function, [`georadius_generic`], serves every search command.

use bytes::Bytes;

use super::args;
use super::zset::{read_zset, store_result, zadd};
use super::{Acl, BeginSearch, CommandSpec, DocFlag, FindKeys, Flag, Group, KeySpec};
use crate::error::{CmdError, CmdResult, NOT_INTEGER, SYNTAX};
use crate::node::Ctx;
use crate::resp::ReplyBuf;
use crate::types::zset::{ScoreRange, ZSet};
use crate::util::geohash::{self, Search, Shape};
use crate::util::num::parse_i64;
use crate::util::smallbytes::SmallBytes;

const UNKNOWN_UNIT: &str = "ERR unsupported unit provided. please use M, KM, FT, MI";
const NEED_RADIUS: &str = "ERR need numeric radius";
const NEED_WIDTH: &str = "ERR need numeric width";
const NEED_HEIGHT: &str = "ERR need numeric height";
const NEGATIVE_RADIUS: &str = "ERR radius cannot be negative";
const NEGATIVE_BOX: &str = "ERR height or width cannot be negative";
const NO_MEMBER: &str = "ERR could not decode requested zset member";
const COUNT_POSITIVE: &str = "ERR COUNT must be > 0";
const ANY_NEEDS_COUNT: &str = "ERR the ANY argument requires COUNT argument";
const STORE_WITH_OPTIONS: &str =
    "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options";
const SEARCHSTORE_WITH_OPTIONS: &str =
    "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options";

// ---------------------------------------------------------------------------------
// Command table

const fn index_key(flags: &'static [&'static str], index: i32) -> KeySpec {
    KeySpec {
        flags,
        begin_search: BeginSearch::Index(index),
        find_keys: FindKeys::Range {
            last_key: 0,
            step: 1,
            limit: 0,
        },
    }
}

const fn keyword_key(keyword: &'static str, start_from: i32) -> KeySpec {
    KeySpec {
        flags: &["OW", "UPDATE"],
        begin_search: BeginSearch::Keyword {
            keyword,
            start_from,
        },
        find_keys: FindKeys::Range {
            last_key: 0,
            step: 1,
            limit: 0,
        },
    }
}

const ROW: CommandSpec = CommandSpec {
    first_key: 1,
    last_key: 1,
    step: 1,
    acl: &[Acl::Geo],
    group: Group::Geo,
    since: "3.2.0",
    ..CommandSpec::DEFAULT
};

const RO_ACCESS: &[KeySpec] = &[index_key(&["RO", "ACCESS"], 1)];
const SEARCH_COMPLEXITY: &str = "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.";
const BOX_COMPLEXITY: &str = "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape";
const UPPERCASE_UNITS: (&str, &str) = ("7.0.0", "Added support for uppercase unit names.");
const ANY_OPTION: (&str, &str) = ("6.2.0", "Added the `ANY` option for `COUNT`.");

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "geoadd",
        arity: -5,
        flags: &[Flag::Write, Flag::Denyoom],
        key_specs: &[index_key(&["RW", "UPDATE"], 1)],
        summary: "Adds members with longitude and latitude to a geospatial index.",
        complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
        history: &[("6.2.0", "Added the `CH`, `NX` and `XX` options.")],
        handler: Some(geoadd),
        ..ROW
    },
    CommandSpec {
        name: "geodist",
        arity: -4,
        flags: &[Flag::Readonly],
        key_specs: RO_ACCESS,
        summary: "Returns the distance between two members of a geospatial index.",
        complexity: "O(log(N))",
        handler: Some(geodist),
        ..ROW
    },
    CommandSpec {
        name: "geohash",
        arity: -2,
        flags: &[Flag::Readonly],
        key_specs: RO_ACCESS,
        summary: "Returns standard geohash strings for members of a geospatial index.",
        complexity: "O(log(N)) for each member requested, where N is the number of elements in the sorted set.",
        handler: Some(geohash_cmd),
        ..ROW
    },
    CommandSpec {
        name: "geopos",
        arity: -2,
        flags: &[Flag::Readonly],
        key_specs: RO_ACCESS,
        summary: "Returns the longitude and latitude of members of a geospatial index.",
        complexity: "O(N) where N is the number of members requested.",
        handler: Some(geopos),
        ..ROW
    },
    CommandSpec {
        name: "georadius",
        arity: -6,
        flags: &[Flag::Write, Flag::Denyoom, Flag::MovableKeys],
        key_specs: &[
            index_key(&["RO", "ACCESS"], 1),
            keyword_key("STORE", 6),
            keyword_key("STOREDIST", 6),
        ],
        summary: "Returns members of a geospatial index within a distance of a point, optionally storing them.",
        complexity: SEARCH_COMPLEXITY,
        doc_flags: &[DocFlag::Deprecated],
        deprecated_since: "6.2.0",
        replaced_by: "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument",
        history: &[ANY_OPTION, UPPERCASE_UNITS],
        handler: Some(georadius),
        ..ROW
    },
    CommandSpec {
        name: "georadius_ro",
        arity: -6,
        flags: &[Flag::Readonly],
        key_specs: RO_ACCESS,
        since: "3.2.10",
        summary: "Returns members of a geospatial index within a distance of a point (read-only GEORADIUS).",
        complexity: SEARCH_COMPLEXITY,
        doc_flags: &[DocFlag::Deprecated],
        deprecated_since: "6.2.0",
        replaced_by: "`GEOSEARCH` with the `BYRADIUS` argument",
        history: &[ANY_OPTION],
        handler: Some(georadius_ro),
        ..ROW
    },
    CommandSpec {
        name: "georadiusbymember",
        arity: -5,
        flags: &[Flag::Write, Flag::Denyoom, Flag::MovableKeys],
        key_specs: &[
            index_key(&["RO", "ACCESS"], 1),
            keyword_key("STORE", 5),
            keyword_key("STOREDIST", 5),
        ],
        summary: "Returns members of a geospatial index within a distance of a member, optionally storing them.",
        complexity: SEARCH_COMPLEXITY,
        doc_flags: &[DocFlag::Deprecated],
        deprecated_since: "6.2.0",
        replaced_by: "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and `FROMMEMBER` arguments",
        history: &[UPPERCASE_UNITS],
        handler: Some(georadiusbymember),
        ..ROW
    },
    CommandSpec {
        name: "georadiusbymember_ro",
        arity: -5,
        flags: &[Flag::Readonly],
        key_specs: RO_ACCESS,
        since: "3.2.10",
        summary: "Returns members of a geospatial index within a distance of a member (read-only GEORADIUSBYMEMBER).",
        complexity: SEARCH_COMPLEXITY,
        doc_flags: &[DocFlag::Deprecated],
        deprecated_since: "6.2.0",
        replaced_by: "`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments",
        handler: Some(georadiusbymember_ro),
        ..ROW
    },
    CommandSpec {
        name: "geosearch",
        arity: -7,
        flags: &[Flag::Readonly],
        key_specs: RO_ACCESS,
        since: "6.2.0",
        summary: "Returns members of a geospatial index inside a circle or a box.",
        complexity: BOX_COMPLEXITY,
        history: &[UPPERCASE_UNITS],
        handler: Some(geosearch),
        ..ROW
    },
    CommandSpec {
        name: "geosearchstore",
        arity: -8,
        flags: &[Flag::Write, Flag::Denyoom],
        last_key: 2,
        key_specs: &[
            index_key(&["OW", "UPDATE"], 1),
            index_key(&["RO", "ACCESS"], 2),
        ],
        since: "6.2.0",
        summary: "Stores the members of a geospatial index inside a circle or a box in another key.",
        complexity: BOX_COMPLEXITY,
        history: &[UPPERCASE_UNITS],
        handler: Some(geosearchstore),
        ..ROW
    },
];

// ---------------------------------------------------------------------------------
// Argument helpers and reply formats

/// A longitude and latitude pair, checked against the indexable ranges.
fn lon_lat(lon: &[u8], lat: &[u8]) -> Result<(f64, f64), CmdError> {
    let lon = args::float(lon)?;
    let lat = args::float(lat)?;
    if !geohash::valid_lon_lat(lon, lat) {
        return Err(CmdError::Owned(format!(
            "ERR invalid longitude,latitude pair {lon:.6},{lat:.6}"
        )));
    }
    Ok((lon, lat))
}

/// A unit's size in metres.
fn unit(arg: &[u8]) -> Result<f64, CmdError> {
    match arg.to_ascii_lowercase().as_slice() {
        b"m" => Ok(1.0),
        b"km" => Ok(1000.0),
        b"ft" => Ok(0.3048),
        b"mi" => Ok(1609.34),
        _ => Err(CmdError::Static(UNKNOWN_UNIT)),
    }
}

/// A double argument with a command-specific error.
fn float_or(arg: &[u8], err: &'static str) -> Result<f64, CmdError> {
    args::float(arg).map_err(|_| CmdError::Static(err))
}

/// `radius unit`: the radius and the unit's size in metres.
fn radius_and_unit(radius: &[u8], unit_arg: &[u8]) -> Result<(f64, f64), CmdError> {
    let radius = float_or(radius, NEED_RADIUS)?;
    if radius < 0.0 {
        return Err(CmdError::Static(NEGATIVE_RADIUS));
    }
    Ok((radius, unit(unit_arg)?))
}

/// A distance as Redis 7.0 prints it (fixedpoint_d2string with 4 digits): the
/// value times 10^4 rounded to an integer with llrint (ties to even, so a product
/// that lands on .5 can round differently from "%.4f"), then split at the point.
fn format_distance(d: f64) -> String {
    if d == 0.0 {
        return "0.0000".to_string();
    }
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    let scaled = (d * 10000.0).round_ties_even();
    // llrint gives LLONG_MIN for NaN and anything out of range.
    let svalue = if (-TWO_63..TWO_63).contains(&scaled) {
        scaled as i64
    } else {
        i64::MIN
    };
    let sign = if svalue < 0 { "-" } else { "" };
    let value = svalue.unsigned_abs();
    format!("{sign}{}.{:04}", value / 10000, value % 10000)
}

/// A coordinate as Redis prints it: "%.17Lf" of the double, trailing zeros and a
/// bare point dropped, "-0" printed as "0".
fn format_coordinate(v: f64) -> String {
    let mut text = format!("{v:.17}");
    if text.contains('.') {
        let kept = text.trim_end_matches('0').trim_end_matches('.').len();
        text.truncate(kept);
    }
    if text == "-0" {
        text = "0".to_string();
    }
    text
}

fn reply_coordinate(out: &mut ReplyBuf, v: f64) {
    out.double_str(&format_coordinate(v));
}

/// C's conversion of a double to `long long` on x86-64 (WITHHASH of odd scores).
fn score_as_i64(score: f64) -> i64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if !(-TWO_63..TWO_63).contains(&score) {
        i64::MIN
    } else {
        score as i64
    }
}

// ---------------------------------------------------------------------------------
// GEOADD, GEODIST, GEOHASH, GEOPOS

/// GEOADD key [NX|XX] [CH] longitude latitude member [longitude latitude member ...]
fn geoadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (mut nx, mut xx) = (false, false);
    let mut first = 2;
    while let Some(arg) = args.get(first) {
        if args::is(arg, "NX") {
            nx = true;
        } else if args::is(arg, "XX") {
            xx = true;
        } else if !args::is(arg, "CH") {
            break;
        }
        first += 1;
    }
    let triples = &args[first..];
    if !triples.len().is_multiple_of(3) || (nx && xx) {
        return Err(CmdError::Static(SYNTAX));
    }
    let mut zadd_args: Vec<Bytes> = Vec::with_capacity(first + triples.len() / 3 * 2);
    zadd_args.push(Bytes::from_static(b"zadd"));
    zadd_args.extend_from_slice(&args[1..first]);
    for triple in triples.chunks(3) {
        let (lon, lat) = lon_lat(&triple[0], &triple[1])?;
        let score = geohash::score_of(lon, lat).unwrap_or(0);
        zadd_args.push(Bytes::from(score.to_string()));
        zadd_args.push(triple[2].clone());
    }
    // Redis replaces the client's argv with the ZADD, so that is what propagates.
    ctx.rewrite_argv(zadd_args.clone());
    zadd(ctx, &zadd_args)
}

/// GEODIST key member1 member2 [M|KM|FT|MI]
fn geodist(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let to_metres = match args.len() {
        5 => unit(&args[4])?,
        n if n > 5 => return Err(CmdError::Static(SYNTAX)),
        _ => 1.0,
    };
    let (zset, out) = read_zset(ctx, &args[1])?;
    let scores = zset.and_then(|z| Some((z.score(&args[2])?, z.score(&args[3])?)));
    match scores {
        Some((a, b)) => {
            let (lon1, lat1) = geohash::decode_score(a);
            let (lon2, lat2) = geohash::decode_score(b);
            let d = geohash::distance(lon1, lat1, lon2, lat2) / to_metres;
            out.bulk(format_distance(d).as_bytes());
        }
        None => out.null(),
    }
    Ok(())
}

/// GEOHASH key [member ...]
fn geohash_cmd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (zset, out) = read_zset(ctx, &args[1])?;
    out.array(args.len() - 2);
    for member in &args[2..] {
        match zset.and_then(|z| z.score(member)) {
            Some(score) => out.bulk(&geohash::standard_geohash(score)),
            None => out.null(),
        }
    }
    Ok(())
}

/// GEOPOS key [member ...]
fn geopos(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    let (zset, out) = read_zset(ctx, &args[1])?;
    out.array(args.len() - 2);
    for member in &args[2..] {
        match zset.and_then(|z| z.score(member)) {
            Some(score) => {
                let (lon, lat) = geohash::decode_score(score);
                out.array(2);
                reply_coordinate(out, lon);
                reply_coordinate(out, lat);
            }
            None => out.null_array(),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// The searches

/// Which search command is running (Redis's RADIUS_* / GEOSEARCH* flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// GEORADIUS[_RO]: a point and a radius up front.
    Coords { store_ok: bool },
    /// GEORADIUSBYMEMBER[_RO]: a member and a radius up front.
    Member { store_ok: bool },
    /// GEOSEARCH / GEOSEARCHSTORE: everything given by options.
    Search { store: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// A parsed search request.
struct Request {
    centre: Option<(f64, f64)>,
    shape: Option<(Shape, f64)>,
    store: Option<Bytes>,
    storedist: bool,
    withdist: bool,
    withhash: bool,
    withcoord: bool,
    sort: Sort,
    any: bool,
    count: i64,
    from_member: bool,
    from_lonlat: bool,
    by_radius: bool,
    by_box: bool,
}

/// One point found.
#[derive(Debug, Clone)]
struct Point {
    lon: f64,
    lat: f64,
    dist: f64,
    score: f64,
    member: Vec<u8>,
}

/// GEORADIUS key longitude latitude radius M|KM|FT|MI [WITHCOORD] [WITHDIST]
/// [WITHHASH] [COUNT count [ANY]] [ASC|DESC] [STORE key|STOREDIST key]
fn georadius(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    georadius_generic(ctx, args, 1, Kind::Coords { store_ok: true })
}

/// GEORADIUS_RO key longitude latitude radius M|KM|FT|MI [WITHCOORD] [WITHDIST]
/// [WITHHASH] [COUNT count [ANY]] [ASC|DESC]
fn georadius_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    georadius_generic(ctx, args, 1, Kind::Coords { store_ok: false })
}

/// GEORADIUSBYMEMBER key member radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH]
/// [COUNT count [ANY]] [ASC|DESC] [STORE key|STOREDIST key]
fn georadiusbymember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    georadius_generic(ctx, args, 1, Kind::Member { store_ok: true })
}

/// GEORADIUSBYMEMBER_RO key member radius M|KM|FT|MI [WITHCOORD] [WITHDIST]
/// [WITHHASH] [COUNT count [ANY]] [ASC|DESC]
fn georadiusbymember_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    georadius_generic(ctx, args, 1, Kind::Member { store_ok: false })
}

/// GEOSEARCH key FROMMEMBER member|FROMLONLAT longitude latitude
/// BYRADIUS radius M|KM|FT|MI|BYBOX width height M|KM|FT|MI [ASC|DESC]
/// [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]
fn geosearch(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    georadius_generic(ctx, args, 1, Kind::Search { store: false })
}

/// GEOSEARCHSTORE destination source FROMMEMBER member|FROMLONLAT longitude latitude
/// BYRADIUS radius M|KM|FT|MI|BYBOX width height M|KM|FT|MI [ASC|DESC]
/// [COUNT count [ANY]] [STOREDIST]
fn geosearchstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CmdResult {
    georadius_generic(ctx, args, 2, Kind::Search { store: true })
}

/// Redis's georadiusGeneric: parse (with the source set at hand, since a member
/// centre is looked up while parsing), search, then reply or store.
fn georadius_generic(ctx: &mut Ctx<'_>, args: &[Bytes], src: usize, kind: Kind) -> CmdResult {
    let (zset, _) = read_zset(ctx, &args[src])?;
    let req = parse_request(args, kind, zset)?;
    let found = match (zset, req.centre, req.shape) {
        (Some(z), Some((lon, lat)), Some((shape, conversion))) => {
            let search = Search {
                lon,
                lat,
                shape,
                conversion,
            };
            let limit = if req.any { req.count as usize } else { 0 };
            Some((collect_points(z, &search, limit), conversion))
        }
        _ => None,
    };
    let Some((mut points, conversion)) = found else {
        // No source set: an empty reply, or the destination deleted.
        return match req.store {
            Some(dst) => store_result(ctx, &dst, Vec::new()),
            None => {
                ctx.out().array(0);
                Ok(())
            }
        };
    };
    let returned = if req.count == 0 || (points.len() as i64) < req.count {
        points.len()
    } else {
        req.count as usize
    };
    // COUNT means the nearest ones: ascending unless told otherwise (but ANY
    // takes whatever it found first).
    let sort = if req.count != 0 && req.sort == Sort::None && !req.any {
        Sort::Asc
    } else {
        req.sort
    };
    sort_points(&mut points, sort, returned);
    points.truncate(returned);
    for p in &mut points {
        p.dist /= conversion;
    }
    match req.store {
        Some(dst) => store_points(ctx, &dst, points, req.storedist),
        None => {
            reply_points(ctx.out(), &points, &req);
            Ok(())
        }
    }
}

/// Options in Redis's order of checks; the errors come out as Redis's do.
fn parse_request(args: &[Bytes], kind: Kind, zset: Option<&ZSet>) -> Result<Request, CmdError> {
    let mut req = Request {
        centre: None,
        shape: None,
        store: None,
        storedist: false,
        withdist: false,
        withhash: false,
        withcoord: false,
        sort: Sort::None,
        any: false,
        count: 0,
        from_member: false,
        from_lonlat: false,
        by_radius: false,
        by_box: false,
    };
    let base = match kind {
        Kind::Coords { .. } => {
            req.centre = Some(lon_lat(&args[2], &args[3])?);
            let (radius, conversion) = radius_and_unit(&args[4], &args[5])?;
            req.shape = Some((Shape::Radius(radius), conversion));
            6
        }
        Kind::Member { .. } => {
            if let Some(z) = zset {
                let score = z.score(&args[2]).ok_or(CmdError::Static(NO_MEMBER))?;
                req.centre = Some(geohash::decode_score(score));
                let (radius, conversion) = radius_and_unit(&args[3], &args[4])?;
                req.shape = Some((Shape::Radius(radius), conversion));
            }
            5
        }
        Kind::Search { store: true } => {
            req.store = Some(args[1].clone());
            3
        }
        Kind::Search { store: false } => 2,
    };
    parse_options(args, base, kind, zset, &mut req)?;
    check_request(args, kind, &req)?;
    Ok(req)
}

/// The option loop after the fixed arguments.
fn parse_options(
    args: &[Bytes],
    base: usize,
    kind: Kind,
    zset: Option<&ZSet>,
    req: &mut Request,
) -> Result<(), CmdError> {
    let radius_kind_stores = matches!(
        kind,
        Kind::Coords { store_ok: true } | Kind::Member { store_ok: true }
    );
    let search = matches!(kind, Kind::Search { .. });
    let opts = &args[base..];
    let mut i = 0;
    while i < opts.len() {
        let arg = &opts[i];
        let left = opts.len() - i - 1;
        if args::is(arg, "WITHDIST") {
            req.withdist = true;
        } else if args::is(arg, "WITHHASH") {
            req.withhash = true;
        } else if args::is(arg, "WITHCOORD") {
            req.withcoord = true;
        } else if args::is(arg, "ANY") {
            req.any = true;
        } else if args::is(arg, "ASC") {
            req.sort = Sort::Asc;
        } else if args::is(arg, "DESC") {
            req.sort = Sort::Desc;
        } else if args::is(arg, "COUNT") && left >= 1 {
            let count = parse_i64(&opts[i + 1]).ok_or(CmdError::Static(NOT_INTEGER))?;
            if count <= 0 {
                return Err(CmdError::Static(COUNT_POSITIVE));
            }
            req.count = count;
            i += 1;
        } else if (args::is(arg, "STORE") || args::is(arg, "STOREDIST"))
            && left >= 1
            && radius_kind_stores
        {
            req.store = Some(opts[i + 1].clone());
            req.storedist = args::is(arg, "STOREDIST");
            i += 1;
        } else if args::is(arg, "STOREDIST") && kind == (Kind::Search { store: true }) {
            req.storedist = true;
        } else if args::is(arg, "FROMMEMBER") && left >= 1 && search && !req.from_lonlat {
            if let Some(z) = zset {
                let score = z.score(&opts[i + 1]).ok_or(CmdError::Static(NO_MEMBER))?;
                req.centre = Some(geohash::decode_score(score));
            }
            req.from_member = true;
            i += 1;
        } else if args::is(arg, "FROMLONLAT") && left >= 2 && search && !req.from_member {
            req.centre = Some(lon_lat(&opts[i + 1], &opts[i + 2])?);
            req.from_lonlat = true;
            i += 2;
        } else if args::is(arg, "BYRADIUS") && left >= 2 && search && !req.by_box {
            let (radius, conversion) = radius_and_unit(&opts[i + 1], &opts[i + 2])?;
            req.shape = Some((Shape::Radius(radius), conversion));
            req.by_radius = true;
            i += 2;
        } else if args::is(arg, "BYBOX") && left >= 3 && search && !req.by_radius {
            let width = float_or(&opts[i + 1], NEED_WIDTH)?;
            let height = float_or(&opts[i + 2], NEED_HEIGHT)?;
            if height < 0.0 || width < 0.0 {
                return Err(CmdError::Static(NEGATIVE_BOX));
            }
            let conversion = unit(&opts[i + 3])?;
            req.shape = Some((Shape::Box { width, height }, conversion));
            req.by_box = true;
            i += 3;
        } else {
            return Err(CmdError::Static(SYNTAX));
        }
        i += 1;
    }
    Ok(())
}

/// An error naming the command as the client spelled it (up to a NUL, as C reads it).
fn name_error(text: &str, name: &[u8]) -> CmdError {
    let name = name.split(|&b| b == 0).next().unwrap_or_default();
    let mut msg = b"ERR ".to_vec();
    msg.extend_from_slice(text.as_bytes());
    msg.extend(
        name.iter()
            .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
    CmdError::Bytes(msg)
}

/// The checks Redis makes after the option loop, in its order.
fn check_request(args: &[Bytes], kind: Kind, req: &Request) -> Result<(), CmdError> {
    if req.store.is_some() && (req.withdist || req.withhash || req.withcoord) {
        return Err(CmdError::Static(match kind {
            Kind::Search { .. } => SEARCHSTORE_WITH_OPTIONS,
            _ => STORE_WITH_OPTIONS,
        }));
    }
    if matches!(kind, Kind::Search { .. }) {
        if !(req.from_member || req.from_lonlat) {
            return Err(name_error(
                "exactly one of FROMMEMBER or FROMLONLAT can be specified for ",
                &args[0],
            ));
        }
        if !(req.by_radius || req.by_box) {
            return Err(name_error(
                "exactly one of BYRADIUS and BYBOX can be specified for ",
                &args[0],
            ));
        }
    }
    if req.any && req.count == 0 {
        return Err(CmdError::Static(ANY_NEEDS_COUNT));
    }
    Ok(())
}

/// Every point within the search, cell by cell in Redis's order; with a `limit`
/// (COUNT ... ANY) it stops once that many are found.
fn collect_points(zset: &ZSet, search: &Search, limit: usize) -> Vec<Point> {
    let cells = search.cells();
    let mut points = Vec::new();
    let mut last = 0usize;
    for (i, &cell) in cells.iter().enumerate() {
        if cell.bits == 0 && cell.step == 0 {
            continue;
        }
        // Huge radii can make neighbours coincide; Redis skips a cell equal to the
        // last one scanned (but never compares with the centre).
        if last != 0 && cell == cells[last] {
            continue;
        }
        if !points.is_empty() && limit > 0 && points.len() >= limit {
            break;
        }
        points_in_cell(zset, cell, search, limit, &mut points);
        last = i;
    }
    points
}

fn points_in_cell(
    zset: &ZSet,
    cell: geohash::Hash,
    search: &Search,
    limit: usize,
    points: &mut Vec<Point>,
) {
    let (min, max) = geohash::cell_scores(cell);
    let range = ScoreRange {
        min,
        max,
        min_ex: false,
        max_ex: true,
    };
    let Some(first) = zset.first_in_score_range(&range) else {
        return;
    };
    zset.walk(Some(first), false, |member, score| {
        if !range.below_max(score) {
            return false;
        }
        let (lon, lat) = geohash::decode_score(score);
        if let Some(dist) = search.distance_if_within(lon, lat) {
            points.push(Point {
                lon,
                lat,
                dist,
                score,
                member: member.to_vec(),
            });
        }
        !(limit > 0 && !points.is_empty() && points.len() >= limit)
    });
}

/// Redis's comparator on distances (an int, so NaN compares "less").
fn by_distance(a: &Point, b: &Point) -> i32 {
    if a.dist > b.dist {
        1
    } else if a.dist == b.dist {
        0
    } else {
        -1
    }
}

/// Orders the points as Redis does: glibc's qsort for a full sort, its own
/// partial quicksort when only the first `returned` are wanted.
fn sort_points(points: &mut [Point], sort: Sort, returned: usize) {
    let asc = |a: &Point, b: &Point| by_distance(a, b);
    let desc = |a: &Point, b: &Point| -by_distance(a, b);
    let full = returned == points.len();
    match (sort, full) {
        (Sort::None, _) => {}
        (Sort::Asc, true) => geohash::merge_sort(points, &asc),
        (Sort::Desc, true) => geohash::merge_sort(points, &desc),
        (Sort::Asc, false) => geohash::partial_sort(points, returned - 1, &asc),
        (Sort::Desc, false) => geohash::partial_sort(points, returned - 1, &desc),
    }
}

fn reply_points(out: &mut ReplyBuf, points: &[Point], req: &Request) {
    let options =
        usize::from(req.withdist) + usize::from(req.withcoord) + usize::from(req.withhash);
    out.array(points.len());
    for p in points {
        if options > 0 {
            out.array(options + 1);
        }
        out.bulk(&p.member);
        if req.withdist {
            out.bulk(format_distance(p.dist).as_bytes());
        }
        if req.withhash {
            out.int(score_as_i64(p.score));
        }
        if req.withcoord {
            out.array(2);
            reply_coordinate(out, p.lon);
            reply_coordinate(out, p.lat);
        }
    }
}

/// STORE / STOREDIST / GEOSEARCHSTORE: the found members with their geohash or
/// their distance as score.
fn store_points(ctx: &mut Ctx<'_>, dst: &[u8], points: Vec<Point>, storedist: bool) -> CmdResult {
    let mut items: Vec<(SmallBytes, f64)> = points
        .into_iter()
        .map(|p| {
            let score = if storedist { p.dist } else { p.score };
            (SmallBytes::new(&p.member), score)
        })
        .collect();
    items.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0[..].cmp(&b.0[..])));
    items.dedup_by(|a, b| a.0[..] == b.0[..]);
    let stored = items.len() as u64;
    store_result(ctx, dst, items)?;
    // Redis counts one change per stored member.
    ctx.srv.dirty += stored.saturating_sub(1);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::testkit::Harness;

    #[test]
    fn geoadd_stores_geohash_scores_in_a_sorted_set() {
        let mut h = Harness::new();
        let added = h.run("GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania");
        assert_eq!(added, ":2\r\n");
        assert_eq!(h.encoding("Sicily"), Some("listpack"));
        assert_eq!(
            h.run("ZSCORE Sicily Palermo"),
            "$16\r\n3479099956230698\r\n"
        );
    }

    #[test]
    fn geoadd_propagates_as_zadd_and_stores_as_sent() {
        use crate::command::testkit::TestNode;
        use crate::config::Config;
        let mut t = TestNode::new(Config::default());
        t.node.set_propagation(true);
        t.connect(1);
        for line in [
            "GEOADD g CH 13.361389 38.115556 Palermo",
            "GEOADD g 13.361389 38.115556 Palermo",
            "GEORADIUS g 13 38 100 km",
            "GEORADIUS g 13 38 100 km STORE d",
            "GEOSEARCHSTORE e g FROMMEMBER Palermo BYRADIUS 1 km STOREDIST",
        ] {
            let args: Vec<&str> = line.split(' ').collect();
            t.cmd(1, &args);
        }
        let got: Vec<String> = t
            .node
            .take_effects()
            .into_iter()
            .map(|e| {
                let argv: Vec<String> = e
                    .argv
                    .iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect();
                argv.join(" ")
            })
            .collect();
        assert_eq!(
            got,
            [
                "zadd g CH 3479099956230698 Palermo",
                "GEORADIUS g 13 38 100 km STORE d",
                "GEOSEARCHSTORE e g FROMMEMBER Palermo BYRADIUS 1 km STOREDIST",
            ]
        );
    }

    #[test]
    fn store_counts_one_change_per_stored_member() {
        let mut h = Harness::new();
        h.run("GEOADD g 1 1 a 1.001 1 b 1.002 1 c");
        let before = h.srv.dirty;
        assert_eq!(h.run("GEORADIUS g 1 1 10 km STOREDIST d"), ":3\r\n");
        assert_eq!(h.srv.dirty - before, 3);
        assert_eq!(h.run("GEORADIUS g 50 50 1 km STORE d"), ":0\r\n");
        assert_eq!(h.encoding("d"), None);
        assert_eq!(h.srv.dirty - before, 4);
    }

    #[test]
    fn search_errors_come_in_redis_order() {
        let mut h = Harness::new();
        h.run("GEOADD g 1 1 a");
        assert_eq!(
            h.run("geoSearch g FROMLONLAT 1 1 WITHDIST ANY"),
            "-ERR exactly one of BYRADIUS and BYBOX can be specified for geoSearch\r\n"
        );
        let reply = h.run("GEORADIUS g 1 1 1 km STORE x WITHDIST ANY");
        assert!(reply.starts_with("-ERR STORE option in GEORADIUS"));
        assert_eq!(
            h.run("GEOSEARCH g FROMLONLAT 1 1 BYRADIUS 1 km ANY"),
            "-ERR the ANY argument requires COUNT argument\r\n"
        );
    }

    #[test]
    fn coordinates_print_as_redis_prints_them() {
        assert_eq!(
            format_coordinate(13.361389338970184),
            "13.36138933897018433"
        );
        assert_eq!(format_coordinate(0.0), "0");
        assert_eq!(format_coordinate(-0.0), "0");
        assert_eq!(format_coordinate(-180.0), "-180");
        assert_eq!(format_coordinate(1.5), "1.5");
    }

    #[test]
    fn distances_print_with_four_decimals() {
        assert_eq!(format_distance(166274.15156960033), "166274.1516");
        assert_eq!(format_distance(0.0), "0.0000");
        assert_eq!(format_distance(0.03125), "0.0312");
        assert_eq!(format_distance(0.00005), "0.0000");
        // The double nearest 22509169.63775 is just below it; times 10^4 it rounds to
        // ...5 exactly, then to even.
        assert_eq!(format_distance(22509169.63775), "22509169.6378");
        assert_eq!(format_distance(f64::NAN), "-922337203685477.5808");
    }

    #[test]
    fn units_are_case_insensitive() {
        assert_eq!(unit(b"KM").ok(), Some(1000.0));
        assert_eq!(unit(b"mi").ok(), Some(1609.34));
        assert!(unit(b"yd").is_err());
    }

    #[test]
    fn invalid_pairs_quote_the_coordinates_with_six_decimals() {
        let err = lon_lat(b"200", b"10").err().map(|e| e.message().to_vec());
        assert_eq!(
            err.as_deref(),
            Some(&b"ERR invalid longitude,latitude pair 200.000000,10.000000"[..])
        );
    }
}

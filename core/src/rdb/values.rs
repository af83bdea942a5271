//! Value decoding: every type byte Redis 2.x to 7.0 writes, into Ember values (strings,
//! lists, hashes) or the neutral set/zset forms.

use std::borrow::Cow;

use super::decode::LoadOptions;
use super::error::RdbErrorKind;
use super::reader::{parse_score_text, Reader, Result};
use super::value_type as ty;
use super::ziplist::{intset_values, ziplist_entries, zipmap_pairs};
use super::RdbValue;
use crate::listpack::{Listpack, LpValue, SAFE_BYTES_MAX};
use crate::types::hash::HashLimits;
use crate::types::{Hash, List};
use crate::value::Value;

/// Quicklist 2 node containers.
const QUICKLIST_NODE_PLAIN: u64 = 1;
const QUICKLIST_NODE_PACKED: u64 = 2;
/// Smallest encoding of one string: a length byte.
const STRING_BYTES_MIN: usize = 1;

pub enum Decoded {
    Value(RdbValue),
    /// A collection with no elements: Redis skips the key.
    Empty,
}

/// Reads the value of type `t`; `start` (the type byte) locates semantic errors.
pub fn read_value(r: &mut Reader<'_>, start: usize, t: u8, opts: &LoadOptions) -> Result<Decoded> {
    let at = |kind| Reader::error_at(start, kind);
    let value = match t {
        ty::STRING => RdbValue::Value(Value::from_bytes(&r.string()?)),
        ty::LIST | ty::LIST_ZIPLIST | ty::LIST_QUICKLIST | ty::LIST_QUICKLIST_2 => {
            let list = read_list(r, t, opts)?;
            RdbValue::Value(Value::List(Box::new(list)))
        }
        ty::SET | ty::SET_INTSET | ty::SET_LISTPACK => RdbValue::Set(read_set(r, start, t)?),
        ty::ZSET | ty::ZSET_2 | ty::ZSET_ZIPLIST | ty::ZSET_LISTPACK => {
            RdbValue::ZSet(read_zset(r, start, t)?)
        }
        ty::HASH | ty::HASH_ZIPMAP | ty::HASH_ZIPLIST | ty::HASH_LISTPACK => {
            let hash = read_hash(r, start, t, opts)?;
            RdbValue::Value(Value::Hash(Box::new(hash)))
        }
        ty::STREAM_LISTPACKS | ty::STREAM_LISTPACKS_2 | ty::STREAM_LISTPACKS_3 => {
            let stream = super::stream::read_stream(r, start, t)?;
            RdbValue::Value(Value::Stream(Box::new(stream)))
        }
        _ => return Err(at(RdbErrorKind::UnsupportedValueType(t))),
    };
    let empty = match &value {
        RdbValue::Value(Value::List(l)) => l.is_empty(),
        RdbValue::Value(Value::Hash(h)) => h.is_empty(),
        RdbValue::Set(s) => s.is_empty(),
        RdbValue::ZSet(z) => z.is_empty(),
        RdbValue::Value(_) => false,
    };
    Ok(if empty {
        Decoded::Empty
    } else {
        Decoded::Value(value)
    })
}

/// A blob (ziplist, listpack, intset...) and the offset where it starts.
fn blob<'a>(r: &mut Reader<'a>) -> Result<(usize, Cow<'a, [u8]>)> {
    let at = r.pos();
    Ok((at, r.string()?))
}

fn ziplist_of(at: usize, bytes: &[u8]) -> Result<Vec<LpValue<'_>>> {
    ziplist_entries(bytes).map_err(|why| Reader::error_at(at, RdbErrorKind::BadZiplist(why)))
}

fn listpack_of(at: usize, bytes: Vec<u8>) -> Result<Listpack> {
    Listpack::from_bytes(bytes).map_err(|e| Reader::error_at(at, RdbErrorKind::BadListpack(e.kind)))
}

fn read_list(r: &mut Reader<'_>, t: u8, opts: &LoadOptions) -> Result<List> {
    let fill = opts.list_max_listpack_size;
    let mut scratch = [0u8; 20];
    match t {
        ty::LIST => {
            let mut list = List::new(fill);
            for _ in 0..r.count(STRING_BYTES_MIN)? {
                list.push_back(&r.string()?);
            }
            Ok(list)
        }
        ty::LIST_ZIPLIST => {
            let mut list = List::new(fill);
            let (at, bytes) = blob(r)?;
            for v in ziplist_of(at, &bytes)? {
                list.push_back(v.to_bytes(&mut scratch));
            }
            Ok(list)
        }
        // Quicklists keep the file's nodes, as Redis does when it loads them.
        ty::LIST_QUICKLIST => {
            let n = r.count(STRING_BYTES_MIN)?;
            let mut nodes = Vec::with_capacity(n);
            for _ in 0..n {
                let (at, bytes) = blob(r)?;
                let mut node = Listpack::new();
                for v in ziplist_of(at, &bytes)? {
                    node.push_back(v.to_bytes(&mut scratch));
                }
                nodes.push(node);
            }
            Ok(List::from_nodes(fill, nodes))
        }
        _ => Ok(List::from_nodes(fill, read_quicklist2(r)?)),
    }
}

fn read_quicklist2(r: &mut Reader<'_>) -> Result<Vec<Listpack>> {
    let n = r.count(STRING_BYTES_MIN + 1)?;
    let mut nodes = Vec::with_capacity(n);
    for _ in 0..n {
        let container_at = r.pos();
        let container = r.length()?;
        let (at, bytes) = blob(r)?;
        if bytes.is_empty() {
            return Err(Reader::error_at(at, RdbErrorKind::EmptyQuicklistNode));
        }
        let node = match container {
            QUICKLIST_NODE_PLAIN => {
                let mut node = Listpack::new();
                node.push_back(&bytes);
                node
            }
            QUICKLIST_NODE_PACKED => listpack_of(at, bytes.into_owned())?,
            c => {
                let kind = RdbErrorKind::BadQuicklistContainer(c);
                return Err(Reader::error_at(container_at, kind));
            }
        };
        nodes.push(node);
    }
    Ok(nodes)
}

/// Fails if `items` holds the same bytes twice.
fn check_distinct<T: AsRef<[u8]>>(items: &[T], start: usize) -> Result<()> {
    let mut sorted: Vec<&[u8]> = items.iter().map(AsRef::as_ref).collect();
    sorted.sort_unstable();
    if sorted.windows(2).any(|w| w[0] == w[1]) {
        return Err(Reader::error_at(start, RdbErrorKind::Duplicate));
    }
    Ok(())
}

fn read_set(r: &mut Reader<'_>, start: usize, t: u8) -> Result<Vec<Vec<u8>>> {
    let members = match t {
        ty::SET => {
            let n = r.count(STRING_BYTES_MIN)?;
            let mut members = Vec::with_capacity(n);
            for _ in 0..n {
                members.push(r.string_vec()?);
            }
            members
        }
        ty::SET_INTSET => {
            let (at, bytes) = blob(r)?;
            let values = intset_values(&bytes)
                .map_err(|why| Reader::error_at(at, RdbErrorKind::BadIntset(why)))?;
            values.iter().map(|v| v.to_string().into_bytes()).collect()
        }
        _ => {
            let (at, bytes) = blob(r)?;
            let lp = listpack_of(at, bytes.into_owned())?;
            lp.iter().map(|v| v.to_vec()).collect()
        }
    };
    check_distinct(&members, start)?;
    Ok(members)
}

fn read_zset(r: &mut Reader<'_>, start: usize, t: u8) -> Result<Vec<(Vec<u8>, f64)>> {
    let pairs = match t {
        ty::ZSET | ty::ZSET_2 => {
            let n = r.count(STRING_BYTES_MIN + 1)?;
            let mut pairs = Vec::with_capacity(n);
            for _ in 0..n {
                let member = r.string_vec()?;
                let score = if t == ty::ZSET {
                    r.string_double()?
                } else {
                    r.binary_double()?
                };
                pairs.push((member, score));
            }
            pairs
        }
        ty::ZSET_ZIPLIST => {
            let (at, bytes) = blob(r)?;
            zset_pairs(start, &ziplist_of(at, &bytes)?)?
        }
        _ => {
            let (at, bytes) = blob(r)?;
            let lp = listpack_of(at, bytes.into_owned())?;
            zset_pairs(start, &lp.iter().collect::<Vec<_>>())?
        }
    };
    if pairs.iter().any(|(_, s)| s.is_nan()) {
        return Err(Reader::error_at(start, RdbErrorKind::BadScore));
    }
    let members: Vec<&[u8]> = pairs.iter().map(|(m, _)| m.as_slice()).collect();
    check_distinct(&members, start)?;
    Ok(pairs)
}

/// Member/score pairs from a flat ziplist or listpack.
fn zset_pairs(start: usize, items: &[LpValue<'_>]) -> Result<Vec<(Vec<u8>, f64)>> {
    if !items.len().is_multiple_of(2) {
        return Err(Reader::error_at(start, RdbErrorKind::OddPairs));
    }
    items
        .chunks_exact(2)
        .map(|pair| {
            let score = match pair[1] {
                LpValue::Int(n) => Some(n as f64),
                LpValue::Str(s) => parse_score_text(s),
            };
            let score = score.ok_or_else(|| Reader::error_at(start, RdbErrorKind::BadScore))?;
            Ok((pair[0].to_vec(), score))
        })
        .collect()
}

/// Redis converts a zipmap into one listpack and refuses the payload when a pair
/// would take that listpack past its safety size (lpSafeToAdd of the pair's raw
/// lengths before each append), however small hash-max-listpack-value is.
fn fits_one_listpack(
    pairs: &[(&[u8], &[u8])],
    bytes_max: usize,
) -> std::result::Result<(), &'static str> {
    let mut bytes = Listpack::new().bytes_len();
    for (f, v) in pairs {
        if bytes.saturating_add(f.len() + v.len()) > bytes_max {
            return Err("element too big for a listpack");
        }
        bytes += Listpack::entry_bytes(f) + Listpack::entry_bytes(v);
    }
    Ok(())
}

fn read_hash(r: &mut Reader<'_>, start: usize, t: u8, opts: &LoadOptions) -> Result<Hash> {
    let hash_limits = HashLimits {
        entries_max: opts.hash_max_listpack_entries,
        value_bytes_max: opts.hash_max_listpack_value,
        hasher: opts.hasher,
    };
    let mut hash = Hash::new();
    let mut insert = |f: &[u8], v: &[u8]| -> Result<()> {
        if hash.set(f, v, &hash_limits) {
            Ok(())
        } else {
            Err(Reader::error_at(start, RdbErrorKind::Duplicate))
        }
    };
    match t {
        ty::HASH => {
            for _ in 0..r.count(2 * STRING_BYTES_MIN)? {
                let field = r.string()?;
                insert(&field, &r.string()?)?;
            }
        }
        ty::HASH_ZIPMAP => {
            let (at, bytes) = blob(r)?;
            let pairs = zipmap_pairs(&bytes)
                .and_then(|pairs| fits_one_listpack(&pairs, SAFE_BYTES_MAX).map(|()| pairs))
                .map_err(|why| Reader::error_at(at, RdbErrorKind::BadZipmap(why)))?;
            for (f, v) in pairs {
                insert(f, v)?;
            }
        }
        ty::HASH_ZIPLIST => {
            let (at, bytes) = blob(r)?;
            insert_pairs(start, &ziplist_of(at, &bytes)?, &mut insert)?;
        }
        _ => {
            let (at, bytes) = blob(r)?;
            let lp = listpack_of(at, bytes.into_owned())?;
            insert_pairs(start, &lp.iter().collect::<Vec<_>>(), &mut insert)?;
        }
    }
    Ok(hash)
}

fn insert_pairs(
    start: usize,
    items: &[LpValue<'_>],
    insert: &mut impl FnMut(&[u8], &[u8]) -> Result<()>,
) -> Result<()> {
    if !items.len().is_multiple_of(2) {
        return Err(Reader::error_at(start, RdbErrorKind::OddPairs));
    }
    let (mut a, mut b) = ([0u8; 20], [0u8; 20]);
    for pair in items.chunks_exact(2) {
        insert(pair[0].to_bytes(&mut a), pair[1].to_bytes(&mut b))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zipmap_pair_that_would_take_the_listpack_past_its_safety_size_is_refused() {
        let pairs: Vec<(&[u8], &[u8])> = vec![(b"k", &[b'v'; 20]), (b"k2", &[b'w'; 20])];
        // 7 bytes of empty listpack, then k (3) and the 20-byte value (22).
        assert!(fits_one_listpack(&pairs[..1], 7 + 21).is_ok());
        assert!(fits_one_listpack(&pairs[..1], 7 + 20).is_err());
        assert!(fits_one_listpack(&pairs, 7 + 3 + 22 + 22).is_ok());
        assert!(fits_one_listpack(&pairs, 7 + 3 + 22 + 21).is_err());
    }
}

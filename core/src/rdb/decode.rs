//! The loader: header, opcodes, keys, EOF and checksum.

use super::error::{RdbErrorKind, RdbLoadError};
use super::reader::{Reader, Result};
use super::values::{read_value, Decoded};
use super::{crc64, opcode, value_type, RdbContents, RdbDb, RdbEntry, RdbValue, RDB_VERSION_MAX};
use crate::hash::HashKey;

const MAGIC: &[u8] = b"REDIS";
/// A DUMP payload ends with the RDB version (u16 LE) and the CRC64 (u64 LE).
const DUMP_FOOTER_BYTES: usize = 10;
/// Files before this version carry no checksum after EOF.
const CHECKSUM_SINCE_VERSION: u32 = 5;
/// Characters of a module name packed into a module id, 6 bits each.
const MODULE_NAME_CHARSET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The configuration that decides how loaded values are encoded in memory, and
/// whether the checksum is verified.
#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    /// `list-max-listpack-size` for loaded lists.
    pub list_max_listpack_size: i64,
    /// `hash-max-listpack-entries`.
    pub hash_max_listpack_entries: u64,
    /// `hash-max-listpack-value`.
    pub hash_max_listpack_value: u64,
    /// `set-max-intset-entries`, for sets built by [`RdbValue::into_value`].
    pub set_max_intset_entries: u64,
    /// `zset-max-listpack-entries`.
    pub zset_max_listpack_entries: u64,
    /// `zset-max-listpack-value`.
    pub zset_max_listpack_value: u64,
    /// Key for hash tables of hashes that load past the listpack opts.
    pub hasher: HashKey,
    /// Check the CRC64 after EOF (`rdbchecksum yes`); a stored 0 is never checked.
    pub verify_checksum: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            list_max_listpack_size: -2,
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            hasher: HashKey::new(0, 0),
            verify_checksum: true,
        }
    }
}

impl LoadOptions {
    /// The thresholds of `config`, hash tables keyed with `hasher`.
    pub fn from_config(config: &crate::config::Config, hasher: HashKey) -> Self {
        LoadOptions {
            list_max_listpack_size: config.list_max_listpack_size,
            hash_max_listpack_entries: config.hash_max_listpack_entries,
            hash_max_listpack_value: config.hash_max_listpack_value,
            set_max_intset_entries: config.set_max_intset_entries,
            zset_max_listpack_entries: config.zset_max_listpack_entries,
            zset_max_listpack_value: config.zset_max_listpack_value,
            hasher,
            verify_checksum: config.rdbchecksum,
        }
    }
}

/// Loads a dump with Redis's default encoding thresholds (see [`load_with`]).
pub fn load(bytes: &[u8]) -> std::result::Result<RdbContents, RdbLoadError> {
    load_with(bytes, &LoadOptions::default())
}

/// Loads a whole dump. Bytes after the checksum are ignored (an AOF preamble goes
/// on there); [`RdbContents::end_offset`] says where they start.
pub fn load_with(
    bytes: &[u8],
    opts: &LoadOptions,
) -> std::result::Result<RdbContents, RdbLoadError> {
    load_observed(bytes, opts, &mut |_, _| {})
}

/// What the loader meets, in file order. Each comes with the offset just past it,
/// which is where redis-check-rdb reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadEvent<'a> {
    /// The header was read.
    Header {
        version: u32,
    },
    /// A type or opcode byte was read; what it introduces is read next.
    Opcode(u8),
    /// The item the last opcode introduced was read whole.
    Done,
    Aux {
        field: &'a [u8],
        value: &'a [u8],
    },
    SelectDb(u64),
    /// A key's type and name; its value is read next.
    Key {
        value_type: u8,
        key: &'a [u8],
        expire_ms: Option<i64>,
    },
    /// The value of the last key was read; `empty` if it was an empty collection
    /// (the loader drops the key, redis-check-rdb calls it an error).
    Value {
        empty: bool,
    },
    /// The checksum after EOF was read and matched (or `stored` is 0: not kept).
    Checksum {
        stored: u64,
    },
}

/// [`load_with`], telling `observe` each item as it is read, with its end offset.
pub fn load_observed(
    bytes: &[u8],
    opts: &LoadOptions,
    observe: &mut dyn FnMut(usize, LoadEvent<'_>),
) -> std::result::Result<RdbContents, RdbLoadError> {
    let mut r = Reader::new(bytes);
    let version = header(&mut r)?;
    observe(r.pos(), LoadEvent::Header { version });
    let mut loader = Loader {
        out: RdbContents {
            version,
            ..RdbContents::default()
        },
        db: None,
        pending: Pending::default(),
        opts,
        observe,
    };
    while loader.step(&mut r)? {
        (loader.observe)(r.pos(), LoadEvent::Done);
    }
    loader.checksum(&mut r)?;
    loader.out.end_offset = r.pos();
    Ok(loader.out)
}

/// Reads a DUMP payload (as RESTORE does): checks the 2-byte RDB version and the
/// CRC64 footer, then decodes the value. An empty collection is an error here.
pub fn restore_payload(
    payload: &[u8],
    opts: &LoadOptions,
) -> std::result::Result<RdbValue, RdbLoadError> {
    // A payload of just a footer passes this check and fails as bad data below.
    let footer_at = payload
        .len()
        .checked_sub(DUMP_FOOTER_BYTES)
        .ok_or(Reader::error_at(0, RdbErrorKind::BadDumpFooter))?;
    let version = u16::from_le_bytes([payload[footer_at], payload[footer_at + 1]]);
    let crc_at = footer_at + 2;
    let mut stored = [0u8; 8];
    stored.copy_from_slice(&payload[crc_at..]);
    let crc_ok =
        !opts.verify_checksum || u64::from_le_bytes(stored) == crc64::crc64(&payload[..crc_at]);
    if u32::from(version) > RDB_VERSION_MAX || !crc_ok {
        return Err(Reader::error_at(footer_at, RdbErrorKind::BadDumpFooter));
    }
    // Redis reads the value from the whole payload: a value that runs into the
    // footer reads its bytes rather than failing.
    let mut r = Reader::new(payload);
    let t = r.u8()?;
    match read_value(&mut r, 0, t, opts)? {
        Decoded::Value(v) => Ok(v),
        Decoded::Empty => Err(Reader::error_at(0, RdbErrorKind::EmptyValue)),
    }
}

/// Reads a FUNCTION DUMP payload: the libraries' code, or None when the footer
/// (version, CRC64) or a record is wrong.
pub fn functions_payload(payload: &[u8]) -> Option<Vec<Vec<u8>>> {
    let footer_at = payload.len().checked_sub(DUMP_FOOTER_BYTES)?;
    let version = u16::from_le_bytes([payload[footer_at], payload[footer_at + 1]]);
    let crc_at = footer_at + 2;
    let mut stored = [0u8; 8];
    stored.copy_from_slice(&payload[crc_at..]);
    if u32::from(version) > RDB_VERSION_MAX
        || u64::from_le_bytes(stored) != crc64::crc64(&payload[..crc_at])
    {
        return None;
    }
    let mut r = Reader::new(&payload[..footer_at]);
    let mut codes = Vec::new();
    while r.remaining() > 0 {
        if r.u8().ok()? != opcode::FUNCTION2 {
            return None;
        }
        codes.push(r.string().ok()?.into_owned());
    }
    Some(codes)
}

fn header(r: &mut Reader<'_>) -> Result<u32> {
    let head = r.bytes(9).map_err(|_| r.error(RdbErrorKind::BadMagic))?;
    let digits = &head[5..];
    if &head[..5] != MAGIC || !digits.iter().all(u8::is_ascii_digit) {
        return Err(Reader::error_at(0, RdbErrorKind::BadMagic));
    }
    let version = digits
        .iter()
        .fold(0u32, |v, d| v * 10 + u32::from(d - b'0'));
    if !(1..=RDB_VERSION_MAX).contains(&version) {
        return Err(Reader::error_at(
            5,
            RdbErrorKind::UnsupportedVersion(version),
        ));
    }
    Ok(version)
}

/// Metadata opcodes seen since the last key, applying to the next one.
#[derive(Default)]
struct Pending {
    expire_ms: Option<i64>,
    idle_secs: Option<u64>,
    freq: Option<u8>,
}

struct Loader<'l> {
    out: RdbContents,
    /// Index into `out.dbs` of the selected database.
    db: Option<usize>,
    pending: Pending,
    opts: &'l LoadOptions,
    observe: &'l mut dyn FnMut(usize, LoadEvent<'_>),
}

impl Loader<'_> {
    /// Reads one opcode or key; false at EOF.
    fn step(&mut self, r: &mut Reader<'_>) -> Result<bool> {
        let start = r.pos();
        let t = r.u8()?;
        (self.observe)(r.pos(), LoadEvent::Opcode(t));
        match t {
            opcode::EOF => return Ok(false),
            opcode::SELECTDB => {
                let index = r.length()?;
                (self.observe)(r.pos(), LoadEvent::SelectDb(index));
                self.select(index);
            }
            opcode::RESIZEDB => {
                let sizes = (r.length()?, r.length()?);
                let db = self.current_db();
                self.out.dbs[db].resize = Some(sizes);
            }
            opcode::AUX => {
                let field = (r.string_vec()?, r.string_vec()?);
                let event = LoadEvent::Aux {
                    field: &field.0,
                    value: &field.1,
                };
                (self.observe)(r.pos(), event);
                self.out.aux.push(field);
            }
            opcode::EXPIRETIME_MS => {
                self.pending.expire_ms = Some(i64::from_le_bytes(r.array()?));
            }
            opcode::EXPIRETIME => {
                let secs = i64::from(i32::from_le_bytes(r.array()?));
                self.pending.expire_ms = Some(secs * 1000);
            }
            opcode::IDLE => self.pending.idle_secs = Some(r.length()?),
            opcode::FREQ => self.pending.freq = Some(r.u8()?),
            opcode::FUNCTION2 => {
                let code = r.string_vec()?;
                self.out.functions.push(code);
            }
            opcode::FUNCTION_PRE_GA => {
                return Err(Reader::error_at(start, RdbErrorKind::PreGaFunction))
            }
            opcode::MODULE_AUX => return Err(module_error(r, start)),
            t => self.key_value(r, start, t)?,
        }
        Ok(true)
    }

    fn select(&mut self, index: u64) {
        let found = self.out.dbs.iter().position(|db| db.index == index);
        self.db = Some(found.unwrap_or_else(|| {
            self.out.dbs.push(RdbDb {
                index,
                ..RdbDb::default()
            });
            self.out.dbs.len() - 1
        }));
    }

    /// The selected database; keys before any SELECTDB go to database 0.
    fn current_db(&mut self) -> usize {
        if self.db.is_none() {
            self.select(0);
        }
        self.db.unwrap_or(0)
    }

    fn key_value(&mut self, r: &mut Reader<'_>, start: usize, t: u8) -> Result<()> {
        if matches!(t, value_type::MODULE_PRE_GA | value_type::MODULE_2) {
            r.string()?;
            return Err(module_error(r, start));
        }
        let key = r.string_vec()?;
        let pending = std::mem::take(&mut self.pending);
        let event = LoadEvent::Key {
            value_type: t,
            key: &key,
            expire_ms: pending.expire_ms,
        };
        (self.observe)(r.pos(), event);
        let decoded = read_value(r, start, t, self.opts)?;
        let empty = matches!(decoded, Decoded::Empty);
        (self.observe)(r.pos(), LoadEvent::Value { empty });
        let value = match decoded {
            Decoded::Value(v) => v,
            Decoded::Empty => {
                self.out.empty_keys_skipped += 1;
                return Ok(());
            }
        };
        let db = self.current_db();
        self.out.dbs[db].entries.push(RdbEntry {
            key,
            value,
            expire_ms: pending.expire_ms,
            idle_secs: pending.idle_secs,
            freq: pending.freq,
        });
        Ok(())
    }

    fn checksum(&mut self, r: &mut Reader<'_>) -> Result<()> {
        if self.out.version < CHECKSUM_SINCE_VERSION {
            return Ok(());
        }
        let computed = crc64::crc64(r.consumed());
        let stored = u64::from_le_bytes(r.array()?);
        if self.opts.verify_checksum && stored != 0 && stored != computed {
            let at = r.pos() - 8;
            return Err(Reader::error_at(
                at,
                RdbErrorKind::ChecksumMismatch { stored, computed },
            ));
        }
        (self.observe)(r.pos(), LoadEvent::Checksum { stored });
        Ok(())
    }
}

/// Reads a module id (after MODULE_AUX or a module value type) into an error naming
/// the module.
fn module_error(r: &mut Reader<'_>, start: usize) -> RdbLoadError {
    match r.length() {
        Ok(id) => Reader::error_at(
            start,
            RdbErrorKind::ModuleData {
                name: module_name(id),
            },
        ),
        Err(e) => e,
    }
}

/// The 9-character name packed in the top 54 bits of a module type id.
fn module_name(id: u64) -> String {
    (0..9)
        .map(|i| {
            let shift = 64 - 6 * (i + 1);
            char::from(MODULE_NAME_CHARSET[((id >> shift) & 0x3f) as usize])
        })
        .collect()
}

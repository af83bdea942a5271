//! An in-memory file system per node that serves `Output::Disk` requests with the
//! failure modes real disks have: bytes written but not fsynced are lost on a crash,
//! the last unsynced write may survive only as a prefix (torn), fsync can fail, the
//! disk can fill up (a write then keeps what fitted, as write(2) does), and every
//! operation takes time.
//!
//! Each file has the content reads see (`current`) and the content that survives a
//! crash (`durable`, `None` when the file itself would not survive). A rename moves
//! the durable content too, so renaming a file before fsyncing it leaves an empty file
//! after a crash, as on a real file system with delayed allocation.

use std::collections::BTreeMap;

use bytes::Bytes;
use ember_core::{DiskData, DiskError, DiskOp};

use crate::rng::Rng;

/// The error strings the tokio runtime reports (`io::Error`'s display).
pub const ENOSPC: &str = "No space left on device (os error 28)";
pub const EIO: &str = "Input/output error (os error 5)";
pub const ENOENT: &str = "No such file or directory (os error 2)";

/// How a disk misbehaves in one run.
#[derive(Debug, Clone, PartialEq)]
pub struct DiskFaults {
    /// Bytes the disk holds in total (sum of current file sizes).
    pub capacity_bytes: u64,
    /// Chance that a crash leaves a prefix of a file's unsynced bytes instead of none.
    pub torn_write_probability: f64,
    /// Chance that one fsync fails with EIO (its data stays unsynced).
    pub fsync_error_probability: f64,
    /// Latency of one operation, uniform in this range (virtual microseconds).
    pub latency_us_min: u64,
    pub latency_us_max: u64,
}

impl DiskFaults {
    /// A disk that never fails.
    pub fn none() -> DiskFaults {
        DiskFaults {
            capacity_bytes: u64::MAX,
            torn_write_probability: 0.0,
            fsync_error_probability: 0.0,
            latency_us_min: 0,
            latency_us_max: 0,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct File {
    current: Vec<u8>,
    durable: Option<Vec<u8>>,
    /// Rewritten from the start (`Write`) since the last fsync; otherwise only
    /// appended to or cut, so what it shares with the synced content is safe.
    rewritten: bool,
}

/// How often each disk fault fired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiskCounts {
    pub torn_writes: u64,
    pub unsynced_losses: u64,
    pub fsync_errors: u64,
    pub disk_full: u64,
    pub ops: u64,
}

pub struct Disk {
    files: BTreeMap<String, File>,
    faults: DiskFaults,
    rng: Rng,
    pub counts: DiskCounts,
}

impl Disk {
    pub fn new(faults: DiskFaults, rng: Rng) -> Disk {
        Disk {
            files: BTreeMap::new(),
            faults,
            rng,
            counts: DiskCounts::default(),
        }
    }

    /// How long the next operation takes.
    pub fn latency_us(&mut self) -> u64 {
        self.rng
            .range(self.faults.latency_us_min, self.faults.latency_us_max)
    }

    /// What a read would see now (tests and checkers).
    pub fn contents(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(|f| f.current.as_slice())
    }

    /// Every file name, in order.
    pub fn paths(&self) -> Vec<String> {
        self.files.keys().cloned().collect()
    }

    fn used_bytes(&self) -> u64 {
        self.files.values().map(|f| f.current.len() as u64).sum()
    }

    /// Carries out one operation.
    pub fn apply(&mut self, op: &DiskOp) -> Result<DiskData, DiskError> {
        self.counts.ops += 1;
        match op {
            DiskOp::Read { path } => Ok(match self.files.get(path) {
                Some(f) => DiskData::Contents(Bytes::from(f.current.clone())),
                None => DiskData::NotFound,
            }),
            DiskOp::Write { path, bytes } => {
                let old = self.files.get(path).map_or(0, |f| f.current.len() as u64);
                let room = self.room(self.used_bytes() - old);
                let file = self.files.entry(path.clone()).or_default();
                file.current.clear();
                file.rewritten = true;
                self.write_limited(path, bytes, room)
            }
            DiskOp::Append { path, bytes } => {
                let own = self.files.get(path).map_or(0, |f| f.current.len() as u64);
                let room = self.room(self.used_bytes() - own);
                self.files.entry(path.clone()).or_default();
                self.write_limited(path, bytes, room)
            }
            DiskOp::Fsync { path } => self.fsync(path),
            DiskOp::Rename { from, to } => {
                let Some(file) = self.files.remove(from) else {
                    return Err(error(ENOENT));
                };
                let durable = Some(file.durable.clone().unwrap_or_default());
                self.files.insert(to.clone(), File { durable, ..file });
                Ok(DiskData::Done)
            }
            DiskOp::Remove { path } => {
                self.files.remove(path);
                Ok(DiskData::Done)
            }
            // Directories are implicit in the flat map of paths.
            DiskOp::CreateDir { .. } => Ok(DiskData::Done),
            DiskOp::Truncate { path, len } => {
                let Some(file) = self.files.get_mut(path) else {
                    return Err(error(ENOENT));
                };
                let len = (*len).min(file.current.len() as u64) as usize;
                file.current.truncate(len);
                Ok(DiskData::Done)
            }
        }
    }

    /// Bytes one file may hold given what the other files use.
    fn room(&self, used_by_others: u64) -> u64 {
        self.faults.capacity_bytes.saturating_sub(used_by_others)
    }

    /// Appends what fits of `bytes` to `path`'s current content (the file may hold
    /// `room` bytes); ENOSPC if not all did.
    fn write_limited(
        &mut self,
        path: &str,
        bytes: &[u8],
        room: u64,
    ) -> Result<DiskData, DiskError> {
        let file = self
            .files
            .get_mut(path)
            .expect("file created by the caller");
        let fits = room
            .saturating_sub(file.current.len() as u64)
            .min(bytes.len() as u64) as usize;
        file.current.extend_from_slice(&bytes[..fits]);
        if fits < bytes.len() {
            self.counts.disk_full += 1;
            return Err(error(ENOSPC));
        }
        Ok(DiskData::Done)
    }

    fn fsync(&mut self, path: &str) -> Result<DiskData, DiskError> {
        if !self.files.contains_key(path) {
            return Err(error(ENOENT));
        }
        if self.rng.chance(self.faults.fsync_error_probability) {
            self.counts.fsync_errors += 1;
            return Err(error(EIO));
        }
        let file = self.files.get_mut(path).expect("checked above");
        file.durable = Some(file.current.clone());
        file.rewritten = false;
        Ok(DiskData::Done)
    }

    /// The machine lost power: every file falls back to what was synced, except that a
    /// file's unsynced bytes may survive as a prefix (a torn write).
    pub fn crash(&mut self) {
        let files = std::mem::take(&mut self.files);
        for (path, file) in files {
            if let Some(kept) = self.survivor(file) {
                self.files.insert(
                    path,
                    File {
                        durable: Some(kept.clone()),
                        current: kept,
                        rewritten: false,
                    },
                );
            }
        }
    }

    fn survivor(&mut self, file: File) -> Option<Vec<u8>> {
        if file.durable.as_ref() == Some(&file.current) {
            return file.durable;
        }
        if !self.rng.chance(self.faults.torn_write_probability) {
            self.counts.unsynced_losses += 1;
            return file.durable;
        }
        self.counts.torn_writes += 1;
        let durable = file.durable.unwrap_or_default();
        if file.current.starts_with(&durable) {
            // Appends since the last sync: part of the tail made it.
            let tail = file.current.len() - durable.len();
            let kept = durable.len() + self.rng.index(tail);
            Some(file.current[..kept].to_vec())
        } else if !file.rewritten {
            // Cut (a torn tail truncated at load) and appended to since the sync:
            // what the file shares with its synced content stays, and part of the
            // rest made it.
            let common = durable
                .iter()
                .zip(&file.current)
                .take_while(|(a, b)| a == b)
                .count();
            let kept = common + self.rng.index(file.current.len() - common);
            Some(file.current[..kept].to_vec())
        } else {
            // Rewritten since the last sync: a prefix of the new content made it.
            let kept = self.rng.index(file.current.len());
            Some(file.current[..kept].to_vec())
        }
    }
}

fn error(message: &str) -> DiskError {
    DiskError {
        message: message.to_owned(),
    }
}

//! AOF files from untrusted sources: a node loading them at start never panics,
//! whatever the manifest, base or incr bytes (a torn tail, a bad format, an RDB
//! preamble, any command), and neither do the stream reader, redis-check-aof's
//! checker and the manifest parser on the same bytes.
//!
//! The first byte picks where the rest goes: the incr file of a fixed manifest, an
//! old-style single `appendonly.aof`, or the manifest itself.
#![no_main]

use std::collections::BTreeMap;

use bytes::Bytes;
use ember_core::aof::{check, manifest::Manifest, parse};
use ember_core::config::AppendFsync;
use ember_core::{Config, DiskData, DiskOp, Input, Node, Output};
use libfuzzer_sys::fuzz_target;

const NOW: u64 = 1_700_000_000_000;
/// Disk requests answered per run at most (loading takes a handful).
const DISK_OPS_MAX: usize = 64;

fn run_disk(files: &mut BTreeMap<String, Vec<u8>>, op: DiskOp) -> DiskData {
    match op {
        DiskOp::Read { path } => match files.get(&path) {
            Some(b) => DiskData::Contents(Bytes::from(b.clone())),
            None => DiskData::NotFound,
        },
        DiskOp::Write { path, bytes } => {
            files.insert(path, bytes.to_vec());
            DiskData::Done
        }
        DiskOp::Append { path, bytes } => {
            files.entry(path).or_default().extend_from_slice(&bytes);
            DiskData::Done
        }
        DiskOp::Rename { from, to } => {
            if let Some(b) = files.remove(&from) {
                files.insert(to, b);
            }
            DiskData::Done
        }
        DiskOp::Remove { path } => {
            files.remove(&path);
            DiskData::Done
        }
        DiskOp::Truncate { path, len } => {
            if let Some(b) = files.get_mut(&path) {
                b.truncate(len as usize);
            }
            DiskData::Done
        }
        DiskOp::Fsync { .. } | DiskOp::CreateDir { .. } => DiskData::Done,
    }
}

fn load(files: BTreeMap<String, Vec<u8>>) {
    let mut files = files;
    let config = Config {
        appendonly: true,
        appendfsync: AppendFsync::Always,
        ..Config::default()
    };
    let mut node = Node::new(config, [3; 32], NOW);
    node.start(NOW);
    let mut ops = 0;
    while let Some(out) = node.poll_output() {
        if let Output::Disk { id, op } = out {
            ops += 1;
            if ops > DISK_OPS_MAX {
                return;
            }
            let result = Ok(run_disk(&mut files, op));
            node.handle(NOW, Input::DiskDone { id, result });
        }
    }
    // A command after loading still works (or the node stopped).
    node.handle(NOW, Input::Accepted { conn: 1, peer: "127.0.0.1:1".into(), local: "127.0.0.1:6379".into() });
    node.handle(NOW, Input::Received { conn: 1, bytes: Bytes::from_static(b"*1\r\n$6\r\nDBSIZE\r\n") });
    while node.poll_output().is_some() {}
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let bytes = Bytes::copy_from_slice(rest);
    let mut reader = parse::Reader::new(&bytes, 0);
    while let parse::Item::Command { .. } = reader.next_item() {}
    let mut line = 1;
    let _ = check::process(rest, 0, &mut line, "fuzz.aof");
    let _ = Manifest::parse(rest);
    let mut files = BTreeMap::new();
    match pick % 3 {
        0 => {
            files.insert(
                "appendonlydir/appendonly.aof.manifest".to_string(),
                b"file appendonly.aof.1.incr.aof seq 1 type i\n".to_vec(),
            );
            files.insert("appendonlydir/appendonly.aof.1.incr.aof".to_string(), rest.to_vec());
        }
        1 => {
            files.insert("appendonly.aof".to_string(), rest.to_vec());
        }
        _ => {
            files.insert("appendonlydir/appendonly.aof.manifest".to_string(), rest.to_vec());
        }
    }
    load(files);
});

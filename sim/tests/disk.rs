//! The disk model: what survives a crash, torn writes, renames, full disks, fsync errors.

use bytes::Bytes;
use ember_core::{DiskData, DiskOp};
use ember_sim::disk::{Disk, DiskFaults, EIO, ENOSPC};
use ember_sim::rng::Rng;

fn disk(faults: DiskFaults) -> Disk {
    Disk::new(faults, Rng::new(1, 0))
}

fn append(path: &str, bytes: &[u8]) -> DiskOp {
    DiskOp::Append {
        path: path.into(),
        bytes: Bytes::copy_from_slice(bytes),
    }
}

fn fsync(path: &str) -> DiskOp {
    DiskOp::Fsync { path: path.into() }
}

#[test]
fn unsynced_bytes_are_lost_on_a_crash_and_synced_ones_survive() {
    let mut d = disk(DiskFaults::none());
    d.apply(&append("a.aof", b"synced;")).unwrap();
    d.apply(&fsync("a.aof")).unwrap();
    d.apply(&append("a.aof", b"unsynced")).unwrap();
    d.apply(&append("b.aof", b"never synced")).unwrap();
    assert_eq!(d.contents("a.aof"), Some(&b"synced;unsynced"[..]));
    d.crash();
    assert_eq!(d.contents("a.aof"), Some(&b"synced;"[..]));
    assert_eq!(d.contents("b.aof"), None);
    assert_eq!(d.counts.unsynced_losses, 2);
}

#[test]
fn a_torn_write_keeps_a_strict_prefix_of_the_unsynced_tail() {
    for seed in 0..20 {
        let faults = DiskFaults {
            torn_write_probability: 1.0,
            ..DiskFaults::none()
        };
        let mut d = Disk::new(faults, Rng::new(seed, 0));
        d.apply(&append("f", b"head|")).unwrap();
        d.apply(&fsync("f")).unwrap();
        d.apply(&append("f", b"0123456789")).unwrap();
        d.crash();
        let kept = d.contents("f").unwrap().to_vec();
        assert!(kept.starts_with(b"head|"), "{kept:?}");
        assert!(
            b"head|0123456789".starts_with(&kept) && kept.len() < 15,
            "{kept:?}"
        );
        assert_eq!(d.counts.torn_writes, 1);
    }
}

#[test]
fn renaming_before_fsync_leaves_an_empty_file_after_a_crash() {
    let mut d = disk(DiskFaults::none());
    d.apply(&DiskOp::Write {
        path: "temp.rdb".into(),
        bytes: Bytes::from_static(b"REDIS0010"),
    })
    .unwrap();
    d.apply(&DiskOp::Rename {
        from: "temp.rdb".into(),
        to: "dump.rdb".into(),
    })
    .unwrap();
    assert_eq!(d.contents("dump.rdb"), Some(&b"REDIS0010"[..]));
    d.crash();
    assert_eq!(d.contents("dump.rdb"), Some(&b""[..]));

    let mut d = disk(DiskFaults::none());
    d.apply(&DiskOp::Write {
        path: "temp.rdb".into(),
        bytes: Bytes::from_static(b"REDIS0010"),
    })
    .unwrap();
    d.apply(&fsync("temp.rdb")).unwrap();
    d.apply(&DiskOp::Rename {
        from: "temp.rdb".into(),
        to: "dump.rdb".into(),
    })
    .unwrap();
    d.crash();
    assert_eq!(d.contents("dump.rdb"), Some(&b"REDIS0010"[..]));
    assert_eq!(d.contents("temp.rdb"), None);
}

#[test]
fn a_full_disk_keeps_what_fitted_and_says_enospc() {
    let mut d = disk(DiskFaults {
        capacity_bytes: 8,
        ..DiskFaults::none()
    });
    d.apply(&append("f", b"12345")).unwrap();
    let err = d.apply(&append("f", b"6789")).unwrap_err();
    assert_eq!(err.message, ENOSPC);
    assert_eq!(d.contents("f"), Some(&b"12345678"[..]));
    assert_eq!(d.counts.disk_full, 1);
    // Rewriting the file frees its old bytes first.
    assert_eq!(
        d.apply(&DiskOp::Write {
            path: "f".into(),
            bytes: Bytes::from_static(b"abcdefgh")
        }),
        Ok(DiskData::Done)
    );
}

#[test]
fn a_failed_fsync_leaves_the_data_unsynced() {
    let mut d = disk(DiskFaults {
        fsync_error_probability: 1.0,
        ..DiskFaults::none()
    });
    d.apply(&append("f", b"data")).unwrap();
    assert_eq!(d.apply(&fsync("f")).unwrap_err().message, EIO);
    d.crash();
    assert_eq!(d.contents("f"), None);
}

#[test]
fn reads_see_current_content_and_missing_files() {
    let mut d = disk(DiskFaults::none());
    assert_eq!(
        d.apply(&DiskOp::Read { path: "x".into() }),
        Ok(DiskData::NotFound)
    );
    d.apply(&append("x", b"abc")).unwrap();
    assert_eq!(
        d.apply(&DiskOp::Read { path: "x".into() }),
        Ok(DiskData::Contents(Bytes::from_static(b"abc")))
    );
    d.apply(&DiskOp::Remove { path: "x".into() }).unwrap();
    assert_eq!(
        d.apply(&DiskOp::Read { path: "x".into() }),
        Ok(DiskData::NotFound)
    );
}

//! The save/load lifecycle driven through a whole node, with an in-memory disk that
//! answers the node's disk requests (and can be told to fail writes).

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::command::testkit::{TestNode, T0};
use crate::config::Config;
use crate::io::{ConnId, DiskData, DiskError, DiskOp, Input, Output};

#[derive(Default)]
struct Disk {
    files: BTreeMap<String, Vec<u8>>,
    fail_writes: bool,
}

impl Disk {
    fn run(&mut self, op: DiskOp) -> Result<DiskData, DiskError> {
        let failed = Err(DiskError {
            message: "No space left on device".into(),
        });
        match op {
            DiskOp::Read { path } => Ok(match self.files.get(&path) {
                Some(bytes) => DiskData::Contents(Bytes::from(bytes.clone())),
                None => DiskData::NotFound,
            }),
            DiskOp::Write { .. } | DiskOp::Append { .. } if self.fail_writes => failed,
            DiskOp::Write { path, bytes } => {
                self.files.insert(path, bytes.to_vec());
                Ok(DiskData::Done)
            }
            DiskOp::Append { path, bytes } => {
                self.files
                    .entry(path)
                    .or_default()
                    .extend_from_slice(&bytes);
                Ok(DiskData::Done)
            }
            DiskOp::Fsync { .. } => Ok(DiskData::Done),
            DiskOp::Rename { from, to } => match self.files.remove(&from) {
                Some(bytes) => {
                    self.files.insert(to, bytes);
                    Ok(DiskData::Done)
                }
                None => failed,
            },
            DiskOp::Remove { path } => {
                self.files.remove(&path);
                Ok(DiskData::Done)
            }
            DiskOp::CreateDir { .. } | DiskOp::Truncate { .. } => Ok(DiskData::Done),
        }
    }
}

/// Carries out the node's disk requests until none is left; returns what the
/// node sent meanwhile, by connection.
fn settle(t: &mut TestNode, disk: &mut Disk) -> BTreeMap<ConnId, String> {
    let mut sent: BTreeMap<ConnId, String> = BTreeMap::new();
    loop {
        let mut ops = Vec::new();
        t.effects.retain(|o| match o {
            Output::Disk { id, op } => {
                ops.push((*id, op.clone()));
                false
            }
            _ => true,
        });
        while let Some(out) = t.node.poll_output() {
            match out {
                Output::Disk { id, op } => ops.push((id, op)),
                Output::Send { conn, bytes } => sent
                    .entry(conn)
                    .or_default()
                    .push_str(&String::from_utf8_lossy(&bytes)),
                other => t.effects.push(other),
            }
        }
        if ops.is_empty() {
            return sent;
        }
        for (id, op) in ops {
            let result = disk.run(op);
            t.node.handle(t.now, Input::DiskDone { id, result });
        }
    }
}

/// Ticks until no save is in progress.
fn finish_bgsave(t: &mut TestNode, disk: &mut Disk) {
    for _ in 0..1000 {
        settle(t, disk);
        if t.cmd(1, &["INFO", "persistence"])
            .contains("rdb_bgsave_in_progress:0")
        {
            return;
        }
        t.node.handle(t.now, Input::Tick);
    }
    panic!("the background save never ended");
}

fn node_with(config: Config) -> TestNode {
    let mut t = TestNode::new(config);
    t.connect(1);
    t.connect(2);
    t
}

fn node() -> TestNode {
    node_with(Config::default())
}

fn info_field(t: &mut TestNode, name: &str) -> String {
    let info = t.cmd(1, &["INFO", "persistence"]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_owned))
        .unwrap_or_default()
}

fn dump_keys(disk: &Disk) -> usize {
    let opts =
        crate::rdb::LoadOptions::from_config(&Config::default(), crate::hash::HashKey::new(1, 2));
    crate::rdb::load_with(&disk.files["dump.rdb"], &opts)
        .expect("the dump loads")
        .key_count()
}

#[test]
fn save_replies_only_once_the_dump_is_in_place() {
    let (mut t, mut disk) = (node(), Disk::default());
    t.cmd(1, &["SET", "a", "1"]);
    t.cmd(1, &["RPUSH", "l", "x", "y"]);
    assert_eq!(t.cmd(1, &["SAVE"]), "");
    assert!(disk.files.is_empty());
    let sent = settle(&mut t, &mut disk);
    assert_eq!(sent[&1], "+OK\r\n");
    assert_eq!(disk.files.keys().collect::<Vec<_>>(), ["dump.rdb"]);
    assert_eq!(dump_keys(&disk), 2);
    assert_eq!(info_field(&mut t, "rdb_changes_since_last_save"), "0");
    // The client's next command runs as usual.
    assert_eq!(t.cmd(1, &["GET", "a"]), "$1\r\n1\r\n");
}

#[test]
fn bgsave_replies_as_redis_and_refuses_a_second_save_meanwhile() {
    let (mut t, mut disk) = (node(), Disk::default());
    t.cmd(1, &["SET", "a", "1"]);
    assert_eq!(t.cmd(1, &["BGSAVE", "x"]), "-ERR syntax error\r\n");
    assert_eq!(t.cmd(1, &["BGSAVE"]), "+Background saving started\r\n");
    assert_eq!(
        t.cmd(1, &["BGSAVE"]),
        "-ERR Background save already in progress\r\n"
    );
    assert_eq!(
        t.cmd(1, &["SAVE"]),
        "-ERR Background save already in progress\r\n"
    );
    assert_eq!(info_field(&mut t, "rdb_bgsave_in_progress"), "1");
    t.now += 3_000;
    finish_bgsave(&mut t, &mut disk);
    assert_eq!(dump_keys(&disk), 1);
    assert_eq!(info_field(&mut t, "rdb_last_bgsave_status"), "ok");
    assert_eq!(
        t.cmd(1, &["LASTSAVE"]),
        format!(":{}\r\n", (T0 + 3_000) / 1000)
    );
}

#[test]
fn a_failed_write_keeps_the_old_dump_and_writes_get_misconf() {
    let (mut t, mut disk) = (node(), Disk::default());
    t.cmd(1, &["SET", "a", "1"]);
    t.cmd(1, &["SAVE"]);
    settle(&mut t, &mut disk);
    let old = disk.files["dump.rdb"].clone();
    t.cmd(1, &["SET", "b", "2"]);
    disk.fail_writes = true;
    assert_eq!(t.cmd(1, &["BGSAVE"]), "+Background saving started\r\n");
    finish_bgsave(&mut t, &mut disk);
    assert_eq!(disk.files.keys().collect::<Vec<_>>(), ["dump.rdb"]);
    assert_eq!(disk.files["dump.rdb"], old);
    assert_eq!(info_field(&mut t, "rdb_last_bgsave_status"), "err");
    let misconf = format!("-{}\r\n", super::MISCONF);
    assert_eq!(t.cmd(1, &["SET", "c", "3"]), misconf);
    assert_eq!(t.cmd(1, &["PING"]), misconf);
    assert_eq!(t.cmd(1, &["GET", "a"]), "$1\r\n1\r\n");
    t.cmd(1, &["CONFIG", "SET", "stop-writes-on-bgsave-error", "no"]);
    assert_eq!(t.cmd(1, &["SET", "c", "3"]), "+OK\r\n");
}

#[test]
fn save_reports_a_failed_write_with_a_bare_error() {
    let (mut t, mut disk) = (node(), Disk::default());
    disk.fail_writes = true;
    t.cmd(1, &["SET", "a", "1"]);
    t.cmd(1, &["SAVE"]);
    assert_eq!(settle(&mut t, &mut disk)[&1], "-ERR\r\n");
    assert!(disk.files.is_empty());
}

#[test]
fn clients_get_loading_until_the_dump_is_read() {
    let (mut t, mut disk) = (node(), Disk::default());
    t.cmd(1, &["SET", "a", "1"]);
    t.cmd(1, &["PEXPIRE", "a", "100000"]);
    t.cmd(1, &["SET", "gone", "1"]);
    t.cmd(1, &["PEXPIRE", "gone", "10"]);
    t.cmd(1, &["SAVE"]);
    settle(&mut t, &mut disk);

    let mut t = node();
    t.now = T0 + 1_000;
    t.node.start(t.now);
    let loading = "-LOADING Redis is loading the dataset in memory\r\n";
    assert_eq!(t.cmd(1, &["GET", "a"]), loading);
    assert_eq!(t.cmd(1, &["PING"]), loading);
    settle(&mut t, &mut disk);
    assert_eq!(t.cmd(1, &["GET", "a"]), "$1\r\n1\r\n");
    assert_eq!(t.cmd(1, &["EXISTS", "gone"]), ":0\r\n");
    assert_eq!(info_field(&mut t, "rdb_last_load_keys_loaded"), "1");
    assert_eq!(info_field(&mut t, "rdb_last_load_keys_expired"), "1");
}

#[test]
fn a_missing_dump_is_an_empty_start_and_a_corrupt_one_stops_the_node() {
    let (mut t, mut disk) = (node(), Disk::default());
    t.node.start(t.now);
    settle(&mut t, &mut disk);
    assert_eq!(t.cmd(1, &["DBSIZE"]), ":0\r\n");

    disk.files
        .insert("dump.rdb".into(), b"REDIS0010\xfe\x00garbage".to_vec());
    let mut t = node();
    t.node.start(t.now);
    settle(&mut t, &mut disk);
    assert!(t.effects.contains(&Output::Stop { code: 1 }));
    let logged_offset = t
        .effects
        .iter()
        .any(|o| matches!(o, Output::Log { line, .. } if line.contains("reading offset")));
    assert!(logged_offset);
}

#[test]
fn a_save_point_starts_a_background_save_from_cron() {
    let config = Config {
        save_params: vec![(1, 2)],
        ..Config::default()
    };
    let (mut t, mut disk) = (node_with(config), Disk::default());
    t.cmd(1, &["SET", "a", "1"]);
    t.now += 2_000;
    t.node.handle(t.now, Input::Tick);
    assert_eq!(info_field(&mut t, "rdb_bgsave_in_progress"), "0");
    t.cmd(1, &["SET", "b", "1"]);
    t.now += 200;
    t.node.handle(t.now, Input::Tick);
    assert_eq!(info_field(&mut t, "rdb_bgsave_in_progress"), "1");
    finish_bgsave(&mut t, &mut disk);
    assert_eq!(dump_keys(&disk), 2);
    assert_eq!(info_field(&mut t, "rdb_changes_since_last_save"), "0");
}

#[test]
fn shutdown_saves_first_and_stops_once_the_dump_is_in_place() {
    let (mut t, mut disk) = (node(), Disk::default());
    t.cmd(1, &["SET", "a", "1"]);
    assert_eq!(t.cmd(1, &["SHUTDOWN"]), "");
    assert!(!t.effects.contains(&Output::Stop { code: 0 }));
    settle(&mut t, &mut disk);
    assert!(t.effects.contains(&Output::Stop { code: 0 }));
    assert_eq!(dump_keys(&disk), 1);
}

#[test]
fn shutdown_whose_save_fails_replies_an_error_and_keeps_running() {
    let (mut t, mut disk) = (node(), Disk::default());
    disk.fail_writes = true;
    t.cmd(1, &["SET", "a", "1"]);
    t.cmd(1, &["SHUTDOWN"]);
    let sent = settle(&mut t, &mut disk);
    assert_eq!(sent[&1], "-ERR Errors trying to SHUTDOWN. Check logs.\r\n");
    assert!(!t.effects.contains(&Output::Stop { code: 0 }));
    t.cmd(1, &["SHUTDOWN", "FORCE"]);
    settle(&mut t, &mut disk);
    assert!(t.effects.contains(&Output::Stop { code: 0 }));
}

#[test]
fn flushall_kills_a_bgsave_and_saves_the_empty_dataset() {
    let (mut t, mut disk) = (node(), Disk::default());
    t.cmd(1, &["SET", "a", "1"]);
    t.cmd(1, &["BGSAVE"]);
    assert_eq!(t.cmd(2, &["FLUSHALL"]), "+OK\r\n");
    settle(&mut t, &mut disk);
    assert_eq!(disk.files.keys().collect::<Vec<_>>(), ["dump.rdb"]);
    assert_eq!(dump_keys(&disk), 0);
    assert_eq!(info_field(&mut t, "rdb_changes_since_last_save"), "1");
    assert_eq!(info_field(&mut t, "rdb_last_bgsave_status"), "ok");
}

#[test]
fn debug_reload_saves_and_loads_the_same_data_back() {
    let config = Config {
        enable_debug_command: crate::config::ProtectedAction::Yes,
        ..Config::default()
    };
    let (mut t, mut disk) = (node_with(config), Disk::default());
    t.cmd(1, &["SET", "a", "1"]);
    t.cmd(1, &["SADD", "s", "1", "2"]);
    t.cmd(1, &["SELECT", "3"]);
    t.cmd(1, &["ZADD", "z", "1", "m"]);
    let digest = t.cmd(1, &["DEBUG", "DIGEST"]);
    assert_eq!(t.cmd(1, &["DEBUG", "RELOAD"]), "");
    assert_eq!(settle(&mut t, &mut disk)[&1], "+OK\r\n");
    assert_eq!(t.cmd(1, &["DEBUG", "DIGEST"]), digest);
    assert_eq!(dump_keys(&disk), 3);
}

fn debug_node() -> TestNode {
    node_with(Config {
        enable_debug_command: crate::config::ProtectedAction::Yes,
        ..Config::default()
    })
}

#[test]
fn debug_reload_during_a_foreground_save_replaces_its_dump() {
    let (mut t, mut disk) = (debug_node(), Disk::default());
    t.cmd(1, &["SET", "a", "1"]);
    // FLUSHALL saves the empty dataset; its dump is still on its way to disk.
    assert_eq!(t.cmd(1, &["FLUSHALL"]), "+OK\r\n");
    t.cmd(1, &["SET", "b", "1"]);
    assert_eq!(t.cmd(2, &["DEBUG", "RELOAD"]), "");
    assert_eq!(settle(&mut t, &mut disk)[&2], "+OK\r\n");
    assert_eq!(dump_keys(&disk), 1);
    assert_eq!(t.cmd(1, &["DBSIZE"]), ":1\r\n");
}

#[test]
fn debug_reload_nosave_loads_the_file_and_noflush_merge_keeps_what_is_there() {
    let (mut t, mut disk) = (debug_node(), Disk::default());
    t.cmd(1, &["SET", "a", "1"]);
    t.cmd(1, &["SAVE"]);
    settle(&mut t, &mut disk);
    t.cmd(1, &["SET", "b", "2"]);
    t.cmd(1, &["SET", "a", "changed"]);
    assert_eq!(
        t.cmd(1, &["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE"]),
        ""
    );
    assert_eq!(settle(&mut t, &mut disk)[&1], "+OK\r\n");
    assert_eq!(
        t.cmd(1, &["MGET", "a", "b"]),
        "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    );
    assert_eq!(t.cmd(1, &["DEBUG", "RELOAD", "nosave"]), "");
    assert_eq!(settle(&mut t, &mut disk)[&1], "+OK\r\n");
    assert_eq!(t.cmd(1, &["DBSIZE"]), ":1\r\n");
    assert_eq!(
        t.cmd(1, &["DEBUG", "RELOAD", "merge", "x"]),
        "-ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.\r\n"
    );
    // A missing file empties the dataset (unless NOFLUSH) and fails the load.
    disk.files.clear();
    t.cmd(1, &["DEBUG", "RELOAD", "NOSAVE"]);
    assert_eq!(
        settle(&mut t, &mut disk)[&1],
        "-ERR Error trying to load the RDB dump\r\n"
    );
    assert_eq!(t.cmd(1, &["DBSIZE"]), ":0\r\n");
}

#[test]
fn debug_reload_noflush_stops_on_a_key_already_there() {
    let (mut t, mut disk) = (debug_node(), Disk::default());
    t.cmd(1, &["SET", "a", "1"]);
    assert_eq!(t.cmd(1, &["DEBUG", "RELOAD", "NOFLUSH"]), "");
    let sent = settle(&mut t, &mut disk);
    assert!(!sent.contains_key(&1), "no reply before the stop: {sent:?}");
    assert!(t
        .effects
        .iter()
        .any(|o| matches!(o, Output::Stop { code: 1 })));
}

#[test]
fn bgsave_inside_exec_is_scheduled_for_cron() {
    let (mut t, mut disk) = (node(), Disk::default());
    t.cmd(1, &["SET", "a", "1"]);
    t.cmd(1, &["MULTI"]);
    t.cmd(1, &["BGSAVE"]);
    assert_eq!(
        t.cmd(1, &["EXEC"]),
        "*1\r\n+Background saving scheduled\r\n"
    );
    assert_eq!(info_field(&mut t, "rdb_bgsave_in_progress"), "0");
    t.now += 1_000;
    t.node.handle(t.now, Input::Tick);
    assert_eq!(info_field(&mut t, "rdb_bgsave_in_progress"), "1");
    finish_bgsave(&mut t, &mut disk);
    assert_eq!(dump_keys(&disk), 1);
}

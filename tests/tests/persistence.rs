//! RDB persistence end to end: dumps Ember writes (SAVE, BGSAVE, SHUTDOWN, SIGTERM)
//! load into a real redis-server 7.0 with identical data and pass `redis-check-rdb`;
//! a dump Redis writes loads into Ember; a BGSAVE under concurrent writes is the
//! image of the moment it started; a failed write leaves the old dump intact.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use ember_tests::Server;

/// Databases the fixture writes to.
const FIXTURE_DBS: [u32; 3] = [0, 3, 15];
/// How long a test waits for a background save or an exit (a bound, not a timing).
const WAIT_MAX: Duration = Duration::from_secs(60);

fn connect(server: &Server) -> redis::Connection {
    redis::Client::open(server.url())
        .expect("client")
        .get_connection()
        .expect("connect")
}

fn run(con: &mut redis::Connection, args: &[&str]) -> redis::Value {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn text(v: redis::Value) -> String {
    redis::from_redis_value(&v).expect("a string reply")
}

/// Every type in every encoding and size class, with deadlines, over several dbs.
fn write_fixture(con: &mut redis::Connection) {
    let far = "4102444800000"; // 2100-01-01, in ms
    let raw: String = (0..100)
        .map(|i| char::from(b'a' + (i * 7 % 26) as u8))
        .collect();
    let big: String = (0..20_000)
        .map(|i| char::from(b'!' + (i * 13 % 90) as u8))
        .collect();
    let compressible = "z".repeat(5_000);
    run(con, &["SELECT", "0"]);
    for (k, v) in [
        ("int", "12345"),
        ("negint", "-9000000000"),
        ("embstr", "hello world"),
        ("raw", raw.as_str()),
        ("big", big.as_str()),
        ("compressible", compressible.as_str()),
        ("empty", ""),
        ("binary", "\x00\x01\r\n\x7f"),
    ] {
        run(con, &["SET", k, v]);
    }
    run(con, &["PEXPIREAT", "embstr", far]);
    run(con, &["RPUSH", "list:small", "a", "1", "-5", "bb"]);
    for i in 0..2_000 {
        let e = format!("element-{i}");
        run(con, &["RPUSH", "list:big", &e]);
        run(con, &["HSET", "hash:big", &format!("f{i}"), &e]);
        run(con, &["SADD", "set:strings", &e]);
        run(
            con,
            &["ZADD", "zset:big", &(i as f64 / 3.0).to_string(), &e],
        );
    }
    for i in 0..700 {
        run(con, &["SADD", "set:bigints", &(i * 1_000_003).to_string()]);
    }
    run(con, &["RPUSH", "list:fat", &big, "x", &compressible]);
    run(con, &["HSET", "hash:small", "a", "1", "b", "two"]);
    run(con, &["HSET", "hash:longvalue", "f", &raw]);
    run(con, &["SADD", "set:ints", "1", "-2", "300000"]);
    run(
        con,
        &[
            "ZADD",
            "zset:small",
            "1",
            "a",
            "2.5",
            "b",
            "-inf",
            "c",
            "inf",
            "d",
        ],
    );
    run(con, &["ZADD", "zset:longmember", "1", &raw]);
    run(con, &["PEXPIREAT", "zset:small", far]);
    run(con, &["SELECT", "3"]);
    run(con, &["SET", "k", "in-db-3"]);
    run(con, &["RPUSH", "l", "x"]);
    run(con, &["PEXPIREAT", "l", far]);
    run(con, &["SELECT", "15"]);
    run(con, &["HSET", "h", "f", "v"]);
    run(con, &["SELECT", "0"]);
}

/// (db, key) -> type, encoding, deadline and contents (sets and hashes sorted).
type Dataset = BTreeMap<(u32, Vec<u8>), String>;

fn dataset(server: &Server) -> Dataset {
    let mut con = connect(server);
    let mut out = Dataset::new();
    for db in FIXTURE_DBS {
        run(&mut con, &["SELECT", &db.to_string()]);
        let keys: Vec<Vec<u8>> = redis::from_redis_value(&run(&mut con, &["KEYS", "*"])).unwrap();
        for key in keys {
            let k = String::from_utf8_lossy(&key).into_owned();
            let kind = text(run(&mut con, &["TYPE", &k]));
            let encoding = text(run(&mut con, &["OBJECT", "ENCODING", &k]));
            let deadline: i64 =
                redis::from_redis_value(&run(&mut con, &["PEXPIRETIME", &k])).unwrap();
            let body = match kind.as_str() {
                "string" => format!("{:?}", run(&mut con, &["GET", &k])),
                "list" => format!("{:?}", run(&mut con, &["LRANGE", &k, "0", "-1"])),
                "hash" => sorted(run(&mut con, &["HGETALL", &k]), 2),
                "set" => sorted(run(&mut con, &["SMEMBERS", &k]), 1),
                _ => format!(
                    "{:?}",
                    run(&mut con, &["ZRANGE", &k, "0", "-1", "WITHSCORES"])
                ),
            };
            out.insert((db, key), format!("{kind} {encoding} {deadline} {body}"));
        }
    }
    out
}

/// Panics naming the first key that differs (the datasets are too big to print).
fn assert_same(actual: &Dataset, expected: &Dataset, context: &str) {
    for (key, want) in expected {
        let got = actual.get(key).map(String::as_str).unwrap_or("<missing>");
        if got != want {
            let shown = |s: &str| s.chars().take(300).collect::<String>();
            panic!(
                "{context}: db {} key {:?} differs:\n  got  {}\n  want {}",
                key.0,
                String::from_utf8_lossy(&key.1),
                shown(got),
                shown(want)
            );
        }
    }
    assert_eq!(actual.len(), expected.len(), "{context}: key counts differ");
}

/// A flat array reply grouped by `width` and sorted (hash fields, set members).
fn sorted(v: redis::Value, width: usize) -> String {
    let flat: Vec<Vec<u8>> = redis::from_redis_value(&v).unwrap();
    let mut groups: Vec<Vec<Vec<u8>>> = flat.chunks(width).map(<[_]>::to_vec).collect();
    groups.sort();
    format!("{groups:?}")
}

fn check_rdb(path: &Path) {
    let out = Command::new("redis-check-rdb")
        .arg(path)
        .output()
        .expect("redis-check-rdb runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && report.contains("RDB looks OK"),
        "redis-check-rdb refused {}:\n{report}",
        path.display()
    );
}

fn info_field(con: &mut redis::Connection, name: &str) -> String {
    let info = text(run(con, &["INFO", "persistence"]));
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_owned))
        .unwrap_or_default()
}

fn wait_for_bgsave(con: &mut redis::Connection) {
    let deadline = Instant::now() + WAIT_MAX;
    while info_field(con, "rdb_bgsave_in_progress") != "0" {
        assert!(Instant::now() < deadline, "BGSAVE never ended");
        thread::sleep(Duration::from_millis(20));
    }
}

/// A server accepts connections while it loads its dump; wait until it is done.
fn wait_for_load(con: &mut redis::Connection) {
    let deadline = Instant::now() + WAIT_MAX;
    while info_field(con, "loading") != "0" {
        assert!(Instant::now() < deadline, "loading never ended");
        thread::sleep(Duration::from_millis(20));
    }
}

fn wait_for_exit(server: &mut Server) {
    let deadline = Instant::now() + WAIT_MAX;
    while server.exit_status().is_none() {
        assert!(Instant::now() < deadline, "the server did not exit");
        thread::sleep(Duration::from_millis(20));
    }
}

fn dir_arg(server: &Server) -> String {
    server.dir().to_string_lossy().into_owned()
}

#[test]
fn ember_save_and_bgsave_dumps_load_into_redis_with_identical_data() {
    let ember = Server::start_ember(&["--enable-debug-command", "yes"]);
    let mut con = connect(&ember);
    write_fixture(&mut con);
    let expected = dataset(&ember);
    let digest = text(run(&mut con, &["DEBUG", "DIGEST"]));
    for save in ["SAVE", "BGSAVE"] {
        let reply = text(run(&mut con, &[save]));
        if save == "BGSAVE" {
            assert_eq!(reply, "Background saving started");
            wait_for_bgsave(&mut con);
        }
        check_rdb(&ember.dir().join("dump.rdb"));
        let redis =
            Server::start_redis(&["--dir", &dir_arg(&ember), "--enable-debug-command", "yes"]);
        wait_for_load(&mut connect(&redis));
        assert_same(&dataset(&redis), &expected, save);
        assert_eq!(
            text(run(&mut connect(&redis), &["DEBUG", "DIGEST"])),
            digest
        );
    }
    let files: Vec<_> = std::fs::read_dir(ember.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files, ["dump.rdb"], "no temp file is left behind");
}

#[test]
fn a_dump_redis_writes_loads_into_ember() {
    let redis = Server::start_redis(&[]);
    let mut con = connect(&redis);
    write_fixture(&mut con);
    run(&mut con, &["SAVE"]);
    let ember = Server::start_ember(&["--dir", &dir_arg(&redis)]);
    let expected = dataset(&redis);
    assert_same(&dataset(&ember), &expected, "Redis's dump in Ember");
    let mut con = connect(&ember);
    let loaded = info_field(&mut con, "rdb_last_load_keys_loaded");
    assert_eq!(loaded, expected.len().to_string());
}

#[test]
fn data_survives_shutdown_save_and_sigterm_with_save_points() {
    let mut first = Server::start_ember(&[]);
    let mut con = connect(&first);
    write_fixture(&mut con);
    let expected = dataset(&first);
    // No reply: the connection closes when the server exits.
    let _ = redis::cmd("SHUTDOWN").arg("SAVE").query::<()>(&mut con);
    wait_for_exit(&mut first);

    let mut second = Server::start_ember(&["--dir", &dir_arg(&first), "--save", "3600 1"]);
    assert_same(&dataset(&second), &expected, "after SHUTDOWN SAVE");
    let mut con = connect(&second);
    run(&mut con, &["SET", "added", "before SIGTERM"]);
    let killed = Command::new("kill")
        .args(["-TERM", &second.pid().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    wait_for_exit(&mut second);

    let third = Server::start_ember(&["--dir", &dir_arg(&first)]);
    let mut con = connect(&third);
    assert_eq!(text(run(&mut con, &["GET", "added"])), "before SIGTERM");
}

#[test]
fn bgsave_under_concurrent_writes_is_the_image_of_its_start() {
    let ember = Server::start_ember(&["--enable-debug-command", "yes"]);
    let mut con = connect(&ember);
    run(&mut con, &["DEBUG", "POPULATE", "200000", "key", "40"]);
    run(&mut con, &["SELECT", "2"]);
    run(&mut con, &["DEBUG", "POPULATE", "50000", "other", "10"]);
    let digest = text(run(&mut con, &["DEBUG", "DIGEST"]));
    assert_eq!(
        text(run(&mut con, &["BGSAVE"])),
        "Background saving started"
    );
    // Writes race the walk: overwrite, delete, add and flush while it runs.
    let mut writer = connect(&ember);
    let mut pipe = redis::pipe();
    pipe.cmd("SELECT").arg(0).ignore();
    for i in (0..200_000).step_by(7) {
        pipe.cmd("SET")
            .arg(format!("key:{i}"))
            .arg("changed")
            .ignore();
        pipe.cmd("DEL").arg(format!("key:{}", i + 3)).ignore();
        pipe.cmd("SET").arg(format!("new:{i}")).arg("x").ignore();
    }
    pipe.cmd("SWAPDB").arg(0).arg(5).ignore();
    pipe.cmd("SELECT").arg(2).ignore();
    pipe.cmd("FLUSHDB").ignore();
    let () = pipe.query(&mut writer).expect("the writes run");
    wait_for_bgsave(&mut con);
    assert_eq!(info_field(&mut con, "rdb_last_bgsave_status"), "ok");
    check_rdb(&ember.dir().join("dump.rdb"));
    let redis = Server::start_redis(&["--dir", &dir_arg(&ember), "--enable-debug-command", "yes"]);
    let mut rcon = connect(&redis);
    wait_for_load(&mut rcon);
    assert_eq!(text(run(&mut rcon, &["DEBUG", "DIGEST"])), digest);
}

#[test]
fn a_failed_bgsave_write_keeps_the_old_dump_and_refuses_writes() {
    let ember = Server::start_ember(&["--save", "3600 1"]);
    let mut con = connect(&ember);
    run(&mut con, &["SET", "a", "1"]);
    run(&mut con, &["SAVE"]);
    let dump = ember.dir().join("dump.rdb");
    let old = std::fs::read(&dump).unwrap();
    // The next save's temp file cannot be created: a directory holds its name.
    let blocker = ember.dir().join(format!("temp-{}-2.rdb", ember.pid()));
    std::fs::create_dir(&blocker).unwrap();
    run(&mut con, &["SET", "b", "2"]);
    run(&mut con, &["BGSAVE"]);
    wait_for_bgsave(&mut con);
    assert_eq!(info_field(&mut con, "rdb_last_bgsave_status"), "err");
    assert_eq!(std::fs::read(&dump).unwrap(), old);
    let refused = redis::cmd("SET")
        .arg("c")
        .arg("3")
        .query::<()>(&mut con)
        .unwrap_err();
    assert_eq!(refused.code(), Some("MISCONF"));
    assert_eq!(text(run(&mut con, &["GET", "a"])), "1");
}

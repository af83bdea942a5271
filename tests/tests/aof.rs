//! The append-only file end to end, against the real Redis 7.0: the appendonlydir
//! Ember writes loads into redis-server with the same dataset and passes
//! `redis-check-aof`; the appendonlydir Redis writes (RDB-preamble and AOF bases),
//! and a single-file `appendonly.aof`, load into Ember.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use common::cmd;
use ember_tests::Server;

/// How long a test waits for a load or a rewrite (a bound, not a timing).
const WAIT_MAX: Duration = Duration::from_secs(60);

/// A directory of the test's own, removed on drop: servers get copies of each
/// other's files here, so neither removes what the other reads.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("ember-aof-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    fn arg(&self) -> String {
        self.0.to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn connect(server: &Server) -> redis::Connection {
    redis::Client::open(server.url())
        .expect("client")
        .get_connection()
        .expect("connect")
}

fn text(v: redis::Value) -> String {
    redis::from_redis_value(&v).expect("a string reply")
}

fn run(con: &mut redis::Connection, args: &[&str]) -> redis::Value {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    cmd(con, &args)
}

fn info_field(con: &mut redis::Connection, name: &str) -> String {
    let info = text(run(con, &["INFO", "persistence"]));
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_owned))
        .unwrap_or_default()
}

fn wait_for_load(con: &mut redis::Connection) {
    let deadline = Instant::now() + WAIT_MAX;
    while info_field(con, "loading") != "0" {
        assert!(Instant::now() < deadline, "loading never ended");
        thread::sleep(Duration::from_millis(20));
    }
}

/// Strings with and without deadlines, collections of every encoding, several
/// databases, a transaction, deletions and expiry rewrites.
fn write_dataset(con: &mut redis::Connection) {
    common::fill_collections(con);
    run(con, &["SET", "s:int", "12345"]);
    run(con, &["SET", "s:ttl", "v", "EX", "100000"]);
    run(con, &["SET", "s:bin", "\x00\r\n\x7f"]);
    run(con, &["INCRBYFLOAT", "s:float", "1.5"]);
    run(con, &["SET", "gone", "x"]);
    run(con, &["DEL", "gone"]);
    run(con, &["SADD", "popped", "a", "b", "c"]);
    run(con, &["SPOP", "popped"]);
    run(con, &["SELECT", "5"]);
    run(con, &["MULTI"]);
    run(con, &["INCR", "counter"]);
    run(con, &["RPUSH", "l", "x", "y"]);
    run(con, &["EXEC"]);
    run(con, &["EXPIRE", "l", "100000"]);
    run(con, &["SELECT", "15"]);
    run(con, &["HSET", "h", "f", "v"]);
    run(con, &["SELECT", "0"]);
    write_streams(con);
}

/// Streams as their effects reach the AOF: auto IDs become concrete, approximate
/// trims exact ones, XREADGROUP and XAUTOCLAIM become XCLAIM/XGROUP commands.
fn write_streams(con: &mut redis::Connection) {
    for i in 0..300 {
        run(con, &["XADD", "x", "*", "f", &i.to_string(), "g", "v"]);
    }
    run(con, &["XADD", "x", "MAXLEN", "~", "200", "*", "f", "last"]);
    run(con, &["XDEL", "x", "0-1"]);
    run(con, &["XGROUP", "CREATE", "x", "grp", "0"]);
    run(
        con,
        &[
            "XREADGROUP",
            "GROUP",
            "grp",
            "alice",
            "COUNT",
            "5",
            "STREAMS",
            "x",
            ">",
        ],
    );
    run(
        con,
        &[
            "XREADGROUP",
            "GROUP",
            "grp",
            "bob",
            "COUNT",
            "3",
            "STREAMS",
            "x",
            ">",
        ],
    );
    run(
        con,
        &["XAUTOCLAIM", "x", "grp", "carol", "0", "0-0", "COUNT", "2"],
    );
    run(con, &["XGROUP", "CREATECONSUMER", "x", "grp", "dave"]);
}

fn digest(con: &mut redis::Connection) -> String {
    text(run(con, &["DEBUG", "DIGEST"]))
}

fn check_aof(manifest: &Path) -> String {
    let out = Command::new("redis-check-aof")
        .arg(manifest)
        .output()
        .expect("redis-check-aof runs");
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && report.contains("is valid"),
        "redis-check-aof refused {}:\n{report}",
        manifest.display()
    );
    report
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Starts `redis-server` on a copy of `from`'s appendonlydir with appendonly yes.
fn redis_on_copy(from: &Path, copy: &TempDir) -> Server {
    copy_dir(&from.join("appendonlydir"), &copy.0.join("appendonlydir"));
    Server::start_redis(&[
        "--dir",
        &copy.arg(),
        "--appendonly",
        "yes",
        "--enable-debug-command",
        "yes",
    ])
}

fn ember_on_copy(from: &Path, copy: &TempDir, extra: &[&str]) -> Server {
    copy_dir(from, &copy.0);
    let dir = copy.arg();
    let mut args = vec![
        "--dir",
        &dir,
        "--appendonly",
        "yes",
        "--enable-debug-command",
        "yes",
    ];
    args.extend_from_slice(extra);
    Server::start_ember(&args)
}

#[test]
fn ember_appendonlydir_loads_into_redis_and_passes_redis_check_aof() {
    for fsync in ["always", "everysec", "no"] {
        let ember = Server::start_ember(&[
            "--appendonly",
            "yes",
            "--appendfsync",
            fsync,
            "--enable-debug-command",
            "yes",
        ]);
        let mut con = connect(&ember);
        write_dataset(&mut con);
        let expected = digest(&mut con);
        let dir = ember.dir().join("appendonlydir");
        assert_eq!(
            file_names(&dir),
            [
                "appendonly.aof.1.base.rdb",
                "appendonly.aof.1.incr.aof",
                "appendonly.aof.manifest"
            ]
        );
        assert_eq!(
            fs::read_to_string(dir.join("appendonly.aof.manifest")).unwrap(),
            "file appendonly.aof.1.base.rdb seq 1 type b\n\
             file appendonly.aof.1.incr.aof seq 1 type i\n"
        );
        check_aof(&dir.join("appendonly.aof.manifest"));
        let copy = TempDir::new();
        let redis = redis_on_copy(&ember.dir(), &copy);
        let mut rcon = connect(&redis);
        wait_for_load(&mut rcon);
        assert_eq!(digest(&mut rcon), expected, "appendfsync {fsync}");
        assert_eq!(info_field(&mut con, "aof_enabled"), "1");
    }
}

#[test]
fn redis_appendonlydir_loads_into_ember_with_either_base_format() {
    for preamble in ["yes", "no"] {
        // always: under everysec Redis may postpone a write past its reply while a
        // background fsync runs, and the copy below would miss it.
        let redis = Server::start_redis(&[
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--aof-use-rdb-preamble",
            preamble,
            "--enable-debug-command",
            "yes",
        ]);
        let mut rcon = connect(&redis);
        write_dataset(&mut rcon);
        // A rewrite puts the data in the base; more writes go to the new incr file.
        run(&mut rcon, &["BGREWRITEAOF"]);
        let deadline = Instant::now() + WAIT_MAX;
        while info_field(&mut rcon, "aof_rewrite_in_progress") != "0"
            || info_field(&mut rcon, "aof_rewrites") != "1"
        {
            assert!(Instant::now() < deadline, "the rewrite never ended");
            thread::sleep(Duration::from_millis(20));
        }
        run(&mut rcon, &["SET", "after", "rewrite"]);
        run(&mut rcon, &["RPUSH", "l:small", "more"]);
        let expected = digest(&mut rcon);
        let copy = TempDir::new();
        let ember = ember_on_copy(&redis.dir(), &copy, &[]);
        let mut con = connect(&ember);
        wait_for_load(&mut con);
        assert_eq!(
            digest(&mut con),
            expected,
            "aof-use-rdb-preamble {preamble}"
        );
        // Ember goes on appending to the incr file Redis was writing.
        run(&mut con, &["SET", "ember", "was here"]);
        let manifest = copy.0.join("appendonlydir/appendonly.aof.manifest");
        check_aof(&manifest);
    }
}

#[test]
fn a_single_file_appendonly_aof_moves_into_the_directory_as_redis_does_it() {
    let source = TempDir::new();
    // An old-style file: an RDB preamble (Redis's own base) then a command tail.
    let redis = Server::start_redis(&[
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--enable-debug-command",
        "yes",
    ]);
    let mut rcon = connect(&redis);
    write_dataset(&mut rcon);
    run(&mut rcon, &["BGREWRITEAOF"]);
    let deadline = Instant::now() + WAIT_MAX;
    while info_field(&mut rcon, "aof_rewrites") != "1"
        || info_field(&mut rcon, "aof_rewrite_in_progress") != "0"
    {
        assert!(Instant::now() < deadline, "the rewrite never ended");
        thread::sleep(Duration::from_millis(20));
    }
    run(&mut rcon, &["SET", "tail", "command"]);
    let expected = digest(&mut rcon);
    let dir = redis.dir().join("appendonlydir");
    let mut single = fs::read(dir.join("appendonly.aof.2.base.rdb")).unwrap();
    single.extend(fs::read(dir.join("appendonly.aof.2.incr.aof")).unwrap());
    fs::write(source.0.join("appendonly.aof"), &single).unwrap();

    let for_redis = TempDir::new();
    copy_dir(&source.0, &for_redis.0);
    let upgraded = Server::start_redis(&[
        "--dir",
        &for_redis.arg(),
        "--appendonly",
        "yes",
        "--enable-debug-command",
        "yes",
    ]);
    let mut ucon = connect(&upgraded);
    wait_for_load(&mut ucon);
    assert_eq!(digest(&mut ucon), expected);

    let for_ember = TempDir::new();
    let ember = ember_on_copy(&source.0, &for_ember, &[]);
    let mut con = connect(&ember);
    wait_for_load(&mut con);
    assert_eq!(digest(&mut con), expected);
    let manifest = |d: &TempDir| {
        fs::read_to_string(d.0.join("appendonlydir/appendonly.aof.manifest")).unwrap()
    };
    assert_eq!(manifest(&for_ember), manifest(&for_redis));
    assert_eq!(
        file_names(&for_ember.0.join("appendonlydir")),
        file_names(&for_redis.0.join("appendonlydir"))
    );
    assert!(!for_ember.0.join("appendonly.aof").exists());
}

#[test]
fn appendonly_wins_over_the_dump_at_start() {
    let ember = Server::start_ember(&[]);
    let mut con = connect(&ember);
    run(&mut con, &["SET", "in", "dump"]);
    run(&mut con, &["SAVE"]);
    let copy = TempDir::new();
    let with_aof = ember_on_copy(&ember.dir(), &copy, &[]);
    let mut con = connect(&with_aof);
    wait_for_load(&mut con);
    // Redis 7.0 does the same: with appendonly yes and no AOF yet, it starts empty.
    let keys: i64 = redis::from_redis_value(&run(&mut con, &["DBSIZE"])).unwrap();
    assert_eq!(keys, 0);
}

fn wait_for_rewrites(con: &mut redis::Connection, count: u32) {
    let deadline = Instant::now() + WAIT_MAX;
    while info_field(con, "aof_rewrite_in_progress") != "0"
        || info_field(con, "aof_rewrites") != count.to_string()
    {
        assert!(Instant::now() < deadline, "the rewrite never ended");
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn bgrewriteaof_under_writes_keeps_every_write_and_redis_loads_the_result() {
    let ember = Server::start_ember(&["--appendonly", "yes", "--enable-debug-command", "yes"]);
    let mut con = connect(&ember);
    write_dataset(&mut con);
    let mut pipe = redis::pipe();
    for i in 0..100_000 {
        pipe.cmd("SET").arg(format!("key:{i}")).arg(i).ignore();
    }
    let () = pipe.query(&mut con).expect("the writes run");
    assert_eq!(
        text(run(&mut con, &["BGREWRITEAOF"])),
        "Background append only file rewriting started"
    );
    // Writes race the walk: they must end up in the new incr file, once.
    let mut writer = connect(&ember);
    let mut pipe = redis::pipe();
    for i in (0..100_000).step_by(3) {
        pipe.cmd("INCR").arg(format!("key:{i}")).ignore();
        pipe.cmd("DEL").arg(format!("key:{}", i + 1)).ignore();
        pipe.cmd("INCR").arg("counter").ignore();
    }
    let () = pipe.query(&mut writer).expect("the writes run");
    wait_for_rewrites(&mut con, 1);
    assert_eq!(info_field(&mut con, "aof_last_bgrewrite_status"), "ok");
    let expected = digest(&mut con);
    let dir = ember.dir().join("appendonlydir");
    assert_eq!(
        file_names(&dir),
        [
            "appendonly.aof.2.base.rdb",
            "appendonly.aof.2.incr.aof",
            "appendonly.aof.manifest"
        ]
    );
    check_aof(&dir.join("appendonly.aof.manifest"));
    assert!(
        !file_names(&ember.dir())
            .iter()
            .any(|n| n.starts_with("temp-")),
        "no temp file is left behind"
    );
    let copy = TempDir::new();
    let redis = redis_on_copy(&ember.dir(), &copy);
    let mut rcon = connect(&redis);
    wait_for_load(&mut rcon);
    assert_eq!(digest(&mut rcon), expected);
}

#[test]
fn config_set_appendonly_yes_at_runtime_makes_an_aof_redis_loads() {
    let ember = Server::start_ember(&["--enable-debug-command", "yes"]);
    let mut con = connect(&ember);
    write_dataset(&mut con);
    run(&mut con, &["CONFIG", "SET", "appendonly", "yes"]);
    wait_for_rewrites(&mut con, 1);
    assert_eq!(info_field(&mut con, "aof_enabled"), "1");
    run(&mut con, &["SET", "after", "switch"]);
    let expected = digest(&mut con);
    let dir = ember.dir().join("appendonlydir");
    assert_eq!(
        fs::read_to_string(dir.join("appendonly.aof.manifest")).unwrap(),
        "file appendonly.aof.1.base.rdb seq 1 type b\n\
         file appendonly.aof.1.incr.aof seq 1 type i\n"
    );
    check_aof(&dir.join("appendonly.aof.manifest"));
    let copy = TempDir::new();
    let redis = redis_on_copy(&ember.dir(), &copy);
    let mut rcon = connect(&redis);
    wait_for_load(&mut rcon);
    assert_eq!(digest(&mut rcon), expected);
}

/// Runs a checker on `path` with `stdin`; returns its stdout and exit status.
fn run_checker(program: &Path, args: &[&str], path: &Path, stdin: &str) -> (String, i32) {
    use std::io::Write;
    let ember = program.ends_with("ember-server");
    let mut child = Command::new(program)
        .args(ember.then_some("--check-aof"))
        .args(args)
        .arg(path)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the checker runs");
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin.as_bytes());
    }
    let out = child.wait_with_output().expect("the checker ends");
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    (report, out.status.code().unwrap_or(-1))
}

#[test]
fn check_aof_reports_and_fixes_what_redis_check_aof_does() {
    let ember = ember_tests::ember_binary().to_path_buf();
    let redis = PathBuf::from("redis-check-aof");
    let cases: &[&[u8]] = &[
        b"*1\r\n$4\r\nPING\r\n",
        b"*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nx",
        b"*3\r\n$3\r\nSET\r\n$1\r\nxgarbage\r\n",
        b"*1\r\n$4\r\nPING\r\nx4\r\n",
        b"#TS:5\r\n*1\r\n$4\r\nPING\r\n#TS:6\r\n*1\r\n$4\r\nPI",
        b"*1\r\n$5\r\nMULTI\r\n*1\r\n$4\r\nPING\r\n",
        b"*1\r\n$4\r\nEXEC\r\n",
        b"*1\r\n$-4\r\nPING\r\n",
        b"*1\n$4\r\nPING\r\n",
        b"",
    ];
    let dir = TempDir::new();
    for (i, bytes) in cases.iter().enumerate() {
        for (args, stdin) in [(&[][..], ""), (&["--fix"][..], "y\n")] {
            let file = |who: &str| {
                let path = dir.0.join(format!("{i}-{who}.aof"));
                fs::write(&path, bytes).unwrap();
                path
            };
            // The same name in both reports: each checker gets its own copy.
            let (theirs_path, ours_path) = (file("r"), file("e"));
            let (theirs, theirs_code) = run_checker(&redis, args, &theirs_path, stdin);
            let (ours, ours_code) = run_checker(&ember, args, &ours_path, stdin);
            let ours = ours.replace("-e.aof", "-r.aof");
            assert_eq!(
                ours,
                theirs,
                "case {i} {args:?}: {:?}",
                String::from_utf8_lossy(bytes)
            );
            assert_eq!(ours_code, theirs_code, "case {i} {args:?}");
            assert_eq!(
                fs::read(&ours_path).unwrap(),
                fs::read(&theirs_path).unwrap()
            );
        }
    }
}

#[test]
fn check_aof_reads_a_redis_appendonlydir_with_its_rdb_base_as_redis_check_aof() {
    let redis = Server::start_redis(&["--appendonly", "yes", "--appendfsync", "always"]);
    let mut rcon = connect(&redis);
    write_dataset(&mut rcon);
    let ember = ember_tests::ember_binary().to_path_buf();
    let tool = PathBuf::from("redis-check-aof");
    let theirs_dir = TempDir::new();
    copy_dir(&redis.dir().join("appendonlydir"), &theirs_dir.0);
    let incr = theirs_dir.0.join("appendonly.aof.1.incr.aof");
    let mut torn = fs::read(&incr).unwrap();
    torn.truncate(torn.len() - 3);
    fs::write(&incr, &torn).unwrap();
    let ours_dir = TempDir::new();
    copy_dir(&theirs_dir.0, &ours_dir.0);
    let manifest = "appendonly.aof.manifest";
    for (args, stdin) in [(&[][..], ""), (&["--fix"][..], "y\n"), (&[][..], "")] {
        let (theirs, theirs_code) = run_checker(&tool, args, &theirs_dir.0.join(manifest), stdin);
        let (ours, ours_code) = run_checker(&ember, args, &ours_dir.0.join(manifest), stdin);
        assert_eq!(
            ours.replace(&ours_dir.arg(), &theirs_dir.arg()),
            theirs,
            "{args:?}"
        );
        assert_eq!(ours_code, theirs_code);
    }
    // Ember also takes the directory itself.
    let (ours, code) = run_checker(&ember, &[], &ours_dir.0, "");
    assert_eq!(code, 0, "{ours}");
    assert!(ours.ends_with("All AOF files and manifest are valid\n"));
}

/// Writers on their own lists: each pushes 0, 1, 2... waiting for every reply, and
/// records the last value acknowledged. Stops when the server goes away.
fn spawn_writers(server: &Server, count: usize) -> Vec<thread::JoinHandle<i64>> {
    (0..count)
        .map(|w| {
            let url = server.url();
            thread::spawn(move || {
                let Ok(mut con) = redis::Client::open(url).and_then(|c| c.get_connection()) else {
                    return -1;
                };
                let mut acked = -1;
                for i in 0.. {
                    let pushed: redis::RedisResult<i64> = redis::cmd("RPUSH")
                        .arg(format!("list:{w}"))
                        .arg(i)
                        .query(&mut con);
                    if pushed.is_err() {
                        break;
                    }
                    acked = i;
                }
                acked
            })
        })
        .collect()
}

fn kill_9(server: &mut Server) {
    let status = Command::new("kill")
        .args(["-9", &server.pid().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + WAIT_MAX;
    while server.exit_status().is_none() {
        assert!(Instant::now() < deadline, "the server did not die");
        thread::sleep(Duration::from_millis(10));
    }
}

/// After a restart every list holds 0..=n with n at least what was acknowledged:
/// acknowledged writes survived, and what survived is a prefix of what was sent.
fn assert_acknowledged_prefixes(server: &Server, acked: &[i64]) {
    let mut con = connect(server);
    wait_for_load(&mut con);
    for (w, &last) in acked.iter().enumerate() {
        let items: Vec<i64> =
            redis::from_redis_value(&run(&mut con, &["LRANGE", &format!("list:{w}"), "0", "-1"]))
                .unwrap();
        let prefix = items.iter().enumerate().all(|(i, &v)| v == i as i64);
        assert!(
            prefix,
            "writer {w}: not a prefix of what was sent: {items:?}"
        );
        assert!(
            items.len() as i64 > last,
            "writer {w}: acknowledged {last}, found {} items",
            items.len()
        );
    }
}

#[test]
fn kill_9_during_writes_and_during_a_rewrite_keeps_every_acknowledged_write() {
    for during_rewrite in [false, true] {
        let mut ember = Server::start_ember(&["--appendonly", "yes", "--appendfsync", "always"]);
        if during_rewrite {
            let mut con = connect(&ember);
            let mut pipe = redis::pipe();
            for i in 0..200_000 {
                pipe.cmd("SET").arg(format!("key:{i}")).arg(i).ignore();
            }
            let () = pipe.query(&mut con).expect("the writes run");
        }
        let writers = spawn_writers(&ember, 4);
        thread::sleep(Duration::from_millis(300));
        if during_rewrite {
            let mut con = connect(&ember);
            run(&mut con, &["BGREWRITEAOF"]);
            thread::sleep(Duration::from_millis(30));
        }
        kill_9(&mut ember);
        let acked: Vec<i64> = writers.into_iter().map(|w| w.join().unwrap()).collect();
        assert!(acked.iter().all(|&a| a > 0), "the writers ran: {acked:?}");
        let restarted = Server::start_ember(&[
            "--dir",
            &ember.dir().to_string_lossy(),
            "--appendonly",
            "yes",
        ]);
        assert_acknowledged_prefixes(&restarted, &acked);
        if during_rewrite {
            let mut con = connect(&restarted);
            let keys: i64 = redis::from_redis_value(&run(&mut con, &["DBSIZE"])).unwrap();
            assert_eq!(keys, 200_000 + 4, "the keys written before the rewrite");
        }
    }
}

/// The names of INFO persistence's fields, in order.
fn persistence_field_names(con: &mut redis::Connection) -> Vec<String> {
    let info = text(run(con, &["INFO", "persistence"]));
    info.lines()
        .filter_map(|l| l.split_once(':').map(|(name, _)| name.to_string()))
        .collect()
}

#[test]
fn info_persistence_prints_the_aof_fields_redis_prints() {
    for aof in ["no", "yes"] {
        let redis = Server::start_redis(&["--appendonly", aof]);
        let ember = Server::start_ember(&["--appendonly", aof]);
        let (mut rcon, mut con) = (connect(&redis), connect(&ember));
        wait_for_load(&mut rcon);
        assert_eq!(
            persistence_field_names(&mut con),
            persistence_field_names(&mut rcon),
            "appendonly {aof}"
        );
        for field in [
            "aof_enabled",
            "aof_rewrites",
            "aof_last_write_status",
            "aof_base_size",
        ] {
            assert_eq!(
                info_field(&mut con, field),
                info_field(&mut rcon, field),
                "{field} with appendonly {aof}"
            );
        }
        if aof == "yes" {
            run(&mut con, &["SET", "k", "v"]);
            run(&mut rcon, &["SET", "k", "v"]);
            assert_eq!(
                info_field(&mut con, "aof_current_size"),
                info_field(&mut rcon, "aof_current_size")
            );
        }
    }
}

#[test]
fn a_rewritten_base_carries_function_libraries_into_redis_and_back() {
    let ember = Server::start_ember(&["--appendonly", "yes"]);
    let mut con = connect(&ember);
    let library =
        "#!lua name=rewritelib\nredis.register_function('rw_hello', function() return 'hi' end)";
    assert_eq!(
        text(run(&mut con, &["FUNCTION", "LOAD", library])),
        "rewritelib"
    );
    run(&mut con, &["SET", "k", "v"]);
    run(&mut con, &["BGREWRITEAOF"]);
    wait_for_rewrites(&mut con, 1);
    // The incr file that held FUNCTION LOAD is history now: only the base has it.
    let copy = TempDir::new();
    let redis = redis_on_copy(&ember.dir(), &copy);
    let mut rcon = connect(&redis);
    wait_for_load(&mut rcon);
    assert_eq!(text(run(&mut rcon, &["FCALL", "rw_hello", "0"])), "hi");
    let again = TempDir::new();
    let ember2 = ember_on_copy(&ember.dir(), &again, &[]);
    let mut econ = connect(&ember2);
    wait_for_load(&mut econ);
    assert_eq!(text(run(&mut econ, &["FCALL", "rw_hello", "0"])), "hi");
    assert_eq!(text(run(&mut econ, &["GET", "k"])), "v");
}

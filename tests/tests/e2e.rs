//! End-to-end tests: the real `ember-server` binary, driven by the `redis` crate,
//! `redis-cli` and `redis-benchmark` exactly as users drive Redis.

use std::process::Command;
use std::time::{Duration, Instant};

use ember_tests::{ember_binary, free_port, RawConn, Server};
use redis::Commands;

fn client(server: &Server) -> redis::Connection {
    redis::Client::open(server.url())
        .expect("client")
        .get_connection()
        .expect("connect")
}

fn cli(server: &Server, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .arg("-p")
        .arg(server.port().to_string())
        .args(args)
        .output()
        .expect("redis-cli must be installed (apt-get install redis-tools)");
    assert!(out.status.success(), "redis-cli {args:?} failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn redis_crate_round_trips_strings_counters_and_expiry() {
    let server = Server::start_ember(&[]);
    let mut con = client(&server);
    let _: () = con.set("greeting", "hello").unwrap();
    assert_eq!(con.get::<_, String>("greeting").unwrap(), "hello");
    assert_eq!(con.incr::<_, _, i64>("counter", 5).unwrap(), 5);
    assert_eq!(con.incr::<_, _, i64>("counter", -7).unwrap(), -2);
    let both: Vec<Option<String>> = con.mget(&["greeting", "absent"]).unwrap();
    assert_eq!(both, vec![Some("hello".to_string()), None]);
    let _: () = con.expire("greeting", 100).unwrap();
    let ttl: i64 = con.ttl("greeting").unwrap();
    assert!((99..=100).contains(&ttl), "ttl {ttl}");
    assert!(
        con.get::<_, i64>("greeting").is_err(),
        "a non-number must not parse as i64"
    );
}

#[test]
fn a_pipeline_of_many_commands_answers_in_order() {
    let server = Server::start_ember(&[]);
    let mut con = client(&server);
    let mut pipe = redis::pipe();
    for i in 0..1000 {
        pipe.cmd("INCR")
            .arg("n")
            .cmd("SET")
            .arg(format!("k{i}"))
            .arg(i)
            .ignore();
    }
    let counts: Vec<i64> = pipe.query(&mut con).unwrap();
    assert_eq!(counts, (1..=1000).collect::<Vec<i64>>());
    assert_eq!(con.get::<_, i64>("k999").unwrap(), 999);
}

#[test]
fn large_values_arrive_in_many_reads_and_come_back_intact() {
    let server = Server::start_ember(&[]);
    let mut con = client(&server);
    let value: Vec<u8> = (0..5_000_000u32).map(|i| (i % 251) as u8).collect();
    let _: () = con.set("big", &value).unwrap();
    assert_eq!(con.get::<_, Vec<u8>>("big").unwrap(), value);
    assert_eq!(con.strlen::<_, usize>("big").unwrap(), value.len());
}

#[test]
fn redis_cli_works_unchanged() {
    let server = Server::start_ember(&[]);
    assert_eq!(cli(&server, &["ping"]), "PONG\n");
    assert_eq!(cli(&server, &["set", "a", "1 2 3"]), "OK\n");
    assert_eq!(cli(&server, &["--raw", "get", "a"]), "1 2 3\n");
    assert!(cli(&server, &["info", "server"]).contains("redis_version:7.0.15"));
}

#[test]
fn redis_benchmark_runs_against_ember_at_both_pipeline_depths() {
    let server = Server::start_ember(&[]);
    for pipeline in ["1", "16"] {
        let out = Command::new("redis-benchmark")
            .args(["-p", &server.port().to_string(), "-t", "set,get,incr,mset"])
            .args(["-n", "2000", "-c", "10", "-P", pipeline, "-q"])
            .output()
            .expect("redis-benchmark must be installed (apt-get install redis-tools)");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "redis-benchmark failed: {text}");
        for test in ["SET", "GET", "INCR", "MSET"] {
            assert!(
                // Progress updates are overwritten in place with '\r'; the result
                // is the last segment of its line.
                text.split(['\n', '\r'])
                    .any(|l| l.trim_start().starts_with(test) && l.contains("requests per second")),
                "no {test} result at -P {pipeline}: {text}"
            );
        }
    }
}

#[test]
fn garbage_bytes_never_take_the_server_down() {
    let server = Server::start_ember(&[]);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..50 {
        let mut conn = RawConn::connect(server.port());
        let garbage: Vec<u8> = (0..4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        let _ = conn.try_send_raw(&garbage);
        let _ = conn.try_send_raw(b"\r\n*2\r\n$-1\r\n*99999999999\r\n");
    }
    let mut conn = RawConn::connect(server.port());
    conn.send_command(&["PING"]);
    assert_eq!(conn.read_reply(), b"+PONG\r\n");
}

#[test]
fn config_file_then_command_line_overrides_apply_in_order() {
    let dir = std::env::temp_dir().join(format!("ember-e2e-conf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("redis.conf");
    std::fs::write(&conf, "# a comment\nhz 50\ndatabases 4\nmaxmemory 10mb\n").unwrap();
    let server = Server::start_ember(&[conf.to_str().unwrap(), "--databases", "8"]);
    let mut con = client(&server);
    let get = |con: &mut redis::Connection, name: &str| -> String {
        let pair: Vec<String> = redis::cmd("CONFIG")
            .arg("GET")
            .arg(name)
            .query(con)
            .unwrap();
        pair[1].clone()
    };
    assert_eq!(get(&mut con, "hz"), "50");
    assert_eq!(get(&mut con, "databases"), "8");
    assert_eq!(get(&mut con, "maxmemory"), "10485760");
    drop(server);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs a server binary with a config file expected to be refused and returns what
/// it printed (stdout and stderr) and whether it failed.
fn refused_config_output(binary: &str, conf_text: &str, extra: &[&str]) -> (bool, String) {
    let dir = std::env::temp_dir().join(format!(
        "ember-e2e-bad-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("bad.conf");
    std::fs::write(&conf, conf_text).unwrap();
    let mut child = Command::new(binary)
        .arg(&conf)
        .args(["--port", &free_port().to_string(), "--bind", "127.0.0.1"])
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run server");
    // A server that wrongly accepts the file would run forever: bound the wait.
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().expect("wait").is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if child.try_wait().expect("wait").is_none() {
        child.kill().expect("kill the server this test started");
    }
    let out = child.wait_with_output().expect("collect output");
    std::fs::remove_dir_all(&dir).unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (!out.status.success(), text)
}

#[test]
fn unknown_directives_are_refused_with_the_file_line_as_redis_does() {
    let cases: [(&str, &[&str]); 3] = [
        ("hz 10\nno-such-directive yes\n", &[]),
        ("hz notanumber\n", &[]),
        ("hz 10\n", &["--bogus", "1"]),
    ];
    for (conf, extra) in cases {
        let (ember_failed, ember_out) =
            refused_config_output(ember_binary().to_str().unwrap(), conf, extra);
        let (redis_failed, redis_out) = refused_config_output("redis-server", conf, extra);
        assert!(
            redis_failed && ember_failed,
            "both must refuse {conf:?} {extra:?}"
        );
        let key_lines = |text: &str| -> Vec<String> {
            text.lines()
                .filter(|l| {
                    l.starts_with("Reading the configuration file")
                        || l.starts_with(">>>")
                        || l.starts_with("Bad")
                        || l.contains("argument")
                })
                .map(str::to_string)
                .collect()
        };
        assert_eq!(
            key_lines(&ember_out),
            key_lines(&redis_out),
            "for {conf:?} {extra:?}:\n{ember_out}\nvs\n{redis_out}"
        );
    }
}

#[test]
fn sigterm_shuts_the_server_down_cleanly() {
    let mut server = Server::start_ember(&[]);
    let status = Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(exit) = server.exit_status() {
            assert!(exit.success(), "exit status {exit:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "server still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn shutdown_command_stops_the_server_with_exit_code_zero() {
    let mut server = Server::start_ember(&[]);
    let mut conn = server.connect();
    conn.send_command(&["SHUTDOWN", "NOSAVE"]);
    let _ = conn.try_read_until_close();
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.exit_status().is_none() {
        assert!(
            Instant::now() < deadline,
            "server still running after SHUTDOWN"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(server.exit_status().unwrap().success());
}

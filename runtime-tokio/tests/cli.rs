//! The ember-server binary's command line and config file handling, checked against
//! redis-server's behaviour where Redis is the oracle (fatal config errors).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const EMBER: &str = env!("CARGO_BIN_EXE_ember-server");
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("ember-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running server, killed on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_port(port: u16) -> TcpStream {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    loop {
        if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) {
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .expect("set timeout");
            return stream;
        }
        assert!(Instant::now() < deadline, "server on {port} never accepted");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends one inline command and returns the raw reply (read until it looks whole).
fn command(stream: &mut TcpStream, line: &str) -> String {
    stream
        .write_all(format!("{line}\r\n").as_bytes())
        .expect("write");
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).expect("read");
        assert!(n > 0, "connection closed");
        reply.extend_from_slice(&buf[..n]);
        if reply_complete(&reply) {
            return String::from_utf8_lossy(&reply).into_owned();
        }
    }
}

/// Whether `reply` holds one whole simple reply or flat array of bulk strings.
fn reply_complete(reply: &[u8]) -> bool {
    let text = String::from_utf8_lossy(reply);
    let Some(first) = text.chars().next() else {
        return false;
    };
    if !text.ends_with("\r\n") {
        return false;
    }
    match first {
        '*' | '%' => {
            let header_end = text.find("\r\n").unwrap_or(0);
            let count: usize = text[1..header_end].parse().unwrap_or(0);
            let elements = if first == '%' { count * 2 } else { count };
            // Each bulk string is two lines.
            text.matches("\r\n").count() > elements * 2
        }
        '$' => text.matches("\r\n").count() >= 2 || text.starts_with("$-1"),
        _ => true,
    }
}

fn run(binary: &str, args: &[&str], dir: &Path) -> Output {
    Command::new(binary)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {binary}: {e}"))
}

#[test]
fn version_flag_keeps_the_redis_version_field() {
    for flag in ["-v", "--version"] {
        let out = run(EMBER, &[flag], &std::env::temp_dir());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success());
        assert!(text.contains(" v=7.0.15 "), "{text}");
        assert!(text.starts_with("Ember server "), "{text}");
    }
}

#[test]
fn help_flag_prints_usage_and_fails() {
    let out = run(EMBER, &["--help"], &std::env::temp_dir());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Usage:"));
}

/// Fatal config errors print the same block to stderr and exit with the same code
/// as redis-server.
#[test]
fn fatal_config_errors_match_redis_server() {
    let dir = TempDir::new("fatal");
    let bad_file = dir.path("bad.conf");
    std::fs::write(&bad_file, "port 7000\nfoo bar\n").expect("write conf");
    let bad_file = bad_file.to_string_lossy().into_owned();
    let unbalanced = dir.path("quotes.conf");
    std::fs::write(&unbalanced, "# x\n\nport \"7000\n").expect("write conf");
    let unbalanced = unbalanced.to_string_lossy().into_owned();
    let cases: Vec<Vec<&str>> = vec![
        vec!["--foo", "bar"],
        vec!["--port", "7000", "--hz", "abc"],
        vec!["--port", "99999"],
        vec!["--maxmemory", "1x"],
        vec!["--loglevel", "loud"],
        vec!["--save", "3600 1 abc"],
        vec!["--dir", "/nonexistent/dir"],
        vec!["--logfile", "/nonexistent/dir/log"],
        vec!["--port", "1", "plain"],
        vec!["--shutdown-on-sigint", "save", "nosave"],
        vec!["--cluster-enabled", "yes", "--replicaof", "1.2.3.4", "5"],
        vec![bad_file.as_str()],
        vec![unbalanced.as_str(), "--port", "1"],
    ];
    for args in cases {
        let ember = run(EMBER, &args, &dir.0);
        let redis = run("redis-server", &args, &dir.0);
        assert_eq!(
            String::from_utf8_lossy(&ember.stderr),
            String::from_utf8_lossy(&redis.stderr),
            "stderr for {args:?}"
        );
        assert_eq!(
            ember.status.code(),
            redis.status.code(),
            "exit code for {args:?}"
        );
    }
}

#[test]
fn missing_config_file_is_fatal() {
    let out = run(EMBER, &["/nonexistent/ember.conf"], &std::env::temp_dir());
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Fatal error, can't open config file '/nonexistent/ember.conf': No such file or directory"),
        "{text}"
    );
}

#[test]
fn config_file_and_options_are_served_and_rewritten() {
    let dir = TempDir::new("rewrite");
    let port = free_port();
    let conf = dir.path("ember.conf");
    std::fs::write(
        &conf,
        format!("# test config\nport {port}\nbind 127.0.0.1\nsave \"\"\nhz 15\nhash-max-ziplist-entries 99\n"),
    )
    .expect("write conf");
    let child = Command::new(EMBER)
        .arg(&conf)
        .args(["--maxmemory", "2mb"])
        .current_dir(&dir.0)
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    let _server = Running(child);
    let mut conn = wait_for_port(port);
    assert_eq!(
        command(&mut conn, "CONFIG GET hz"),
        "*2\r\n$2\r\nhz\r\n$2\r\n15\r\n"
    );
    assert_eq!(
        command(&mut conn, "CONFIG GET maxmemory"),
        "*2\r\n$9\r\nmaxmemory\r\n$7\r\n2097152\r\n"
    );
    assert_eq!(command(&mut conn, "CONFIG SET hz 33"), "+OK\r\n");
    assert_eq!(command(&mut conn, "CONFIG REWRITE"), "+OK\r\n");
    let text = std::fs::read_to_string(&conf).expect("read conf");
    assert!(text.starts_with("# test config\n"), "{text}");
    assert!(text.contains("\nhz 33\n"), "{text}");
    assert!(text.contains("\nhash-max-listpack-entries 99\n"), "{text}");
    assert!(text.contains("# Generated by CONFIG REWRITE\n"), "{text}");
    assert!(text.contains("\nmaxmemory 2mb\n"), "{text}");
}

#[test]
fn config_from_stdin_is_read() {
    let port = free_port();
    let mut child = Command::new(EMBER)
        .args(["-", "--save", ""])
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(format!("port {port}\nbind 127.0.0.1\nhz 42\n").as_bytes())
        .expect("write stdin");
    drop(stdin);
    let _server = Running(child);
    let mut conn = wait_for_port(port);
    assert_eq!(
        command(&mut conn, "CONFIG GET hz"),
        "*2\r\n$2\r\nhz\r\n$2\r\n42\r\n"
    );
}

#[test]
fn daemonize_detaches_and_writes_the_pidfile() {
    let dir = TempDir::new("daemon");
    let port = free_port();
    let pidfile = dir.path("ember.pid");
    let logfile = dir.path("ember.log");
    let out = run(
        EMBER,
        &[
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--daemonize",
            "yes",
            "--pidfile",
            &pidfile.to_string_lossy(),
            "--logfile",
            &logfile.to_string_lossy(),
        ],
        &dir.0,
    );
    assert!(out.status.success(), "the parent exits at once with 0");
    let mut conn = wait_for_port(port);
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .expect("pidfile written")
        .trim()
        .parse()
        .expect("pid");
    assert_eq!(
        command(&mut conn, "CONFIG GET daemonize"),
        "*2\r\n$9\r\ndaemonize\r\n$3\r\nyes\r\n"
    );
    // SAFETY: kill only signals the daemon this test started, by its pid.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    while pidfile.exists() {
        assert!(Instant::now() < deadline, "pidfile not removed at exit");
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = std::fs::read_to_string(&logfile).expect("logfile written");
    assert!(log.contains("Ready to accept connections"), "{log}");
}

#[test]
fn config_set_port_moves_the_listener() {
    let port = free_port();
    let child = Command::new(EMBER)
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    let _server = Running(child);
    let mut conn = wait_for_port(port);
    let new_port = free_port();
    assert_eq!(
        command(&mut conn, &format!("CONFIG SET port {new_port}")),
        "+OK\r\n"
    );
    // The existing connection stays; new ones go to the new port only.
    assert_eq!(command(&mut conn, "PING"), "+PONG\r\n");
    let mut moved = wait_for_port(new_port);
    assert_eq!(command(&mut moved, "PING"), "+PONG\r\n");
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn unixsocket_serves_clients_and_is_removed_at_exit() {
    let dir = TempDir::new("unix");
    let socket = dir.path("ember.sock");
    let mut child = Command::new(EMBER)
        .args(["--port", "0", "--save", "", "--unixsocket"])
        .arg(&socket)
        .args(["--unixsocketperm", "700"])
        .current_dir(&dir.0)
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    let mut stream = loop {
        if let Ok(s) = std::os::unix::net::UnixStream::connect(&socket) {
            break s;
        }
        assert!(Instant::now() < deadline, "unix socket never accepted");
        std::thread::sleep(Duration::from_millis(20));
    };
    stream.write_all(b"PING\r\n").expect("write");
    let mut reply = [0u8; 7];
    stream.read_exact(&mut reply).expect("read");
    assert_eq!(&reply, b"+PONG\r\n");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&socket)
        .expect("socket file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
    // SAFETY: signals only the child this test started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    child.wait().expect("wait");
    assert!(!socket.exists(), "socket file removed at exit");
}

//! Starting and stopping real servers: each `Server` owns its port, its directory
//! and its process, and stops exactly what it started.

use std::fs::{self, File};
use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use crate::conn::RawConn;

/// How long a server may take to accept connections.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
const STARTUP_POLL_INTERVAL: Duration = Duration::from_millis(20);
/// Fresh ports tried when another process grabs ours between `free_port` and bind.
const PORT_ATTEMPTS_MAX: u32 = 3;
/// Names tried when a stale temp dir (same pid, earlier run) is in the way.
const TEMP_DIR_ATTEMPTS_MAX: u32 = 100;
const REDIS_MISSING: &str = "redis-server not found on PATH: the differential tests \
    need the real Redis as their oracle and never skip (apt-get install -y redis-server)";
/// Log lines shown when a server fails.
const LOG_TAIL_LINES: usize = 40;

/// A port on 127.0.0.1 that was free a moment ago: bind port 0, read it, release it.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap_or_else(|error| panic!("cannot bind 127.0.0.1:0: {error}"));
    listener
        .local_addr()
        .expect("bound socket has an address")
        .port()
}

/// Which implementation a `Server` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    Redis,
    Ember,
}

impl ServerKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Redis => "redis-server",
            Self::Ember => "ember-server",
        }
    }

    fn binary(self) -> PathBuf {
        match self {
            Self::Redis => PathBuf::from("redis-server"),
            Self::Ember => ember_binary().to_path_buf(),
        }
    }
}

/// Resident memory of a server process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    pub rss_bytes: u64,
    pub peak_bytes: u64,
}

/// A running server on a loopback port, killed and cleaned up on drop.
pub struct Server {
    kind: ServerKind,
    port: u16,
    child: Child,
    /// Holds `data/` (the server's `--dir`) and the captured stdout/stderr.
    root: PathBuf,
}

impl Server {
    /// Starts `redis-server`; panics (never skips) if it is not installed.
    pub fn start_redis(extra_args: &[&str]) -> Server {
        Self::start(ServerKind::Redis, extra_args)
    }

    /// Starts `ember-server` (see [`ember_binary`]) with redis-server's command line.
    pub fn start_ember(extra_args: &[&str]) -> Server {
        Self::start(ServerKind::Ember, extra_args)
    }

    /// Starts `kind` with `--port P --bind 127.0.0.1 --save "" --appendonly no
    /// --daemonize no --dir <fresh dir>` then `extra_args`, and waits until it accepts
    /// connections. A leading `extra_args` entry that is not a `--directive` is taken
    /// as a config file path and goes first, where redis-server expects it.
    pub fn start(kind: ServerKind, extra_args: &[&str]) -> Server {
        Self::start_limited(kind, extra_args, None)
    }

    /// Like [`Server::start`], with the process's address space capped at
    /// `address_space_bytes` (`ulimit -v`), so an input that makes the server
    /// allocate without bound fails an allocation in the server instead of
    /// exhausting the machine.
    pub fn start_limited(
        kind: ServerKind,
        extra_args: &[&str],
        address_space_bytes: Option<u64>,
    ) -> Server {
        for _ in 0..PORT_ATTEMPTS_MAX {
            let mut server = Self::spawn(kind, free_port(), extra_args, address_space_bytes);
            match server.wait_until_accepting() {
                Ok(()) => return server,
                Err(logs) if logs.contains("Address already in use") => continue,
                Err(logs) => panic!("{} failed to start:\n{logs}", kind.name()),
            }
        }
        panic!(
            "{} found no free port in {PORT_ATTEMPTS_MAX} attempts",
            kind.name()
        );
    }

    pub fn kind(&self) -> ServerKind {
        self.kind
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's `--dir`, empty at start and removed on drop.
    pub fn dir(&self) -> PathBuf {
        self.root.join("data")
    }

    /// A URL for the `redis` crate.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn connect(&self) -> RawConn {
        RawConn::connect(self.port)
    }

    /// The exit status if the process has ended (crashed, or was told to SHUTDOWN).
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The process's resident memory now and at its peak since start or since the
    /// last [`Server::reset_peak_memory`] (`VmRSS` and `VmHWM` of
    /// `/proc/<pid>/status`); `None` once the process is gone or off Linux.
    pub fn memory(&self) -> Option<Memory> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let field = |name: &str| -> Option<u64> {
            let line = status.lines().find(|line| line.starts_with(name))?;
            let kib = line[name.len()..].trim().trim_end_matches("kB").trim();
            kib.parse::<u64>().ok().map(|kib| kib * 1024)
        };
        Some(Memory {
            rss_bytes: field("VmRSS:")?,
            peak_bytes: field("VmHWM:")?,
        })
    }

    /// Starts a new peak for [`Server::memory`] at the current resident size
    /// (writes 5 to `/proc/<pid>/clear_refs`); false where the kernel refuses.
    pub fn reset_peak_memory(&self) -> bool {
        fs::write(format!("/proc/{}/clear_refs", self.pid()), "5").is_ok()
    }

    /// Everything the server wrote to stdout, then everything it wrote to stderr.
    pub fn output(&self) -> String {
        ["stdout", "stderr"]
            .iter()
            .map(|stream| fs::read_to_string(self.root.join(stream)).unwrap_or_default())
            .collect()
    }

    /// The last lines of the server's stdout and stderr, for failure messages.
    pub fn log_tail(&self) -> String {
        ["stdout", "stderr"]
            .iter()
            .map(|stream| {
                let text = fs::read_to_string(self.root.join(stream)).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                let tail = lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n");
                format!(
                    "--- {} {stream} (last {LOG_TAIL_LINES} lines) ---\n{tail}\n",
                    self.kind.name()
                )
            })
            .collect()
    }

    fn spawn(
        kind: ServerKind,
        port: u16,
        extra_args: &[&str],
        address_space_bytes: Option<u64>,
    ) -> Server {
        let root = create_temp_dir(kind);
        let data = root.join("data");
        fs::create_dir(&data).expect("create server data dir");
        let binary = kind.binary();
        let mut command = match address_space_bytes {
            // `exec` keeps the shell's PID, so the child's id is the server's.
            Some(bytes) => {
                let mut sh = Command::new("sh");
                let kib = (bytes / 1024).to_string();
                sh.args(["-c", r#"ulimit -v "$1" && shift && exec "$@""#, "sh", &kib])
                    .arg(&binary);
                sh
            }
            None => Command::new(&binary),
        };
        let child = command
            .args(command_line(port, &data, extra_args))
            .stdin(Stdio::null())
            .stdout(log_file(&root, "stdout"))
            .stderr(log_file(&root, "stderr"))
            .spawn()
            .unwrap_or_else(|error| {
                let _ = fs::remove_dir_all(&root);
                panic!("{}", spawn_failure_message(kind, &binary, &error))
            });
        Server {
            kind,
            port,
            child,
            root,
        }
    }

    /// Polls until the port accepts a connection; `Err(logs)` if the process exits
    /// or the deadline passes.
    fn wait_until_accepting(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        while Instant::now() < deadline {
            if let Some(status) = self.exit_status() {
                return Err(format!("exited with {status}\n{}", self.log_tail()));
            }
            if TcpStream::connect_timeout(&address, STARTUP_POLL_INTERVAL).is_ok() {
                return Ok(());
            }
            thread::sleep(STARTUP_POLL_INTERVAL);
        }
        let waited = STARTUP_TIMEOUT.as_secs();
        Err(format!(
            "not accepting on port {} after {waited}s\n{}",
            self.port,
            self.log_tail()
        ))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Child::kill signals this child's own PID only (SIGKILL), never a name match.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.root);
    }
}

fn command_line(port: u16, dir: &Path, extra_args: &[&str]) -> Vec<String> {
    let (config_file, directives) = match extra_args.split_first() {
        Some((first, rest)) if !first.starts_with('-') => (Some(*first), rest),
        _ => (None, extra_args),
    };
    let port = port.to_string();
    let dir = dir.to_string_lossy();
    let fixed = [
        "--port",
        &port,
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--dir",
        &dir,
    ];
    config_file
        .into_iter()
        .chain(fixed)
        .chain(directives.iter().copied())
        .map(str::to_owned)
        .collect()
}

fn spawn_failure_message(kind: ServerKind, binary: &Path, error: &std::io::Error) -> String {
    let binary = binary.display();
    match (kind, error.kind()) {
        (ServerKind::Redis, ErrorKind::NotFound) => REDIS_MISSING.to_owned(),
        _ => format!("cannot run {} at {binary}: {error}", kind.name()),
    }
}

fn log_file(root: &Path, name: &str) -> File {
    File::create(root.join(name)).unwrap_or_else(|error| panic!("create log {name}: {error}"))
}

/// A new, empty directory under the system temp dir, unique to this process and call.
fn create_temp_dir(kind: ServerKind) -> PathBuf {
    static NEXT_ID: AtomicU32 = AtomicU32::new(0);
    for _ in 0..TEMP_DIR_ATTEMPTS_MAX {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let name = format!("ember-tests-{}-{}-{id}", kind.name(), std::process::id());
        let path = std::env::temp_dir().join(name);
        match fs::create_dir(&path) {
            Ok(()) => return path,
            Err(error) if error.kind() == ErrorKind::AlreadyExists => continue,
            Err(error) => panic!("cannot create {}: {error}", path.display()),
        }
    }
    panic!("no free temp dir name in {TEMP_DIR_ATTEMPTS_MAX} attempts");
}

/// The `ember-server` binary under test: `$EMBER_TEST_BIN` if set, else built once per
/// test process with `cargo build -p ember-runtime-tokio --bin ember-server` in the
/// profile this test was built in (cargo can't hand one package's binary to another's
/// tests through `CARGO_BIN_EXE_*`).
pub fn ember_binary() -> &'static Path {
    // The result, not the path, is cached so a failed build is reported to every
    // test instead of being retried by each.
    static BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match BINARY.get_or_init(locate_or_build_ember) {
        Ok(path) => path,
        Err(message) => panic!("{message}"),
    }
}

fn locate_or_build_ember() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("EMBER_TEST_BIN") {
        return Ok(PathBuf::from(path));
    }
    // Cargo sets CARGO_MANIFEST_DIR for the running test too; prefer it to the
    // compile-time value, which a target dir copied from another checkout keeps.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let workspace = manifest_dir.join("..");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let mut build = Command::new(cargo);
    build.current_dir(&workspace).args([
        "build",
        "-p",
        "ember-runtime-tokio",
        "--bin",
        "ember-server",
    ]);
    if profile == "release" {
        build.arg("--release");
    }
    let output = build
        .output()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "building ember-server failed ({}):\n{stderr}",
            output.status
        ));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|dir| workspace.join(dir))
        .unwrap_or_else(|| workspace.join("target"));
    Ok(target.join(profile).join("ember-server"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::ReadError;

    #[test]
    fn free_port_is_bindable_again() {
        let port = free_port();
        assert_ne!(port, 0);
        TcpListener::bind((Ipv4Addr::LOCALHOST, port)).expect("port was released");
    }

    #[test]
    fn config_file_goes_before_fixed_directives() {
        let line = command_line(7000, Path::new("/d"), &["/etc/x.conf", "--hz", "100"]);
        assert_eq!(line[0], "/etc/x.conf");
        assert_eq!(line[1..3], ["--port", "7000"]);
        assert_eq!(line[line.len() - 2..], ["--hz", "100"]);
    }

    #[test]
    fn redis_starts_answers_and_cleans_up() {
        let server = Server::start_redis(&["--databases", "4"]);
        let root = server.root.clone();
        assert!(server.dir().is_dir());
        let mut conn = server.connect();
        conn.send_command(&["CONFIG", "GET", "databases"]);
        assert_eq!(conn.read_reply(), b"*2\r\n$9\r\ndatabases\r\n$1\r\n4\r\n");
        drop(server);
        assert!(!root.exists(), "temp dir removed on drop");
        let _ = conn.try_send_raw(b"PING\r\n");
        let reply = conn.try_read_reply();
        assert!(
            matches!(reply, Err(ReadError::Closed { .. })),
            "killed on drop: {reply:?}"
        );
    }

    #[test]
    fn a_limited_server_runs_under_its_address_space_cap_and_reports_memory() {
        let cap = 3 << 30;
        let server = Server::start_limited(ServerKind::Redis, &[], Some(cap));
        let limits = fs::read_to_string(format!("/proc/{}/limits", server.pid())).unwrap();
        let line = limits
            .lines()
            .find(|line| line.starts_with("Max address space"))
            .unwrap();
        assert!(line.contains(&cap.to_string()), "{line}");
        let memory = server.memory().expect("a live process has a status");
        assert!(memory.rss_bytes > 0 && memory.peak_bytes >= memory.rss_bytes);
        assert!(server.reset_peak_memory());
        let mut conn = server.connect();
        conn.send_command(&["PING"]);
        assert_eq!(conn.read_reply(), b"+PONG\r\n");
    }

    #[test]
    #[should_panic(expected = "redis-server failed to start")]
    fn bad_directive_panics_with_server_output() {
        Server::start_redis(&["--no-such-directive", "1"]);
    }
}

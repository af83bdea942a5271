//! ember-server: the tokio runtime around `ember_core::Node`, with redis-server's
//! command line: `ember-server [/path/to/redis.conf] [--directive value ...]`.

mod alloc;
mod check_aof;
mod check_rdb;
mod event_loop;
mod host;
mod log;

use std::io::Read;
use std::process::ExitCode;

use ember_core::config_table::{self, LoadError};
use ember_core::server::HostInfo;
use ember_core::{Config, LogLevel, Node};

use crate::event_loop::Shared;
use crate::log::Logger;

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

/// The Redis version Ember speaks; tools parse `v=` from `--version`.
const REDIS_VERSION: &str = config_table::REDIS_VERSION;
/// Set in the environment of the daemon started by `--daemonize yes`.
const DAEMONIZED_ENV: &str = "EMBER_DAEMONIZED";
/// Where Redis writes its pid when daemonized without a `pidfile`.
const DEFAULT_PIDFILE: &str = "/var/run/redis.pid";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let program = args.first().map_or("ember-server", String::as_str);
    // Like redis-server, which becomes redis-check-rdb under that name.
    let base = program.rsplit('/').next().unwrap_or(program);
    if base.contains("check-rdb") {
        return ExitCode::from(check_rdb::main(program, &args[1..]));
    }
    if base.contains("check-aof") {
        return ExitCode::from(check_aof::main(program, &args[1..]));
    }
    if let Some(first) = args.get(1) {
        match first.as_str() {
            "--check-rdb" => return ExitCode::from(check_rdb::main(program, &args[2..])),
            "--check-aof" => return ExitCode::from(check_aof::main(program, &args[2..])),
            "-v" | "--version" => {
                println!(
                    "Ember server v={REDIS_VERSION} sha=00000000:0 malloc=libc bits=64 build=ember-{}",
                    env!("CARGO_PKG_VERSION")
                );
                return ExitCode::SUCCESS;
            }
            "-h" | "--help" => {
                eprint!("{}", usage());
                return ExitCode::from(1);
            }
            _ => {}
        }
    }
    match start(&args[1..]) {
        Ok(code) => ExitCode::from(code as u8),
        Err(code) => ExitCode::from(code),
    }
}

fn usage() -> String {
    [
        "Usage: ./ember-server [/path/to/redis.conf] [options] [-]",
        "       ./ember-server - (read config from stdin)",
        "       ./ember-server -v or --version",
        "       ./ember-server -h or --help",
        "       ./ember-server --check-rdb <rdb-file-name>",
        "       ./ember-server --check-aof [--fix] <file.manifest|appendonlydir|file.aof>",
        "",
        "Examples:",
        "       ./ember-server (run the server with default config)",
        "       ./ember-server /etc/redis/6379.conf",
        "       ./ember-server --port 7777",
        "       ./ember-server /etc/myredis.conf --loglevel verbose -",
        "       ./ember-server /etc/myredis.conf --loglevel verbose",
        "",
    ]
    .join("\n")
}

/// Loads the configuration, daemonizes if asked, and serves until stopped.
/// `Err` carries the exit code of a failed start.
fn start(args: &[String]) -> Result<i32, u8> {
    let start_dir = std::env::current_dir().ok();
    let mut early_log = Logger::stdout();
    early_log.set_role('C');
    let (config_path, options) = match args.first() {
        Some(first) if !first.starts_with('-') => (Some(first.as_str()), &args[1..]),
        _ => (None, args),
    };
    let (cli_lines, from_stdin) = config_table::cli_options(options, config_path.is_none());
    let mut file_text: Option<String> = None;
    let mut config_file = None;
    if let Some(path) = config_path {
        match std::fs::read_to_string(path) {
            Ok(text) => file_text = Some(text),
            Err(e) => {
                early_log.log(
                    LogLevel::Warning,
                    &format!(
                        "Fatal error, can't open config file '{path}': {}",
                        host::strerror(&e)
                    ),
                );
                return Err(1);
            }
        }
        config_file = Some(host::absolute_path(path));
    }
    if from_stdin {
        early_log.log(LogLevel::Warning, "Reading config from stdin");
        let mut text = file_text.unwrap_or_default();
        let _ = std::io::stdin().read_to_string(&mut text);
        file_text = Some(text);
    }
    let mut config =
        match config_table::load_with(file_text.as_deref(), &cli_lines, &mut host::FsHost) {
            Ok(config) => config,
            Err(e @ LoadError::Fatal { .. }) => {
                eprint!("{e}");
                return Err(1);
            }
            Err(e) => {
                early_log.log(LogLevel::Warning, &e.to_string());
                return Err(1);
            }
        };
    config.config_file = config_file.clone();
    if config.daemonize && std::env::var_os(DAEMONIZED_ENV).is_none() {
        return daemonize(args, config_path, start_dir);
    }
    serve(config, config_path.is_some())
}

/// Starts a detached copy of this process and returns, as Redis's fork does. The
/// copy gets the same arguments (the config file by absolute path), runs from the
/// directory we started in, knows it is the daemon by [`DAEMONIZED_ENV`], and its
/// output goes to /dev/null.
fn daemonize(
    args: &[String],
    config_path: Option<&str>,
    start_dir: Option<std::path::PathBuf>,
) -> Result<i32, u8> {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    let exe = std::env::current_exe().map_err(|_| 1u8)?;
    let mut child_args: Vec<String> = args.to_vec();
    if let Some(path) = config_path {
        child_args[0] = host::absolute_path_from(path, start_dir.as_deref());
    }
    let mut command = Command::new(exe);
    command
        .args(&child_args)
        .env(DAEMONIZED_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    if let Some(dir) = start_dir {
        command.current_dir(dir);
    }
    match command.spawn() {
        Ok(_) => Ok(0),
        Err(e) => {
            eprintln!("Can't daemonize: {e}");
            Err(1)
        }
    }
}

/// The process facts INFO's server and memory sections report.
fn host_info(config_file: String) -> HostInfo {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let os = format!(
        "{} {} {}",
        read("/proc/sys/kernel/ostype").trim(),
        read("/proc/sys/kernel/osrelease").trim(),
        std::env::consts::ARCH
    );
    let total_kb: u64 = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    HostInfo {
        os,
        process_id: std::process::id(),
        executable: std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        config_file,
        total_system_memory: total_kb * 1024,
        mem_allocator: "libc".into(),
    }
}

fn seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = f.read_exact(&mut seed);
    }
    seed
}

fn serve(mut config: Config, had_config_file: bool) -> Result<i32, u8> {
    if config.daemonize && config.pidfile.is_empty() {
        config.pidfile = DEFAULT_PIDFILE.into();
    }
    config.dir = host::current_dir();
    config.hooks.chdir = Some(host::chdir);
    config.hooks.listen = Some(event_loop::rebind);
    config.hooks.rewrite = Some(host::rewrite);
    config.hooks.maxclients = Some(host::maxclients);
    config.hooks.busy_poll = Some(event_loop::busy_poll);
    event_loop::set_tcp_backlog(config.tcp_backlog);
    let mut logger = if config.logfile.is_empty() {
        Logger::stdout()
    } else {
        Logger::file(&config.logfile).map_err(|_| 1u8)?
    };
    startup_banner(&mut logger, had_config_file);
    if let Err(fits) = host::adjust_open_files(config.maxclients) {
        logger.log(
            LogLevel::Warning,
            &format!(
                "You requested maxclients of {} requiring at least {} max file descriptors.",
                config.maxclients,
                u64::from(config.maxclients) + 32
            ),
        );
        logger.log(
            LogLevel::Warning,
            &format!(
                "Current maximum open files is {}. maxclients has been reduced to {fits} to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.",
                u64::from(fits) + 32
            ),
        );
        config.maxclients = fits;
    }
    let pidfile = config.pidfile.clone();
    let socket_file = config.unixsocket.clone();
    if !pidfile.is_empty() {
        if let Err(e) = std::fs::write(&pidfile, format!("{}\n", std::process::id())) {
            logger.log(
                LogLevel::Warning,
                &format!("Failed to write PID file: {}", host::strerror(&e)),
            );
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("Cannot start the runtime: {e}");
            1u8
        })?;
    let local = tokio::task::LocalSet::new();
    let config_file_path = config.config_file.clone().unwrap_or_default();
    let exit_files = vec![pidfile.clone(), socket_file.clone()];
    let code = local.block_on(&runtime, async move {
        let bind = config.bind.clone();
        let port = config.port;
        let unixsocket = config.unixsocket.clone();
        let unixsocketperm = config.unixsocketperm;
        let mut node = Node::new(config, seed(), event_loop::now_ms());
        node.set_memory_probe(alloc::allocated_bytes);
        node.set_host_info(host_info(config_file_path));
        let shared = Shared::new(node, logger);
        shared.set_exit_files(exit_files);
        if !shared.start_node() {
            return shared.stop_code().unwrap_or(1);
        }
        if port == 0 && unixsocket.is_empty() {
            shared.log(
                LogLevel::Warning,
                "Configured to not listen anywhere, exiting.",
            );
            return 1;
        }
        let listeners = match port {
            0 => Ok(Vec::new()),
            _ => event_loop::listen_all(&bind, port),
        };
        let listeners = match listeners {
            Ok(listeners) => listeners,
            Err(message) => {
                shared.log(LogLevel::Warning, &message);
                shared.log(
                    LogLevel::Warning,
                    &format!("Failed listening on port {port} (TCP), aborting."),
                );
                return 1;
            }
        };
        if !unixsocket.is_empty() {
            if let Err(message) = event_loop::listen_unix(&shared, &unixsocket, unixsocketperm) {
                shared.log(LogLevel::Warning, &message);
                return 1;
            }
            shared.log(
                LogLevel::Notice,
                &format!("The server is now ready to accept connections at {unixsocket}"),
            );
        }
        shared.log(
            LogLevel::Notice,
            &format!("Running mode=standalone, port={port}."),
        );
        shared.log(LogLevel::Warning, "Server initialized");
        shared.log(LogLevel::Notice, "Ready to accept connections");
        event_loop::run(shared, listeners).await
    });
    for file in [&pidfile, &socket_file] {
        if !file.is_empty() {
            let _ = std::fs::remove_file(file);
        }
    }
    Ok(code)
}

fn startup_banner(logger: &mut Logger, had_config_file: bool) {
    logger.set_role('C');
    logger.log(
        LogLevel::Warning,
        "oO0OoO0OoO0Oo Ember is starting oO0OoO0OoO0Oo",
    );
    logger.log(
        LogLevel::Warning,
        &format!(
            "Ember version={REDIS_VERSION} (ember {}), bits=64, commit=00000000, modified=0, pid={}, just started",
            env!("CARGO_PKG_VERSION"),
            std::process::id()
        ),
    );
    if had_config_file {
        logger.log(LogLevel::Warning, "Configuration loaded");
    } else {
        logger.log(
            LogLevel::Warning,
            "Warning: no config file specified, using the default config. In order to specify a config file use ember-server /path/to/redis.conf",
        );
    }
    logger.set_role('M');
}

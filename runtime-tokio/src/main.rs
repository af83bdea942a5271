//! ember-server: the tokio runtime around `ember_core::Node`.

mod event_loop;
#[allow(dead_code)]
mod log;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;

use ember_core::config::ProtectedAccess;
use ember_core::server::HostInfo;
use ember_core::{Config, LogLevel, Node};

use crate::event_loop::Shared;
use crate::log::Logger;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = parse_args(&args);
    if let Err(e) = std::env::set_current_dir(&config.dir) {
        eprintln!("Can't chdir to '{}': {e}", config.dir);
        return ExitCode::from(1);
    }
    let code = serve(config);
    ExitCode::from(code as u8)
}

/// Minimal `--directive value` parsing (the full config loader replaces this).
fn parse_args(args: &[String]) -> Config {
    let mut config = Config::default();
    let mut i = 0;
    while i < args.len() {
        let name = args[i].trim_start_matches("--").to_ascii_lowercase();
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match name.as_str() {
            "port" => config.port = value.parse().unwrap_or(config.port),
            "bind" => config.bind = value.split_whitespace().map(String::from).collect(),
            "dir" => config.dir = value,
            "requirepass" => config.requirepass = (!value.is_empty()).then(|| value.into_bytes()),
            "enable-debug-command" => {
                config.enable_debug_command = match value.to_ascii_lowercase().as_str() {
                    "yes" => ProtectedAccess::Yes,
                    "local" => ProtectedAccess::Local,
                    _ => ProtectedAccess::No,
                }
            }
            "proto-max-bulk-len" => {
                config.proto_max_bulk_len = parse_memory(&value).unwrap_or(config.proto_max_bulk_len)
            }
            _ => {}
        }
        i += 2;
    }
    config
}

/// A size with Redis's units: 1k = 1000, 1kb = 1024, and so on for m/mb, g/gb.
fn parse_memory(value: &str) -> Option<i64> {
    let value = value.to_ascii_lowercase();
    let units: [(&str, i64); 6] = [
        ("kb", 1024),
        ("mb", 1024 * 1024),
        ("gb", 1024 * 1024 * 1024),
        ("k", 1000),
        ("m", 1000 * 1000),
        ("g", 1000 * 1000 * 1000),
    ];
    for (suffix, mul) in units {
        if let Some(num) = value.strip_suffix(suffix) {
            return num.parse::<i64>().ok()?.checked_mul(mul);
        }
    }
    value.parse().ok()
}

/// The process facts INFO reports.
fn host_info() -> HostInfo {
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
        config_file: String::new(),
        total_system_memory: total_kb * 1024,
        mem_allocator: "libc".into(),
    }
}

fn seed() -> [u8; 32] {
    use std::io::Read;
    let mut seed = [0u8; 32];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = f.read_exact(&mut seed);
    }
    seed
}

fn bind_addrs(config: &Config) -> Vec<(SocketAddr, bool)> {
    config
        .bind
        .iter()
        .filter_map(|spec| {
            let (optional, addr) = match spec.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, spec.as_str()),
            };
            let ip: IpAddr = match addr {
                "*" => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                "::*" => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
                other => other.parse().ok()?,
            };
            Some((SocketAddr::new(ip, config.port), optional))
        })
        .collect()
}

fn serve(config: Config) -> i32 {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Cannot start the runtime: {e}");
            return 1;
        }
    };
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let addrs = bind_addrs(&config);
        let mut node = Node::new(config, seed(), event_loop::now_ms());
        node.set_host_info(host_info());
        let shared = Shared::new(node, Logger::stdout());
        let mut listeners = Vec::new();
        for (addr, optional) in addrs {
            match event_loop::bind(addr) {
                Ok(l) => listeners.push(l),
                Err(e) if optional => shared.log(
                    LogLevel::Warning,
                    &format!("Could not create server TCP listening socket {addr}: {e}"),
                ),
                Err(e) => {
                    shared.log(
                        LogLevel::Warning,
                        &format!("Could not create server TCP listening socket {addr}: {e}"),
                    );
                    return 1;
                }
            }
        }
        shared.log(LogLevel::Notice, "Server initialized");
        shared.log(LogLevel::Notice, "Ready to accept connections tcp");
        event_loop::run(shared, listeners).await
    })
}

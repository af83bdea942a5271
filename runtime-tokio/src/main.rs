//! ember-server: the tokio runtime around `ember_core::Node`.

mod event_loop;
#[allow(dead_code)]
mod log;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;

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
            _ => {}
        }
        i += 2;
    }
    config
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
        let node = Node::new(config, seed(), event_loop::now_ms());
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

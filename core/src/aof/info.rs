//! INFO persistence's `aof_*` fields, in Redis 7.0's order.

use super::State;
use crate::db::Millis;
use crate::server::Server;

/// Calls `add` for each AOF field after `rdb_last_load_keys_loaded`, as Redis's
/// genRedisInfoString prints them (the size fields only while the AOF is on).
pub fn persistence_fields(srv: &Server, now: Millis, add: &mut dyn FnMut(&str, String)) {
    let aof = &srv.aof;
    let on = aof.state == State::On;
    let rw = aof.rewrite_info(now);
    add("aof_enabled", u8::from(on).to_string());
    add(
        "aof_rewrite_in_progress",
        u8::from(rw.in_progress).to_string(),
    );
    add("aof_rewrite_scheduled", u8::from(rw.scheduled).to_string());
    add("aof_last_rewrite_time_sec", rw.last_time_secs.to_string());
    add(
        "aof_current_rewrite_time_sec",
        rw.current_time_secs.to_string(),
    );
    let status = |failed: bool| if failed { "err" } else { "ok" }.to_string();
    add("aof_last_bgrewrite_status", status(rw.last_failed));
    add("aof_rewrites", rw.rewrites.to_string());
    add(
        "aof_rewrites_consecutive_failures",
        rw.consecutive_failures.to_string(),
    );
    add("aof_last_write_status", status(aof.last_write_failed));
    add("aof_last_cow_size", rw.last_cow_bytes.to_string());
    add("module_fork_in_progress", "0".into());
    add("module_fork_last_cow_size", "0".into());
    if on {
        add("aof_current_size", aof.current_size.to_string());
        add("aof_base_size", aof.base_size.to_string());
        add("aof_pending_rewrite", u8::from(rw.scheduled).to_string());
        add("aof_buffer_length", aof.buffer_len().to_string());
        add(
            "aof_pending_bio_fsync",
            u8::from(aof.fsync_in_flight()).to_string(),
        );
        add("aof_delayed_fsync", "0".into());
    }
}

/// The rewrite's INFO facts.
pub struct RewriteInfo {
    pub in_progress: bool,
    pub scheduled: bool,
    /// -1 when none yet / none running.
    pub last_time_secs: i64,
    pub current_time_secs: i64,
    pub last_failed: bool,
    pub rewrites: u64,
    pub consecutive_failures: u64,
    pub last_cow_bytes: usize,
}

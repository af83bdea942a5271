//! Redis's active expiry cycle (activeExpireCycle, slow mode), run from serverCron.
//! Each database's volatile keys are walked with a resumable cursor in steps of
//! `keys_per_loop`; a database keeps being swept while the share of expired keys in
//! the last step exceeds the acceptable stale percentage. Redis bounds a cycle by CPU
//! time; a pure core has no clock to measure itself with, so the bound here is a
//! number of keys examined, which also keeps runs deterministic.

use crate::db::Millis;
use crate::server::Server;

/// Keys examined per step at effort 1 (ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP).
const KEYS_PER_LOOP_BASE: usize = 20;
/// Acceptable share of stale keys, in percent, at effort 1.
const STALE_PERCENT_BASE: usize = 10;
/// Most keys one cycle examines across all databases.
const CYCLE_KEYS_EXAMINED_MAX: usize = 20_000;
/// Most steps one database gets per cycle.
const DB_STEPS_MAX: usize = 64;

/// Runs one slow cycle over every database.
pub fn run(srv: &mut Server, now: Millis) {
    if !srv.active_expire_enabled {
        return;
    }
    let effort = srv.config.active_expire_effort.clamp(1, 10) as usize - 1;
    let keys_per_loop = KEYS_PER_LOOP_BASE + KEYS_PER_LOOP_BASE / 4 * effort;
    let acceptable_stale = STALE_PERCENT_BASE - effort;
    let mut budget = CYCLE_KEYS_EXAMINED_MAX + CYCLE_KEYS_EXAMINED_MAX / 4 * effort;
    let (mut examined_total, mut expired_total) = (0usize, 0usize);
    for db in &mut srv.dbs {
        for _ in 0..DB_STEPS_MAX {
            if db.volatile_len() == 0 || budget == 0 {
                break;
            }
            let step = db.expire_step(now, keys_per_loop.min(budget));
            budget = budget.saturating_sub(step.examined.max(1));
            examined_total += step.examined;
            expired_total += step.expired;
            if let Some(sample_avg) = step.ttl_sum.checked_div(step.live_with_ttl) {
                // Redis's running average: 49/50 old, 1/50 new.
                db.avg_ttl = if db.avg_ttl == 0 {
                    sample_avg
                } else {
                    db.avg_ttl / 50 * 49 + sample_avg / 50
                };
            }
            if step.examined == 0 || step.expired * 100 / step.examined <= acceptable_stale {
                break;
            }
        }
    }
    let stats = &mut srv.keyspace_stats;
    stats.expired_keys += expired_total as u64;
    if budget == 0 {
        stats.expired_time_cap_reached_count += 1;
    }
    let current = if examined_total > 0 {
        expired_total as f64 / examined_total as f64
    } else {
        0.0
    };
    stats.expired_stale_perc = current * 0.05 + stats.expired_stale_perc * 0.95;
}

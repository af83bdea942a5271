//! Known deviations of the core from Redis that the simulator found and that are not
//! fixed yet. The reference model follows the core here, so swarms keep finding other
//! bugs; `tests/known_deviations.rs` fails as soon as the core is fixed, which is the
//! cue to delete the entry and let the model hold the core to Redis again.

/// Ember treats a key as expired when its clock equals the deadline; Redis 7.0 keeps it
/// until the clock is past it (`now > when` in keyIsExpired and the active cycle), so
/// at exactly the deadline Redis's GET still finds the key and PTTL answers 0.
/// Found by the simulator (seed 76 at commit time).
pub const EXPIRES_AT_DEADLINE: bool = true;

/// Whether a key with `deadline` is gone at `now`, as the core decides it today.
pub fn expired(deadline: u64, now: u64) -> bool {
    if EXPIRES_AT_DEADLINE {
        now >= deadline
    } else {
        now > deadline
    }
}

//! Per-node wall clocks over virtual time. Virtual time (`vt`) is in microseconds from
//! the start of the run and only moves forward; a node's clock (Unix ms, what it gets as
//! `now`) has a fixed skew, a drift in parts per million, and jumps forward or back.

/// The virtual start of every run (2023-11-14T22:13:20Z), in Unix ms.
pub const EPOCH_MS: u64 = 1_700_000_000_000;

/// Virtual microseconds per millisecond.
pub const US_PER_MS: u64 = 1_000;

#[derive(Debug, Clone)]
pub struct Clock {
    /// Skew plus every jump so far, in ms.
    offset_ms: i64,
    /// How much faster (positive) or slower this clock runs, in parts per million.
    drift_ppm: i64,
}

impl Clock {
    pub fn new(skew_ms: i64, drift_ppm: i64) -> Clock {
        Clock {
            offset_ms: skew_ms,
            drift_ppm,
        }
    }

    /// The node's wall clock at virtual time `vt`.
    pub fn now(&self, vt: u64) -> u64 {
        let real_ms = (vt / US_PER_MS) as i64;
        let drift = (vt as i128 * self.drift_ppm as i128 / 1_000_000_000) as i64;
        (EPOCH_MS as i64 + real_ms + self.offset_ms + drift).max(0) as u64
    }

    /// Moves the clock by `delta_ms` (negative: backward).
    pub fn jump(&mut self, delta_ms: i64) {
        self.offset_ms += delta_ms;
    }

    /// The earliest virtual time at or after `vt` when this clock reads `at` or later,
    /// if it never jumps again (the clock never runs backward between jumps).
    pub fn vt_when(&self, vt: u64, at: u64) -> u64 {
        if self.now(vt) >= at {
            return vt;
        }
        // Drift is bounded well below 50%, so twice the wall wait always suffices.
        let (mut lo, mut hi) = (vt, vt + 2 * (at - self.now(vt)) * US_PER_MS + US_PER_MS);
        while lo + 1 < hi {
            let mid = lo + (hi - lo) / 2;
            if self.now(mid) >= at {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drifting_clock_reaches_a_deadline_when_vt_when_says() {
        for drift in [-500, 0, 300] {
            let clock = Clock::new(-40, drift);
            let vt = 1_234_567;
            let at = clock.now(vt) + 777;
            let when = clock.vt_when(vt, at);
            assert!(clock.now(when) >= at);
            assert!(clock.now(when - US_PER_MS) < at);
        }
    }

    #[test]
    fn a_backward_jump_turns_the_clock_back() {
        let mut clock = Clock::new(0, 0);
        let before = clock.now(5_000_000);
        clock.jump(-3_000);
        assert_eq!(clock.now(5_000_000), before - 3_000);
    }
}

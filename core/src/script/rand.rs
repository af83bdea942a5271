//! Redis's redisLrand48 (rand.c): the 48-bit linear congruential generator of
//! POSIX lrand48, so math.random gives Redis's sequence on every platform.

/// The generator's state; starts where Redis's static state does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lrand48 {
    x: u64,
}

const MASK_48: u64 = (1 << 48) - 1;
const MULTIPLIER: u64 = 0x5_DEEC_E66D;
const INCREMENT: u64 = 0xB;
/// X0, X1, X2 of rand.c: the state before any seeding.
const INITIAL: u64 = 0x1234_ABCD_330E;
/// The low 16 bits every seed gets (X0).
const SEED_LOW: u64 = 0x330E;

impl Default for Lrand48 {
    fn default() -> Self {
        Lrand48 { x: INITIAL }
    }
}

impl Lrand48 {
    /// The next value in [0, 2^31).
    pub fn draw(&mut self) -> i32 {
        self.x = (MULTIPLIER.wrapping_mul(self.x).wrapping_add(INCREMENT)) & MASK_48;
        (self.x >> 17) as i32
    }

    /// redisSrand48.
    pub fn seed(&mut self, seed: i32) {
        self.x = (u64::from(seed as u32) << 16) | SEED_LOW;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_draw_matches_redis_after_start() {
        // redis-server 7.0.15, first EVAL "return tostring(math.random())" 0.
        let mut r = Lrand48::default();
        let v = f64::from(r.draw() % i32::MAX) / f64::from(i32::MAX);
        assert_eq!(format!("{v:.14}"), "0.39646477363839");
    }
}

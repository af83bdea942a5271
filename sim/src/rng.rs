//! The simulator's only source of randomness: ChaCha8 streams derived from the run seed.
//! Each component (network, disks, clocks, workload, node seeds, faults) owns its own
//! generator, so a new draw in one place never shifts another's.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub struct Rng(ChaCha8Rng);

impl Rng {
    /// A generator for `stream` of `seed` (streams of one seed are independent).
    pub fn new(seed: u64, stream: u64) -> Rng {
        let mut inner = ChaCha8Rng::seed_from_u64(seed);
        inner.set_stream(stream);
        Rng(inner)
    }

    pub fn u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in `[0, 1)`.
    pub fn f64(&mut self) -> f64 {
        (self.u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    /// An index drawn with the given weights (the first when all are zero).
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let mut x = self.below(total);
        for (i, &w) in weights.iter().enumerate() {
            if x < u64::from(w) {
                return i;
            }
            x -= u64::from(w);
        }
        0
    }

    /// Exponentially distributed with this mean (for Poisson fault arrivals), at least 1.
    pub fn exp(&mut self, mean: u64) -> u64 {
        let u = 1.0 - self.f64();
        ((-u.ln()) * mean as f64).max(1.0) as u64
    }

    pub fn seed32(&mut self) -> [u8; 32] {
        let mut out = [0u8; 32];
        self.0.fill_bytes(&mut out);
        out
    }
}

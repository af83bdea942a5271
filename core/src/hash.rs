//! The keyed hash every table in the core uses: SipHash-1-3, as Redis uses, keyed from
//! the node's seeded generator. A key from OS entropy (production) defends against
//! hash flooding; a key from the seed (simulator) makes iteration order a function
//! of the seed, so runs replay exactly.

/// A 128-bit SipHash key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashKey {
    k0: u64,
    k1: u64,
}

impl HashKey {
    pub fn new(k0: u64, k1: u64) -> Self {
        HashKey { k0, k1 }
    }

    /// SipHash-1-3 of `data`.
    pub fn hash(&self, data: &[u8]) -> u64 {
        let mut s = SipState::new(self.k0, self.k1);
        let mut chunks = data.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            s.compress(u64::from_le_bytes(word));
        }
        let mut last = [0u8; 8];
        let rest = chunks.remainder();
        last[..rest.len()].copy_from_slice(rest);
        let tail = u64::from_le_bytes(last) | ((data.len() as u64 & 0xff) << 56);
        s.compress(tail);
        s.finish()
    }
}

struct SipState {
    v0: u64,
    v1: u64,
    v2: u64,
    v3: u64,
}

impl SipState {
    fn new(k0: u64, k1: u64) -> Self {
        SipState {
            v0: k0 ^ 0x736f_6d65_7073_6575,
            v1: k1 ^ 0x646f_7261_6e64_6f6d,
            v2: k0 ^ 0x6c79_6765_6e65_7261,
            v3: k1 ^ 0x7465_6462_7974_6573,
        }
    }

    #[inline]
    fn round(&mut self) {
        self.v0 = self.v0.wrapping_add(self.v1);
        self.v1 = self.v1.rotate_left(13) ^ self.v0;
        self.v0 = self.v0.rotate_left(32);
        self.v2 = self.v2.wrapping_add(self.v3);
        self.v3 = self.v3.rotate_left(16) ^ self.v2;
        self.v0 = self.v0.wrapping_add(self.v3);
        self.v3 = self.v3.rotate_left(21) ^ self.v0;
        self.v2 = self.v2.wrapping_add(self.v1);
        self.v1 = self.v1.rotate_left(17) ^ self.v2;
        self.v2 = self.v2.rotate_left(32);
    }

    #[inline]
    fn compress(&mut self, m: u64) {
        self.v3 ^= m;
        self.round();
        self.v0 ^= m;
    }

    fn finish(mut self) -> u64 {
        self.v2 ^= 0xff;
        self.round();
        self.round();
        self.round();
        self.v0 ^ self.v1 ^ self.v2 ^ self.v3
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn different_keys_give_different_hashes() {
        let a = HashKey::new(1, 2).hash(b"hello");
        let b = HashKey::new(3, 4).hash(b"hello");
        assert_ne!(a, b);
        assert_eq!(a, HashKey::new(1, 2).hash(b"hello"));
    }

    #[test]
    fn length_is_part_of_the_hash() {
        let k = HashKey::new(7, 9);
        assert_ne!(k.hash(b""), k.hash(b"\0"));
        assert_ne!(k.hash(b"12345678"), k.hash(b"12345678\0"));
    }
}

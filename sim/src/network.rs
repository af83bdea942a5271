//! Simulated TCP between clients and nodes. Each connection has two pipes; a pipe keeps
//! its segments in order (a segment never overtakes the one before it), while
//! segments of different connections interleave freely. Bytes are cut into random
//! pieces on the way, so nodes and clients see every framing split. Partitions and
//! stalled readers hold a pipe's head back; a reset empties both pipes.

use std::collections::VecDeque;

use crate::rng::Rng;
use crate::settings::NetworkSettings;

/// What travels in a pipe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    Bytes(Vec<u8>),
    /// The sender closed its side after everything before.
    Fin,
}

#[derive(Debug, Clone)]
pub struct Segment {
    /// Earliest virtual time the segment can arrive.
    pub at: u64,
    pub payload: Payload,
}

/// One direction of a connection.
#[derive(Debug, Default)]
pub struct Pipe {
    pub segments: VecDeque<Segment>,
    /// Arrival time of the last segment queued (order within the pipe).
    last_at: u64,
    /// The delivery event currently in the queue for this pipe, if any.
    pub scheduled_at: Option<u64>,
}

impl Pipe {
    pub fn push(&mut self, at: u64, payload: Payload) {
        let at = at.max(self.last_at);
        self.last_at = at;
        self.segments.push_back(Segment { at, payload });
    }

    pub fn clear(&mut self) {
        self.segments.clear();
        self.scheduled_at = None;
    }
}

pub struct Network {
    pub settings: NetworkSettings,
    pub rng: Rng,
}

impl Network {
    pub fn new(settings: NetworkSettings, rng: Rng) -> Network {
        Network { settings, rng }
    }

    /// One-way latency of a segment on a link slowed down by `slow` (1: normal).
    pub fn latency_us(&mut self, slow: u64) -> u64 {
        let s = &self.settings;
        let base = if self.rng.chance(s.tail_probability) {
            self.rng.range(s.latency_us_max, s.tail_us_max)
        } else {
            self.rng.range(s.latency_us_min, s.latency_us_max)
        };
        base * slow
    }

    /// Whether a new connection gets a slow link, and its slowdown.
    pub fn slowdown(&mut self) -> u64 {
        if self.rng.chance(self.settings.slow_link_probability) {
            self.settings.slow_factor
        } else {
            1
        }
    }

    /// Cuts `bytes` into pieces of random sizes up to the split bound.
    pub fn split(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        let max = self.settings.split_bytes_max.max(1);
        let mut out = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let n = (self.rng.range(1, max) as usize).min(rest.len());
            out.push(rest[..n].to_vec());
            rest = &rest[n..];
        }
        out
    }

    /// The worst one-way latency this network can give (for liveness bounds).
    pub fn latency_us_max(&self) -> u64 {
        let s = &self.settings;
        s.latency_us_max.max(s.tail_us_max) * s.slow_factor.max(1)
    }
}

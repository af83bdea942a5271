//! What simulated clients send: random commands over strings, keys and expiry, lists,
//! hashes, sets and sorted sets, blocking pops with timeouts, commands whose reply is
//! random, Lua scripts and functions, streams with consumer groups, and malformed requests (unknown commands, wrong arity, bad arguments, wrong
//! types through shared keys, broken framing, and in runs without the model the
//! abusive inputs of `abuse.rs`). Each request knows how it was encoded and whether
//! it blocks, so checkers can judge its reply.

use crate::abuse::{self, ABUSE};
use crate::resp::{encode_inline, encode_multibulk};
use crate::rng::Rng;

/// Command families the mix weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    Strings,
    Keys,
    Lists,
    Hashes,
    Sets,
    ZSets,
    Blocking,
    /// Commands the reference model does not answer (random replies, stores, moves...).
    Unmodeled,
    Malformed,
}

pub const FAMILIES: [Family; 9] = [
    Family::Strings,
    Family::Keys,
    Family::Lists,
    Family::Hashes,
    Family::Sets,
    Family::ZSets,
    Family::Blocking,
    Family::Unmodeled,
    Family::Malformed,
];

/// The shape of one run's workload (drawn by the swarm).
#[derive(Debug, Clone)]
pub struct WorkloadConfig {
    /// Weight of each family in [`FAMILIES`] order.
    pub weights: [u32; 9],
    /// Keys per type prefix.
    pub keyspace: u64,
    /// Chance that a request uses a key shared across types (provokes WRONGTYPE).
    pub shared_key_probability: f64,
    /// Chance that a request is sent inline instead of as a multibulk.
    pub inline_probability: f64,
    /// Longest TTL the workload sets, ms.
    pub ttl_ms_max: u64,
    /// Longest blocking timeout, ms (never 0: liveness needs every request to end).
    pub block_ms_max: u64,
    /// Chance that a request works the client's durable list (see [`durable_key`]).
    pub durable_probability: f64,
}

/// The list only client `client` writes, with `RPUSH key seq` for seq = 1, 2, ...: the
/// durability checker reads what survived a crash from it.
pub fn durable_key(client: usize) -> Vec<u8> {
    format!("d:{client}").into_bytes()
}

/// The client and sequence number of `RPUSH d:<client> <seq>`, if `args` is one.
pub fn durable_push(args: &[Vec<u8>]) -> Option<(usize, u64)> {
    match args {
        [cmd, key, seq] if cmd.eq_ignore_ascii_case(b"rpush") => Some((
            durable_client(key)?,
            std::str::from_utf8(seq).ok()?.parse().ok()?,
        )),
        _ => None,
    }
}

/// The client of `LRANGE d:<client> 0 -1`, if `args` is one.
pub fn durable_read(args: &[Vec<u8>]) -> Option<usize> {
    match args {
        [cmd, key, from, to]
            if cmd.eq_ignore_ascii_case(b"lrange") && from == b"0" && to == b"-1" =>
        {
            durable_client(key)
        }
        _ => None,
    }
}

fn durable_client(key: &[u8]) -> Option<usize> {
    std::str::from_utf8(key.strip_prefix(b"d:")?)
        .ok()?
        .parse()
        .ok()
}

impl WorkloadConfig {
    /// Whether every command is one the reference model answers exactly.
    pub fn deterministic(&self) -> bool {
        self.weights[6] == 0 && self.weights[7] == 0
    }
}

/// How a request behaves on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    Normal,
    /// May park the client for up to this long (node clock).
    Blocking {
        timeout_ms: u64,
    },
    /// Broken framing: the node answers with a protocol error and closes.
    ProtocolError,
    /// Ends with QUIT: the node closes the connection after at most one reply.
    Closes,
}

impl RequestKind {
    /// Whether the node closes the connection after this request.
    pub fn closes_connection(self) -> bool {
        matches!(self, RequestKind::ProtocolError | RequestKind::Closes)
    }
}

#[derive(Debug, Clone)]
pub struct Request {
    pub args: Vec<Vec<u8>>,
    pub wire: Vec<u8>,
    pub kind: RequestKind,
    /// The abusive input (`abuse::ABUSE`) this request belongs to, if any.
    pub abuse: Option<&'static str>,
}

pub struct Workload {
    pub config: WorkloadConfig,
    rng: Rng,
    /// The rest of a transaction begun with MULTI, sent before anything new.
    queued: std::collections::VecDeque<Request>,
    /// This client's durable list and the last sequence number pushed to it.
    durable: Vec<u8>,
    durable_seq: u64,
    /// Read the durable list first on the new connection (it may follow a crash).
    read_durable_next: bool,
}

const VALUES: &[&str] = &[
    "a",
    "b",
    "hello",
    "",
    "0",
    "1",
    "-7",
    "42",
    "010",
    "12abc",
    "9223372036854775807",
    "x y",
];
const INCREMENTS: &[&str] = &[
    "1",
    "-1",
    "5",
    "100",
    "-30",
    "9223372036854775807",
    "abc",
    "1.5",
];
const SCORES: &[&str] = &["0", "1", "2.5", "-3", "7", "-0.5", "10", "abc"];
const MEMBERS: &[&str] = &["m1", "m2", "m3", "m4", "m5", "m6"];

/// The share of malformed requests that are abusive inputs (in runs without the model).
const ABUSE_SHARE: f64 = 0.3;

/// A script the workload runs by EVAL and by EVALSHA with its SHA-1 below.
const INCR_SCRIPT: &str = "return redis.call('INCR', KEYS[1])";
const INCR_SCRIPT_SHA: &str = "61636018f4e6b5817b89791bbed242f93fa089e3";

/// The function library FCALL calls (loaded by FUNCTION LOAD REPLACE in the mix).
const FUNCTION_LIBRARY: &str = "#!lua name=sim\nredis.register_function('sim_append', \
     function(keys, args) return redis.call('APPEND', keys[1], args[1]) end)";

fn b(s: impl AsRef<[u8]>) -> Vec<u8> {
    s.as_ref().to_vec()
}

impl Workload {
    pub fn new(config: WorkloadConfig, rng: Rng, client: usize) -> Workload {
        Workload {
            config,
            rng,
            queued: std::collections::VecDeque::new(),
            durable: durable_key(client),
            durable_seq: 0,
            read_durable_next: false,
        }
    }

    /// A new connection: a client that pushed to its durable list reads it first,
    /// so what survived a crash is always checked.
    pub fn reconnected(&mut self) {
        self.read_durable_next = self.durable_seq > 0;
    }

    /// `RPUSH d:<client> <next seq>`, or now and then `LRANGE d:<client> 0 -1`.
    fn durable(&mut self) -> Vec<Vec<u8>> {
        if self.rng.chance(0.3) {
            return vec![b("LRANGE"), self.durable.clone(), b("0"), b("-1")];
        }
        self.durable_seq += 1;
        let seq = self.durable_seq.to_string().into_bytes();
        vec![b("RPUSH"), self.durable.clone(), seq]
    }

    /// The next request; `client_ms` is the client's own idea of Unix time.
    pub fn next(&mut self, client_ms: u64) -> Request {
        if let Some(request) = self.queued.pop_front() {
            return request;
        }
        if std::mem::take(&mut self.read_durable_next) {
            return self.encode(
                vec![b("LRANGE"), self.durable.clone(), b("0"), b("-1")],
                RequestKind::Normal,
            );
        }
        let p = self.config.durable_probability;
        if p > 0.0 && self.rng.chance(p) {
            let args = self.durable();
            return self.encode(args, RequestKind::Normal);
        }
        let family = FAMILIES[self.rng.weighted(&self.config.weights)];
        let (args, kind) = match family {
            Family::Strings => (self.strings(), RequestKind::Normal),
            Family::Keys => (self.keys(client_ms), RequestKind::Normal),
            Family::Lists => (self.lists(), RequestKind::Normal),
            Family::Hashes => (self.hashes(), RequestKind::Normal),
            Family::Sets => (self.sets(), RequestKind::Normal),
            Family::ZSets => (self.zsets(), RequestKind::Normal),
            Family::Blocking => self.blocking(),
            Family::Unmodeled => match self.rng.below(20) {
                0 => return self.transaction(),
                1..=3 => (self.scripts(), RequestKind::Normal),
                4..=6 => self.streams(client_ms),
                _ => (self.unmodeled(), RequestKind::Normal),
            },
            Family::Malformed => return self.malformed(client_ms),
        };
        let mut args = args;
        if self.rng.chance(0.1) {
            args[0] = mixed_case(&args[0], &mut self.rng);
        }
        self.encode(args, kind)
    }

    /// MULTI now; a few commands (maybe WATCH first) and EXEC or DISCARD next.
    /// Half the watched keys get a TTL of a few ms just before, so the deadline often
    /// falls between WATCH and EXEC (EXEC must then abort).
    fn transaction(&mut self) -> Request {
        let mut rest = Vec::new();
        if self.rng.chance(0.3) {
            let k = self.any_key();
            if self.rng.chance(0.5) {
                let ms = self.rng.range(1, 30).to_string().into_bytes();
                rest.push(vec![b("SET"), k.clone(), b("v"), b("PX"), ms]);
            }
            rest.push(vec![b("WATCH"), k]);
        }
        rest.push(vec![b("MULTI")]);
        for _ in 0..self.rng.range(1, 3) {
            let cmd = match self.rng.below(3) {
                0 => self.strings(),
                1 => self.lists(),
                _ => self.hashes(),
            };
            rest.push(cmd);
        }
        rest.push(vec![b(if self.rng.chance(0.9) {
            "EXEC"
        } else {
            "DISCARD"
        })]);
        let first = rest.remove(0);
        for args in rest {
            let request = self.encode(args, RequestKind::Normal);
            self.queued.push_back(request);
        }
        self.encode(first, RequestKind::Normal)
    }

    fn encode(&mut self, args: Vec<Vec<u8>>, kind: RequestKind) -> Request {
        let inline_ok = args.iter().all(|a| {
            !a.is_empty()
                && a.iter()
                    .all(|c| c.is_ascii_alphanumeric() || b".-:_".contains(c))
        });
        let wire = if inline_ok && self.rng.chance(self.config.inline_probability) {
            encode_inline(&args)
        } else {
            encode_multibulk(&args)
        };
        Request {
            args,
            wire,
            kind,
            abuse: None,
        }
    }

    fn key(&mut self, prefix: &str) -> Vec<u8> {
        let i = self.rng.below(self.config.keyspace.max(1));
        if self.rng.chance(self.config.shared_key_probability) {
            return format!("k:{i}").into_bytes();
        }
        format!("{prefix}:{i}").into_bytes()
    }

    fn value(&mut self) -> Vec<u8> {
        if self.rng.chance(0.03) {
            // Past the listpack/embstr limits: exercises encoding conversions.
            let len = self.rng.range(45, 3000) as usize;
            return vec![b'a' + self.rng.below(26) as u8; len];
        }
        if self.rng.chance(0.3) {
            return self.rng.range(0, 1000).to_string().into_bytes();
        }
        b(self.rng.pick(VALUES))
    }

    fn ttl_ms(&mut self) -> u64 {
        self.rng.range(1, self.config.ttl_ms_max.max(1))
    }

    fn strings(&mut self) -> Vec<Vec<u8>> {
        let k = self.key("s");
        let v = self.value();
        match self.rng.below(13) {
            0 => vec![b("GET"), k],
            1 => vec![b("SET"), k, v],
            2 => {
                let mut args = vec![b("SET"), k, v];
                if self.rng.chance(0.5) {
                    args.push(b(self.rng.pick(&["NX", "XX"])));
                }
                let ms = self.ttl_ms();
                if self.rng.chance(0.5) {
                    args.extend([b("PX"), ms.to_string().into_bytes()]);
                } else {
                    args.extend([b("EX"), (ms / 1000).to_string().into_bytes()]);
                }
                args
            }
            3 => vec![b("SETNX"), k, v],
            4 => vec![b("APPEND"), k, v],
            5 => vec![b("STRLEN"), k],
            6 => vec![b("INCR"), k],
            7 => vec![b("DECR"), k],
            8 => vec![b("INCRBY"), k, b(self.rng.pick(INCREMENTS))],
            9 => vec![b("DECRBY"), k, b(self.rng.pick(&INCREMENTS[..5]))],
            10 => {
                let k2 = self.key("s");
                vec![b("MGET"), k, k2]
            }
            11 => {
                let k2 = self.key("s");
                let v2 = self.value();
                vec![b("MSET"), k, v, k2, v2]
            }
            _ => vec![b("GETDEL"), k],
        }
    }

    fn any_key(&mut self) -> Vec<u8> {
        let prefix = *self.rng.pick(&["s", "l", "h", "t", "z"]);
        self.key(prefix)
    }

    fn keys(&mut self, client_ms: u64) -> Vec<Vec<u8>> {
        let k = self.any_key();
        match self.rng.below(9) {
            0 => {
                let k2 = self.any_key();
                vec![b("DEL"), k, k2]
            }
            1 => vec![b("EXISTS"), k],
            2 => vec![b("TYPE"), k],
            3 => {
                let secs = self.ttl_ms() / 1000;
                let secs = if self.rng.chance(0.1) {
                    -1
                } else {
                    secs as i64
                };
                vec![b("EXPIRE"), k, secs.to_string().into_bytes()]
            }
            4 => vec![b("PEXPIRE"), k, self.ttl_ms().to_string().into_bytes()],
            5 => {
                let at =
                    client_ms as i64 + self.ttl_ms() as i64 - self.config.ttl_ms_max as i64 / 4;
                vec![b("PEXPIREAT"), k, at.to_string().into_bytes()]
            }
            6 => vec![b("TTL"), k],
            7 => vec![b("PTTL"), k],
            _ => vec![b("PERSIST"), k],
        }
    }

    fn lists(&mut self) -> Vec<Vec<u8>> {
        let k = self.key("l");
        let v = self.value();
        match self.rng.below(8) {
            0 => vec![b("LPUSH"), k, v],
            1 => {
                let v2 = self.value();
                vec![b("RPUSH"), k, v, v2]
            }
            2 => vec![b("LPOP"), k],
            3 => vec![b("RPOP"), k],
            4 => vec![b("LLEN"), k],
            5 => {
                let start = self.rng.range(0, 6) as i64 - 3;
                let stop = self.rng.range(0, 8) as i64 - 2;
                vec![
                    b("LRANGE"),
                    k,
                    start.to_string().into_bytes(),
                    stop.to_string().into_bytes(),
                ]
            }
            6 => vec![
                b("LINDEX"),
                k,
                (self.rng.range(0, 6) as i64 - 3).to_string().into_bytes(),
            ],
            _ => vec![b("LPOP"), k, self.rng.range(0, 3).to_string().into_bytes()],
        }
    }

    fn hashes(&mut self) -> Vec<Vec<u8>> {
        let k = self.key("h");
        let f = self.member();
        match self.rng.below(7) {
            0 => {
                let v = self.value();
                vec![b("HSET"), k, f, v]
            }
            1 => vec![b("HGET"), k, f],
            2 => vec![b("HDEL"), k, f],
            3 => vec![b("HLEN"), k],
            4 => vec![b("HEXISTS"), k, f],
            5 => vec![b("HINCRBY"), k, f, b(self.rng.pick(&INCREMENTS[..7]))],
            _ => vec![b("HGETALL"), k],
        }
    }

    fn sets(&mut self) -> Vec<Vec<u8>> {
        let k = self.key("t");
        let m = self.member();
        match self.rng.below(5) {
            0 => {
                let m2 = self.member();
                vec![b("SADD"), k, m, m2]
            }
            1 => vec![b("SREM"), k, m],
            2 => vec![b("SCARD"), k],
            3 => vec![b("SISMEMBER"), k, m],
            _ => vec![b("SMEMBERS"), k],
        }
    }

    fn zsets(&mut self) -> Vec<Vec<u8>> {
        let k = self.key("z");
        let m = self.member();
        let score = b(self.rng.pick(SCORES));
        match self.rng.below(7) {
            0 => vec![b("ZADD"), k, score, m],
            1 => vec![b("ZINCRBY"), k, score, m],
            2 => vec![b("ZREM"), k, m],
            3 => vec![b("ZSCORE"), k, m],
            4 => vec![b("ZCARD"), k],
            5 => vec![b("ZRANK"), k, m],
            _ => {
                let mut args = vec![b("ZRANGE"), k, b("0"), b("-1")];
                if self.rng.chance(0.5) {
                    args.push(b("WITHSCORES"));
                }
                args
            }
        }
    }

    fn blocking(&mut self) -> (Vec<Vec<u8>>, RequestKind) {
        let timeout_ms = self.rng.range(1, self.config.block_ms_max.max(1));
        let timeout = format!("{}.{:03}", timeout_ms / 1000, timeout_ms % 1000).into_bytes();
        let kind = RequestKind::Blocking { timeout_ms };
        let args = match self.rng.below(4) {
            0 => {
                let (k1, k2) = (self.key("l"), self.key("l"));
                vec![b("BLPOP"), k1, k2, timeout]
            }
            1 => vec![b("BRPOP"), self.key("l"), timeout],
            2 => {
                let (src, dst) = (self.key("l"), self.key("l"));
                vec![b("BLMOVE"), src, dst, b("LEFT"), b("RIGHT"), timeout]
            }
            _ => vec![b("BZPOPMIN"), self.key("z"), timeout],
        };
        (args, kind)
    }

    /// A member: mostly from a small set, sometimes from a wide one so collections
    /// grow past the compact encodings' limits.
    fn member(&mut self) -> Vec<u8> {
        if self.rng.chance(0.2) {
            return format!("m{}", self.rng.below(300)).into_bytes();
        }
        b(self.rng.pick(MEMBERS))
    }

    /// Commands the reference model does not answer: random replies, and the rest of
    /// the families (stores, moves, ranges, renames, FLUSHDB...), checked for crashes,
    /// expiry and liveness only.
    fn unmodeled(&mut self) -> Vec<Vec<u8>> {
        let (l, l2) = (self.key("l"), self.key("l"));
        let (t, t2) = (self.key("t"), self.key("t"));
        let (z, z2) = (self.key("z"), self.key("z"));
        let (h, s) = (self.key("h"), self.key("s"));
        let (m, v) = (self.member(), self.value());
        let n = self.rng.range(0, 5).to_string().into_bytes();
        match self.rng.below(30) {
            0 => vec![b("SPOP"), t, n],
            1 => vec![b("SRANDMEMBER"), t, b("-3")],
            2 => vec![b("HRANDFIELD"), h, b("2"), b("WITHVALUES")],
            3 => vec![b("RANDOMKEY")],
            4 => vec![b("SCAN"), b("0"), b("COUNT"), n],
            5 => vec![b("LMOVE"), l, l2, b("RIGHT"), b("LEFT")],
            6 => vec![b("LINSERT"), l, b("BEFORE"), b("a"), v],
            7 => vec![b("LREM"), l, b("0"), v],
            8 => vec![b("LTRIM"), l, b("1"), b("-2")],
            9 => vec![b("LSET"), l, b("0"), v],
            10 => vec![b("HSETNX"), h, m, v],
            11 => vec![b("HINCRBYFLOAT"), h, m, b("1.5")],
            12 => vec![b("SMOVE"), t, t2, m],
            13 => vec![b("SINTERSTORE"), t2, t, self.key("t")],
            14 => vec![b("SUNIONSTORE"), t2, t, self.key("t")],
            15 => vec![
                b("ZRANGEBYSCORE"),
                z,
                b("-inf"),
                b("+inf"),
                b("WITHSCORES"),
                b("LIMIT"),
                b("0"),
                n,
            ],
            16 => vec![b("ZPOPMIN"), z, n],
            17 => vec![b("ZREMRANGEBYRANK"), z, b("0"), b("1")],
            18 => vec![
                b("ZUNIONSTORE"),
                z2,
                b("2"),
                z,
                self.key("z"),
                b("AGGREGATE"),
                b("MAX"),
            ],
            19 => vec![
                b("GETEX"),
                s,
                b("PX"),
                self.ttl_ms().to_string().into_bytes(),
            ],
            20 => vec![b("SETRANGE"), s, n, v],
            21 => vec![b("INCRBYFLOAT"), s, b("0.25")],
            22 => vec![b("RENAME"), s, self.key("s")],
            23 => vec![b("COPY"), l, l2, b("REPLACE")],
            24 => vec![b("OBJECT"), b("ENCODING"), self.any_key()],
            25 => vec![b("DBSIZE")],
            26 => vec![b("KEYS"), b("*")],
            27 => vec![b("LPOS"), l, v, b("RANK"), b("-1")],
            28 => vec![b("ZADD"), z, b("GT"), b("CH"), b("2.5"), m],
            _ => {
                if self.rng.chance(0.1) {
                    vec![b("FLUSHDB")]
                } else {
                    vec![b("GETRANGE"), s, b("0"), b("-1")]
                }
            }
        }
    }

    /// Lua scripts and functions: writes from inside a script (propagated as their
    /// effects, so the AOF and replicas see commands, not the script), a script that
    /// fails after it wrote, pcall error tables, math.random's fixed sequence, the
    /// script cache (EVALSHA is NOSCRIPT after a restart), read-only scripts and a
    /// function library, which RDB and AOF persist.
    fn scripts(&mut self) -> Vec<Vec<u8>> {
        let (s, l) = (self.key("s"), self.key("l"));
        let v = self.value();
        match self.rng.below(8) {
            0 => vec![b("EVAL"), b(INCR_SCRIPT), b("1"), s],
            1 => vec![b("EVALSHA"), b(INCR_SCRIPT_SHA), b("1"), s],
            2 => vec![
                b("EVAL"),
                b("redis.call('SET', KEYS[1], ARGV[1]) return redis.call('LPUSH', KEYS[2], ARGV[1])"),
                b("2"),
                s,
                l,
                v,
            ],
            3 => vec![
                b("EVAL"),
                b("return redis.pcall('HINCRBY', KEYS[1], 'f', 1)"),
                b("1"),
                self.any_key(),
            ],
            4 => vec![
                b("EVAL"),
                b("local t = {} for i = 1, 3 do t[i] = math.random(1000) end return t"),
                b("0"),
            ],
            5 => vec![
                b("EVAL_RO"),
                b("#!lua flags=no-writes\nreturn redis.call('GET', KEYS[1])"),
                b("1"),
                s,
            ],
            6 => vec![b("FUNCTION"), b("LOAD"), b("REPLACE"), b(FUNCTION_LIBRARY)],
            _ => vec![b("FCALL"), b("sim_append"), b("1"), s, v],
        }
    }

    /// Streams: auto IDs from the node's clock (which jumps), explicit IDs that may be
    /// too small, trims, a consumer group read and acknowledged, and XREAD blocking for
    /// the next entry.
    fn streams(&mut self, client_ms: u64) -> (Vec<Vec<u8>>, RequestKind) {
        let x = self.key("x");
        let (m, v) = (self.member(), self.value());
        let n = self.rng.range(0, 5).to_string().into_bytes();
        let consumer = format!("c{}", self.rng.below(3)).into_bytes();
        let args = match self.rng.below(10) {
            0 | 1 => vec![b("XADD"), x, b("*"), m, v],
            2 => vec![b("XADD"), x, b("MAXLEN"), b("~"), b("20"), b("*"), m, v],
            3 => vec![b("XADD"), x, format!("{client_ms}-*").into_bytes(), m, v],
            4 => vec![b("XRANGE"), x, b("-"), b("+"), b("COUNT"), n],
            5 => vec![b("XTRIM"), x, b("MAXLEN"), n],
            6 => vec![b("XGROUP"), b("CREATE"), x, b("g"), b("0"), b("MKSTREAM")],
            7 => vec![
                b("XREADGROUP"),
                b("GROUP"),
                b("g"),
                consumer,
                b("COUNT"),
                b("2"),
                b("STREAMS"),
                x,
                b(">"),
            ],
            8 => vec![b("XAUTOCLAIM"), x, b("g"), consumer, b("0"), b("0-0")],
            _ => {
                let timeout_ms = self.rng.range(1, self.config.block_ms_max.max(1));
                let args = vec![
                    b("XREAD"),
                    b("BLOCK"),
                    timeout_ms.to_string().into_bytes(),
                    b("STREAMS"),
                    x,
                    b("$"),
                ];
                return (args, RequestKind::Blocking { timeout_ms });
            }
        };
        (args, RequestKind::Normal)
    }

    fn malformed(&mut self, client_ms: u64) -> Request {
        // Abusive inputs name commands the model does not know: only where it is off.
        if !self.config.deterministic() && self.rng.chance(ABUSE_SHARE) {
            return self.abusive();
        }
        match self.rng.below(5) {
            0 => {
                let k = self.any_key();
                self.encode(vec![b("FOO"), k], RequestKind::Normal)
            }
            1 => {
                // A real command with one argument too few or too many.
                let mut args = self.any_well_formed(client_ms);
                if args.len() > 1 && self.rng.chance(0.5) {
                    args.truncate(1);
                } else {
                    args.push(b("extra"));
                    args.push(b("extra"));
                }
                self.encode(args, RequestKind::Normal)
            }
            2 => {
                let k = self.key("s");
                self.encode(
                    vec![b("SET"), k, b("v"), b("EX"), b("0")],
                    RequestKind::Normal,
                )
            }
            3 => {
                let k = self.key("z");
                self.encode(vec![b("ZADD"), k, b("1")], RequestKind::Normal)
            }
            _ => Request {
                args: vec![b("GET"), b("?")],
                wire: b"*2\r\n$3\r\nGET\r\n$x\r\n".to_vec(),
                kind: RequestKind::ProtocolError,
                abuse: None,
            },
        }
    }

    /// One of the abusive inputs of issue 14 (`abuse::ABUSE`): its first request now,
    /// the rest queued.
    fn abusive(&mut self) -> Request {
        let abuse = *self.rng.pick(ABUSE);
        let timeout_ms = self.rng.range(1, self.config.block_ms_max.max(1));
        let mut requests = abuse::requests(&abuse, timeout_ms, &mut |prefix| self.key(prefix));
        let first = requests.remove(0);
        self.queued.extend(requests);
        first
    }

    fn any_well_formed(&mut self, client_ms: u64) -> Vec<Vec<u8>> {
        match self.rng.below(6) {
            0 => self.strings(),
            1 => self.keys(client_ms),
            2 => self.lists(),
            3 => self.hashes(),
            4 => self.sets(),
            _ => self.zsets(),
        }
    }
}

fn mixed_case(name: &[u8], rng: &mut Rng) -> Vec<u8> {
    name.iter()
        .map(|c| {
            if rng.chance(0.5) {
                c.to_ascii_lowercase()
            } else {
                *c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_evalsha_digest_is_the_incr_scripts() {
        assert_eq!(
            ember_core::script::sha1_hex(INCR_SCRIPT.as_bytes()),
            INCR_SCRIPT_SHA
        );
    }
}

//! Geohash arithmetic as Redis's GEO commands do it: 52-bit interleaved scores over
//! the Web Mercator latitude band, the 3x3 grid of cells a search looks at, the
//! haversine distance on Redis's earth radius, and the partial quicksort Redis
//! uses for `COUNT`. Every step follows Redis's floating-point operations in the
//! same order so distances and coordinates come out bit for bit equal.

/// Longitude limits.
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;
/// Latitude limits (EPSG:900913): the poles cannot be indexed.
pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
/// Bits per coordinate of a stored score.
pub const STEP_MAX: u8 = 26;
/// Redis's earth radius (quadratic mean radius for WGS-84), in metres.
pub const EARTH_RADIUS_M: f64 = 6372797.560856;
/// Half the Mercator projection's width, in metres (the step estimate's yardstick).
const MERCATOR_MAX_M: f64 = 20037726.37;
const DEG_TO_RAD: f64 = std::f64::consts::PI / 180.0;

fn deg_rad(deg: f64) -> f64 {
    deg * DEG_TO_RAD
}

fn rad_deg(rad: f64) -> f64 {
    rad / DEG_TO_RAD
}

/// A coordinate interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// The ranges scores are computed over.
pub const LONG_RANGE: Range = Range {
    min: LONG_MIN,
    max: LONG_MAX,
};
pub const LAT_RANGE: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};

/// A cell: `step` bits per coordinate, interleaved (longitude on odd bits).
/// `step == 0` with `bits == 0` marks a cell a search leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hash {
    pub bits: u64,
    pub step: u8,
}

impl Hash {
    fn is_zero(self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The score of the cell's first 52-bit position.
    pub fn align52(self) -> u64 {
        self.bits << (52 - u32::from(self.step) * 2)
    }
}

/// A cell's extent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Area {
    pub long: Range,
    pub lat: Range,
}

/// Spreads the low 32 bits of `v` onto the even bit positions.
fn spread(v: u32) -> u64 {
    let mut x = u64::from(v);
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

/// Gathers the even bit positions of `v` into 32 bits.
fn gather(v: u64) -> u32 {
    let mut x = v & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
    ((x | (x >> 16)) & 0xFFFF_FFFF) as u32
}

/// Whether a point may be indexed at all.
pub fn valid_lon_lat(lon: f64, lat: f64) -> bool {
    (LONG_MIN..=LONG_MAX).contains(&lon) && (LAT_MIN..=LAT_MAX).contains(&lat)
}

/// The cell of `step` bits holding the point within the given ranges (Redis's
/// geohashEncode); `None` outside them.
pub fn encode(long_range: Range, lat_range: Range, lon: f64, lat: f64, step: u8) -> Option<Hash> {
    if step == 0 || step > 32 || !valid_lon_lat(lon, lat) {
        return None;
    }
    if lat < lat_range.min || lat > lat_range.max || lon < long_range.min || lon > long_range.max {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_offset = (lat - lat_range.min) / (lat_range.max - lat_range.min) * scale;
    let long_offset = (lon - long_range.min) / (long_range.max - long_range.min) * scale;
    // C converts the offsets to uint32_t by truncation; they lie in [0, 2^step].
    let bits = spread(lat_offset as u32) | (spread(long_offset as u32) << 1);
    Some(Hash { bits, step })
}

/// The 52-bit score of a point (GEOADD's), or `None` when it cannot be indexed.
pub fn score_of(lon: f64, lat: f64) -> Option<u64> {
    encode(LONG_RANGE, LAT_RANGE, lon, lat, STEP_MAX).map(Hash::align52)
}

/// A cell's extent within the given ranges (Redis's geohashDecode).
pub fn decode(long_range: Range, lat_range: Range, hash: Hash) -> Option<Area> {
    if hash.is_zero() {
        return None;
    }
    let lat_cells = gather(hash.bits);
    let long_cells = gather(hash.bits >> 1);
    let scale = (1u64 << hash.step) as f64;
    let lat_scale = lat_range.max - lat_range.min;
    let long_scale = long_range.max - long_range.min;
    // The "+ 1" is 32-bit arithmetic in Redis, so it wraps.
    let edge = |cells: u32, range: Range, span: f64| Range {
        min: range.min + (f64::from(cells) / scale) * span,
        max: range.min + (f64::from(cells.wrapping_add(1)) / scale) * span,
    };
    Some(Area {
        lat: edge(lat_cells, lat_range, lat_scale),
        long: edge(long_cells, long_range, long_scale),
    })
}

/// The centre of a cell, clamped to the indexable ranges: `(lon, lat)`.
pub fn area_centre(area: &Area) -> (f64, f64) {
    let lon = ((area.long.min + area.long.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((area.lat.min + area.lat.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    (lon, lat)
}

/// C's `(uint64_t)` conversion of a double as x86-64 code compiled by gcc does it
/// (scores that are not geohashes still decode to something, as in Redis).
pub fn score_bits(score: f64) -> u64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    // cvttsd2si: truncation, or the "integer indefinite" value when out of range.
    let cvtt = |v: f64| -> u64 {
        if !(-TWO_63..TWO_63).contains(&v) {
            1u64 << 63
        } else {
            v as i64 as u64
        }
    };
    if score >= TWO_63 {
        cvtt(score - TWO_63) ^ (1u64 << 63)
    } else {
        cvtt(score)
    }
}

/// The point a stored score stands for: `(lon, lat)` (Redis's decodeGeohash).
pub fn decode_score(score: f64) -> (f64, f64) {
    let hash = Hash {
        bits: score_bits(score),
        step: STEP_MAX,
    };
    match decode(LONG_RANGE, LAT_RANGE, hash) {
        Some(area) => area_centre(&area),
        None => (0.0, 0.0),
    }
}

/// The 11-character standard geohash of a stored score (GEOHASH): the decoded
/// point re-encoded over the full latitude range, the last character always '0'.
pub fn standard_geohash(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let (lon, lat) = decode_score(score);
    let world_long = Range {
        min: -180.0,
        max: 180.0,
    };
    let world_lat = Range {
        min: -90.0,
        max: 90.0,
    };
    let bits = encode(world_long, world_lat, lon, lat, STEP_MAX).map_or(0, |h| h.bits);
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().take(10).enumerate() {
        let index = (bits >> (52 - (i + 1) * 5)) & 0x1f;
        *c = ALPHABET[index as usize];
    }
    out
}

/// Great-circle distance in metres by the haversine formula.
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let lat1r = deg_rad(lat1);
    let lon1r = deg_rad(lon1);
    let lat2r = deg_rad(lat2);
    let lon2r = deg_rad(lon2);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let v = ((lon2r - lon1r) / 2.0).sin();
    2.0 * EARTH_RADIUS_M * (u * u + lat1r.cos() * lat2r.cos() * v * v).sqrt().asin()
}

/// What a search covers, in metres: a circle or an axis-aligned box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    Radius(f64),
    Box { width: f64, height: f64 },
}

/// A search: the centre `(lon, lat)`, the shape in the request's unit, and the
/// unit's size in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Search {
    pub lon: f64,
    pub lat: f64,
    pub shape: Shape,
    pub conversion: f64,
}

impl Search {
    /// The distance to a point in metres if the point lies within the shape.
    pub fn distance_if_within(&self, lon: f64, lat: f64) -> Option<f64> {
        match self.shape {
            Shape::Radius(r) => {
                let d = distance(self.lon, self.lat, lon, lat);
                // A NaN distance passes, as in Redis (it is not greater).
                if d > r * self.conversion {
                    None
                } else {
                    Some(d)
                }
            }
            Shape::Box { width, height } => {
                let (w, h) = (width * self.conversion, height * self.conversion);
                let lon_distance = distance(lon, lat, self.lon, lat);
                let lat_distance = distance(lon, lat, lon, self.lat);
                if lon_distance > w / 2.0 || lat_distance > h / 2.0 {
                    return None;
                }
                Some(distance(self.lon, self.lat, lon, lat))
            }
        }
    }

    /// `[min_lon, min_lat, max_lon, max_lat]` around the shape.
    fn bounding_box(&self) -> [f64; 4] {
        let (half_h, half_w) = match self.shape {
            Shape::Radius(r) => (r, r),
            Shape::Box { width, height } => (height / 2.0, width / 2.0),
        };
        let height = self.conversion * half_h;
        let width = self.conversion * half_w;
        let lat_delta = rad_deg(height / EARTH_RADIUS_M);
        let long_delta_top = rad_deg(width / EARTH_RADIUS_M / deg_rad(self.lat + lat_delta).cos());
        let long_delta_bottom =
            rad_deg(width / EARTH_RADIUS_M / deg_rad(self.lat - lat_delta).cos());
        let delta = if self.lat < 0.0 {
            long_delta_bottom
        } else {
            long_delta_top
        };
        [
            self.lon - delta,
            self.lat - lat_delta,
            self.lon + delta,
            self.lat + lat_delta,
        ]
    }

    /// The radius (for a box, the half-diagonal) in metres.
    fn reach_m(&self) -> f64 {
        let r = match self.shape {
            Shape::Radius(r) => r,
            Shape::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        };
        r * self.conversion
    }

    /// The cells to scan, in Redis's order (centre, N, S, E, W, NE, NW, SE, SW),
    /// those not needed zeroed (Redis's geohashCalculateAreasByShapeWGS84).
    pub fn cells(&self) -> [Hash; 9] {
        let [min_lon, min_lat, max_lon, max_lat] = self.bounding_box();
        let mut step = estimate_step(self.reach_m(), self.lat);
        let at = |step: u8| {
            let hash = encode(LONG_RANGE, LAT_RANGE, self.lon, self.lat, step).unwrap_or_default();
            (hash, neighbours(hash))
        };
        let area_of = |h: Hash| decode(LONG_RANGE, LAT_RANGE, h);
        let (mut hash, mut n) = at(step);
        let too_coarse = |n: &[Hash; 9]| {
            let [_, north, south, east, west, ..] = n.map(area_of);
            north.is_some_and(|a| a.lat.max < max_lat)
                || south.is_some_and(|a| a.lat.min > min_lat)
                || east.is_some_and(|a| a.long.max < max_lon)
                || west.is_some_and(|a| a.long.min > min_lon)
        };
        if step > 1 && too_coarse(&n) {
            step -= 1;
            (hash, n) = at(step);
        }
        if step >= 2 {
            if let Some(area) = area_of(hash) {
                let zero = |n: &mut [Hash; 9], which: [usize; 3]| {
                    for i in which {
                        n[i] = Hash::default();
                    }
                };
                if area.lat.min < min_lat {
                    zero(&mut n, [SOUTH, SOUTH_WEST, SOUTH_EAST]);
                }
                if area.lat.max > max_lat {
                    zero(&mut n, [NORTH, NORTH_EAST, NORTH_WEST]);
                }
                if area.long.min < min_lon {
                    zero(&mut n, [WEST, SOUTH_WEST, NORTH_WEST]);
                }
                if area.long.max > max_lon {
                    zero(&mut n, [EAST, SOUTH_EAST, NORTH_EAST]);
                }
            }
        }
        n[0] = hash;
        n
    }
}

const NORTH: usize = 1;
const SOUTH: usize = 2;
const EAST: usize = 3;
const WEST: usize = 4;
const NORTH_EAST: usize = 5;
const NORTH_WEST: usize = 6;
const SOUTH_EAST: usize = 7;
const SOUTH_WEST: usize = 8;

/// The score interval `[min, max)` of a cell's points.
pub fn cell_scores(hash: Hash) -> (f64, f64) {
    let min = hash.align52();
    let next = Hash {
        bits: hash.bits.wrapping_add(1),
        step: hash.step,
    };
    (min as f64, next.align52() as f64)
}

/// How many bits per coordinate the cells of a search of this radius need.
fn estimate_step(mut range_m: f64, lat: f64) -> u8 {
    if range_m == 0.0 {
        return STEP_MAX;
    }
    let mut step: i32 = 1;
    while range_m < MERCATOR_MAX_M {
        range_m *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, i32::from(STEP_MAX)) as u8
}

/// One cell over along the longitude (odd) bits, wrapping around.
fn move_x(hash: Hash, east: bool) -> Hash {
    let shift = 64 - u32::from(hash.step) * 2;
    let x = hash.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let y = hash.bits & 0x5555_5555_5555_5555;
    let zz = 0x5555_5555_5555_5555u64 >> shift;
    let x = if east {
        x.wrapping_add(zz.wrapping_add(1))
    } else {
        (x | zz).wrapping_sub(zz.wrapping_add(1))
    };
    let x = x & (0xaaaa_aaaa_aaaa_aaaau64 >> shift);
    Hash {
        bits: x | y,
        step: hash.step,
    }
}

/// One cell over along the latitude (even) bits, wrapping around.
fn move_y(hash: Hash, north: bool) -> Hash {
    let shift = 64 - u32::from(hash.step) * 2;
    let x = hash.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let y = hash.bits & 0x5555_5555_5555_5555;
    let zz = 0xaaaa_aaaa_aaaa_aaaau64 >> shift;
    let y = if north {
        y.wrapping_add(zz.wrapping_add(1))
    } else {
        (y | zz).wrapping_sub(zz.wrapping_add(1))
    };
    let y = y & (0x5555_5555_5555_5555u64 >> shift);
    Hash {
        bits: x | y,
        step: hash.step,
    }
}

/// The cell and its eight neighbours in Redis's scan order.
fn neighbours(hash: Hash) -> [Hash; 9] {
    if hash.step == 0 {
        return [hash; 9];
    }
    [
        hash,
        move_y(hash, true),
        move_y(hash, false),
        move_x(hash, true),
        move_x(hash, false),
        move_y(move_x(hash, true), true),
        move_y(move_x(hash, false), true),
        move_y(move_x(hash, true), false),
        move_y(move_x(hash, false), false),
    ]
}

/// glibc's qsort (a top-down merge sort taking the left element on ties): with
/// Redis's comparator, even NaN distances land where Redis puts them.
pub fn merge_sort<T: Clone>(items: &mut [T], cmp: &impl Fn(&T, &T) -> i32) {
    let n = items.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    merge_sort(&mut items[..n1], cmp);
    merge_sort(&mut items[n1..], cmp);
    let mut merged = Vec::with_capacity(n);
    let (mut i, mut j) = (0, n1);
    while i < n1 && j < n {
        if cmp(&items[i], &items[j]) <= 0 {
            merged.push(items[i].clone());
            i += 1;
        } else {
            merged.push(items[j].clone());
            j += 1;
        }
    }
    merged.extend_from_slice(&items[i..n1]);
    merged.extend_from_slice(&items[j..n]);
    items.clone_from_slice(&merged);
}

/// Redis's pqsort: Bentley-McIlroy quicksort that only finishes the partitions
/// overlapping positions `0..=last`, so the first `last + 1` come out sorted and
/// the rest in whatever order partitioning left them (which replies can show).
pub fn partial_sort<T>(items: &mut [T], last: usize, cmp: &impl Fn(&T, &T) -> i32) {
    // Redis recurses into left partitions and loops on right ones; the partitions
    // are disjoint, so a work list of them sorts identically with bounded stack.
    let mut pending = vec![(0, items.len())];
    while let Some((base, n)) = pending.pop() {
        pqsort_range(items, base, n, 0, last, cmp, &mut pending);
    }
}

fn med3<T>(v: &[T], a: usize, b: usize, c: usize, cmp: &impl Fn(&T, &T) -> i32) -> usize {
    if cmp(&v[a], &v[b]) < 0 {
        if cmp(&v[b], &v[c]) < 0 {
            b
        } else if cmp(&v[a], &v[c]) < 0 {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]) > 0 {
        b
    } else if cmp(&v[a], &v[c]) < 0 {
        a
    } else {
        c
    }
}

/// Swaps `n` elements starting at `a` with `n` starting at `b`, pairwise.
fn vecswap<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for k in 0..n {
        v.swap(a + k, b + k);
    }
}

/// Partitions `v[base..base + n]` as far as positions `lo..=hi` need, handing
/// left partitions that still matter to `pending`.
fn pqsort_range<T>(
    v: &mut [T],
    mut base: usize,
    mut n: usize,
    lo: usize,
    hi: usize,
    cmp: &impl Fn(&T, &T) -> i32,
    pending: &mut Vec<(usize, usize)>,
) {
    loop {
        let a = base;
        if n < 7 {
            for pm in a + 1..a + n {
                let mut pl = pm;
                while pl > a && cmp(&v[pl - 1], &v[pl]) > 0 {
                    v.swap(pl, pl - 1);
                    pl -= 1;
                }
            }
            return;
        }
        let mut pm = a + n / 2;
        if n > 7 {
            let mut pl = a;
            let mut pn = a + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(v, pm - d, pm, pm + d, cmp);
                pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(v, pl, pm, pn, cmp);
        }
        v.swap(a, pm);
        let (mut pa, mut pb) = (a + 1, a + 1);
        // pc and pd can step to `a`, just before pb's start, never below it.
        let (mut pc, mut pd) = (a + n - 1, a + n - 1);
        loop {
            while pb <= pc {
                let r = cmp(&v[pb], &v[a]);
                if r > 0 {
                    break;
                }
                if r == 0 {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let r = cmp(&v[pc], &v[a]);
                if r < 0 {
                    break;
                }
                if r == 0 {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let pn = a + n;
        let r = (pa - a).min(pb - pa);
        vecswap(v, a, pb - r, r);
        let r = (pd - pc).min(pn - pd - 1);
        vecswap(v, pb, pn - r, r);
        let left = pb - pa;
        if left > 1 && overlaps(a, left, lo, hi) {
            pending.push((a, left));
        }
        let right = pd - pc;
        if right <= 1 {
            return;
        }
        base = pn - right;
        n = right;
        if !overlaps(base, n, lo, hi) {
            return;
        }
    }
}

/// Whether elements `start..start+len` meet positions `lo..=hi`.
fn overlaps(start: usize, len: usize, lo: usize, hi: usize) -> bool {
    let end = start + len; // exclusive
    !((lo < start && hi < start) || (lo >= end && hi >= end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palermo_encodes_to_the_score_redis_stores() {
        // GEOADD Sicily 13.361389 38.115556 "Palermo" stores 3479099956230698.
        assert_eq!(score_of(13.361389, 38.115556), Some(3479099956230698));
        assert_eq!(score_of(15.087269, 37.502669), Some(3479447370796909));
    }

    #[test]
    fn decoding_gives_the_cell_centre_redis_prints() {
        let (lon, lat) = decode_score(3479099956230698.0);
        assert_eq!(format!("{lon:.17}"), "13.36138933897018433");
        assert_eq!(format!("{lat:.17}"), "38.11555639549629859");
    }

    #[test]
    fn standard_geohash_matches_redis() {
        assert_eq!(&standard_geohash(3479099956230698.0), b"sqc8b49rny0");
        assert_eq!(&standard_geohash(3479447370796909.0), b"sqdtr74hyu0");
    }

    #[test]
    fn distance_between_palermo_and_catania_matches_redis() {
        let (a, b) = (
            decode_score(3479099956230698.0),
            decode_score(3479447370796909.0),
        );
        let d = distance(a.0, a.1, b.0, b.1);
        assert_eq!(format!("{d:.4}"), "166274.1516");
    }

    #[test]
    fn the_range_edges_encode_past_52_bits_and_decode_clamped() {
        // Facts from redis-server 7.0.15: the north-east corner's offsets are 2^26
        // in both coordinates, which sets bits 52 and 53 of the score.
        assert_eq!(score_of(180.0, 85.05112878), Some(13510798882111488));
        assert_eq!(score_of(-180.0, -85.05112878), Some(0));
        assert_eq!(score_of(0.0, 0.0), Some(3377699720527872));
        let (lon, lat) = decode_score(13510798882111488.0);
        assert_eq!(
            (lon, format!("{lat:.17}")),
            (180.0, "85.05112877999999910".into())
        );
        let (lon, lat) = decode_score(0.0);
        assert_eq!(format!("{lon:.17}"), "-179.99999731779098511");
        assert_eq!(format!("{lat:.17}"), "-85.05112751263942528");
        assert_eq!(&standard_geohash(13510798882111488.0), b"bp05b5048p0");
        assert_eq!(&standard_geohash(0.0), b"00bh0hbj200");
        assert_eq!(&standard_geohash(3377699720527872.0), b"s0000000000");
    }

    #[test]
    fn encode_then_decode_stays_within_one_cell() {
        for &(lon, lat) in &[
            (0.0, 0.0),
            (-180.0, -85.05112878),
            (179.999, 85.0),
            (-73.9, 40.7),
        ] {
            let score = score_of(lon, lat).unwrap_or(0);
            let (dlon, dlat) = decode_score(score as f64);
            assert!((dlon - lon).abs() < 360.0 / f64::from(1u32 << 26));
            assert!((dlat - lat).abs() < 171.0 / f64::from(1u32 << 26));
            assert_eq!(score_of(dlon, dlat), Some(score));
        }
    }

    #[test]
    fn out_of_range_points_do_not_encode() {
        assert_eq!(score_of(180.1, 0.0), None);
        assert_eq!(score_of(0.0, 85.06), None);
        assert_eq!(score_of(f64::INFINITY, 0.0), None);
    }

    #[test]
    fn score_bits_follow_x86_conversion() {
        assert_eq!(score_bits(-5.0), 0xffff_ffff_ffff_fffb);
        assert_eq!(score_bits(1.5), 1);
        assert_eq!(score_bits(2e19), 0);
        assert_eq!(score_bits(-1e19), 0x8000_0000_0000_0000);
        assert_eq!(score_bits(1e19), 0x8ac7_2304_89e8_0000);
        assert_eq!(score_bits(f64::INFINITY), 0);
    }

    #[test]
    fn partial_sort_orders_the_requested_prefix() {
        let cmp = |a: &i32, b: &i32| a.cmp(b) as i32;
        for n in [0usize, 1, 5, 7, 8, 41, 100, 300] {
            let mut v: Vec<i32> = (0..n as i32).map(|i| (i * 7919) % 101).collect();
            let mut sorted = v.clone();
            sorted.sort();
            let k = n / 3;
            if n > 0 {
                partial_sort(&mut v, k, &cmp);
                assert_eq!(v[..=k.min(n - 1)], sorted[..=k.min(n - 1)]);
            }
        }
    }

    #[test]
    fn merge_sort_is_stable() {
        let mut v = vec![(1, 'a'), (0, 'b'), (1, 'c'), (0, 'd')];
        merge_sort(&mut v, &|a: &(i32, char), b: &(i32, char)| {
            a.0.cmp(&b.0) as i32
        });
        assert_eq!(v, vec![(0, 'b'), (0, 'd'), (1, 'a'), (1, 'c')]);
    }
}

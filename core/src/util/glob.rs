//! Glob-style pattern matching with the exact semantics of Redis 7.0's
//! `stringmatchlen` (used by `KEYS`, `SCAN ... MATCH`, `PSUBSCRIBE` and
//! `CONFIG GET`).
//!
//! Supported syntax:
//!
//! * `*` matches any run of bytes (consecutive stars collapse into one);
//! * `?` matches exactly one byte;
//! * `[...]` matches one byte from a class; `[^...]` negates the class;
//!   `a-z` is an inclusive range (reversed ranges such as `z-a` are swapped);
//!   `\x` inside a class matches `x` literally (and case-sensitively);
//!   a class left open at the end of the pattern is closed implicitly;
//! * `\x` outside a class matches `x` literally; a lone `\` at the end of the
//!   pattern matches a backslash;
//! * any other byte matches itself (ASCII case-insensitively with `nocase`).
//!
//! Quirks reproduced on purpose, because clients can observe them:
//!
//! * the empty string is matched only by the empty pattern (even `*` does not
//!   match it; `KEYS *` special-cases that pattern before matching);
//! * range bounds and the tested byte are compared as C `char`, which is
//!   signed, so bytes `0x80..=0xff` sort before `0x00`;
//! * with `nocase`, range bounds are swapped first and lower-cased second, so
//!   `[Z-a]` matches nothing;
//! * Redis gives up (reports no match) when a pattern would make it recurse
//!   more than 1000 levels deep, which happens exactly when the pattern has
//!   more than 1000 star groups that are followed by something else.
//!
//! Unlike the recursive C implementation, this matcher backtracks
//! iteratively over the most recent star only, so it runs in
//! `O(pattern.len() * string.len())` time and constant space.

/// Deepest recursion level Redis allows before declaring "no match".
const MAX_NESTING: usize = 1000;

/// Returns whether `string` matches the glob `pattern`, exactly as Redis
/// 7.0's `stringmatchlen(pattern, string, nocase)` would decide.
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    if string.is_empty() {
        // Redis never enters its matching loop for an empty string.
        return pattern.is_empty();
    }
    if inner_star_groups(pattern) > MAX_NESTING {
        return false;
    }

    let mut p = 0;
    let mut s = 0;
    // Pattern index just past the most recent star group, and the string
    // index at which the text after that star group was last tried.
    let mut resume: Option<(usize, usize)> = None;

    while let Some(&c) = string.get(s) {
        if pattern.get(p) == Some(&b'*') {
            p = skip_stars(pattern, p);
            if p == pattern.len() {
                return true;
            }
            resume = Some((p, s));
            continue;
        }
        if p < pattern.len() {
            let (matched, next) = match_token(pattern, p, c, nocase);
            if matched {
                p = next;
                s += 1;
                continue;
            }
        }
        match resume {
            Some((star_p, star_s)) => {
                // Let the star swallow one more byte and retry.
                resume = Some((star_p, star_s + 1));
                p = star_p;
                s = star_s + 1;
            }
            None => return false,
        }
    }
    skip_stars(pattern, p) == pattern.len()
}

/// Returns the index of the first non-`*` byte at or after `p`.
fn skip_stars(pattern: &[u8], mut p: usize) -> usize {
    while pattern.get(p) == Some(&b'*') {
        p += 1;
    }
    p
}

/// Counts the star groups that are followed by at least one more token; each
/// of them costs Redis one level of recursion on any successful match.
fn inner_star_groups(pattern: &[u8]) -> usize {
    let mut groups = 0;
    let mut p = 0;
    while p < pattern.len() {
        if pattern.get(p) == Some(&b'*') {
            p = skip_stars(pattern, p);
            if p < pattern.len() {
                groups += 1;
            }
        } else {
            p = token_end(pattern, p);
        }
    }
    groups
}

/// Returns the index just past the single-byte token (anything but `*`)
/// starting at `p`.
fn token_end(pattern: &[u8], p: usize) -> usize {
    match pattern.get(p) {
        Some(b'[') => class_end_and_match(pattern, p, 0, false).1,
        Some(b'\\') if p + 1 < pattern.len() => p + 2,
        _ => p + 1,
    }
}

/// Matches the single-byte token (anything but `*`) starting at `p` against
/// the byte `c`; returns whether it matched and the index past the token.
fn match_token(pattern: &[u8], p: usize, c: u8, nocase: bool) -> (bool, usize) {
    match pattern.get(p) {
        Some(b'?') => (true, p + 1),
        Some(b'[') => class_end_and_match(pattern, p, c, nocase),
        Some(b'\\') => match pattern.get(p + 1) {
            Some(&lit) => (bytes_eq(lit, c, nocase), p + 2),
            None => (bytes_eq(b'\\', c, nocase), p + 1),
        },
        Some(&lit) => (bytes_eq(lit, c, nocase), p + 1),
        None => (false, p),
    }
}

/// Evaluates the class starting at the `[` at index `open` against `c`;
/// returns whether it matched and the index just past the class.
fn class_end_and_match(pattern: &[u8], open: usize, c: u8, nocase: bool) -> (bool, usize) {
    let mut i = open + 1;
    let negated = pattern.get(i) == Some(&b'^');
    if negated {
        i += 1;
    }
    let mut matched = false;
    // Running off the end of the pattern closes the class.
    while let Some(&b) = pattern.get(i) {
        let left = pattern.len() - i;
        if b == b'\\' && left >= 2 {
            if pattern.get(i + 1) == Some(&c) {
                matched = true;
            }
            i += 2;
        } else if b == b']' {
            i += 1;
            break;
        } else if left >= 3 && pattern.get(i + 1) == Some(&b'-') {
            let end = pattern.get(i + 2).copied().unwrap_or(b);
            if in_range(b, end, c, nocase) {
                matched = true;
            }
            i += 3;
        } else {
            if bytes_eq(b, c, nocase) {
                matched = true;
            }
            i += 1;
        }
    }
    (matched != negated, i)
}

/// Range test performed the way Redis does it: on signed C `char` values,
/// swapping reversed bounds before (optionally) lower-casing.
fn in_range(start: u8, end: u8, c: u8, nocase: bool) -> bool {
    let (mut lo, mut hi, mut c) = (c_char(start), c_char(end), c_char(c));
    if lo > hi {
        std::mem::swap(&mut lo, &mut hi);
    }
    if nocase {
        lo = c_tolower(lo);
        hi = c_tolower(hi);
        c = c_tolower(c);
    }
    lo <= c && c <= hi
}

/// The value of a byte as a (signed) C `char` on x86-64.
fn c_char(b: u8) -> i32 {
    i32::from(i8::from_ne_bytes([b]))
}

/// `tolower` in the "C" locale (Redis never changes `LC_CTYPE`).
fn c_tolower(v: i32) -> i32 {
    if (i32::from(b'A')..=i32::from(b'Z')).contains(&v) {
        v + 32
    } else {
        v
    }
}

fn bytes_eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    /// Keys stored in redis-server 7.0.15 for the `KEYS` oracle below.
    const KEYS: &[&[u8]] = &[
        b"hello", b"hallo", b"hxllo", b"hllo", b"heeello", b"h*llo", b"h[llo", b"h\\llo", b"Hello",
        b"", b"a", b"b", b"z", b"[", b"]", b"-", b"\\", b"^", b"*", b"?", b"ab", b"a-", b"\x80",
        b"\xff",
    ];

    /// `KEYS pattern` replies from redis-server 7.0.15 over `KEYS`.
    const CASES: &[(&[u8], &[&[u8]])] = &[
        (
            b"h?llo",
            &[b"hello", b"hallo", b"hxllo", b"h*llo", b"h[llo", b"h\\llo"],
        ),
        (
            b"h*llo",
            &[
                b"hello", b"hallo", b"hxllo", b"hllo", b"heeello", b"h*llo", b"h[llo", b"h\\llo",
            ],
        ),
        (b"h[ae]llo", &[b"hello", b"hallo"]),
        (
            b"h[^e]llo",
            &[b"hallo", b"hxllo", b"h*llo", b"h[llo", b"h\\llo"],
        ),
        (b"h[a-b]llo", &[b"hallo"]),
        (b"h[b-a]llo", &[b"hallo"]),
        (b"h\\*llo", &[b"h*llo"]),
        (b"h\\[llo", &[b"h[llo"]),
        (b"h\\\\llo", &[b"h\\llo"]),
        (b"*[", &[]),
        (b"[a-", &[b"a", b"-"]),
        (b"[a-]", &[b"a", b"]", b"^"]),
        (b"\\\\", &[b"\\"]),
        (b"\\", &[b"\\"]),
        (b"", &[b""]),
        (
            b"**",
            &[
                b"hello", b"hallo", b"hxllo", b"hllo", b"heeello", b"h*llo", b"h[llo", b"h\\llo",
                b"Hello", b"a", b"b", b"z", b"[", b"]", b"-", b"\\", b"^", b"*", b"?", b"ab",
                b"a-", b"\x80", b"\xff",
            ],
        ),
        (
            b"*?*",
            &[
                b"hello", b"hallo", b"hxllo", b"hllo", b"heeello", b"h*llo", b"h[llo", b"h\\llo",
                b"Hello", b"a", b"b", b"z", b"[", b"]", b"-", b"\\", b"^", b"*", b"?", b"ab",
                b"a-", b"\x80", b"\xff",
            ],
        ),
        (
            b"?",
            &[
                b"a", b"b", b"z", b"[", b"]", b"-", b"\\", b"^", b"*", b"?", b"\x80", b"\xff",
            ],
        ),
        (b"??", &[b"ab", b"a-"]),
        (b"[", &[]),
        (
            b"[^",
            &[
                b"a", b"b", b"z", b"[", b"]", b"-", b"\\", b"^", b"*", b"?", b"\x80", b"\xff",
            ],
        ),
        (b"[]", &[]),
        (
            b"[^]",
            &[
                b"a", b"b", b"z", b"[", b"]", b"-", b"\\", b"^", b"*", b"?", b"\x80", b"\xff",
            ],
        ),
        (b"[]]", &[]),
        (b"[\\]]", &[b"]"]),
        (b"[\\", &[b"\\"]),
        (b"[a-\\]", &[b"a", b"]", b"\\", b"^"]),
        (
            b"[^a-z]",
            &[b"[", b"]", b"-", b"\\", b"^", b"*", b"?", b"\x80", b"\xff"],
        ),
        (b"[z-a]", &[b"a", b"b", b"z"]),
        (
            b"[a-\xff]",
            &[b"a", b"[", b"]", b"-", b"\\", b"^", b"*", b"?", b"\xff"],
        ),
        (
            b"[\x80-a]",
            &[
                b"a", b"[", b"]", b"-", b"\\", b"^", b"*", b"?", b"\x80", b"\xff",
            ],
        ),
        (b"[\xff-\x80]", &[b"\x80", b"\xff"]),
        (b"[-]", &[b"-"]),
        (b"[a-b-]", &[b"a", b"b", b"-"]),
        (
            b"h*",
            &[
                b"hello", b"hallo", b"hxllo", b"hllo", b"heeello", b"h*llo", b"h[llo", b"h\\llo",
            ],
        ),
        (
            b"*o",
            &[
                b"hello", b"hallo", b"hxllo", b"hllo", b"heeello", b"h*llo", b"h[llo", b"h\\llo",
                b"Hello",
            ],
        ),
        (
            b"*l*",
            &[
                b"hello", b"hallo", b"hxllo", b"hllo", b"heeello", b"h*llo", b"h[llo", b"h\\llo",
                b"Hello",
            ],
        ),
        (
            b"h**o",
            &[
                b"hello", b"hallo", b"hxllo", b"hllo", b"heeello", b"h*llo", b"h[llo", b"h\\llo",
            ],
        ),
        (b"*\\*", &[b"*"]),
        (b"\\*", &[b"*"]),
        (b"\\?", &[b"?"]),
        (b"[*]", &[b"*"]),
        (b"[?]", &[b"?"]),
        (b"h[el]*o", &[b"hello", b"hllo", b"heeello"]),
        (b"H*", &[b"Hello"]),
        (b"[hH]ello", &[b"hello", b"Hello"]),
        (b"a\\", &[]),
        (b"*\\", &[b"\\"]),
        (b"\\a", &[b"a"]),
        (b"[\\a]", &[b"a"]),
        (b"[\\-]", &[b"-"]),
        (b"[!a]", &[b"a"]),
        (b"^", &[b"^"]),
        (b"[\\^]", &[b"^"]),
    ];

    #[test]
    fn keys_patterns_select_exactly_what_redis_returns() {
        for (pattern, expected) in CASES {
            let got: Vec<&[u8]> = KEYS
                .iter()
                .copied()
                .filter(|key| glob_match(pattern, key, false))
                .collect();
            assert_eq!(
                &got,
                expected,
                "pattern {:?}",
                String::from_utf8_lossy(pattern)
            );
        }
    }

    /// `CONFIG GET pattern` (which matches case-insensitively) replies from
    /// redis-server 7.0.15, restricted to the names below.
    #[test]
    fn nocase_patterns_select_exactly_what_config_get_returns() {
        const NAMES: &[&[u8]] = &[
            b"maxmemory",
            b"maxmemory-clients",
            b"maxmemory-eviction-tenacity",
            b"maxmemory-policy",
            b"maxmemory-samples",
            b"save",
        ];
        const CONFIG_CASES: &[(&[u8], &[&[u8]])] = &[
            (
                b"MAXMEMORY*",
                &[
                    b"maxmemory",
                    b"maxmemory-clients",
                    b"maxmemory-eviction-tenacity",
                    b"maxmemory-policy",
                    b"maxmemory-samples",
                ],
            ),
            (b"[M]axmemory", &[b"maxmemory"]),
            (b"[\\M]axmemory", &[]),
            (b"[\\m]axmemory", &[b"maxmemory"]),
            (b"[L-N]axmemory", &[b"maxmemory"]),
            (b"[l-n]axmemory", &[b"maxmemory"]),
            (b"[Z-a]axmemory", &[]),
            (b"[a-Z]axmemory", &[]),
            (b"[^M]axmemory", &[]),
            (b"\\Maxmemory-policy?", &[]),
            (b"M?XMEMORY", &[b"maxmemory"]),
            (b"*-POLICY", &[b"maxmemory-policy"]),
        ];
        for (pattern, expected) in CONFIG_CASES {
            let got: Vec<&[u8]> = NAMES
                .iter()
                .copied()
                .filter(|name| glob_match(pattern, name, true))
                .collect();
            assert_eq!(
                &got,
                expected,
                "pattern {:?}",
                String::from_utf8_lossy(pattern)
            );
        }
    }

    #[test]
    fn nocase_only_folds_ascii_letters() {
        assert!(glob_match(b"HeLLo", b"hello", true));
        assert!(!glob_match(b"HeLLo", b"hello", false));
        assert!(glob_match(b"\\H*", b"hello", true));
        assert!(!glob_match(b"\xc3\x89", b"\xc3\xa9", true));
    }

    #[test]
    fn the_empty_string_is_matched_only_by_the_empty_pattern() {
        assert!(glob_match(b"", b"", false));
        assert!(!glob_match(b"*", b"", false));
        assert!(!glob_match(b"**", b"", true));
        assert!(!glob_match(b"", b"a", false));
    }

    fn repeat(unit: &[u8], times: usize) -> Vec<u8> {
        unit.repeat(times)
    }

    /// Oracle: one key of 1001 `a`s; `KEYS` replies from redis-server 7.0.15.
    #[test]
    fn more_than_a_thousand_inner_star_groups_never_match_like_redis() {
        let key = repeat(b"a", 1001);
        let cases: &[(Vec<u8>, bool)] = &[
            (repeat(b"*a", 999), true),
            (repeat(b"*a", 1000), true),
            (repeat(b"*a", 1001), false),
            ([repeat(b"*a", 1000), b"*".to_vec()].concat(), true),
            ([repeat(b"*a", 1001), b"*".to_vec()].concat(), false),
            (repeat(b"a*", 1000), true),
            (repeat(b"a*", 1001), true),
            (repeat(b"a*", 1002), false),
            (repeat(b"[a]*", 1001), true),
            (repeat(b"*[a]", 1001), false),
            (repeat(b"*[a]", 1000), true),
            (repeat(b"*[*]", 1001), false),
            (repeat(b"[*]a", 1001), false),
            (repeat(b"*[a", 1001), true),
        ];
        for (pattern, expected) in cases {
            assert_eq!(glob_match(pattern, &key, false), *expected);
        }
        let bracketed = repeat(b"[a", 1001);
        assert!(glob_match(&repeat(b"*[a]", 1000), &bracketed, false));
        assert!(glob_match(&repeat(b"*[a", 1001), &bracketed, false));
        assert!(!glob_match(&repeat(b"[a]*", 1001), &bracketed, false));
    }

    /// Oracle: keys `a`x100 and `a`x99 + `b`; both star patterns return only
    /// the second key.
    #[test]
    fn pathological_star_patterns_finish_quickly_with_redis_answers() {
        let all_a = repeat(b"a", 100);
        let ends_b = [repeat(b"a", 99), b"b".to_vec()].concat();
        let p1 = [repeat(b"a*", 40), b"b".to_vec()].concat();
        let p2 = [repeat(b"*a", 50), b"*b".to_vec()].concat();
        let p3 = [repeat(b"\\*a", 1001), b"*b".to_vec()].concat();
        for pattern in [&p1, &p2] {
            assert!(!glob_match(pattern, &all_a, false));
            assert!(glob_match(pattern, &ends_b, false));
        }
        assert!(!glob_match(&p3, &ends_b, false));
        // Oracle: key (`*a` x1001 + `b`); escaped stars are not star groups.
        let starry = [repeat(b"*a", 1001), b"b".to_vec()].concat();
        assert!(glob_match(&p3, &starry, false));
        let p5 = [repeat(b"\\*a", 1001), b"b".to_vec()].concat();
        assert!(glob_match(&p5, &starry, false));
        let p6 = [repeat(b"*\\*a", 1001), b"b".to_vec()].concat();
        assert!(!glob_match(&p6, &starry, false));
        let long = repeat(b"a", 100_000);
        let p4 = [repeat(b"*a", 500), b"*b".to_vec()].concat();
        assert!(!glob_match(&p4, &long, false));
    }

    #[test]
    fn every_short_pattern_over_special_bytes_is_handled_without_panicking() {
        const ALPHABET: &[u8] = b"a*?[]^-\\\xff";
        let strings: &[&[u8]] = &[b"", b"a", b"-", b"\\", b"a]", b"\xff\xff"];
        let n = ALPHABET.len();
        for len in 0..=4u32 {
            for code in 0..n.pow(len) {
                let mut pattern = Vec::new();
                let mut rest = code;
                for _ in 0..len {
                    pattern.push(ALPHABET[rest % n]);
                    rest /= n;
                }
                for s in strings {
                    let a = glob_match(&pattern, s, false);
                    let b = glob_match(&pattern, s, true);
                    // Nothing in these strings or patterns has case.
                    assert_eq!(a, b);
                }
            }
        }
    }
}

//! Structural predictors: what makes tokens guessable although their characters look
//! random — counters, monotonic sequences, linear congruential generators, embedded times,
//! version-1 UUIDs.

use serde::Serialize;

use crate::Strength;

/// A structure that predicts tokens.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Prediction {
    /// `counter`, `monotonic`, `lcg`, `time` or `uuid_v1`.
    pub kind: &'static str,
    pub strength: Strength,
    pub summary: String,
    /// The tokens the structure expects next, most likely first (for a live check).
    #[serde(skip)]
    pub next: Vec<String>,
}

/// Largest step of a monotonic sequence that still makes the next token guessable online.
const GUESSABLE_STEP: u128 = 1 << 24;
/// Candidates a counter or monotonic prediction names for the next token: other clients may
/// be issued tokens between two of ours.
pub const PREDICTION_WINDOW: u128 = 256;
/// Tokens the structural predictors look at (the first ones of the sample).
const STRUCTURE_SAMPLE: usize = 2_000;
/// Unix times tokens may embed: 2000-01-01 to 2100-01-01.
const TIME_RANGE: std::ops::Range<i64> = 946_684_800..4_102_444_800;
/// Embedded times must lie this close to the reference time, when there is one.
const TIME_SLACK: i64 = 2 * 86_400;
/// Embedded times of one sample must lie within this span.
const TIME_SPAN: i64 = 30 * 86_400;

/// A numeric reading of the tokens: `prefix` characters, a number in some radix, the rest.
#[derive(Debug, Clone)]
struct View {
    name: &'static str,
    digits: &'static [u8],
    start: usize,
    /// Characters after the number (counted from the end of each token).
    end_trim: usize,
    /// Every token has the same length (numbers are zero-padded to it).
    fixed_width: bool,
    values: Vec<u128>,
}

const DEC: &[u8] = b"0123456789";
const HEX: &[u8] = b"0123456789abcdef";
const HEX_UP: &[u8] = b"0123456789ABCDEF";
const B36: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
const B62A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const B62B: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn decode(s: &[u8], digits: &[u8]) -> Option<u128> {
    let radix = digits.len() as u128;
    let mut v: u128 = 0;
    for &c in s {
        let d = digits.iter().position(|&x| x == c)? as u128;
        v = v.checked_mul(radix)?.checked_add(d)?;
    }
    Some(v)
}

fn encode(mut v: u128, digits: &[u8], width: usize) -> String {
    let radix = digits.len() as u128;
    let mut out = Vec::new();
    while v > 0 {
        out.push(digits[(v % radix) as usize]);
        v /= radix;
    }
    while out.len() < width {
        out.push(digits[0]);
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

fn common_prefix(tokens: &[&str]) -> usize {
    let first = tokens[0].as_bytes();
    let mut len = first.len();
    for t in &tokens[1..] {
        len = len.min(first.iter().zip(t.as_bytes()).take_while(|(a, b)| a == b).count());
    }
    len
}

fn common_suffix(tokens: &[&str], prefix: usize) -> usize {
    let first = tokens[0].as_bytes();
    let mut len = first.len() - prefix;
    for t in &tokens[1..] {
        let t = t.as_bytes();
        let same = first
            .iter()
            .rev()
            .zip(t.iter().rev())
            .take_while(|(a, b)| a == b)
            .count();
        len = len.min(same).min(t.len() - prefix);
    }
    len
}

/// Numeric readings of the tokens: the part between the common prefix and suffix in each
/// radix that decodes every token, then every maximal all-digit column range.
fn views(tokens: &[&str]) -> Vec<View> {
    let mut out = Vec::new();
    let mut prefix = common_prefix(tokens);
    while !tokens[0].is_char_boundary(prefix) {
        prefix -= 1;
    }
    let fixed_width = tokens.iter().all(|t| t.len() == tokens[0].len());
    let mut suffix = common_suffix(tokens, prefix);
    while !tokens[0].is_char_boundary(tokens[0].len() - suffix) {
        suffix -= 1;
    }
    for (name, digits) in [
        ("decimal", DEC),
        ("hex", HEX),
        ("hex", HEX_UP),
        ("base36", B36),
        ("base62", B62A),
        ("base62", B62B),
    ] {
        // The common prefix and suffix keep only what is not a digit of this radix, so a
        // number that grows into them (40000099 → 40000100) is read whole.
        let first = tokens[0].as_bytes();
        let mut start = prefix;
        while start > 0 && digits.contains(&first[start - 1]) {
            start -= 1;
        }
        let mut end_trim = suffix;
        while end_trim > 0 && digits.contains(&first[first.len() - end_trim]) {
            end_trim -= 1;
        }
        let values: Option<Vec<u128>> = tokens
            .iter()
            .map(|t| {
                let b = t.as_bytes();
                (b.len() > start + end_trim)
                    .then(|| decode(&b[start..b.len() - end_trim], digits))
                    .flatten()
            })
            .collect();
        if let Some(values) = values {
            out.push(View {
                name,
                digits,
                start,
                end_trim,
                fixed_width,
                values,
            });
            // The smallest radix that reads every token is the one that matters.
            break;
        }
    }
    // All-digit column ranges of equal-length tokens (e.g. `inv-000123-q7x`).
    let len = tokens[0].len();
    if tokens.iter().all(|t| t.len() == len) {
        let digit_col: Vec<bool> = (0..len)
            .map(|c| tokens.iter().all(|t| t.as_bytes()[c].is_ascii_digit()))
            .collect();
        let mut c = 0;
        while c < len {
            if !digit_col[c] {
                c += 1;
                continue;
            }
            let start = c;
            while c < len && digit_col[c] {
                c += 1;
            }
            let whole = out.first().is_some_and(|v| v.start == start && v.end_trim == len - c);
            if c - start <= 38 && !whole && out.len() < 8 {
                let values = tokens
                    .iter()
                    .map(|t| decode(&t.as_bytes()[start..c], DEC).unwrap_or(0))
                    .collect();
                out.push(View {
                    name: "decimal",
                    digits: DEC,
                    start,
                    end_trim: len - c,
                    fixed_width: true,
                    values,
                });
            }
        }
    }
    out
}

impl View {
    /// The token `last` with its number replaced by `value`.
    fn render(&self, last: &str, value: u128) -> String {
        let b = last.as_bytes();
        let width = if self.fixed_width {
            b.len() - self.start - self.end_trim
        } else {
            0
        };
        format!(
            "{}{}{}",
            &last[..self.start],
            encode(value, self.digits, width),
            &last[b.len() - self.end_trim..]
        )
    }
}

/// Every structure that predicts the tokens (given in issue order).
pub fn predict(tokens: &[&str], reference_time: Option<i64>) -> Vec<Prediction> {
    let tokens = &tokens[..tokens.len().min(STRUCTURE_SAMPLE)];
    let mut out = Vec::new();
    if tokens.len() < 2 {
        return out;
    }
    let last = tokens[tokens.len() - 1];
    for view in views(tokens) {
        let found = sequential(&view, last).or_else(|| lcg(&view, last));
        // Two readings of the same digits find the same structure once.
        if let Some(p) = found.filter(|p| !out.iter().any(|o: &Prediction| o.summary == p.summary)) {
            out.push(p);
        }
    }
    if let Some(p) = embedded_time(tokens, reference_time) {
        out.push(p);
    }
    if let Some(p) = uuid_v1(tokens) {
        out.push(p);
    }
    out
}

/// Counters and other monotonic sequences with small steps.
fn sequential(view: &View, last: &str) -> Option<Prediction> {
    let v = &view.values;
    let n = v.len();
    if n < 6 {
        return None;
    }
    let diffs: Vec<i128> = v
        .windows(2)
        .map(|w| (w[1] as i128).wrapping_sub(w[0] as i128))
        .collect();
    // The most frequent non-zero step.
    let mut sorted: Vec<i128> = diffs.iter().copied().filter(|&d| d != 0).collect();
    sorted.sort_unstable();
    let (mut mode, mut mode_count, mut i) = (0i128, 0usize, 0usize);
    while i < sorted.len() {
        let j = sorted[i..].iter().take_while(|&&d| d == sorted[i]).count();
        if j > mode_count {
            mode = sorted[i];
            mode_count = j;
        }
        i += j;
    }
    let pairs = diffs.len();
    let last_value = *v.last()?;
    if mode != 0 && mode_count * 10 >= pairs * 9 {
        // Other clients advance a shared counter too: the next token we get is a few strides
        // on, the stride being what every observed step is a multiple of.
        // Steps are differences modulo 2^128: a stride of 2^127 is i128::MIN either way.
        let stride =
            (diffs.iter().fold(0u128, |g, d| gcd(g, d.unsigned_abs())).max(1) as i128).wrapping_mul(mode.signum());
        let next: Vec<String> = (1..=PREDICTION_WINDOW as i128)
            .filter_map(|k| last_value.checked_add_signed(stride.checked_mul(k)?))
            .map(|x| view.render(last, x))
            .collect();
        return Some(Prediction {
            kind: "counter",
            strength: crate::Strength::Conclusive,
            summary: format!(
                "a counter: read as {} numbers, {mode_count} of {pairs} consecutive tokens differ by exactly {mode}; the next one follows from the last",
                view.name
            ),
            next,
        });
    }
    if n < 16 {
        return None;
    }
    let up = diffs.iter().filter(|&&d| d > 0).count();
    let down = diffs.iter().filter(|&&d| d < 0).count();
    let (dir, count) = if up >= down { (1i128, up) } else { (-1i128, down) };
    if count * 10 < pairs * 9 {
        return None;
    }
    let max_step = diffs
        .iter()
        .filter(|&&d| d.signum() == dir)
        .map(|d| d.unsigned_abs())
        .max()?;
    if max_step > GUESSABLE_STEP {
        return None;
    }
    let next: Vec<String> = (1..=(max_step * 4).clamp(64, PREDICTION_WINDOW) as i128)
        .filter_map(|k| last_value.checked_add_signed(dir * k))
        .map(|x| view.render(last, x))
        .collect();
    Some(Prediction {
        kind: "monotonic",
        strength: crate::Strength::Strong,
        summary: format!(
            "monotonic: read as {} numbers, {count} of {pairs} consecutive tokens {} by at most {max_step}; the next token is one of {max_step} values after the last",
            view.name,
            if dir > 0 { "increase" } else { "decrease" }
        ),
        next,
    })
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn mod_inverse(a: u128, m: u128) -> Option<u128> {
    let (mut old_r, mut r) = (a as i128, m as i128);
    let (mut old_s, mut s) = (1i128, 0i128);
    while r != 0 {
        let q = old_r / r;
        (old_r, r) = (r, old_r - q * r);
        (old_s, s) = (s, old_s - q * s);
    }
    (old_r == 1).then(|| old_s.rem_euclid(m as i128) as u128)
}

/// A full-output linear congruential generator x' = (a·x + c) mod m, recovered from the
/// sample with the modulus unknown (gcd of t₂·t₀ − t₁² over the differences t).
fn lcg(view: &View, last: &str) -> Option<Prediction> {
    let v = &view.values;
    if v.len() < 6 || v.iter().any(|&x| x >= 1 << 62) {
        return None;
    }
    let t: Vec<i128> = v.windows(2).map(|w| w[1] as i128 - w[0] as i128).collect();
    let mut m: u128 = 0;
    for w in t.windows(3).take(12) {
        let u = w[2] * w[0] - w[1] * w[1];
        m = gcd(m, u.unsigned_abs());
    }
    let max = *v.iter().max()?;
    if m <= max || m >= 1 << 63 {
        return None;
    }
    let (i, inv) = t
        .iter()
        .enumerate()
        .take(t.len() - 1)
        .find_map(|(i, &ti)| mod_inverse((ti.rem_euclid(m as i128)) as u128, m).map(|inv| (i, inv)))?;
    let a = (t[i + 1].rem_euclid(m as i128) as u128) * inv % m;
    let c = (v[1] + m - (a * v[0]) % m) % m;
    let step = |x: u128| (a * x + c) % m;
    if !v.windows(2).all(|w| step(w[0]) == w[1]) {
        return None;
    }
    let mut next = Vec::new();
    let mut x = *v.last()?;
    for _ in 0..4 {
        x = step(x);
        next.push(view.render(last, x));
    }
    Some(Prediction {
        kind: "lcg",
        strength: crate::Strength::Conclusive,
        summary: format!(
            "a linear congruential generator: read as {} numbers, every token is (a·previous + c) mod {m} with a = {a}, c = {c} ({} of {} reproduced)",
            view.name,
            v.len() - 1,
            v.len() - 1
        ),
        next,
    })
}

/// Unix times (seconds, or milliseconds) at a fixed place in every token: decimal digits or
/// 8 hex digits (as in MongoDB ObjectIds).
fn embedded_time(tokens: &[&str], reference: Option<i64>) -> Option<Prediction> {
    let n = tokens.len();
    if n < 5 {
        return None;
    }
    let min_len = tokens.iter().map(|t| t.len()).min()?;
    let candidates: [(&str, &[u8], usize, i64); 4] = [
        ("decimal seconds", DEC, 10, 1),
        ("decimal milliseconds", DEC, 13, 1000),
        ("hex seconds", HEX, 8, 1),
        ("hex seconds", HEX_UP, 8, 1),
    ];
    for offset in 0..min_len.min(64) {
        for (name, digits, width, scale) in candidates {
            if offset + width > min_len {
                continue;
            }
            let windows = tokens.iter().map(|t| &t.as_bytes()[offset..offset + width]);
            if digits != DEC && windows.clone().all(|w| w.iter().all(u8::is_ascii_digit)) {
                // All digits: the decimal reading is the one that applies.
                continue;
            }
            let plausible = |t: &&str| {
                decode(&t.as_bytes()[offset..offset + width], digits)
                    .map(|v| (v / scale as u128).min(i64::MAX as u128) as i64)
                    .is_some_and(|t| {
                        TIME_RANGE.contains(&t) && reference.is_none_or(|r| t.abs_diff(r) <= TIME_SLACK as u64)
                    })
            };
            // The first tokens decide quickly whether this place can hold times at all.
            let head = &tokens[..n.min(32)];
            if head.iter().filter(|t| plausible(t)).count() * 10 < head.len() * 9 {
                continue;
            }
            let times: Vec<i64> = tokens
                .iter()
                .filter_map(|t| decode(&t.as_bytes()[offset..offset + width], digits))
                .map(|v| (v / scale as u128).min(i64::MAX as u128) as i64)
                .filter(|t| TIME_RANGE.contains(t))
                .filter(|t| reference.is_none_or(|r| t.abs_diff(r) <= TIME_SLACK as u64))
                .collect();
            if times.len() * 10 < n * 9 {
                continue;
            }
            let (lo, hi) = (times.iter().min()?, times.iter().max()?);
            if hi - lo > TIME_SPAN {
                continue;
            }
            let near = match reference {
                Some(r) => format!(", within {} s of the response Date", (hi - r).abs().max((lo - r).abs())),
                None => String::new(),
            };
            return Some(Prediction {
                kind: "time",
                strength: crate::Strength::Strong,
                summary: format!(
                    "time-derived: characters {}-{} of {} of {n} tokens are Unix times ({name}) spanning {} s{near}",
                    offset + 1,
                    offset + width,
                    times.len(),
                    hi - lo
                ),
                next: Vec::new(),
            });
        }
    }
    None
}

/// Version-1 UUIDs: a 60-bit timestamp, a clock sequence and the host's MAC address.
fn uuid_v1(tokens: &[&str]) -> Option<Prediction> {
    let is_v1 = |t: &str| {
        let b = t.as_bytes();
        b.len() == 36
            && [8, 13, 18, 23].iter().all(|&i| b[i] == b'-')
            && b.iter()
                .enumerate()
                .all(|(i, c)| [8, 13, 18, 23].contains(&i) || c.is_ascii_hexdigit())
            && b[14] == b'1'
    };
    if !tokens.iter().all(|t| is_v1(t)) {
        return None;
    }
    let first = tokens[0];
    let hex = |s: &str| u64::from_str_radix(s, 16).ok();
    let ticks = (hex(&first[15..18])? << 48) | (hex(&first[9..13])? << 32) | hex(&first[0..8])?;
    let unix = (ticks / 10_000_000) as i64 - 12_219_292_800;
    Some(Prediction {
        kind: "uuid_v1",
        strength: crate::Strength::Strong,
        summary: format!(
            "version-1 UUIDs: a timestamp (the first one: Unix time {unix}), a clock sequence and a node id; the next ones are guessable from any one of them"
        ),
        next: Vec::new(),
    })
}

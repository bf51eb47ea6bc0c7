//! Bit-level tests in the manner of FIPS 140-2 and NIST SP 800-22 on the bit stream the
//! tokens' characters carry: monobit, poker, runs, long runs, serial correlation, spectral.

use serde::Serialize;

use crate::stats::{chi2_sf, normal_two_sided};

/// A growable, packed bit stream (most significant bit of each word first).
#[derive(Debug, Default, Clone)]
pub struct BitStream {
    words: Vec<u64>,
    len: usize,
}

impl BitStream {
    pub fn with_capacity(bits: usize) -> Self {
        BitStream {
            words: Vec::with_capacity(bits / 64 + 1),
            len: 0,
        }
    }

    /// Appends the low `count` bits of `value`, most significant first (`count` ≤ 32).
    #[inline]
    pub fn push(&mut self, value: u32, count: u32) {
        if count == 0 {
            return;
        }
        let used = (self.len % 64) as u32;
        let v = u64::from(value) & ((1u64 << count) - 1);
        if used == 0 {
            self.words.push(v << (64 - count));
        } else {
            let free = 64 - used;
            let last = self.words.last_mut().expect("a partly used word exists");
            if count <= free {
                *last |= v << (free - count);
            } else {
                *last |= v >> (count - free);
                self.words.push(v << (64 - (count - free)));
            }
        }
        self.len += count as usize;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn bit(&self, i: usize) -> bool {
        (self.words[i / 64] >> (63 - (i % 64))) & 1 == 1
    }

    fn ones(&self, from: usize, to: usize) -> usize {
        (from..to).step_by(1).fold(0, |acc, i| acc + usize::from(self.bit(i)))
    }

    /// Ones in the whole stream (word popcounts; the tail word is zero-padded).
    fn popcount(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }
}

/// FIPS 140-2 verdicts on consecutive 20,000-bit blocks.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FipsSummary {
    pub blocks: usize,
    pub monobit_passed: usize,
    pub poker_passed: usize,
    pub runs_passed: usize,
    pub long_run_passed: usize,
}

/// Results of the bit-level tests; p-values are `None` when the stream is too short.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BitTests {
    pub bits: usize,
    pub monobit_p: Option<f64>,
    pub poker_p: Option<f64>,
    pub runs_p: Option<f64>,
    pub longest_run: usize,
    pub long_run_p: Option<f64>,
    pub serial_p: Option<f64>,
    pub spectral_p: Option<f64>,
    pub fips: FipsSummary,
}

impl BitTests {
    /// Every p-value with the test's name.
    pub fn p_values(&self) -> Vec<(&'static str, f64)> {
        [
            ("monobit", self.monobit_p),
            ("poker", self.poker_p),
            ("runs", self.runs_p),
            ("long runs", self.long_run_p),
            ("serial correlation", self.serial_p),
            ("spectral", self.spectral_p),
        ]
        .into_iter()
        .filter_map(|(n, p)| p.map(|p| (n, p)))
        .collect()
    }
}

/// Shortest stream the aggregate tests run on.
const MIN_BITS: usize = 1_000;
/// Bits the spectral test transforms at most (a power of two).
const SPECTRAL_MAX: usize = 1 << 16;
const FIPS_BLOCK: usize = 20_000;

/// Runs every bit-level test on `s`.
pub fn run(s: &BitStream) -> BitTests {
    let n = s.len();
    let enough = n >= MIN_BITS;
    let ones = s.popcount();
    let pi = ones as f64 / n.max(1) as f64;

    // Monobit.
    let monobit_p = enough.then(|| {
        let sum = 2.0 * ones as f64 - n as f64;
        normal_two_sided(sum / (n as f64).sqrt())
    });

    // Poker (4-bit nibbles).
    let nibbles = n / 4;
    let mut counts = [0u64; 16];
    for w in 0..nibbles / 16 {
        let word = s.words[w];
        for k in 0..16 {
            counts[((word >> (60 - 4 * k)) & 0xF) as usize] += 1;
        }
    }
    for k in (nibbles / 16) * 16..nibbles {
        let mut v = 0usize;
        for b in 0..4 {
            v = (v << 1) | usize::from(s.bit(4 * k + b));
        }
        counts[v] += 1;
    }
    let poker_p = (enough && nibbles >= 80).then(|| {
        let k = nibbles as f64;
        let expected = k / 16.0;
        let x: f64 = counts.iter().map(|&c| (c as f64 - expected).powi(2) / expected).sum();
        chi2_sf(x, 15.0)
    });

    // Runs and the longest run, a run at a time (word-wise scans inside a run).
    let (runs, longest) = runs_and_longest(s);
    let runs_p = (enough && (pi - 0.5).abs() < 2.0 / (n as f64).sqrt()).then(|| {
        let nf = n as f64;
        let expected = 2.0 * nf * pi * (1.0 - pi);
        normal_two_sided((runs as f64 - expected) / (2.0 * (2.0 * nf).sqrt() * pi * (1.0 - pi)))
    });
    // A run of at least L bits (of either value) starts at a given place with p = 2^-L:
    // P(longest ≥ L) ≈ 1 − exp(−n·2^−L).
    let long_run_p = enough.then(|| {
        let lambda = n as f64 * 0.5f64.powi(longest as i32);
        -(-lambda).exp_m1()
    });
    // Serial correlation at lag 1 (bits as ±1): agreements minus disagreements of
    // neighbours; each disagreement starts a new run.
    let serial_p = enough.then(|| {
        let disagree = runs as f64 - 1.0;
        let agree = (n - 1) as f64 - disagree;
        normal_two_sided((agree - disagree) / ((n - 1) as f64).sqrt())
    });

    let spectral_p = spectral(s);
    let fips = fips_blocks(s);
    BitTests {
        bits: n,
        monobit_p,
        poker_p,
        runs_p,
        longest_run: longest,
        long_run_p,
        serial_p,
        spectral_p,
        fips,
    }
}

/// NIST SP 800-22 discrete Fourier transform test on the first 2^k bits (k ≤ 16).
fn spectral(s: &BitStream) -> Option<f64> {
    if s.len() < 1024 {
        return None;
    }
    let m = s.len().min(SPECTRAL_MAX);
    let n = 1usize << (usize::BITS - 1 - m.leading_zeros());
    let mut re: Vec<f64> = (0..n).map(|i| if s.bit(i) { 1.0 } else { -1.0 }).collect();
    let mut im = vec![0.0; n];
    fft(&mut re, &mut im);
    let threshold = ((1.0f64 / 0.05).ln() * n as f64).sqrt();
    let below = (0..n / 2)
        .filter(|&j| (re[j] * re[j] + im[j] * im[j]).sqrt() < threshold)
        .count() as f64;
    let expected = 0.95 * n as f64 / 2.0;
    let d = (below - expected) / (n as f64 * 0.95 * 0.05 / 4.0).sqrt();
    Some(normal_two_sided(d))
}

/// In-place iterative radix-2 FFT (`re.len()` a power of two).
fn fft(re: &mut [f64], im: &mut [f64]) {
    let n = re.len();
    let mut j = 0;
    for i in 1..n {
        let mut bit = n >> 1;
        while j & bit != 0 {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
        if i < j {
            re.swap(i, j);
            im.swap(i, j);
        }
    }
    let mut len = 2;
    while len <= n {
        let angle = -2.0 * std::f64::consts::PI / len as f64;
        let (w_im, w_re) = angle.sin_cos();
        for start in (0..n).step_by(len) {
            let (mut cr, mut ci) = (1.0, 0.0);
            for k in 0..len / 2 {
                let (a, b) = (start + k, start + k + len / 2);
                let tr = re[b] * cr - im[b] * ci;
                let ti = re[b] * ci + im[b] * cr;
                re[b] = re[a] - tr;
                im[b] = im[a] - ti;
                re[a] += tr;
                im[a] += ti;
                let next = cr * w_re - ci * w_im;
                ci = cr * w_im + ci * w_re;
                cr = next;
            }
        }
        len <<= 1;
    }
}

/// The number of runs and the longest run of `s`.
fn runs_and_longest(s: &BitStream) -> (usize, usize) {
    let n = s.len();
    let (mut runs, mut longest, mut i) = (0usize, 0usize, 0usize);
    while i < n {
        let flip = if s.bit(i) { u64::MAX } else { 0 };
        let mut j = i;
        loop {
            let off = j % 64;
            let rest = (s.words[j / 64] ^ flip) << off;
            let room = 64 - off;
            let same = if rest == 0 {
                room
            } else {
                (rest.leading_zeros() as usize).min(room)
            };
            j += same;
            if same < room || j >= n {
                break;
            }
        }
        let j = j.min(n);
        runs += 1;
        longest = longest.max(j - i);
        i = j;
    }
    (runs, longest)
}

/// FIPS 140-2 (change notice 1) thresholds on each full 20,000-bit block, at most 16 blocks.
fn fips_blocks(s: &BitStream) -> FipsSummary {
    let blocks = (s.len() / FIPS_BLOCK).min(16);
    let mut out = FipsSummary {
        blocks,
        monobit_passed: 0,
        poker_passed: 0,
        runs_passed: 0,
        long_run_passed: 0,
    };
    const RUN_BOUNDS: [(usize, usize); 6] = [
        (2315, 2685),
        (1114, 1386),
        (527, 723),
        (240, 384),
        (103, 209),
        (103, 209),
    ];
    for b in 0..blocks {
        let from = b * FIPS_BLOCK;
        let ones = s.ones(from, from + FIPS_BLOCK);
        if (9726..=10274).contains(&ones) {
            out.monobit_passed += 1;
        }
        let mut counts = [0u64; 16];
        for k in 0..FIPS_BLOCK / 4 {
            let mut v = 0usize;
            for i in 0..4 {
                v = (v << 1) | usize::from(s.bit(from + 4 * k + i));
            }
            counts[v] += 1;
        }
        let x = 16.0 / 5000.0 * counts.iter().map(|&c| (c * c) as f64).sum::<f64>() - 5000.0;
        if x > 2.16 && x < 46.17 {
            out.poker_passed += 1;
        }
        let mut run_counts = [[0usize; 6]; 2];
        let mut longest = 0;
        let mut current = 0;
        let mut previous = s.bit(from);
        for i in from..from + FIPS_BLOCK {
            let bit = s.bit(i);
            if bit == previous {
                current += 1;
            } else {
                run_counts[usize::from(previous)][current.min(6) - 1] += 1;
                longest = longest.max(current);
                current = 1;
                previous = bit;
            }
        }
        run_counts[usize::from(previous)][current.min(6) - 1] += 1;
        longest = longest.max(current);
        let runs_ok = run_counts
            .iter()
            .all(|c| c.iter().zip(RUN_BOUNDS).all(|(&n, (lo, hi))| n >= lo && n <= hi));
        if runs_ok {
            out.runs_passed += 1;
        }
        if longest < 26 {
            out.long_run_passed += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(bytes: impl IntoIterator<Item = u8>) -> BitStream {
        let mut s = BitStream::default();
        for b in bytes {
            s.push(u32::from(b), 8);
        }
        s
    }

    #[test]
    fn pushes_pack_bits_in_order() {
        let mut s = BitStream::default();
        s.push(0b101, 3);
        s.push(0xFFFF_FFFF, 32);
        s.push(0, 30);
        assert_eq!(s.len(), 65);
        assert!(s.bit(0) && !s.bit(1) && s.bit(2) && s.bit(34) && !s.bit(35));
    }

    #[test]
    fn random_bits_pass_and_constant_bits_fail() {
        let random: Vec<u8> = (0..20_000).map(|_| rand::random::<u8>()).collect();
        let t = run(&stream(random));
        for (name, p) in t.p_values() {
            assert!(p > 1e-6, "{name} rejected random bits: {p}");
        }
        assert!(t.fips.blocks == 8 && t.fips.monobit_passed >= 7, "{:?}", t.fips);
        let biased = run(&stream((0..20_000).map(|i| {
            if i % 3 == 0 {
                0xFF
            } else {
                rand::random::<u8>()
            }
        })));
        assert!(biased.monobit_p.unwrap() < 1e-9);
        let alternating = run(&stream(std::iter::repeat_n(0b1010_1010u8, 4000)));
        assert!(alternating.runs_p.unwrap() < 1e-9 && alternating.spectral_p.unwrap() < 1e-9);
    }
}

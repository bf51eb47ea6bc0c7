//! HMAC-SHA-256 on x86-64 SHA extensions (SHA-NI), several candidates at once.
//!
//! One SHA-NI compression is a chain of 32 dependent `sha256rnds2` instructions, so a single
//! hash leaves the unit idle most cycles; running [`LANES`] independent candidates through
//! the same code keeps it busy. Two more savings: the message schedule of the fixed message
//! blocks (the same for every candidate) is computed once with the round constants already
//! added, and the hash state stays in the instruction's `ABEF`/`CDGH` layout from the ipad
//! block to the comparison with the expected MAC.
//!
//! Django's keys, sha256(prefix + candidate), are derived in the same lanes just before the
//! HMAC ([`ShaNiKey::derived_pads`]); the digest turns into key words without leaving the
//! registers. Derived one at a time outside the lanes, a Django candidate's compressions ran
//! 10–18 % slower than a JWT's; in the lanes they run within a few per cent
//! (`cargo run --release -p authprobe_bench -- crack`).
//!
//! The work splits at the pad states ([`LanePads`]): the key derivation and the ipad and opad
//! blocks ([`ShaNiKey`]) depend only on the candidate, the hash and the derivation, so the
//! targets that agree on those share them; the message blocks and the outer hash's last
//! block ([`ShaNiMac`]) are each target's own.

use core::arch::x86_64::*;

/// Candidates hashed together.
pub(crate) const LANES: usize = 4;

const K32: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
];

/// Whether this CPU can run this module.
pub(crate) fn available() -> bool {
    is_x86_feature_detected!("sha")
        && is_x86_feature_detected!("sse2")
        && is_x86_feature_detected!("ssse3")
        && is_x86_feature_detected!("sse4.1")
}

/// A SHA-256 state in the layout `sha256rnds2` works on.
#[derive(Clone, Copy)]
struct State {
    abef: __m128i,
    cdgh: __m128i,
}

/// A fixed block's message schedule plus round constants, per group of four rounds: the
/// vector for the first two rounds and the one for the last two.
#[derive(Clone, Copy)]
struct Scheduled([[__m128i; 2]; 16]);

/// The per-key half of the HMAC, shared by every target whose key a candidate yields the
/// same way (same hash, same derivation): the key derivation, if any, and the ipad and opad
/// blocks. What follows depends on the target ([`ShaNiMac`]).
pub(crate) struct ShaNiKey {
    iv: State,
    /// For Django's derived keys, sha256(prefix + candidate). Boxed: 4 KiB of schedules.
    key_prefix: Option<Box<KeyPrefix>>,
}

/// The per-target half: the message blocks' schedules and the expected MAC.
pub(crate) struct ShaNiMac {
    message: Vec<Scheduled>,
    expected: State,
}

/// Each lane's hash states after its key's ipad block and after its opad block: all a
/// target needs of a candidate to finish the HMAC.
#[derive(Clone, Copy)]
pub(crate) struct LanePads {
    inner: [State; LANES],
    outer: [State; LANES],
}

/// What a derived key's hash starts from: the prefix's whole blocks hashed, and the second
/// (last) block for the inputs whose last block holds nothing but padding. That block is
/// the same for every candidate of a length, so its schedule is computed once, like the
/// message's; mask candidates with salts such as the signed-cookie session's hit it.
struct KeyPrefix {
    state: State,
    /// By the input's length after the prefix's whole blocks, from the start of
    /// [`PADDING_ONLY_LENGTHS`].
    padding_only: [Scheduled; PADDING_ONLY_LENGTHS.end - PADDING_ONLY_LENGTHS.start],
}

/// Lengths of a hash input's last partial block for which the `0x80` byte still fits but the
/// 8-byte length does not: the next block is zeros and the length.
const PADDING_ONLY_LENGTHS: std::ops::Range<usize> = 56..64;

impl ShaNiKey {
    /// `key_prefix`: for keys derived as sha256(prefix + candidate), the state after the
    /// prefix's whole blocks and how many bytes those were. Call only when [`available`].
    pub(crate) fn new(iv: &[u32; 8], key_prefix: Option<(&[u32; 8], u64)>) -> ShaNiKey {
        assert!(available(), "SHA-NI engine on a CPU without SHA extensions");
        // SAFETY: the CPU has the features (asserted above).
        unsafe {
            ShaNiKey {
                iv: to_state(iv),
                key_prefix: key_prefix.map(|(state, hashed)| {
                    Box::new(KeyPrefix {
                        state: to_state(state),
                        padding_only: std::array::from_fn(|i| {
                            let bits = (hashed + (PADDING_ONLY_LENGTHS.start + i) as u64) * 8;
                            let mut words = [0u32; 16];
                            words[14] = (bits >> 32) as u32;
                            words[15] = bits as u32;
                            schedule_block(&words)
                        }),
                    })
                }),
            }
        }
    }

    /// The pad states of each key (each ≤ 64 bytes, zero-padded to a block).
    #[inline]
    pub(crate) fn pads(&self, keys: &[[u8; 64]; LANES]) -> LanePads {
        // SAFETY: a `ShaNiKey` only exists on a CPU with the features (checked in `new`).
        unsafe { self.pads_of_keys(keys) }
    }

    /// The pad states of each lane's derived key sha256(prefix + candidate), the derivation
    /// running through the same lanes. `lengths[lane]`: the bytes of that hash's input after
    /// the prefix's whole blocks (at most 119); `final_blocks[lane]`: those bytes padded, one
    /// block or two. Call only on a `ShaNiKey` built with a `key_prefix`.
    #[inline]
    pub(crate) fn derived_pads(&self, final_blocks: &[[[u8; 64]; 2]; LANES], lengths: &[usize; LANES]) -> LanePads {
        let prefix = self
            .key_prefix
            .as_ref()
            .expect("a SHA-NI engine built for derived keys");
        debug_assert!(lengths.iter().all(|&len| len + 9 <= 128));
        // SAFETY: a `ShaNiKey` only exists on a CPU with the features (checked in `new`).
        unsafe { self.pads_of_derived_keys(prefix, final_blocks, lengths) }
    }

    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    unsafe fn pads_of_keys(&self, keys: &[[u8; 64]; LANES]) -> LanePads {
        let mut kw = [[_mm_setzero_si128(); 4]; LANES];
        for (lane, key) in keys.iter().enumerate() {
            kw[lane] = load_block(key);
        }
        self.pads_of(&kw)
    }

    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    unsafe fn pads_of_derived_keys(
        &self,
        prefix: &KeyPrefix,
        final_blocks: &[[[u8; 64]; 2]; LANES],
        lengths: &[usize; LANES],
    ) -> LanePads {
        let mut keys = [prefix.state; LANES];
        let mut w = [[_mm_setzero_si128(); 4]; LANES];
        for (lane, blocks) in final_blocks.iter().enumerate() {
            w[lane] = load_block(&blocks[0]);
        }
        rounds(&mut keys, &mut w);
        let two_blocks = lengths.map(|len| len + 9 > 64);
        if two_blocks.contains(&true) {
            // Lanes whose hash ends after one block go through the second one too (the four
            // lanes run in lockstep) and take their one-block state back.
            let after_one = keys;
            let mut second_lengths = lengths
                .iter()
                .zip(two_blocks)
                .filter(|(_, two)| *two)
                .map(|(len, _)| *len);
            let first = second_lengths.next().expect("a lane with two blocks");
            if PADDING_ONLY_LENGTHS.contains(&first) && second_lengths.all(|len| len == first) {
                rounds_scheduled(&mut keys, &prefix.padding_only[first - PADDING_ONLY_LENGTHS.start]);
            } else {
                for (lane, blocks) in final_blocks.iter().enumerate() {
                    w[lane] = load_block(&blocks[1]);
                }
                rounds(&mut keys, &mut w);
            }
            for lane in 0..LANES {
                if !two_blocks[lane] {
                    keys[lane] = after_one[lane];
                }
            }
        }
        // The 32-byte digest is the key: its words, then zeros to the block's end.
        let zero = _mm_setzero_si128();
        let mut kw = [[zero; 4]; LANES];
        for (lane, key) in keys.iter().enumerate() {
            let (abcd, efgh) = digest_words(*key);
            kw[lane] = [abcd, efgh, zero, zero];
        }
        self.pads_of(&kw)
    }

    /// The ipad and opad states of each lane's key block, given as 16 big-endian words (4
    /// vectors).
    #[inline]
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    unsafe fn pads_of(&self, kw: &[[__m128i; 4]; LANES]) -> LanePads {
        let x36 = _mm_set1_epi32(0x3636_3636);
        let x5c = _mm_set1_epi32(0x5c5c_5c5c);

        let mut inner = [self.iv; LANES];
        let mut w = *kw;
        for lane in w.iter_mut() {
            for v in lane.iter_mut() {
                *v = _mm_xor_si128(*v, x36);
            }
        }
        rounds(&mut inner, &mut w);

        let mut outer = [self.iv; LANES];
        let mut w = *kw;
        for lane in w.iter_mut() {
            for v in lane.iter_mut() {
                *v = _mm_xor_si128(*v, x5c);
            }
        }
        rounds(&mut outer, &mut w);
        LanePads { inner, outer }
    }
}

impl ShaNiMac {
    /// `message_words`: the padded message blocks (after the ipad block) as big-endian
    /// words; `expected`: the MAC as words. Call only when [`available`].
    pub(crate) fn new(message_words: &[[u32; 16]], expected: &[u32; 8]) -> ShaNiMac {
        assert!(available(), "SHA-NI engine on a CPU without SHA extensions");
        // SAFETY: the CPU has the features (asserted above).
        unsafe {
            ShaNiMac {
                message: message_words.iter().map(|w| schedule_block(w)).collect(),
                expected: to_state(expected),
            }
        }
    }

    /// Finishes the HMAC of the message from each lane's pad states; bit `i` of the result
    /// is set when lane `i`'s key reproduces the expected MAC.
    #[inline]
    pub(crate) fn test(&self, pads: &LanePads) -> u32 {
        // SAFETY: a `ShaNiMac` only exists on a CPU with the features (checked in `new`).
        unsafe { self.finish(pads) }
    }

    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    unsafe fn finish(&self, pads: &LanePads) -> u32 {
        let mut inner = pads.inner;
        for block in &self.message {
            rounds_scheduled(&mut inner, block);
        }
        let mut outer = pads.outer;
        // The inner digest as the outer hash's last block: digest, 0x80, zeros, 768 bits.
        let pad = _mm_set_epi32(0, 0, 0, 0x8000_0000u32 as i32);
        let len = _mm_set_epi32((64 + 32) * 8, 0, 0, 0);
        let mut last = [[pad; 4]; LANES];
        for (lane, state) in inner.iter().enumerate() {
            let (dcba, hgef) = digest_words(*state);
            last[lane] = [dcba, hgef, pad, len];
        }
        rounds(&mut outer, &mut last);

        let mut found = 0;
        for (lane, state) in outer.iter().enumerate() {
            let eq = _mm_and_si128(
                _mm_cmpeq_epi32(state.abef, self.expected.abef),
                _mm_cmpeq_epi32(state.cdgh, self.expected.cdgh),
            );
            if _mm_movemask_epi8(eq) == 0xffff {
                found |= 1 << lane;
            }
        }
        found
    }
}

#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn to_state(s: &[u32; 8]) -> State {
    let dcba = _mm_loadu_si128(s.as_ptr().cast());
    let efgh = _mm_loadu_si128(s.as_ptr().add(4).cast());
    let cdab = _mm_shuffle_epi32(dcba, 0xb1);
    let efgh = _mm_shuffle_epi32(efgh, 0x1b);
    State {
        abef: _mm_alignr_epi8(cdab, efgh, 8),
        cdgh: _mm_blend_epi16(efgh, cdab, 0xf0),
    }
}

/// A 64-byte block as 16 big-endian message words, word 0 in vector lane 0.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn load_block(block: &[u8; 64]) -> [__m128i; 4] {
    let bswap = _mm_set_epi64x(0x0c0d_0e0f_0809_0a0b, 0x0405_0607_0001_0203);
    let mut words = [_mm_setzero_si128(); 4];
    for (j, w) in words.iter_mut().enumerate() {
        *w = _mm_shuffle_epi8(_mm_loadu_si128(block.as_ptr().add(16 * j).cast()), bswap);
    }
    words
}

/// The state as message words: (a, b, c, d) and (e, f, g, h), lane 0 first.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn digest_words(s: State) -> (__m128i, __m128i) {
    let feba = _mm_shuffle_epi32(s.abef, 0x1b);
    let dchg = _mm_shuffle_epi32(s.cdgh, 0xb1);
    (_mm_blend_epi16(feba, dchg, 0xf0), _mm_alignr_epi8(dchg, feba, 8))
}

#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn k(group: usize) -> __m128i {
    _mm_loadu_si128(K32.as_ptr().add(4 * group).cast())
}

#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn schedule_block(words: &[u32; 16]) -> Scheduled {
    let mut w = [0u32; 64];
    w[..16].copy_from_slice(words);
    for t in 16..64 {
        let s0 = w[t - 15].rotate_right(7) ^ w[t - 15].rotate_right(18) ^ (w[t - 15] >> 3);
        let s1 = w[t - 2].rotate_right(17) ^ w[t - 2].rotate_right(19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16].wrapping_add(s0).wrapping_add(w[t - 7]).wrapping_add(s1);
    }
    let mut out = [[_mm_setzero_si128(); 2]; 16];
    for (g, pair) in out.iter_mut().enumerate() {
        let wk = _mm_add_epi32(_mm_loadu_si128(w.as_ptr().add(4 * g).cast()), k(g));
        *pair = [wk, _mm_shuffle_epi32(wk, 0x0e)];
    }
    Scheduled(out)
}

/// One compression per lane over a block whose schedule and constants are precomputed.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn rounds_scheduled(states: &mut [State; LANES], block: &Scheduled) {
    let saved = *states;
    for pair in &block.0 {
        for s in states.iter_mut() {
            s.cdgh = _mm_sha256rnds2_epu32(s.cdgh, s.abef, pair[0]);
        }
        for s in states.iter_mut() {
            s.abef = _mm_sha256rnds2_epu32(s.abef, s.cdgh, pair[1]);
        }
    }
    for (s, o) in states.iter_mut().zip(saved.iter()) {
        s.abef = _mm_add_epi32(s.abef, o.abef);
        s.cdgh = _mm_add_epi32(s.cdgh, o.cdgh);
    }
}

/// One compression per lane over that lane's block (16 message words as 4 vectors, lane 0
/// = the first word); the vectors are overwritten by the rolling message schedule.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn rounds(states: &mut [State; LANES], w: &mut [[__m128i; 4]; LANES]) {
    let saved = *states;
    macro_rules! group {
        ($g:expr) => {{
            let kv = k($g);
            let mut t = [_mm_setzero_si128(); LANES];
            for lane in 0..LANES {
                let v = if $g < 4 {
                    w[lane][$g % 4]
                } else {
                    let w0 = w[lane][$g % 4];
                    let w1 = w[lane][($g + 1) % 4];
                    let w2 = w[lane][($g + 2) % 4];
                    let w3 = w[lane][($g + 3) % 4];
                    let t1 = _mm_sha256msg1_epu32(w0, w1);
                    let t2 = _mm_alignr_epi8(w3, w2, 4);
                    let v = _mm_sha256msg2_epu32(_mm_add_epi32(t1, t2), w3);
                    w[lane][$g % 4] = v;
                    v
                };
                t[lane] = _mm_add_epi32(v, kv);
                states[lane].cdgh = _mm_sha256rnds2_epu32(states[lane].cdgh, states[lane].abef, t[lane]);
            }
            for lane in 0..LANES {
                let t2 = _mm_shuffle_epi32(t[lane], 0x0e);
                states[lane].abef = _mm_sha256rnds2_epu32(states[lane].abef, states[lane].cdgh, t2);
            }
        }};
    }
    group!(0);
    group!(1);
    group!(2);
    group!(3);
    group!(4);
    group!(5);
    group!(6);
    group!(7);
    group!(8);
    group!(9);
    group!(10);
    group!(11);
    group!(12);
    group!(13);
    group!(14);
    group!(15);
    for (s, o) in states.iter_mut().zip(saved.iter()) {
        s.abef = _mm_add_epi32(s.abef, o.abef);
        s.cdgh = _mm_add_epi32(s.cdgh, o.cdgh);
    }
}

//! The hot loop: HMAC-SHA-256/384/512 of one fixed message under many keys.
//!
//! Everything that does not depend on the key is computed once: the message blocks with
//! their final padding (laid out as if the 64/128-byte ipad block came first), the padding
//! of the outer hash, the expected MAC as state words, and for Django's `salted_hmac` the
//! hash state after the salt prefix. Per candidate only the ipad/opad blocks (and Django's
//! last key-derivation blocks) are built and the compression function runs over them;
//! nothing is allocated and nothing is encoded. Where the CPU has SHA-NI, `shani.rs`
//! runs four candidates at once, key derivation included; elsewhere the scalar path here
//! gives the same answers.

use super::target::{CrackTarget, KeyDerivation};
use super::MacAlg;
use sha2::digest::consts::{U128, U64};
use sha2::digest::generic_array::GenericArray;
use sha2::{Digest, Sha256, Sha512};

type Block64 = GenericArray<u8, U64>;
type Block128 = GenericArray<u8, U128>;

const IV256: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];
const IV384: [u64; 8] = [
    0xcbbb9d5dc1059ed8,
    0x629a292a367cd507,
    0x9159015a3070dd17,
    0x152fecd8f70e5939,
    0x67332667ffc00b31,
    0x8eb44a8768581511,
    0xdb0c2e0d64f98fa7,
    0x47b5481dbefa4fa4,
];
const IV512: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

/// Tests candidates against one target; each worker thread owns one.
pub(crate) enum Engine {
    Sha256(Sha256Engine),
    Sha512(Sha512Engine),
}

impl Engine {
    pub(crate) fn new(target: &CrackTarget) -> Engine {
        match target.alg {
            MacAlg::Sha256 => Engine::Sha256(Sha256Engine::new(target)),
            MacAlg::Sha384 | MacAlg::Sha512 => Engine::Sha512(Sha512Engine::new(target)),
        }
    }
}

/// A candidate tester the worker loop is generic over (one monomorphized loop per hash).
pub(crate) trait Tester {
    /// Whether `candidate` reproduces the expected MAC.
    fn test(&self, candidate: &[u8]) -> bool;

    /// The index of the first candidate that reproduces the expected MAC. Engines that hash
    /// several candidates at once override this; workers hand over [`BATCH`] at a time.
    fn test_batch(&self, candidates: &[&[u8]]) -> Option<usize> {
        candidates.iter().position(|c| self.test(c))
    }
}

/// Candidates a worker hands to [`Tester::test_batch`] at once.
pub(crate) const BATCH: usize = 8;

/// The padded tail of a message whose first `prefix_len` bytes were already compressed.
fn padded_blocks(message: &[u8], prefix_len: usize, block: usize) -> Vec<u8> {
    let len_bytes = if block == 64 { 8 } else { 16 };
    let bits = ((prefix_len + message.len()) as u128) * 8;
    let mut out = message.to_vec();
    out.push(0x80);
    while out.len() % block != block - len_bytes {
        out.push(0);
    }
    out.extend_from_slice(&bits.to_be_bytes()[16 - len_bytes..]);
    out
}

/// sha256(prefix + candidate) resumed from the state after the prefix's whole blocks.
struct SaltedKey {
    state: [u32; 8],
    /// Prefix bytes after its last whole block (< 64).
    tail: Vec<u8>,
    /// Bytes already compressed into `state`.
    done: u64,
}

impl SaltedKey {
    fn new(prefix: &[u8]) -> SaltedKey {
        let whole = prefix.len() / 64 * 64;
        let mut state = IV256;
        let blocks: Vec<Block64> = prefix[..whole].chunks(64).map(|c| *Block64::from_slice(c)).collect();
        sha2::compress256(&mut state, &blocks);
        SaltedKey {
            state,
            tail: prefix[whole..].to_vec(),
            done: whole as u64,
        }
    }

    /// The last blocks of sha256(prefix + candidate), the ones after the prefix's whole
    /// blocks, padded: written to `out`, their count (1 or 2) returned. `None` when the
    /// candidate needs more than two blocks (`out` is then left as it was).
    #[inline]
    fn final_blocks(&self, candidate: &[u8], out: &mut [[u8; 64]; 2]) -> Option<usize> {
        let total = self.tail.len() + candidate.len();
        let n = match total + 9 {
            0..=64 => 64,
            65..=128 => 128,
            _ => return None,
        };
        let buf = &mut out.as_flattened_mut()[..n];
        buf[..self.tail.len()].copy_from_slice(&self.tail);
        buf[self.tail.len()..total].copy_from_slice(candidate);
        buf[total] = 0x80;
        buf[total + 1..n - 8].fill(0);
        let bits = (self.done + total as u64) * 8;
        buf[n - 8..].copy_from_slice(&bits.to_be_bytes());
        Some(n / 64)
    }

    /// The 32-byte key for `candidate`, written into `out`.
    #[inline]
    fn derive(&self, candidate: &[u8], out: &mut [u8; 32]) {
        let mut state = self.state;
        let mut blocks = [[0u8; 64]; 2];
        if let Some(n) = self.final_blocks(candidate, &mut blocks) {
            sha2::compress256(&mut state, &blocks.map(Block64::from)[..n]);
        } else {
            let mut data = self.tail.clone();
            data.extend_from_slice(candidate);
            let padded = padded_blocks(&data, self.done as usize, 64);
            let blocks: Vec<Block64> = padded.chunks(64).map(|c| *Block64::from_slice(c)).collect();
            sha2::compress256(&mut state, &blocks);
        }
        for (i, w) in state.iter().enumerate() {
            out[i * 4..i * 4 + 4].copy_from_slice(&w.to_be_bytes());
        }
    }
}

/// HMAC-SHA-256 (HS256, Django `salted_hmac`).
pub(crate) struct Sha256Engine {
    message: Vec<Block64>,
    expected: [u32; 8],
    salted: Option<SaltedKey>,
    /// The multi-lane SHA-NI path, when the CPU has SHA extensions.
    #[cfg(target_arch = "x86_64")]
    shani: Option<super::shani::ShaNi>,
}

impl Sha256Engine {
    pub(crate) fn new(target: &CrackTarget) -> Sha256Engine {
        let padded = padded_blocks(&target.message, 64, 64);
        let message = padded.chunks(64).map(|c| *Block64::from_slice(c)).collect();
        let mut expected = [0u32; 8];
        for (i, w) in expected.iter_mut().enumerate() {
            *w = u32::from_be_bytes(target.expected[i * 4..i * 4 + 4].try_into().expect("32-byte MAC"));
        }
        let salted = match &target.derivation {
            KeyDerivation::Raw => None,
            KeyDerivation::DjangoSalted { prefix } => Some(SaltedKey::new(prefix)),
        };
        #[cfg(target_arch = "x86_64")]
        let shani = super::shani::available().then(|| {
            let words: Vec<[u32; 16]> = padded
                .chunks(64)
                .map(|block| {
                    std::array::from_fn(|i| u32::from_be_bytes(block[i * 4..i * 4 + 4].try_into().expect("4 bytes")))
                })
                .collect();
            let key_prefix = salted.as_ref().map(|salted| (&salted.state, salted.done));
            super::shani::ShaNi::new(&IV256, &words, &expected, key_prefix)
        });
        Sha256Engine {
            message,
            expected,
            salted,
            #[cfg(target_arch = "x86_64")]
            shani,
        }
    }

    /// The same engine without the SHA-NI lanes: the scalar path of CPUs without SHA
    /// extensions, for tests that compare the two.
    #[cfg(test)]
    pub(crate) fn scalar(target: &CrackTarget) -> Sha256Engine {
        #[allow(unused_mut)]
        let mut engine = Sha256Engine::new(target);
        #[cfg(target_arch = "x86_64")]
        {
            engine.shani = None;
        }
        engine
    }

    /// Whether candidates go through the multi-lane SHA-NI path.
    #[cfg(test)]
    pub(crate) fn is_multi_lane(&self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            self.shani.is_some()
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }

    /// The HMAC key for `candidate`, zero-padded to a block.
    #[inline]
    fn key_block(&self, candidate: &[u8], out: &mut [u8; 64]) {
        if let Some(salted) = &self.salted {
            let mut key = [0u8; 32];
            salted.derive(candidate, &mut key);
            out[..32].copy_from_slice(&key);
        } else if candidate.len() <= 64 {
            out[..candidate.len()].copy_from_slice(candidate);
        } else {
            out[..32].copy_from_slice(&Sha256::digest(candidate));
        }
    }

    /// Up to [`LANES`](super::shani::LANES) candidates through the SHA-NI lanes, keys used
    /// as they are (hashed first when longer than a block); bit `i` set when candidate `i`
    /// matches.
    #[cfg(target_arch = "x86_64")]
    #[inline]
    fn test_lanes(&self, shani: &super::shani::ShaNi, group: &[&[u8]]) -> u32 {
        let mut keys = [[0u8; 64]; super::shani::LANES];
        for (key, candidate) in keys.iter_mut().zip(group) {
            self.key_block(candidate, key);
        }
        shani.test(&keys)
    }

    /// As [`Self::test_lanes`] for Django's derived keys: the key derivation runs in the same
    /// lanes as the HMAC. A group with a candidate too long for two derivation blocks (over
    /// 100-odd bytes: rare) derives its keys one at a time instead.
    #[cfg(target_arch = "x86_64")]
    #[inline]
    fn test_derived_lanes(&self, shani: &super::shani::ShaNi, salted: &SaltedKey, group: &[&[u8]]) -> u32 {
        use super::shani::LANES;
        let mut final_blocks = [[[0u8; 64]; 2]; LANES];
        let mut lengths = [0usize; LANES];
        for (lane, candidate) in group.iter().enumerate() {
            if salted.final_blocks(candidate, &mut final_blocks[lane]).is_none() {
                return self.test_lanes(shani, group);
            }
            lengths[lane] = salted.tail.len() + candidate.len();
        }
        shani.test_derived(&final_blocks, &lengths)
    }

    #[inline]
    fn mac_with_key(&self, key: &[u8]) -> bool {
        debug_assert!(key.len() <= 64);
        let mut ipad = Block64::from([0x36u8; 64]);
        let mut opad = Block64::from([0x5cu8; 64]);
        for (i, &b) in key.iter().enumerate() {
            ipad[i] ^= b;
            opad[i] ^= b;
        }
        let mut inner = IV256;
        sha2::compress256(&mut inner, std::slice::from_ref(&ipad));
        sha2::compress256(&mut inner, &self.message);

        let mut outer = IV256;
        let mut last = Block64::default();
        for (i, w) in inner.iter().enumerate() {
            last[i * 4..i * 4 + 4].copy_from_slice(&w.to_be_bytes());
        }
        last[32] = 0x80;
        last[62..64].copy_from_slice(&((64u16 + 32) * 8).to_be_bytes());
        sha2::compress256(&mut outer, &[opad, last]);
        outer == self.expected
    }
}

impl Tester for Sha256Engine {
    #[cfg(target_arch = "x86_64")]
    #[inline]
    fn test_batch(&self, candidates: &[&[u8]]) -> Option<usize> {
        use super::shani::LANES;
        let Some(shani) = &self.shani else {
            return candidates.iter().position(|c| self.test(c));
        };
        for (n, group) in candidates.chunks(LANES).enumerate() {
            let hits = match &self.salted {
                Some(salted) => self.test_derived_lanes(shani, salted, group),
                None => self.test_lanes(shani, group),
            } & ((1 << group.len()) - 1);
            if hits != 0 {
                return Some(n * LANES + hits.trailing_zeros() as usize);
            }
        }
        None
    }

    #[inline]
    fn test(&self, candidate: &[u8]) -> bool {
        if let Some(salted) = &self.salted {
            let mut key = [0u8; 32];
            salted.derive(candidate, &mut key);
            self.mac_with_key(&key)
        } else if candidate.len() <= 64 {
            self.mac_with_key(candidate)
        } else {
            let key = Sha256::digest(candidate);
            self.mac_with_key(&key)
        }
    }
}

/// HMAC-SHA-384 and HMAC-SHA-512 (HS384, HS512).
pub(crate) struct Sha512Engine {
    message: Vec<Block128>,
    iv: [u64; 8],
    /// Words of the MAC: 6 for SHA-384, 8 for SHA-512.
    expected: Vec<u64>,
    sha384: bool,
}

impl Sha512Engine {
    pub(crate) fn new(target: &CrackTarget) -> Sha512Engine {
        let padded = padded_blocks(&target.message, 128, 128);
        let message = padded.chunks(128).map(|c| *Block128::from_slice(c)).collect();
        let expected = target
            .expected
            .chunks(8)
            .map(|c| u64::from_be_bytes(c.try_into().expect("8-byte word")))
            .collect();
        let sha384 = target.alg == MacAlg::Sha384;
        Sha512Engine {
            message,
            iv: if sha384 { IV384 } else { IV512 },
            expected,
            sha384,
        }
    }

    #[inline]
    fn mac_with_key(&self, key: &[u8]) -> bool {
        let mut ipad = Block128::from([0x36u8; 128]);
        let mut opad = Block128::from([0x5cu8; 128]);
        for (i, &b) in key.iter().enumerate() {
            ipad[i] ^= b;
            opad[i] ^= b;
        }
        let mut inner = self.iv;
        sha2::compress512(&mut inner, std::slice::from_ref(&ipad));
        sha2::compress512(&mut inner, &self.message);

        let words = self.expected.len();
        let digest_len = words * 8;
        let mut outer = self.iv;
        let mut last = Block128::default();
        for (i, w) in inner.iter().take(words).enumerate() {
            last[i * 8..i * 8 + 8].copy_from_slice(&w.to_be_bytes());
        }
        last[digest_len] = 0x80;
        last[126..128].copy_from_slice(&((128u16 + digest_len as u16) * 8).to_be_bytes());
        sha2::compress512(&mut outer, &[opad, last]);
        outer[..words] == self.expected[..]
    }
}

impl Tester for Sha512Engine {
    #[inline]
    fn test(&self, candidate: &[u8]) -> bool {
        if candidate.len() <= 128 {
            self.mac_with_key(candidate)
        } else if self.sha384 {
            let key = sha2::Sha384::digest(candidate);
            self.mac_with_key(&key)
        } else {
            let key = Sha512::digest(candidate);
            self.mac_with_key(&key)
        }
    }
}

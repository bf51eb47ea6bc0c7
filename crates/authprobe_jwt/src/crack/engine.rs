//! The hot loop: HMAC-SHA-256/384/512 of fixed messages under many keys.
//!
//! Everything that does not depend on the key is computed once per target: the message blocks with
//! their final padding (laid out as if the 64/128-byte ipad block came first), the padding
//! of the outer hash, the expected MAC as state words, and for Django's `salted_hmac` the
//! hash state after the salt prefix. Per candidate only the ipad/opad blocks (and Django's
//! last key-derivation blocks) are built and the compression function runs over them;
//! nothing is allocated and nothing is encoded. Where the CPU has SHA-NI, `shani.rs`
//! runs four candidates at once, key derivation included; elsewhere the scalar path here
//! gives the same answers.
//!
//! Several targets are tried in one pass ([`MultiEngine`]). The HMAC splits at the pad
//! states: the key derivation and the ipad and opad blocks depend only on the candidate, the
//! hash and the derivation, so they are computed once per candidate for every target of a
//! [`KeyGroup`] (all plain JWT targets of one alg; Django targets of one salt); the message
//! blocks and the outer hash's last block are each target's own.

#[cfg(target_arch = "x86_64")]
use super::shani::{LanePads, ShaNiKey, ShaNiMac, LANES};
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

/// Candidates a worker hands to [`MultiEngine::test_batch`] at once.
pub(crate) const BATCH: usize = 8;

/// What decides how a candidate becomes the pad states: targets that agree on it share that
/// work. SHA-384 and SHA-512 differ in their initial state, so they are groups of their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyGroup {
    alg: MacAlg,
    derivation: KeyDerivation,
}

impl KeyGroup {
    pub(crate) fn of(target: &CrackTarget) -> KeyGroup {
        KeyGroup {
            alg: target.alg,
            // The SHA-384/512 engine takes the candidate as the key, whatever the derivation.
            derivation: match target.alg {
                MacAlg::Sha256 => target.derivation.clone(),
                MacAlg::Sha384 | MacAlg::Sha512 => KeyDerivation::Raw,
            },
        }
    }
}

/// Tests candidates against several targets at once; each worker thread owns one.
pub(crate) struct MultiEngine {
    groups: Vec<GroupEngine>,
}

enum GroupEngine {
    Sha256(Sha256Group),
    Sha512(Sha512Group),
}

impl MultiEngine {
    /// Targets are named by their index in `targets` in [`MultiEngine::test_batch`].
    pub(crate) fn new(targets: &[CrackTarget]) -> MultiEngine {
        MultiEngine::build(targets, true)
    }

    /// The same without the SHA-NI lanes (tests).
    #[cfg(test)]
    pub(crate) fn scalar(targets: &[CrackTarget]) -> MultiEngine {
        MultiEngine::build(targets, false)
    }

    /// The targets of each key group (tests).
    #[cfg(test)]
    pub(crate) fn groups(&self) -> Vec<Vec<usize>> {
        self.groups
            .iter()
            .map(|g| match g {
                GroupEngine::Sha256(g) => g.macs.iter().map(|(t, _)| *t).collect(),
                GroupEngine::Sha512(g) => g.macs.iter().map(|(t, _)| *t).collect(),
            })
            .collect()
    }

    fn build(targets: &[CrackTarget], multi_lane: bool) -> MultiEngine {
        let mut keys: Vec<KeyGroup> = Vec::new();
        let mut members: Vec<Vec<usize>> = Vec::new();
        for (i, target) in targets.iter().enumerate() {
            let key = KeyGroup::of(target);
            match keys.iter().position(|k| *k == key) {
                Some(g) => members[g].push(i),
                None => {
                    keys.push(key);
                    members.push(vec![i]);
                }
            }
        }
        let groups = keys
            .into_iter()
            .zip(members)
            .map(|(key, members)| {
                let group: Vec<(usize, &CrackTarget)> = members.iter().map(|&i| (i, &targets[i])).collect();
                match key.alg {
                    MacAlg::Sha256 => GroupEngine::Sha256(Sha256Group::new(&key.derivation, &group, multi_lane)),
                    MacAlg::Sha384 | MacAlg::Sha512 => GroupEngine::Sha512(Sha512Group::new(key.alg, &group)),
                }
            })
            .collect();
        MultiEngine { groups }
    }

    /// Tests a batch of candidates against every target for which `active` holds (asked
    /// again as the batch goes, so a target found stops being tried); `on_hit(target, i)`
    /// for a target that candidate `i` matches (the first such candidate of each group of
    /// lanes).
    #[inline]
    pub(crate) fn test_batch(
        &self,
        candidates: &[&[u8]],
        active: &impl Fn(usize) -> bool,
        on_hit: &mut impl FnMut(usize, usize),
    ) {
        for group in &self.groups {
            match group {
                GroupEngine::Sha256(g) => g.test_batch(candidates, active, on_hit),
                GroupEngine::Sha512(g) => g.test_batch(candidates, active, on_hit),
            }
        }
    }
}

/// Tests candidates against one target: the tests' view of a group engine of one target.
#[cfg(test)]
pub(crate) enum Engine {
    Sha256(Sha256Engine),
    Sha512(Sha512Engine),
}

#[cfg(test)]
impl Engine {
    pub(crate) fn new(target: &CrackTarget) -> Engine {
        match target.alg {
            MacAlg::Sha256 => Engine::Sha256(Sha256Engine::new(target)),
            MacAlg::Sha384 | MacAlg::Sha512 => Engine::Sha512(Sha512Engine::new(target)),
        }
    }
}

/// A candidate tester for one target (tests).
#[cfg(test)]
pub(crate) trait Tester {
    /// Whether `candidate` reproduces the expected MAC (the one-candidate path).
    fn test(&self, candidate: &[u8]) -> bool;

    /// The index of the first candidate that reproduces the expected MAC (the path workers
    /// take, [`BATCH`] at a time).
    fn test_batch(&self, candidates: &[&[u8]]) -> Option<usize>;
}

/// The hash states after a key's ipad block and after its opad block (scalar path).
struct Pads<W> {
    inner: [W; 8],
    outer: [W; 8],
}

/// The scalar path of a key group's batch, for either hash: each candidate's pads once,
/// then every target still unsolved (`active`) finishes its MAC on them; `on_hit` gets
/// (target, candidate index). Stops when no target of the group is active.
#[inline]
fn scalar_batch<W, M>(
    candidates: &[&[u8]],
    macs: &[(usize, M)],
    pads: impl Fn(&[u8]) -> Pads<W>,
    finish: impl Fn(&M, &Pads<W>) -> bool,
    active: &impl Fn(usize) -> bool,
    on_hit: &mut impl FnMut(usize, usize),
) {
    for (i, candidate) in candidates.iter().enumerate() {
        if !macs.iter().any(|(t, _)| active(*t)) {
            return;
        }
        let pads = pads(candidate);
        for (t, mac) in macs {
            if active(*t) && finish(mac, &pads) {
                on_hit(*t, i);
            }
        }
    }
}

/// How a candidate becomes SHA-256 pad states: the part of HMAC-SHA-256 targets of one
/// [`KeyGroup`] share.
struct Key256 {
    salted: Option<SaltedKey>,
    /// The multi-lane SHA-NI path, when the CPU has SHA extensions.
    #[cfg(target_arch = "x86_64")]
    shani: Option<ShaNiKey>,
}

impl Key256 {
    fn new(derivation: &KeyDerivation, multi_lane: bool) -> Key256 {
        let salted = match derivation {
            KeyDerivation::Raw => None,
            KeyDerivation::DjangoSalted { prefix } => Some(SaltedKey::new(prefix)),
        };
        #[cfg(target_arch = "x86_64")]
        let shani = (multi_lane && super::shani::available()).then(|| {
            let key_prefix = salted.as_ref().map(|salted| (&salted.state, salted.done));
            ShaNiKey::new(&IV256, key_prefix)
        });
        #[cfg(not(target_arch = "x86_64"))]
        let _ = multi_lane;
        Key256 {
            salted,
            #[cfg(target_arch = "x86_64")]
            shani,
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

    /// The pad states of one candidate (scalar path).
    #[inline]
    fn pads(&self, candidate: &[u8]) -> Pads<u32> {
        let mut key = [0u8; 64];
        self.key_block(candidate, &mut key);
        let mut ipad = Block64::from([0x36u8; 64]);
        let mut opad = Block64::from([0x5cu8; 64]);
        for (i, &b) in key.iter().enumerate() {
            ipad[i] ^= b;
            opad[i] ^= b;
        }
        let mut inner = IV256;
        sha2::compress256(&mut inner, std::slice::from_ref(&ipad));
        let mut outer = IV256;
        sha2::compress256(&mut outer, std::slice::from_ref(&opad));
        Pads { inner, outer }
    }

    /// Up to [`LANES`] candidates' pad states through the SHA-NI lanes, keys used as they
    /// are (hashed first when longer than a block).
    #[cfg(target_arch = "x86_64")]
    #[inline]
    fn lane_pads(&self, shani: &ShaNiKey, group: &[&[u8]]) -> LanePads {
        let mut keys = [[0u8; 64]; LANES];
        for (key, candidate) in keys.iter_mut().zip(group) {
            self.key_block(candidate, key);
        }
        shani.pads(&keys)
    }

    /// As [`Self::lane_pads`] for Django's derived keys: the key derivation runs in the same
    /// lanes. A group with a candidate too long for two derivation blocks (over 100-odd
    /// bytes: rare) derives its keys one at a time instead.
    #[cfg(target_arch = "x86_64")]
    #[inline]
    fn derived_lane_pads(&self, shani: &ShaNiKey, salted: &SaltedKey, group: &[&[u8]]) -> LanePads {
        let mut final_blocks = [[[0u8; 64]; 2]; LANES];
        let mut lengths = [0usize; LANES];
        for (lane, candidate) in group.iter().enumerate() {
            if salted.final_blocks(candidate, &mut final_blocks[lane]).is_none() {
                return self.lane_pads(shani, group);
            }
            lengths[lane] = salted.tail.len() + candidate.len();
        }
        shani.derived_pads(&final_blocks, &lengths)
    }
}

/// One HMAC-SHA-256 target's own part: its message blocks and expected MAC.
struct Mac256 {
    message: Vec<Block64>,
    expected: [u32; 8],
    #[cfg(target_arch = "x86_64")]
    shani: Option<ShaNiMac>,
}

impl Mac256 {
    fn new(target: &CrackTarget, multi_lane: bool) -> Mac256 {
        let padded = padded_blocks(&target.message, 64, 64);
        let message = padded.chunks(64).map(|c| *Block64::from_slice(c)).collect();
        let mut expected = [0u32; 8];
        for (i, w) in expected.iter_mut().enumerate() {
            *w = u32::from_be_bytes(target.expected[i * 4..i * 4 + 4].try_into().expect("32-byte MAC"));
        }
        #[cfg(target_arch = "x86_64")]
        let shani = (multi_lane && super::shani::available()).then(|| {
            let words: Vec<[u32; 16]> = padded
                .chunks(64)
                .map(|block| {
                    std::array::from_fn(|i| u32::from_be_bytes(block[i * 4..i * 4 + 4].try_into().expect("4 bytes")))
                })
                .collect();
            ShaNiMac::new(&words, &expected)
        });
        #[cfg(not(target_arch = "x86_64"))]
        let _ = multi_lane;
        Mac256 {
            message,
            expected,
            #[cfg(target_arch = "x86_64")]
            shani,
        }
    }

    /// Whether the key whose pad states these are reproduces the expected MAC (scalar path).
    #[inline]
    fn finish(&self, pads: &Pads<u32>) -> bool {
        let mut inner = pads.inner;
        sha2::compress256(&mut inner, &self.message);
        let mut outer = pads.outer;
        let mut last = Block64::default();
        for (i, w) in inner.iter().enumerate() {
            last[i * 4..i * 4 + 4].copy_from_slice(&w.to_be_bytes());
        }
        last[32] = 0x80;
        last[62..64].copy_from_slice(&((64u16 + 32) * 8).to_be_bytes());
        sha2::compress256(&mut outer, std::slice::from_ref(&last));
        outer == self.expected
    }
}

/// HMAC-SHA-256 targets (HS256, Django `salted_hmac`) of one [`KeyGroup`].
struct Sha256Group {
    key: Key256,
    /// Each target's index (as given to [`MultiEngine::new`]) and own part.
    macs: Vec<(usize, Mac256)>,
}

impl Sha256Group {
    fn new(derivation: &KeyDerivation, targets: &[(usize, &CrackTarget)], multi_lane: bool) -> Sha256Group {
        Sha256Group {
            key: Key256::new(derivation, multi_lane),
            macs: targets
                .iter()
                .map(|&(i, target)| (i, Mac256::new(target, multi_lane)))
                .collect(),
        }
    }

    /// As [`MultiEngine::test_batch`] for this group's targets.
    #[inline]
    fn test_batch(&self, candidates: &[&[u8]], active: &impl Fn(usize) -> bool, on_hit: &mut impl FnMut(usize, usize)) {
        #[cfg(target_arch = "x86_64")]
        if let Some(shani) = &self.key.shani {
            for (n, group) in candidates.chunks(LANES).enumerate() {
                if !self.macs.iter().any(|(t, _)| active(*t)) {
                    return;
                }
                let pads = match &self.key.salted {
                    Some(salted) => self.key.derived_lane_pads(shani, salted, group),
                    None => self.key.lane_pads(shani, group),
                };
                let lanes = (1u32 << group.len()) - 1;
                for (t, mac) in &self.macs {
                    if !active(*t) {
                        continue;
                    }
                    let hits = mac
                        .shani
                        .as_ref()
                        .expect("SHA-NI for every target of the group")
                        .test(&pads)
                        & lanes;
                    if hits != 0 {
                        on_hit(*t, n * LANES + hits.trailing_zeros() as usize);
                    }
                }
            }
            return;
        }
        scalar_batch(
            candidates,
            &self.macs,
            |c| self.key.pads(c),
            |mac, pads| mac.finish(pads),
            active,
            on_hit,
        );
    }
}

/// HMAC-SHA-256 for one target (tests).
#[cfg(test)]
pub(crate) struct Sha256Engine(Sha256Group);

#[cfg(test)]
impl Sha256Engine {
    pub(crate) fn new(target: &CrackTarget) -> Sha256Engine {
        Sha256Engine(Sha256Group::new(&target.derivation, &[(0, target)], true))
    }

    /// The same engine without the SHA-NI lanes: the scalar path of CPUs without SHA
    /// extensions, for tests that compare the two.
    pub(crate) fn scalar(target: &CrackTarget) -> Sha256Engine {
        Sha256Engine(Sha256Group::new(&target.derivation, &[(0, target)], false))
    }

    /// Whether candidates go through the multi-lane SHA-NI path.
    pub(crate) fn is_multi_lane(&self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            self.0.key.shani.is_some()
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }
}

#[cfg(test)]
impl Tester for Sha256Engine {
    fn test(&self, candidate: &[u8]) -> bool {
        self.0.macs[0].1.finish(&self.0.key.pads(candidate))
    }

    fn test_batch(&self, candidates: &[&[u8]]) -> Option<usize> {
        let mut first = None;
        self.0.test_batch(candidates, &|_| true, &mut |_, i| {
            first.get_or_insert(i);
        });
        first
    }
}

/// How a candidate becomes SHA-384/512 pad states.
struct Key512 {
    iv: [u64; 8],
    sha384: bool,
}

impl Key512 {
    #[inline]
    fn pads(&self, candidate: &[u8]) -> Pads<u64> {
        let digest;
        let key: &[u8] = if candidate.len() <= 128 {
            candidate
        } else if self.sha384 {
            digest = sha2::Sha384::digest(candidate).to_vec();
            &digest
        } else {
            digest = Sha512::digest(candidate).to_vec();
            &digest
        };
        let mut ipad = Block128::from([0x36u8; 128]);
        let mut opad = Block128::from([0x5cu8; 128]);
        for (i, &b) in key.iter().enumerate() {
            ipad[i] ^= b;
            opad[i] ^= b;
        }
        let mut inner = self.iv;
        sha2::compress512(&mut inner, std::slice::from_ref(&ipad));
        let mut outer = self.iv;
        sha2::compress512(&mut outer, std::slice::from_ref(&opad));
        Pads { inner, outer }
    }
}

/// One HMAC-SHA-384/512 target's own part.
struct Mac512 {
    message: Vec<Block128>,
    /// Words of the MAC: 6 for SHA-384, 8 for SHA-512.
    expected: Vec<u64>,
}

impl Mac512 {
    fn new(target: &CrackTarget) -> Mac512 {
        let padded = padded_blocks(&target.message, 128, 128);
        Mac512 {
            message: padded.chunks(128).map(|c| *Block128::from_slice(c)).collect(),
            expected: target
                .expected
                .chunks(8)
                .map(|c| u64::from_be_bytes(c.try_into().expect("8-byte word")))
                .collect(),
        }
    }

    #[inline]
    fn finish(&self, pads: &Pads<u64>) -> bool {
        let mut inner = pads.inner;
        sha2::compress512(&mut inner, &self.message);
        let words = self.expected.len();
        let digest_len = words * 8;
        let mut outer = pads.outer;
        let mut last = Block128::default();
        for (i, w) in inner.iter().take(words).enumerate() {
            last[i * 8..i * 8 + 8].copy_from_slice(&w.to_be_bytes());
        }
        last[digest_len] = 0x80;
        last[126..128].copy_from_slice(&((128u16 + digest_len as u16) * 8).to_be_bytes());
        sha2::compress512(&mut outer, std::slice::from_ref(&last));
        outer[..words] == self.expected[..]
    }
}

/// HMAC-SHA-384 or HMAC-SHA-512 targets (HS384, HS512) of one [`KeyGroup`].
struct Sha512Group {
    key: Key512,
    macs: Vec<(usize, Mac512)>,
}

impl Sha512Group {
    fn new(alg: MacAlg, targets: &[(usize, &CrackTarget)]) -> Sha512Group {
        let sha384 = alg == MacAlg::Sha384;
        Sha512Group {
            key: Key512 {
                iv: if sha384 { IV384 } else { IV512 },
                sha384,
            },
            macs: targets.iter().map(|&(i, target)| (i, Mac512::new(target))).collect(),
        }
    }

    /// As [`MultiEngine::test_batch`] for this group's targets.
    #[inline]
    fn test_batch(&self, candidates: &[&[u8]], active: &impl Fn(usize) -> bool, on_hit: &mut impl FnMut(usize, usize)) {
        scalar_batch(
            candidates,
            &self.macs,
            |c| self.key.pads(c),
            |mac, pads| mac.finish(pads),
            active,
            on_hit,
        );
    }
}

/// HMAC-SHA-384/512 for one target (tests).
#[cfg(test)]
pub(crate) struct Sha512Engine(Sha512Group);

#[cfg(test)]
impl Sha512Engine {
    pub(crate) fn new(target: &CrackTarget) -> Sha512Engine {
        Sha512Engine(Sha512Group::new(target.alg, &[(0, target)]))
    }
}

#[cfg(test)]
impl Tester for Sha512Engine {
    fn test(&self, candidate: &[u8]) -> bool {
        self.0.macs[0].1.finish(&self.0.key.pads(candidate))
    }

    fn test_batch(&self, candidates: &[&[u8]]) -> Option<usize> {
        let mut first = None;
        self.0.test_batch(candidates, &|_| true, &mut |_, i| {
            first.get_or_insert(i);
        });
        first
    }
}

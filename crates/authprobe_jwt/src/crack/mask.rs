//! hashcat-style masks: `?l?l?d?d` enumerates `aa00` … `zz99`.
//!
//! `?l` a-z, `?u` A-Z, `?d` 0-9, `?s` the 33 printable ASCII symbols (space included),
//! `?a` all of them, `??` a literal `?`; any other character stands for itself.
//! Candidates come in lexicographic order of positions (the last position varies fastest),
//! so a candidate has an index and a range of indices can be handed to a thread.

use super::CrackError;

const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &[u8] = b"0123456789";
const SYMBOLS: &[u8] = b" !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// The longest mask accepted (candidates are built in a fixed-size buffer).
pub const MAX_MASK_LEN: usize = 64;

/// A parsed mask: one charset per position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mask {
    positions: Vec<Vec<u8>>,
    len: u64,
}

impl Mask {
    /// Parses a hashcat-style mask.
    pub fn parse(mask: &str) -> Result<Mask, CrackError> {
        let bad = |why: String| CrackError::BadMask(format!("`{mask}`: {why}"));
        let mut positions = Vec::new();
        let mut bytes = mask.bytes();
        while let Some(b) = bytes.next() {
            if b != b'?' {
                positions.push(vec![b]);
                continue;
            }
            let set = match bytes.next() {
                Some(b'l') => LOWER.to_vec(),
                Some(b'u') => UPPER.to_vec(),
                Some(b'd') => DIGITS.to_vec(),
                Some(b's') => SYMBOLS.to_vec(),
                Some(b'a') => [LOWER, UPPER, DIGITS, SYMBOLS].concat(),
                Some(b'?') => vec![b'?'],
                Some(other) => {
                    return Err(bad(format!(
                        "unknown charset `?{}` (use ?l ?u ?d ?s ?a)",
                        other as char
                    )))
                }
                None => return Err(bad("a trailing `?` needs a charset letter".to_string())),
            };
            positions.push(set);
        }
        if positions.is_empty() {
            return Err(bad("the mask is empty".to_string()));
        }
        if positions.len() > MAX_MASK_LEN {
            return Err(bad(format!("at most {MAX_MASK_LEN} positions")));
        }
        let len = positions
            .iter()
            .try_fold(1u64, |acc, p| acc.checked_mul(p.len() as u64))
            .ok_or_else(|| bad("more than 2^64 candidates".to_string()))?;
        Ok(Mask { positions, len })
    }

    /// A mask of the given charsets, one per position (a keyspace no mask syntax names,
    /// such as lowercase-plus-digits). At most [`MAX_MASK_LEN`] positions, none empty.
    pub fn from_sets(positions: Vec<Vec<u8>>) -> Mask {
        let mut positions: Vec<Vec<u8>> = positions.into_iter().filter(|p| !p.is_empty()).collect();
        positions.truncate(MAX_MASK_LEN);
        let len = positions.iter().fold(1u64, |acc, p| acc.saturating_mul(p.len() as u64));
        Mask { positions, len }
    }

    /// How many candidates the mask spans.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Masks always span at least one candidate.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Candidate length in bytes.
    pub fn width(&self) -> usize {
        self.positions.len()
    }

    /// The candidate at `index` (< `len()`).
    pub fn candidate(&self, index: u64) -> Vec<u8> {
        let mut digits = vec![0usize; self.width()];
        let mut out = vec![0u8; self.width()];
        self.seek(index, &mut digits, &mut out);
        out
    }

    /// Sets `digits`/`out` to the candidate at `index`.
    pub(crate) fn seek(&self, mut index: u64, digits: &mut [usize], out: &mut [u8]) {
        for (i, set) in self.positions.iter().enumerate().rev() {
            let n = set.len() as u64;
            let d = (index % n) as usize;
            index /= n;
            digits[i] = d;
            out[i] = set[d];
        }
    }

    /// Advances `digits`/`out` to the next candidate (wrapping after the last).
    #[inline]
    pub(crate) fn step(&self, digits: &mut [usize], out: &mut [u8]) {
        for i in (0..self.positions.len()).rev() {
            let set = &self.positions[i];
            let d = digits[i] + 1;
            if d < set.len() {
                digits[i] = d;
                out[i] = set[d];
                return;
            }
            digits[i] = 0;
            out[i] = set[0];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mask_spans_the_product_of_its_charsets() {
        let m = Mask::parse("?l?d-x").unwrap();
        assert_eq!(m.len(), 260);
        assert_eq!(m.candidate(0), b"a0-x");
        assert_eq!(m.candidate(259), b"z9-x");
        assert_eq!(m.candidate(13), b"b3-x");
        assert_eq!(Mask::parse("?a").unwrap().len(), 95);
        assert_eq!(Mask::parse("??").unwrap().candidate(0), b"?");
    }

    #[test]
    fn stepping_visits_every_candidate_in_index_order() {
        let m = Mask::parse("?d?u?s").unwrap();
        let mut digits = vec![0; 3];
        let mut out = vec![0; 3];
        m.seek(0, &mut digits, &mut out);
        for i in 0..m.len() {
            assert_eq!(out, m.candidate(i), "index {i}");
            m.step(&mut digits, &mut out);
        }
    }

    #[test]
    fn bad_masks_say_why() {
        assert!(Mask::parse("?x").unwrap_err().to_string().contains("?x"));
        assert!(Mask::parse("ab?").is_err());
        assert!(Mask::parse("").is_err());
        assert!(Mask::parse(&"?a".repeat(12)).is_err());
    }
}

//! The standard token alphabets, smallest first: a token's alphabet is the smallest one
//! that holds every character it uses (outside constant positions).

use serde::Serialize;

/// A named character set with a fixed index for each member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Alphabet {
    pub name: &'static str,
    #[serde(skip)]
    chars: &'static [u8],
    pub size: usize,
}

const fn alphabet(name: &'static str, chars: &'static [u8]) -> Alphabet {
    Alphabet {
        name,
        chars,
        size: chars.len(),
    }
}

const DIGITS: Alphabet = alphabet("decimal", b"0123456789");
const HEX_LOWER: Alphabet = alphabet("hex", b"0123456789abcdef");
const HEX_UPPER: Alphabet = alphabet("hex (upper case)", b"0123456789ABCDEF");
const BASE32: Alphabet = alphabet("base32", b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
const BASE32_LOWER: Alphabet = alphabet("base32 (lower case)", b"abcdefghijklmnopqrstuvwxyz234567");
const BASE36_LOWER: Alphabet = alphabet("base36", b"0123456789abcdefghijklmnopqrstuvwxyz");
const BASE36_UPPER: Alphabet = alphabet("base36 (upper case)", b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ");
const ALNUM: Alphabet = alphabet(
    "alphanumeric",
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
);
const BASE64URL: Alphabet = alphabet(
    "base64url",
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
);
const BASE64: Alphabet = alphabet(
    "base64",
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
);
const PRINTABLE: Alphabet = alphabet(
    "printable ASCII",
    b" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~",
);
const BYTES: Alphabet = Alphabet {
    name: "bytes",
    chars: &[],
    size: 256,
};

const STANDARD: [Alphabet; 12] = [
    DIGITS,
    HEX_LOWER,
    HEX_UPPER,
    BASE32,
    BASE32_LOWER,
    BASE36_LOWER,
    BASE36_UPPER,
    ALNUM,
    BASE64URL,
    BASE64,
    PRINTABLE,
    BYTES,
];

impl Alphabet {
    /// The smallest standard alphabet holding every byte marked in `used`.
    pub fn smallest_holding(used: &[bool; 256]) -> Alphabet {
        for a in STANDARD {
            if a.chars.is_empty() || (0..256).all(|b| !used[b] || a.chars.contains(&(b as u8))) {
                return a;
            }
        }
        BYTES
    }

    /// Byte → index table (`u8::MAX` for bytes outside the alphabet; all 256 for `bytes`).
    pub fn index_table(&self) -> [u16; 256] {
        let mut table = [u16::MAX; 256];
        if self.chars.is_empty() {
            for (b, slot) in table.iter_mut().enumerate() {
                *slot = b as u16;
            }
        } else {
            for (i, &c) in self.chars.iter().enumerate() {
                table[c as usize] = i as u16;
            }
        }
        table
    }

    /// Bits one uniformly drawn character carries.
    pub fn bits(&self) -> f64 {
        (self.size as f64).log2()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(s: &str) -> Alphabet {
        let mut used = [false; 256];
        for b in s.bytes() {
            used[b as usize] = true;
        }
        Alphabet::smallest_holding(&used)
    }

    #[test]
    fn the_smallest_standard_alphabet_is_chosen() {
        assert_eq!(of("0123").name, "decimal");
        assert_eq!(of("deadbeef01").name, "hex");
        assert_eq!(of("Zz09").name, "alphanumeric");
        assert_eq!(of("a-_Z").name, "base64url");
        assert_eq!(of("a b").name, "printable ASCII");
    }
}

//! Block references such as `SG-7K2Q-9F4D`: short enough to read out to a
//! teacher, unique for the life of the process, and not guessable from one
//! another (they are a permutation of a counter with a random start).

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// Crockford's base 32: no I, L, O or U, so nothing is misread.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const BITS: u32 = 40;
const MASK: u64 = (1 << BITS) - 1;

#[derive(Debug)]
pub struct References {
    next: AtomicU64,
    key: u64,
}

impl Default for References {
    fn default() -> Self {
        // std's hasher keys are random per process: a cheap source of a
        // random start without another dependency.
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(std::process::id() as u64);
        let start = h.finish();
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(start);
        References {
            next: AtomicU64::new(start & MASK),
            key: h.finish() & MASK,
        }
    }
}

/// A bijection on 40-bit numbers: xor with a key, multiply by an odd number
/// and xor-shift, each of which can be undone, so distinct counters give
/// distinct references.
fn permute(mut x: u64, key: u64) -> u64 {
    x = (x ^ key) & MASK;
    x = x.wrapping_mul(0x9E37_79B9_7F4B) & MASK;
    x ^= x >> 19;
    x = x.wrapping_mul(0x5851_F42D_4C95) & MASK;
    x ^= x >> 21;
    x & MASK
}

impl References {
    /// The next reference, as `SG-XXXX-XXXX`.
    pub fn next(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format(permute(n & MASK, self.key))
    }
}

fn format(value: u64) -> String {
    let mut out = String::with_capacity(12);
    out.push_str("SG-");
    for i in 0..8 {
        if i == 4 {
            out.push('-');
        }
        let shift = BITS - 5 * (i + 1);
        out.push(ALPHABET[((value >> shift) & 31) as usize] as char);
    }
    out
}

/// Whether `text` looks like a reference, so forms accept nothing else.
pub fn is_reference(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 12
        && text.starts_with("SG-")
        && b[7] == b'-'
        && b[3..7]
            .iter()
            .chain(&b[8..12])
            .all(|c| ALPHABET.contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn references_are_unique_and_well_formed() {
        let refs = References::default();
        let mut seen = HashSet::new();
        for _ in 0..100_000 {
            let r = refs.next();
            assert!(is_reference(&r), "{r}");
            assert!(seen.insert(r));
        }
    }

    #[test]
    fn the_permutation_is_one_to_one_near_the_wrap() {
        let mut seen = HashSet::new();
        for x in (MASK - 5_000)..=MASK {
            assert!(seen.insert(permute(x, 12345)));
        }
        for x in 0..5_000 {
            assert!(seen.insert(permute(x, 12345)));
        }
    }

    #[test]
    fn only_references_are_accepted() {
        assert!(is_reference("SG-7K2Q-9F4D"));
        assert!(!is_reference("SG-7K2Q-9F4"));
        assert!(!is_reference("SG-7K2Q-9F4L"));
        assert!(!is_reference("XX-7K2Q-9F4D"));
        assert!(!is_reference("<script>alert"));
    }
}

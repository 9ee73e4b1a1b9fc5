//! Order-independent random draws: each draw is a pure function of the seed, what it is for
//! and the request (or message) it is about, so the same seed gives every request the same
//! faults whatever order requests arrive in.

/// A stable 64-bit hash of a sequence of fields (FNV-1a over length-prefixed fields, then a
/// splitmix64 finish). Stable across Rust releases, unlike `std`'s `DefaultHasher`.
#[derive(Debug, Clone, Copy)]
pub struct Key(u64);

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

impl Key {
    /// A key for one kind of thing (`"request"`, `"message"`).
    pub fn new(kind: &str) -> Self {
        Self(FNV_OFFSET).field(kind.as_bytes())
    }

    fn bytes(mut self, bytes: &[u8]) -> Self {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
        self
    }

    /// Adds one field; the length prefix keeps `("ab", "c")` and `("a", "bc")` apart.
    pub fn field(self, bytes: &[u8]) -> Self {
        let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        self.bytes(&len.to_le_bytes()).bytes(bytes)
    }

    /// Adds a number.
    pub fn number(self, value: u64) -> Self {
        self.bytes(&value.to_le_bytes())
    }

    /// The finished hash.
    pub fn finish(self) -> u64 {
        splitmix64(self.0)
    }
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A uniform draw in `[0, 1)` for `purpose` (`"fault"`, `"reject"`, `"deliver"`) about the
/// thing identified by `id`, under `seed`.
pub fn unit(seed: u64, purpose: &str, id: u64) -> f64 {
    let bits = Key::new("draw")
        .number(seed)
        .field(purpose.as_bytes())
        .number(id)
        .finish();
    // The top 53 bits, as f64 has 53 bits of mantissa.
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_stable_and_spread() {
        let id = Key::new("request").field(b"abc").finish();
        assert_eq!(unit(7, "fault", id), unit(7, "fault", id));
        assert_ne!(unit(7, "fault", id), unit(8, "fault", id));
        assert_ne!(unit(7, "fault", id), unit(7, "reject", id));
        assert_ne!(
            Key::new("x").field(b"ab").field(b"c").finish(),
            Key::new("x").field(b"a").field(b"bc").finish()
        );
        let below = (0..10_000u64)
            .filter(|n| unit(1, "fault", *n) < 0.3)
            .count();
        assert!((2_700..3_300).contains(&below), "{below}");
    }
}

//! Helpers shared by the fuzz targets: deterministic chunk splits derived from the input, so
//! that a raw server transcript is a useful seed as it is (no control header to prepend) and
//! every crash reproduces from its artifact alone.

/// A small xorshift generator; the seed is a hash of the fuzz input.
pub struct Rng(u64);

impl Rng {
    /// A generator seeded from `data` (FNV-1a, then mixed) and a `salt` per use.
    pub fn from_input(data: &[u8], salt: u64) -> Rng {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        for &b in data {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Rng(h | 1)
    }

    /// The next value.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A value in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// `data` cut into pieces at places chosen from its hash: sometimes tiny pieces, sometimes
/// large ones, so both byte-at-a-time paths and mid-literal cuts get exercised.
pub fn random_split(data: &[u8], salt: u64) -> Vec<&[u8]> {
    let mut rng = Rng::from_input(data, salt);
    let max = match rng.below(4) {
        0 => 2,
        1 => 8,
        2 => 64,
        _ => 1024,
    };
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let n = 1 + rng.below(rest.len().min(max));
        let (a, b) = rest.split_at(n);
        out.push(a);
        rest = b;
    }
    out
}

/// The splits every stream target compares against feeding the input whole: one byte at a
/// time (for inputs short enough to keep the target fast) and two hash-derived splits.
pub fn splits(data: &[u8]) -> Vec<Vec<&[u8]>> {
    let mut out = vec![random_split(data, 1), random_split(data, 2)];
    if data.len() <= 4096 {
        out.push(data.chunks(1).collect());
    }
    out
}

//! Sampling on top of the shared seeded PRNG (`capstan_io::rng`): same seed, same draws
//! everywhere.

pub(crate) use capstan_io::rng::Rng;

/// Uniform in `0..n` (`n > 0`), by multiply-shift.
pub(crate) fn below(rng: &mut Rng, n: usize) -> usize {
    ((rng.next_u64() as u128 * n as u128) >> 64) as usize
}

/// `k` distinct indices from `0..n`, sorted (partial Fisher-Yates).
pub(crate) fn sample(rng: &mut Rng, n: usize, k: usize) -> Vec<usize> {
    let k = k.min(n);
    let mut pool: Vec<usize> = (0..n).collect();
    for i in 0..k {
        let j = i + below(rng, n - i);
        pool.swap(i, j);
    }
    pool.truncate(k);
    pool.sort_unstable();
    pool
}

/// A stream for one item of a sampling purpose (a node of a tree, a round): the same
/// (seed, purpose, keys) give the same draws whatever was drawn before or elsewhere.
pub(crate) fn keyed(seed: u64, purpose: u64, keys: [u64; 2]) -> Rng {
    let mut h = Rng::stream(seed, purpose).next_u64();
    for k in keys {
        let mut s = h ^ k;
        h = capstan_io::rng::splitmix64(&mut s);
    }
    Rng::new(h)
}

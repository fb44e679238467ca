//! Gradient-based one-side sampling (LightGBM's GOSS, `data_sample_strategy = "goss"`): a
//! round keeps the rows with the largest `|g * h|` (summed over the score columns) and a
//! random share of the others, whose gradients and hessians are scaled up so that sums over
//! the kept rows estimate sums over all rows.

use rayon::prelude::*;

use super::rng::keyed;

/// Stream purpose of the per-round draws (see `rng::keyed`).
const GOSS_STREAM: u64 = 5;

/// The first round that samples: LightGBM trains the first `1 / learning_rate` rounds on
/// every row.
pub(crate) fn first_round(learning_rate: f64) -> usize {
    (1.0 / learning_rate) as usize
}

/// GOSS settings, validated (`top_rate`, `other_rate` in (0, 1], their sum at most 1).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Goss {
    pub top_rate: f64,
    pub other_rate: f64,
    pub seed: u64,
}

impl Goss {
    /// Samples round `round` of `n` rows: `bag` gets the kept rows in increasing order,
    /// `in_bag` marks them, and the drawn rows' gradients and hessians (all columns of the
    /// column-major `n x k` arrays) are multiplied by `(n - top_k) / other_k`. Like LightGBM,
    /// `top_k = max(floor(n * top_rate), 1)` rows are kept by `|g * h|` (ties at the threshold
    /// all kept) and `other_k = floor(n * other_rate)` of the others are drawn one row at a
    /// time, each with probability (still needed) / (still available), from a stream keyed by
    /// the seed and round; LightGBM does this per block of rows, here it is one pass over
    /// all of them, so the draw does not depend on the thread count.
    pub(crate) fn sample(
        &self,
        round: usize,
        grad: &mut [f64],
        hess: &mut [f64],
        bag: &mut Vec<u32>,
        in_bag: &mut [bool],
    ) {
        let n = in_bag.len();
        let k = grad.len() / n.max(1);
        let mut score = vec![0.0; n];
        score.par_iter_mut().enumerate().for_each(|(i, s)| {
            *s = (0..k)
                .map(|c| (grad[c * n + i] * hess[c * n + i]).abs())
                .sum();
        });
        let top_k = ((n as f64 * self.top_rate) as usize).clamp(1, n);
        let other_k = (n as f64 * self.other_rate) as usize;
        let mut sorted = score.clone();
        let (_, &mut threshold, _) =
            sorted.select_nth_unstable_by(top_k - 1, |a, b| b.total_cmp(a));
        let multiply = if other_k > 0 {
            (n - top_k) as f64 / other_k as f64
        } else {
            1.0
        };
        let mut rng = keyed(self.seed, GOSS_STREAM, [round as u64, 0]);
        let (mut big, mut drawn) = (0usize, 0usize);
        bag.clear();
        for (i, b) in in_bag.iter_mut().enumerate() {
            *b = if score[i] >= threshold {
                big += 1;
                true
            } else {
                let need = other_k.saturating_sub(drawn) as f64;
                let left = (n - i).saturating_sub(top_k.saturating_sub(big)) as f64;
                let keep = rng.next_f64() < need / left;
                if keep {
                    drawn += 1;
                    for c in 0..k {
                        grad[c * n + i] *= multiply;
                        hess[c * n + i] *= multiply;
                    }
                }
                keep
            };
            if *b {
                bag.push(i as u32);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gbdt::rng::Rng;

    /// Two columns of gradients and hessians from a fixed stream.
    fn gradients(n: usize) -> (Vec<f64>, Vec<f64>) {
        let mut rng = Rng::stream(11, 0);
        let g = (0..2 * n).map(|_| rng.next_f64() * 2.0 - 1.0).collect();
        let h = (0..2 * n).map(|_| rng.next_f64() * 0.25).collect();
        (g, h)
    }

    #[test]
    fn keeps_the_largest_rows_and_scales_a_drawn_share_of_the_rest() {
        let n = 10_000;
        let (g0, h0) = gradients(n);
        let (mut g, mut h) = (g0.clone(), h0.clone());
        let (mut bag, mut in_bag) = (Vec::new(), vec![false; n]);
        let goss = Goss {
            top_rate: 0.2,
            other_rate: 0.1,
            seed: 3,
        };
        goss.sample(12, &mut g, &mut h, &mut bag, &mut in_bag);
        assert!(bag.windows(2).all(|w| w[0] < w[1]), "bag is sorted");
        assert_eq!(bag.len(), 3000, "2000 largest + 1000 drawn");
        let score = |i: usize| (g0[i] * h0[i]).abs() + (g0[n + i] * h0[n + i]).abs();
        let mut scores: Vec<f64> = (0..n).map(score).collect();
        scores.sort_by(|a, b| b.total_cmp(a));
        let threshold = scores[1999];
        let (mut top, mut scaled) = (0, 0);
        for i in 0..n {
            let unchanged = g[i] == g0[i] && h[n + i] == h0[n + i];
            if score(i) >= threshold {
                assert!(in_bag[i] && unchanged, "row {i} is among the largest");
                top += 1;
            } else if in_bag[i] {
                // (10000 - 2000) / 1000
                assert_eq!((g[i], h[n + i]), (g0[i] * 8.0, h0[n + i] * 8.0));
                scaled += 1;
            } else {
                assert!(unchanged, "row {i} is out of the bag");
            }
        }
        assert_eq!((top, scaled), (2000, 1000));
        // the same round draws the same rows; another round others
        let (mut g2, mut h2, mut bag2) = (g0.clone(), h0.clone(), Vec::new());
        goss.sample(12, &mut g2, &mut h2, &mut bag2, &mut in_bag);
        assert_eq!((bag2, g2), (bag.clone(), g));
        let (mut g3, mut h3, mut bag3) = (g0, h0, Vec::new());
        goss.sample(13, &mut g3, &mut h3, &mut bag3, &mut in_bag);
        assert_ne!(bag3, bag);
    }

    #[test]
    fn first_round_follows_lightgbm() {
        assert_eq!(first_round(0.1), 10);
        assert_eq!(first_round(0.3), 3);
        assert_eq!(first_round(0.05), 20);
        assert_eq!(first_round(2.0), 0);
    }
}

//! Monotone and interaction constraints of the split search, as LightGBM does them: the
//! "basic" monotone method (each leaf's output stays in bounds that a monotone split cuts at
//! the mid-point of its children's outputs) and interaction constraints (a branch only uses
//! features of one group).

use super::GbdtParams;
use super::split::{Split, leaf_output, threshold_l1};

/// LightGBM's `kEpsilon` (a `float` literal there).
const K_EPSILON: f64 = 1e-15_f32 as f64;

/// The range a leaf's output is clamped to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bounds {
    pub min: f64,
    pub max: f64,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            min: f64::MIN,
            max: f64::MAX,
        }
    }
}

impl Bounds {
    pub(crate) fn clamp(&self, v: f64) -> f64 {
        if v < self.min {
            self.min
        } else if v > self.max {
            self.max
        } else {
            v
        }
    }

    /// The children's bounds after a split with these outputs (LightGBM
    /// `BasicLeafConstraints::Update`): both inherit the parent's, and a split on a monotone
    /// feature also cuts the range at the mid-point of the two outputs.
    fn children(self, direction: i8, left: f64, right: f64) -> (Bounds, Bounds) {
        let mid = (left + right) / 2.0;
        let (mut l, mut r) = (self, self);
        if direction < 0 {
            l.min = l.min.max(mid);
            r.max = r.max.min(mid);
        } else if direction > 0 {
            l.max = l.max.min(mid);
            r.min = r.min.max(mid);
        }
        (l, r)
    }
}

/// What the split scan of one feature at one leaf respects when monotone constraints are on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Monotone {
    pub bounds: Bounds,
    /// 1: the left (lower) child's output must not exceed the right's; -1: the reverse.
    pub direction: i8,
}

/// `-(2 G' o + (H + l2) o^2)`, `G'` the L1-thresholded gradient: the loss reduction of a leaf
/// whose output is `o` (equal to `leaf_gain` at the optimal output).
fn gain_at(g: f64, h: f64, l1: f64, l2: f64, o: f64) -> f64 {
    let t = threshold_l1(g, l1);
    -(2.0 * t * o + (h + l2) * o * o)
}

impl Monotone {
    /// The child's output, clamped to the leaf's bounds.
    pub(crate) fn output(&self, g: f64, h: f64, l1: f64, l2: f64) -> f64 {
        self.bounds.clamp(leaf_output(g, h, l1, l2))
    }

    /// LightGBM's split gain with monotone constraints (`GetSplitGains` with `USE_MC`): each
    /// side's gain at its clamped output, or 0 (never a split) when the outputs break the
    /// direction.
    pub(crate) fn pair_gain(&self, left: (f64, f64), right: (f64, f64), l1: f64, l2: f64) -> f64 {
        let lo = self.output(left.0, left.1, l1, l2);
        let ro = self.output(right.0, right.1, l1, l2);
        if (self.direction > 0 && lo > ro) || (self.direction < 0 && lo < ro) {
            return 0.0;
        }
        gain_at(left.0, left.1, l1, l2, lo) + gain_at(right.0, right.1, l1, l2, ro)
    }
}

/// What constrains one leaf: its output bounds, and the features split on above it.
#[derive(Debug, Clone, Default)]
pub(crate) struct LeafLimits {
    pub bounds: Bounds,
    /// Kept only with interaction constraints.
    pub path: Vec<usize>,
}

/// A tree's constraints, from validated parameters.
#[derive(Debug, Clone, Default)]
pub(crate) struct Constraints {
    /// A direction per feature; empty when monotone constraints are off.
    monotone: Vec<i8>,
    penalty: f64,
    /// Per interaction group, which features it holds; empty when off.
    groups: Vec<Vec<bool>>,
}

impl Constraints {
    pub(crate) fn new(p: &GbdtParams, n_features: usize) -> Constraints {
        let groups = p
            .interaction_constraints
            .iter()
            .map(|g| {
                let mut mask = vec![false; n_features];
                for &f in g {
                    if let Some(m) = mask.get_mut(f) {
                        *m = true;
                    }
                }
                mask
            })
            .collect();
        Constraints {
            monotone: p.monotone_constraints.clone(),
            penalty: p.monotone_penalty,
            groups,
        }
    }

    fn direction(&self, feature: usize) -> i8 {
        self.monotone.get(feature).copied().unwrap_or(0)
    }

    /// The scan's monotone setting for `feature` at a leaf; `None` when monotone constraints
    /// are off (LightGBM then scores splits without clamping: an all-zero list still clamps).
    pub(crate) fn monotone(&self, feature: usize, limits: &LeafLimits) -> Option<Monotone> {
        (!self.monotone.is_empty()).then(|| Monotone {
            bounds: limits.bounds,
            direction: self.direction(feature),
        })
    }

    /// Scales the gain of a split on a monotone feature of a leaf at `depth` by LightGBM's
    /// `ComputeMonotoneSplitGainPenalty` (`1 + 1e-15` with no penalty).
    pub(crate) fn penalize(&self, split: &mut Split, depth: usize) {
        if self.direction(split.feature) == 0 {
            return;
        }
        let (p, d) = (self.penalty, depth as f64);
        split.gain *= if p >= d + 1.0 {
            K_EPSILON
        } else if p <= 1.0 {
            1.0 - p / 2f64.powi(depth as i32) + K_EPSILON
        } else {
            1.0 - 2f64.powf(p - 1.0 - d) + K_EPSILON
        };
    }

    /// The limits of the children of a leaf split by `split` (left, right).
    pub(crate) fn children(&self, parent: &LeafLimits, split: &Split) -> (LeafLimits, LeafLimits) {
        let (left, right) = parent.bounds.children(
            self.direction(split.feature),
            split.left_output,
            split.right_output,
        );
        let path = if self.groups.is_empty() {
            Vec::new()
        } else {
            let mut path = parent.path.clone();
            path.push(split.feature);
            path
        };
        (
            LeafLimits {
                bounds: left,
                path: path.clone(),
            },
            LeafLimits {
                bounds: right,
                path,
            },
        )
    }

    /// `search` without the features a leaf with this path may not use (LightGBM
    /// `ColSampler::GetByNode`): those of the path, and those of every group holding all of
    /// the path's features. Allowed sets only shrink down a branch, so a feature dropped here
    /// never returns below.
    pub(crate) fn restrict(&self, mut search: Vec<bool>, limits: &LeafLimits) -> Vec<bool> {
        if self.groups.is_empty() {
            return search;
        }
        let mut allowed = vec![false; search.len()];
        for &f in &limits.path {
            allowed[f] = true;
        }
        for g in &self.groups {
            if limits.path.iter().all(|&f| g[f]) {
                for (a, &in_group) in allowed.iter_mut().zip(g) {
                    *a |= in_group;
                }
            }
        }
        for (s, a) in search.iter_mut().zip(allowed) {
            *s &= a;
        }
        search
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_cut_at_the_mid_point() {
        let b = Bounds {
            min: -1.0,
            max: 3.0,
        };
        let (l, r) = b.children(1, 0.0, 2.0);
        assert_eq!((l.min, l.max, r.min, r.max), (-1.0, 1.0, 1.0, 3.0));
        let (l, r) = b.children(-1, 2.0, 0.0);
        assert_eq!((l.min, l.max, r.min, r.max), (1.0, 3.0, -1.0, 1.0));
        assert_eq!(b.children(0, 0.0, 2.0), (b, b));
        assert_eq!(b.clamp(5.0), 3.0);
        assert_eq!(b.clamp(-5.0), -1.0);
    }

    #[test]
    fn violating_splits_score_zero() {
        let m = Monotone {
            bounds: Bounds::default(),
            direction: 1,
        };
        // left output 1, right output -1: decreasing, so rejected for an increasing feature
        assert_eq!(m.pair_gain((-1.0, 1.0), (1.0, 1.0), 0.0, 0.0), 0.0);
        let free = Monotone { direction: 0, ..m };
        assert!((free.pair_gain((-1.0, 1.0), (1.0, 1.0), 0.0, 0.0) - 2.0).abs() < 1e-12);
        // clamping lowers the gain below the unconstrained one
        let tight = Monotone {
            bounds: Bounds {
                min: -0.5,
                max: 0.5,
            },
            direction: 0,
        };
        assert!(tight.pair_gain((-1.0, 1.0), (1.0, 1.0), 0.0, 0.0) < 2.0);
    }

    #[test]
    fn interaction_groups_shrink_down_a_branch() {
        let p = GbdtParams {
            interaction_constraints: vec![vec![0, 1], vec![1, 2]],
            ..GbdtParams::default()
        };
        let c = Constraints::new(&p, 4);
        let at = |path: Vec<usize>| {
            c.restrict(
                vec![true; 4],
                &LeafLimits {
                    bounds: Bounds::default(),
                    path,
                },
            )
        };
        assert_eq!(at(vec![]), [true, true, true, false]);
        assert_eq!(at(vec![1]), [true, true, true, false]);
        assert_eq!(at(vec![1, 0]), [true, true, false, false]);
        assert_eq!(at(vec![2]), [false, true, true, false]);
    }
}

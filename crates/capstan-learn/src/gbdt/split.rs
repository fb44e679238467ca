//! Best split of one leaf on one feature: LightGBM's gain, leaf output, missing-value and
//! categorical rules.

use super::binning::BinMapper;
use super::constraints::Monotone;
use super::histogram::{GradPair, Scales, Stats};

/// Regularisation and constraints of the split search.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SplitParams {
    pub l1: f64,
    pub l2: f64,
    pub min_data_in_leaf: i64,
    pub min_sum_hessian: f64,
    pub min_gain_to_split: f64,
    pub max_cat_threshold: usize,
    pub cat_smooth: f64,
    pub cat_l2: f64,
    pub min_data_per_group: i64,
}

/// How rows are sent left, in bin space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    /// `bin <= bin_threshold` goes left; the NaN bin goes left iff `default_left`.
    Numeric {
        bin_threshold: u8,
        default_left: bool,
    },
    /// Bins in the set go left; all others (missing, rare, unseen) go right.
    Categorical { left_bins: [u64; 4] },
}

impl Rule {
    pub(crate) fn goes_left(&self, bin: u8, nan_bin: Option<usize>) -> bool {
        match *self {
            Rule::Numeric {
                bin_threshold,
                default_left,
            } => {
                if nan_bin == Some(bin as usize) {
                    default_left
                } else {
                    bin <= bin_threshold
                }
            }
            Rule::Categorical { left_bins } => {
                left_bins[(bin >> 6) as usize] >> (bin & 63) & 1 == 1
            }
        }
    }
}

/// A candidate split of a leaf.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Split {
    /// Gain over not splitting, minus `min_gain_to_split`; always > 0. The sides' row counts
    /// are estimates (as the scan saw them) until the leaf's rows are partitioned.
    pub gain: f64,
    pub feature: usize,
    pub rule: Rule,
    pub left: Stats,
    pub right: Stats,
    /// Unshrunk leaf values of the children.
    pub left_output: f64,
    pub right_output: f64,
}

pub(crate) fn threshold_l1(s: f64, l1: f64) -> f64 {
    s.signum() * (s.abs() - l1).max(0.0)
}

/// `ThresholdL1(G)^2 / (H + l2)`: the loss reduction of a leaf with these sums.
pub(crate) fn leaf_gain(g: f64, h: f64, l1: f64, l2: f64) -> f64 {
    let d = h + l2;
    if d > 0.0 {
        let t = threshold_l1(g, l1);
        t * t / d
    } else {
        0.0
    }
}

/// `-ThresholdL1(G) / (H + l2)`: the optimal leaf value.
pub(crate) fn leaf_output(g: f64, h: f64, l1: f64, l2: f64) -> f64 {
    let d = h + l2;
    if d > 0.0 {
        -threshold_l1(g, l1) / d
    } else {
        0.0
    }
}

/// Running best of one feature's scan.
struct Best {
    gain: f64,
    left: Stats,
    rule: Rule,
    l2: f64,
}

fn consider(
    best: &mut Option<Best>,
    gain: f64,
    min_gain_shift: f64,
    left: Stats,
    rule: Rule,
    l2: f64,
) {
    if gain > min_gain_shift && best.as_ref().is_none_or(|b| gain > b.gain) {
        *best = Some(Best {
            gain,
            left,
            rule,
            l2,
        });
    }
}

/// The best split of a leaf with sums `parent` on feature `feature`, if any is allowed;
/// `mc`: the leaf's monotone constraints, when they are on.
pub(crate) fn best_split(
    feature: usize,
    mapper: &BinMapper,
    hist: &[GradPair],
    parent: Stats,
    sc: Scales,
    p: &SplitParams,
    mc: Option<Monotone>,
) -> Option<Split> {
    let bins = Bins {
        hist,
        count_factor: parent.n as f64 / sc.h(&parent),
        h_inv: sc.h_inv,
    };
    let gain_shift = leaf_gain(sc.g(&parent), sc.h(&parent), p.l1, p.l2);
    let min_gain_shift = gain_shift + p.min_gain_to_split;
    let best = match mapper {
        BinMapper::Numeric { has_nan, .. } => {
            numeric(&bins, *has_nan, parent, sc, p, min_gain_shift, mc)
        }
        BinMapper::Categorical {
            bin_to_code,
            onehot,
            ..
        } => {
            let cats = Bins {
                hist: &hist[..bin_to_code.len().min(hist.len())],
                ..bins
            };
            // LightGBM clamps categorical splits to the bounds but never orders them.
            let mc = mc.map(|m| Monotone { direction: 0, ..m });
            if *onehot {
                onehot_scan(&cats, parent, sc, p, min_gain_shift, mc)
            } else {
                sorted_scan(&cats, parent, sc, p, min_gain_shift, mc)
            }
        }
    }?;
    let mut best = best;
    // Exact sums of the left side (the scan may have summed fewer bins than go left).
    let nan_bin = mapper.nan_bin();
    let left = hist
        .iter()
        .enumerate()
        .filter(|(b, _)| best.rule.goes_left(*b as u8, nan_bin))
        .fold(GradPair::default(), |a, (_, s)| a + *s);
    best.left = Stats::new(left, best.left.n);
    let right = parent - best.left;
    let output = |s: &Stats| match mc {
        Some(m) => m.output(sc.g(s), sc.h(s), p.l1, best.l2),
        None => leaf_output(sc.g(s), sc.h(s), p.l1, best.l2),
    };
    Some(Split {
        gain: best.gain - min_gain_shift,
        feature,
        rule: best.rule,
        left: best.left,
        right,
        left_output: output(&best.left),
        right_output: output(&right),
    })
}

/// A feature's histogram as the scan sees it: row counts estimated from the hessians as
/// LightGBM does (`round(hess * n_leaf / H_leaf)`).
#[derive(Clone, Copy)]
struct Bins<'a> {
    hist: &'a [GradPair],
    count_factor: f64,
    h_inv: f64,
}

impl Bins<'_> {
    fn len(&self) -> usize {
        self.hist.len()
    }

    #[inline]
    fn at(&self, t: usize) -> Stats {
        let s = self.hist[t];
        Stats::new(
            s,
            (s.h as f64 * self.h_inv * self.count_factor + 0.5) as i64,
        )
    }
}

/// Both sides hold enough rows and hessian.
fn enough(s: &Stats, sc: Scales, p: &SplitParams) -> bool {
    s.n >= p.min_data_in_leaf.max(1) && sc.h(s) >= p.min_sum_hessian
}

fn pair_gain(
    left: &Stats,
    right: &Stats,
    sc: Scales,
    l1: f64,
    l2: f64,
    mc: Option<Monotone>,
) -> f64 {
    let (gl, hl, gr, hr) = (sc.g(left), sc.h(left), sc.g(right), sc.h(right));
    match mc {
        Some(m) => m.pair_gain((gl, hl), (gr, hr), l1, l2),
        None => leaf_gain(gl, hl, l1, l2) + leaf_gain(gr, hr, l1, l2),
    }
}

/// The gain a candidate must beat: the best so far, and at least `min_gain_shift`.
fn floor(best: &Option<Best>, min_gain_shift: f64) -> f64 {
    best.as_ref()
        .map_or(min_gain_shift, |b| b.gain.max(min_gain_shift))
}

/// A division-free screen of `leaf_gain(left) + leaf_gain(right) > floor`:
/// `tl^2 dr + tr^2 dl > floor dl dr`, with a margin far above rounding, so it is never false
/// when the exact gain (two divisions) beats `floor`; only candidates it passes pay for them.
#[inline]
fn may_beat(left: &Stats, right: &Stats, floor: f64, sc: Scales, p: &SplitParams) -> bool {
    let (dl, dr) = (sc.h(left) + p.l2, sc.h(right) + p.l2);
    if !(dl > 0.0 && dr > 0.0 && floor > 0.0) {
        return true;
    }
    let tl = threshold_l1(sc.g(left), p.l1);
    let tr = threshold_l1(sc.g(right), p.l1);
    tl * tl * dr + tr * tr * dl > floor * (1.0 - 1e-9) * dl * dr
}

/// Threshold scan: right to left (missing left), then left to right (missing right) when the
/// feature has a NaN bin; the second direction must be strictly better to win.
fn numeric(
    hist: &Bins,
    has_nan: bool,
    parent: Stats,
    sc: Scales,
    p: &SplitParams,
    min_gain_shift: f64,
    mc: Option<Monotone>,
) -> Option<Best> {
    let n_value_bins = hist.len() - usize::from(has_nan);
    let mut best = None;
    let mut right = Stats::default();
    for t in (1..n_value_bins).rev() {
        right += hist.at(t);
        if !enough(&right, sc, p) {
            continue;
        }
        let left = parent - right;
        if !enough(&left, sc, p) {
            break;
        }
        if mc.is_none() && !may_beat(&left, &right, floor(&best, min_gain_shift), sc, p) {
            continue;
        }
        let gain = pair_gain(&left, &right, sc, p.l1, p.l2, mc);
        // Without a NaN bin, unseen missing values follow the larger side.
        let default_left = has_nan || left.n >= right.n;
        let rule = Rule::Numeric {
            bin_threshold: (t - 1) as u8,
            default_left,
        };
        consider(&mut best, gain, min_gain_shift, left, rule, p.l2);
    }
    if has_nan {
        let mut left = Stats::default();
        for t in 0..n_value_bins {
            left += hist.at(t);
            if !enough(&left, sc, p) {
                continue;
            }
            let right = parent - left;
            if !enough(&right, sc, p) {
                break;
            }
            if mc.is_none() && !may_beat(&left, &right, floor(&best, min_gain_shift), sc, p) {
                continue;
            }
            let gain = pair_gain(&left, &right, sc, p.l1, p.l2, mc);
            let rule = Rule::Numeric {
                bin_threshold: t as u8,
                default_left: false,
            };
            consider(&mut best, gain, min_gain_shift, left, rule, p.l2);
        }
    }
    best
}

fn bitset(bins: impl Iterator<Item = usize>) -> [u64; 4] {
    let mut set = [0u64; 4];
    for b in bins {
        set[b >> 6] |= 1 << (b & 63);
    }
    set
}

/// One category left, the rest right.
fn onehot_scan(
    cats: &Bins,
    parent: Stats,
    sc: Scales,
    p: &SplitParams,
    min_gain_shift: f64,
    mc: Option<Monotone>,
) -> Option<Best> {
    let mut best = None;
    for t in 0..cats.len() {
        let cat = cats.at(t);
        let other = parent - cat;
        if !enough(&cat, sc, p) || !enough(&other, sc, p) {
            continue;
        }
        let gain = pair_gain(&other, &cat, sc, p.l1, p.l2, mc);
        let rule = Rule::Categorical {
            left_bins: bitset(std::iter::once(t)),
        };
        consider(&mut best, gain, min_gain_shift, cat, rule, p.l2);
    }
    best
}

/// Categories sorted by `G / (H + cat_smooth)`; prefixes from both ends, up to
/// `max_cat_threshold` categories, in groups of at least `min_data_per_group` rows.
fn sorted_scan(
    cats: &Bins,
    parent: Stats,
    sc: Scales,
    p: &SplitParams,
    min_gain_shift: f64,
    mc: Option<Monotone>,
) -> Option<Best> {
    let ctr = |s: &Stats| sc.g(s) / (sc.h(s) + p.cat_smooth);
    let mut order: Vec<usize> = (0..cats.len())
        .filter(|&t| cats.at(t).n as f64 >= p.cat_smooth)
        .collect();
    order.sort_by(|&a, &b| ctr(&cats.at(a)).total_cmp(&ctr(&cats.at(b))));
    let used = order.len();
    let max_num_cat = p.max_cat_threshold.min(used.div_ceil(2));
    let l2 = p.l2 + p.cat_l2;
    let mut best: Option<Best> = None;
    let mut best_prefix: Option<(usize, bool)> = None;
    for forward in [true, false] {
        let mut left = Stats::default();
        let mut group = 0i64;
        for i in 0..used.min(max_num_cat) {
            let t = if forward {
                order[i]
            } else {
                order[used - 1 - i]
            };
            let cat = cats.at(t);
            left += cat;
            group += cat.n;
            if !enough(&left, sc, p) {
                continue;
            }
            let right = parent - left;
            if !enough(&right, sc, p) || right.n < p.min_data_per_group {
                break;
            }
            if group < p.min_data_per_group {
                continue;
            }
            group = 0;
            let gain = pair_gain(&left, &right, sc, p.l1, l2, mc);
            if gain > min_gain_shift && best.as_ref().is_none_or(|b| gain > b.gain) {
                let rule = Rule::Categorical { left_bins: [0; 4] };
                best = Some(Best {
                    gain,
                    left,
                    rule,
                    l2,
                });
                best_prefix = Some((i, forward));
            }
        }
    }
    let (i, forward) = best_prefix?;
    let mut best = best?;
    let prefix = (0..=i).map(|j| {
        if forward {
            order[j]
        } else {
            order[used - 1 - j]
        }
    });
    best.rule = Rule::Categorical {
        left_bins: bitset(prefix),
    };
    Some(best)
}

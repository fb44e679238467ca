//! Leaf-wise (best-first) growth of one tree on the bin matrix, LightGBM's serial learner.

use rayon::prelude::*;

use super::awake;
use super::binning::{BinMapper, BinnedData};
use super::colsample::ByNode;
use super::constraints::{Constraints, LeafLimits};
use super::histogram::{self, FeatureHist, GradPair, HistPool, Scales, Stats};
use super::split::{self, Rule, Split, SplitParams};
use super::tree::Tree;

/// Split search runs on several threads from this many histogram bins.
const PARALLEL_MIN_BINS: usize = 512;

#[derive(Debug, Clone)]
pub(crate) struct GrowParams {
    pub num_leaves: usize,
    pub max_depth: Option<usize>,
    pub split: SplitParams,
    pub constraints: Constraints,
}

/// A grown tree with the training rows of each leaf.
#[derive(Debug)]
pub(crate) struct Grown {
    /// Leaf values are unshrunk.
    pub tree: Tree,
    /// Split rules in bin space, one per node (for binned prediction).
    pub rules: Vec<Rule>,
    /// Rows of leaf `l` are `rows[ranges[l].0..ranges[l].1]`.
    pub rows: Vec<u32>,
    pub ranges: Vec<(usize, usize)>,
}

struct Leaf {
    start: usize,
    end: usize,
    sum: Stats,
    depth: usize,
    output: f64,
    /// Which node points at this leaf, and on which side.
    parent: Option<(usize, bool)>,
    hist: Option<Vec<FeatureHist>>,
    best: Option<Split>,
    /// Features with a valid split here, or not searched here (per-node sampling); children
    /// build histograms for these and search only among them (as LightGBM does).
    splittable: Vec<bool>,
    limits: LeafLimits,
    /// This leaf's split, worked out before its turn.
    ahead: Option<Box<Prepared>>,
}

/// Buffers reused from tree to tree: histograms and the partition's scratch rows.
#[derive(Debug, Default)]
pub(crate) struct GrowBuffers {
    pub pool: HistPool,
    scratch: Vec<u32>,
    /// The partition's scratch rows for the leaf split ahead of its turn.
    scratch_ahead: Vec<u32>,
    /// The last tree's rows, back from [`Grown::rows`] for the next tree.
    pub rows: Vec<u32>,
}

impl GrowBuffers {
    pub(crate) fn new(data: &BinnedData) -> GrowBuffers {
        GrowBuffers {
            pool: HistPool::new(data.n_features()),
            scratch: Vec::new(),
            scratch_ahead: Vec::new(),
            rows: Vec::new(),
        }
    }
}

/// Shared inputs of one tree's growth.
pub(crate) struct Grower<'a> {
    pub data: &'a BinnedData,
    pub grads: &'a [GradPair],
    pub scales: Scales,
    pub used: &'a [bool],
    pub params: &'a GrowParams,
    /// Per-node feature sampling; `None` searches every feature the histograms hold.
    pub by_node: Option<&'a ByNode>,
}

impl Grower<'_> {
    fn can_split(&self, leaf: &Leaf) -> bool {
        let p = self.params;
        let min_data = p.split.min_data_in_leaf.max(1);
        p.max_depth.is_none_or(|d| leaf.depth < d) && leaf.sum.n >= 2 * min_data
    }

    /// Best split of `leaf` (node number `node` of the tree) over the features of `features`
    /// (its histogram's), and the features its children may use: those with a valid split,
    /// and those per-node sampling left unsearched.
    fn search_leaf(
        &self,
        hist: &[FeatureHist],
        leaf: &Leaf,
        node: u64,
        features: &[bool],
        parallel: bool,
    ) -> (Option<Split>, Vec<bool>) {
        let Some(by_node) = self.by_node else {
            return self.best_split(hist, leaf, features, parallel);
        };
        let allowed = self
            .params
            .constraints
            .restrict(self.used.to_vec(), &leaf.limits);
        let mut search = by_node.sample(node, &allowed);
        for (s, &f) in search.iter_mut().zip(features) {
            *s &= f;
        }
        let (best, mut splittable) = self.best_split(hist, leaf, &search, parallel);
        for ((k, &s), &f) in splittable.iter_mut().zip(&search).zip(features) {
            *k |= f && !s;
        }
        (best, splittable)
    }

    /// Best split of `leaf` over the features in `search` (ties go to the lower feature
    /// index), and which features had any valid split; features on several threads when
    /// `parallel`.
    fn best_split(
        &self,
        hist: &[FeatureHist],
        leaf: &Leaf,
        search: &[bool],
        parallel: bool,
    ) -> (Option<Split>, Vec<bool>) {
        let constraints = &self.params.constraints;
        let search_one = |f: usize| {
            if !search[f] {
                return None;
            }
            let h = self.data.feature_hist(hist, f);
            let mut s = split::best_split(
                f,
                &self.data.mappers[f],
                h,
                leaf.sum,
                self.scales,
                &self.params.split,
                constraints.monotone(f, &leaf.limits),
            )?;
            constraints.penalize(&mut s, leaf.depth);
            Some(s)
        };
        let n_features = self.data.n_features();
        let found: Vec<Option<Split>> = if parallel && self.data.total_bins() >= PARALLEL_MIN_BINS {
            (0..n_features).into_par_iter().map(search_one).collect()
        } else {
            (0..n_features).map(search_one).collect()
        };
        let splittable = found.iter().map(Option::is_some).collect();
        let best = found
            .into_iter()
            .flatten()
            .fold(None, |best: Option<Split>, s| match best {
                Some(b) if b.gain >= s.gain => Some(b),
                _ => Some(s),
            });
        (best, splittable)
    }

    fn build_hist(&self, rows: &[u32], features: &[bool], pool: &HistPool) -> Vec<FeatureHist> {
        let mut h = pool.take();
        histogram::build(self.data, rows, self.grads, features, &mut h, pool);
        h
    }

    /// Records a leaf's search; the leaf keeps its histogram only when a split was found.
    fn keep_search(
        leaf: &mut Leaf,
        hist: Vec<FeatureHist>,
        (best, splittable): (Option<Split>, Vec<bool>),
        pool: &HistPool,
    ) {
        if best.is_some() {
            leaf.hist = Some(hist);
        } else {
            pool.give(hist);
        }
        leaf.best = best;
        leaf.splittable = splittable;
    }

    /// Grows a tree on `bag` (sorted training row indices), on the thread pool.
    pub(crate) fn grow(&self, bag: &[u32], bufs: &mut GrowBuffers) -> Grown {
        awake::run(|| self.grow_tree(bag, bufs))
    }

    fn grow_tree(&self, bag: &[u32], bufs: &mut GrowBuffers) -> Grown {
        let mut rows = std::mem::take(&mut bufs.rows);
        rows.clear();
        rows.extend_from_slice(bag);
        let mut leaves = vec![Leaf {
            start: 0,
            end: rows.len(),
            sum: Stats::new(GradPair::default(), rows.len() as i64),
            depth: 0,
            output: 0.0,
            parent: None,
            hist: None,
            best: None,
            splittable: Vec::new(),
            limits: LeafLimits::default(),
            ahead: None,
        }];
        if self.can_split(&leaves[0]) {
            let search = self
                .params
                .constraints
                .restrict(self.used.to_vec(), &leaves[0].limits);
            let hist = self.build_hist(&rows, &search, &bufs.pool);
            // Every row is in one bin of each feature: a histogram's total is the root's sum.
            leaves[0].sum = match search.iter().position(|&f| f) {
                Some(f) => Stats::new(
                    self.data.feature_hist(&hist, f).iter().copied().sum(),
                    rows.len() as i64,
                ),
                None => histogram::sum_rows(&rows, self.grads),
            };
            let found = self.search_leaf(&hist, &leaves[0], 0, &search, true);
            Self::keep_search(&mut leaves[0], hist, found, &bufs.pool);
        } else {
            leaves[0].sum = histogram::sum_rows(&rows, self.grads);
        }
        let mut tree = Tree::single_leaf(0.0, rows.len() as u64);
        let mut rules = Vec::new();
        while leaves.len() < self.params.num_leaves {
            let Some(li) = pick_leaf(&leaves, |_| true) else {
                break;
            };
            if leaves[li].ahead.is_none() {
                let ahead = self.ahead_of_turn(&leaves, li);
                self.prepare(li, ahead, &mut leaves, &mut rows, tree.n_nodes(), bufs);
            }
            let Some(prepared) = leaves[li].ahead.take() else {
                break;
            };
            commit(li, *prepared, &mut leaves, &mut tree, &mut rules, self.data);
        }
        for leaf in &mut leaves {
            if let Some(prepared) = leaf.ahead.take() {
                // Never committed: its rows go back to increasing order.
                rows[leaf.start..leaf.end].sort_unstable();
                for h in [prepared.left.hist, prepared.right.hist]
                    .into_iter()
                    .flatten()
                {
                    bufs.pool.give(h);
                }
            }
            if let Some(h) = leaf.hist.take() {
                bufs.pool.give(h);
            }
        }
        tree.leaf_value = leaves.iter().map(|l| l.output).collect();
        tree.leaf_count = leaves.iter().map(|l| l.sum.n as u64).collect();
        let ranges = leaves.iter().map(|l| (l.start, l.end)).collect();
        Grown {
            tree,
            rules,
            rows,
            ranges,
        }
    }

    /// The leaf to split ahead of its turn while `li` is split (on another thread): the next
    /// best leaf not split yet, when threads are free, a later turn may still come, and
    /// children need no node numbers (per-node sampling numbers them in split order).
    fn ahead_of_turn(&self, leaves: &[Leaf], li: usize) -> Option<usize> {
        let waiting = leaves.iter().filter(|l| l.ahead.is_some()).count();
        let turns_left = self.params.num_leaves - leaves.len() - 1;
        if rayon::current_num_threads() < 2
            || self.by_node.is_some()
            || waiting >= MAX_AHEAD
            || turns_left <= waiting
        {
            return None;
        }
        pick_leaf(leaves, |i| i != li && leaves[i].ahead.is_none())
    }

    /// Splits leaf `li` (the next split, node number `node`) and, at the same time, leaf
    /// `ahead`; each keeps the result in `ahead` until its turn.
    fn prepare(
        &self,
        li: usize,
        ahead: Option<usize>,
        leaves: &mut [Leaf],
        rows: &mut [u32],
        node: usize,
        bufs: &mut GrowBuffers,
    ) {
        let is_last = leaves.len() + 1 >= self.params.num_leaves;
        let GrowBuffers {
            pool,
            scratch,
            scratch_ahead,
            ..
        } = bufs;
        let pool = &*pool;
        let Some(job) = Job::take(&mut leaves[li], node as u64, !is_last) else {
            return;
        };
        let other = ahead.and_then(|a| Job::take(&mut leaves[a], 0, true).map(|j| (a, j)));
        let Some((a, other_job)) = other else {
            let leaf = &leaves[li];
            let part = &mut rows[leaf.start..leaf.end];
            let prepared = self.split_leaf(leaf, job, part, scratch, pool);
            leaves[li].ahead = Some(Box::new(prepared));
            return;
        };
        let (first, second) = if leaves[li].start < leaves[a].start {
            (li, a)
        } else {
            (a, li)
        };
        let (lo, hi) = rows.split_at_mut(leaves[second].start);
        let first_rows = &mut lo[leaves[first].start..leaves[first].end];
        let second_rows = &mut hi[..leaves[second].end - leaves[second].start];
        let (li_rows, a_rows) = if first == li {
            (first_rows, second_rows)
        } else {
            (second_rows, first_rows)
        };
        let (done, done_ahead) = rayon::join(
            || self.split_leaf(&leaves[li], job, li_rows, scratch, pool),
            || self.split_leaf(&leaves[a], other_job, a_rows, scratch_ahead, pool),
        );
        leaves[li].ahead = Some(Box::new(done));
        leaves[a].ahead = Some(Box::new(done_ahead));
    }

    /// Partitions `leaf`'s rows (`rows`, the leaf's range) by its best split and builds and
    /// searches the children's histograms (unless `job` says not to).
    fn split_leaf(
        &self,
        leaf: &Leaf,
        job: Job,
        rows: &mut [u32],
        scratch: &mut Vec<u32>,
        pool: &HistPool,
    ) -> Prepared {
        let Job {
            mut split,
            hist,
            splittable,
            node,
            search_children,
        } = job;
        let mapper = &self.data.mappers[split.feature];
        let (left_limits, right_limits) = self.params.constraints.children(&leaf.limits, &split);
        // both children have the same path, so the same allowed features
        let search = self.params.constraints.restrict(splittable, &left_limits);
        let goes_left: [bool; 256] =
            std::array::from_fn(|b| split.rule.goes_left(b as u8, mapper.nan_bin()));
        let n_left = partition(rows, scratch, self.data.column(split.feature), &goes_left);
        let mid = leaf.start + n_left;
        // The scan estimated the sides' row counts; now they are known.
        split.left.n = n_left as i64;
        split.right.n = (leaf.end - mid) as i64;
        let child = |start, end, sum, output, limits| Leaf {
            start,
            end,
            sum,
            depth: leaf.depth + 1,
            output,
            parent: None,
            hist: None,
            best: None,
            splittable: Vec::new(),
            limits,
            ahead: None,
        };
        let mut left = child(leaf.start, mid, split.left, split.left_output, left_limits);
        let mut right = child(mid, leaf.end, split.right, split.right_output, right_limits);
        let (ok_l, ok_r) = (self.can_split(&left), self.can_split(&right));
        // After the last split no child is searched (LightGBM does not either).
        if !search_children || !ok_l && !ok_r {
            pool.give(hist);
            return Prepared { split, left, right };
        }
        // Build the smaller child; the larger one is parent minus smaller.
        let small_is_left = split.left.n < split.right.n;
        let small_rows = if small_is_left {
            &rows[..n_left]
        } else {
            &rows[n_left..]
        };
        let small_hist = self.build_hist(small_rows, &search, pool);
        let mut large_hist = hist;
        histogram::subtract(&mut large_hist, &small_hist, self.data, &search);
        let (left_hist, right_hist) = if small_is_left {
            (small_hist, large_hist)
        } else {
            (large_hist, small_hist)
        };
        // Node numbers for per-node sampling: unique within the tree, the root is 0.
        let (number_l, number_r) = (2 * node + 1, 2 * node + 2);
        // The children are searched at once, one per thread.
        let (found_l, found_r) = rayon::join(
            || ok_l.then(|| self.search_leaf(&left_hist, &left, number_l, &search, false)),
            || ok_r.then(|| self.search_leaf(&right_hist, &right, number_r, &search, false)),
        );
        for (c, h, found) in [
            (&mut left, left_hist, found_l),
            (&mut right, right_hist, found_r),
        ] {
            match found {
                Some(found) => Self::keep_search(c, h, found, pool),
                None => pool.give(h),
            }
        }
        Prepared { split, left, right }
    }
}

/// Most leaves split ahead of their turn at a time (each holds two children's histograms).
const MAX_AHEAD: usize = 4;

/// What splitting a leaf takes from it.
struct Job {
    split: Split,
    hist: Vec<FeatureHist>,
    splittable: Vec<bool>,
    /// The split's node number (for per-node sampling).
    node: u64,
    search_children: bool,
}

impl Job {
    fn take(leaf: &mut Leaf, node: u64, search_children: bool) -> Option<Job> {
        Some(Job {
            split: leaf.best.clone()?,
            hist: leaf.hist.take()?,
            splittable: std::mem::take(&mut leaf.splittable),
            node,
            search_children,
        })
    }
}

/// A leaf split but not yet in the tree: its split (exact side counts) and children.
struct Prepared {
    split: Split,
    left: Leaf,
    right: Leaf,
}

/// Puts leaf `li`'s prepared split into the tree: `li` becomes the left child, the right
/// child is appended.
fn commit(
    li: usize,
    prepared: Prepared,
    leaves: &mut Vec<Leaf>,
    tree: &mut Tree,
    rules: &mut Vec<Rule>,
    data: &BinnedData,
) {
    let Prepared {
        split,
        mut left,
        mut right,
    } = prepared;
    let mapper = &data.mappers[split.feature];
    let node = push_node(tree, mapper, &split, leaves[li].sum.n as u64);
    rules.push(split.rule);
    if let Some((p, is_left)) = leaves[li].parent {
        if is_left {
            tree.left_child[p] = node as i32;
        } else {
            tree.right_child[p] = node as i32;
        }
    }
    let right_li = leaves.len();
    tree.left_child[node] = !(li as i32);
    tree.right_child[node] = !(right_li as i32);
    left.parent = Some((node, true));
    right.parent = Some((node, false));
    leaves[li] = left;
    leaves.push(right);
}

/// The leaf with the largest gain among those `consider` accepts (ties: lower feature, then
/// lower leaf index).
fn pick_leaf(leaves: &[Leaf], consider: impl Fn(usize) -> bool) -> Option<usize> {
    let mut pick: Option<(usize, &Split)> = None;
    for (i, l) in leaves.iter().enumerate() {
        if let Some(s) = l.best.as_ref().filter(|_| consider(i)) {
            let better = match pick {
                None => true,
                Some((_, b)) => s.gain > b.gain || (s.gain == b.gain && s.feature < b.feature),
            };
            if better && s.gain > 0.0 {
                pick = Some((i, s));
            }
        }
    }
    pick.map(|(i, _)| i)
}

/// Rows per block of a parallel partition.
const PARTITION_BLOCK: usize = 1 << 14;

/// Stable in-place partition of a leaf's rows by their bin in `col`; returns the number sent
/// left. Blocks of rows are split on separate threads (branch-free), then copied back in order.
fn partition(
    rows: &mut [u32],
    scratch: &mut Vec<u32>,
    col: &[u8],
    goes_left: &[bool; 256],
) -> usize {
    let n = rows.len();
    if scratch.len() < n {
        scratch.resize(n, 0);
    }
    let scratch = &mut scratch[..n];
    // Lefts fill a block's front in order, rights its back in reverse order.
    let split_block = |(src, dst): (&[u32], &mut [u32])| -> usize {
        let (mut l, mut r) = (0, dst.len());
        for &row in src {
            let left = usize::from(goes_left[col[row as usize] as usize]);
            dst[l] = row;
            dst[r - 1] = row;
            l += left;
            r -= 1 - left;
        }
        l
    };
    let n_lefts: Vec<usize> = if n >= 2 * PARTITION_BLOCK {
        rows.par_chunks(PARTITION_BLOCK)
            .zip(scratch.par_chunks_mut(PARTITION_BLOCK))
            .map(split_block)
            .collect()
    } else {
        vec![split_block((rows, scratch))]
    };
    let block = if n >= 2 * PARTITION_BLOCK {
        PARTITION_BLOCK
    } else {
        n.max(1)
    };
    let total_left: usize = n_lefts.iter().sum();
    let (mut l, mut r) = (0, total_left);
    for (src, &nl) in scratch.chunks(block).zip(&n_lefts) {
        rows[l..l + nl].copy_from_slice(&src[..nl]);
        l += nl;
        for (d, s) in rows[r..r + src.len() - nl]
            .iter_mut()
            .zip(src[nl..].iter().rev())
        {
            *d = *s;
        }
        r += src.len() - nl;
    }
    total_left
}

/// Adds the split as a raw-value node (threshold or category bitset).
fn push_node(tree: &mut Tree, mapper: &BinMapper, split: &Split, count: u64) -> usize {
    match (split.rule, mapper) {
        (
            Rule::Numeric {
                bin_threshold,
                default_left,
            },
            _,
        ) => {
            let threshold = mapper.upper_bound(bin_threshold as usize);
            tree.push_node(
                split.feature,
                threshold,
                default_left,
                None,
                split.gain,
                count,
            )
        }
        (Rule::Categorical { .. }, BinMapper::Categorical { bin_to_code, .. }) => {
            let codes: Vec<u32> = bin_to_code
                .iter()
                .enumerate()
                .filter(|&(b, _)| split.rule.goes_left(b as u8, None))
                .map(|(_, &c)| c)
                .collect();
            tree.push_node(split.feature, 0.0, false, Some(&codes), split.gain, count)
        }
        (Rule::Categorical { .. }, BinMapper::Numeric { .. }) => {
            tree.push_node(split.feature, 0.0, false, None, split.gain, count)
        }
    }
}

/// Leaf of a training row from its bins (same path as the raw tree on raw values).
pub(crate) fn binned_leaf(tree: &Tree, rules: &[Rule], data: &BinnedData, row: usize) -> usize {
    if rules.is_empty() {
        return 0;
    }
    let mut node = 0i32;
    while node >= 0 {
        let i = node as usize;
        let f = tree.split_feature[i] as usize;
        let bin = data.bins[f * data.n_rows + row];
        node = if rules[i].goes_left(bin, data.mappers[f].nan_bin()) {
            tree.left_child[i]
        } else {
            tree.right_child[i]
        };
    }
    !node as usize
}

#[cfg(test)]
mod tests {
    use super::{PARTITION_BLOCK, partition};

    #[test]
    fn partition_is_stable_and_matches_a_plain_filter() {
        let col: Vec<u8> = (0..250_000u32).map(|r| (r * 7919 % 251) as u8).collect();
        let goes_left: [bool; 256] = std::array::from_fn(|b| b % 3 == 1 || b > 200);
        for n in [
            0,
            1,
            5,
            1000,
            2 * PARTITION_BLOCK,
            2 * PARTITION_BLOCK + 17,
            150_001,
        ] {
            let rows: Vec<u32> = (0..n as u32).map(|r| r * 4 / 3).collect();
            let (left, right): (Vec<u32>, Vec<u32>) = rows
                .iter()
                .partition(|&&r| goes_left[col[r as usize] as usize]);
            let mut got = rows.clone();
            let mut scratch = Vec::new();
            let n_left = partition(&mut got, &mut scratch, &col, &goes_left);
            assert_eq!(n_left, left.len(), "{n} rows");
            assert_eq!(&got[..n_left], &left[..], "{n} rows: left side in order");
            assert_eq!(&got[n_left..], &right[..], "{n} rows: right side in order");
        }
    }
}

//! The forest flattened for batch prediction, built once per model on its first prediction.
//!
//! Each row is first turned into bytes, two *ranks* per used feature. For a numeric feature
//! the rank is the number of the forest's distinct thresholds on that feature that lie below
//! the value (so `x > threshold j` is `rank > j`); the first byte puts NaN above every rank
//! (255), the second, holding `rank + 1`, below them (0), so a split whose missing values go
//! right reads the first and one whose missing values go left reads the second: a numeric
//! split is one byte comparison. For a categorical feature the rank is the position of its
//! category among those the forest's splits name, or one past them for any other category,
//! NaN or a negative value; a categorical split tests it against a set of ranks (one 64-bit
//! word, or four when a feature's splits name more than 63 categories).
//!
//! All trees share one array of 8-byte nodes laid out breadth first, with the two children
//! of a split side by side, so a step is branch-free: `next = left + right`. A leaf sends
//! nothing right and its `left` is the next tree's root: the trees of one output are
//! *chained* in segments of a few thousand nodes, each ending in a node that stays put. The
//! leaf values (-0.0, which adds exactly nothing, at splits) and categorical sets lie in
//! parallel arrays, and a row adds the value of every node it leaves. Eight rows walk a
//! segment in lockstep until all have reached its end, so their dependent loads overlap
//! instead of waiting on each other, and a row that took a short path in one tree goes on to
//! the next instead of waiting for the others' leaves.
//!
//! Rows are scored in blocks: a block's ranks are computed first, then each segment in order
//! is walked by every group of eight rows of the block while it is in cache. Each row's sum
//! is `init + tree 0 + tree 1 + ...` in tree order, exactly as [`super::Tree::predict_row`]
//! was summed one tree at a time, so the results are bit-identical. A forest whose features
//! need more ranks than a byte holds is not flattened (its trees predict one by one); trees
//! binned to at most 255 bins never are.

use capstan_frame::Matrix;
use rayon::prelude::*;

use super::Tree;

/// Rows walked in lockstep.
const LANES: usize = 8;

/// Steps taken between tests of whether all lanes have reached the segment's end.
const CHECK_EVERY: usize = 4;

/// About how many nodes a segment of chained trees holds (it stays in cache while every
/// group of a block walks it).
const SEGMENT_NODES: usize = 8192;

/// Rows scored together: every group of a block walks a segment before the next starts.
const BLOCK: usize = 64;

/// Most features a flattened forest may split on (two rank bytes each).
const MAX_FEATURES: usize = 1024;

/// A threshold no rank exceeds: leaves and categorical splits send nothing right by it.
const NEVER: u8 = u8::MAX;

/// Most distinct thresholds on one numeric feature: ranks 0..=254 leave 255 for NaN.
const MAX_THRESHOLDS: usize = 254;

/// Most categories the splits on one categorical feature may name: with the rank for
/// "any other", ranks fit a byte.
const MAX_CATEGORIES: usize = 254;

/// Most categories per feature for which a split's set fits one 64-bit word (else four).
const NARROW_CATEGORIES: usize = 63;

#[derive(Debug, Clone, Copy)]
struct Node {
    /// The left child; the right child is `left + 1`. At a leaf: the next tree's root or
    /// the segment's end; at the end: itself.
    left: u32,
    /// The rank byte tested (0 at a leaf).
    slot: u16,
    /// Ranks above it go right; [`NEVER`] at leaves and categorical splits.
    threshold: u8,
}

impl Node {
    /// A node that sends every row to `next`.
    fn leaf(next: u32) -> Node {
        Node {
            left: next,
            slot: 0,
            threshold: NEVER,
        }
    }
}

/// How one used feature's values become ranks.
#[derive(Debug, Clone, Default)]
struct Ranking {
    /// The input column.
    column: usize,
    categorical: bool,
    /// Numeric: the distinct split thresholds, ascending.
    thresholds: Vec<f64>,
    /// Categorical: the distinct category codes named by a split's left set, ascending.
    codes: Vec<u64>,
}

impl Ranking {
    /// The two rank bytes of `x`: missing high, missing low.
    fn ranks(&self, x: f64) -> [u8; 2] {
        // Both lists are capped below 255 entries, so the casts are exact.
        if self.categorical {
            let other = self.codes.len();
            // As `tree::category_in`: NaN and negative values are in no set; others truncate.
            let i = if x.is_nan() || x < 0.0 {
                other
            } else {
                self.codes.binary_search(&(x as u64)).unwrap_or(other)
            };
            [i as u8, 0]
        } else if x.is_nan() {
            [u8::MAX, 0]
        } else {
            let r = self.thresholds.partition_point(|&t| t < x) as u8;
            [r, r + 1]
        }
    }
}

/// Consecutive trees of one output (class), chained: each leaf of a tree leads to the next
/// tree's root, the last tree's leaves to the segment's end node, which stays put.
#[derive(Debug, Clone, Copy)]
struct Segment {
    root: u32,
    end: u32,
    output: usize,
    has_cat: bool,
}

/// A validated model's trees in one compact, read-only layout.
#[derive(Debug, Clone)]
pub(crate) struct Forest {
    nodes: Vec<Node>,
    /// Per node: the leaf value, added as a row leaves the node (-0.0, which adds exactly
    /// nothing, at splits and the end node).
    leaf_values: Vec<f64>,
    /// Per node when the forest has a categorical split (else empty): `set_words` words
    /// holding the ranks a categorical split sends right (0 at other nodes).
    right_sets: Vec<u64>,
    /// 1, or 4 when a categorical feature has more than [`NARROW_CATEGORIES`] ranks in sets.
    set_words: usize,
    /// In walking order: an output's segments are in tree order.
    segments: Vec<Segment>,
    /// Per dense feature.
    rankings: Vec<Ranking>,
    init: Vec<f64>,
}

/// The category codes of a categorical split's left set.
fn left_codes(t: &Tree, s: usize) -> Option<impl Iterator<Item = u64> + '_> {
    let c = usize::try_from(t.cat_index[s]).ok()?;
    let lo = *t.cat_boundaries.get(c)? as usize;
    let hi = *t.cat_boundaries.get(c + 1)? as usize;
    let words = t.cat_bitset.get(lo..hi)?;
    Some(words.iter().enumerate().flat_map(|(w, &bits)| {
        (0..32u64)
            .filter(move |b| (bits >> b) & 1 == 1)
            .map(move |b| w as u64 * 32 + b)
    }))
}

impl Forest {
    /// Flattens the trees of a validated model with `init.len()` outputs; `None` when the
    /// forest is too large for `u32` node indices, splits on too many features, has a NaN
    /// threshold or needs more ranks than a byte holds (the trees then predict one by one).
    pub(crate) fn new(trees: &[Tree], init: &[f64], n_features: usize) -> Option<Forest> {
        let mut dense = vec![u16::MAX; n_features];
        let mut rankings: Vec<Ranking> = Vec::new();
        for t in trees {
            for (s, &f) in t.split_feature.iter().enumerate() {
                let d = dense.get_mut(f as usize)?;
                let categorical = t.cat_index[s] >= 0;
                if *d == u16::MAX {
                    if rankings.len() >= MAX_FEATURES {
                        return None;
                    }
                    *d = u16::try_from(rankings.len()).ok()?;
                    rankings.push(Ranking {
                        column: f as usize,
                        categorical,
                        ..Ranking::default()
                    });
                }
                let r = &mut rankings[*d as usize];
                if r.categorical != categorical {
                    return None;
                }
                if categorical {
                    r.codes.extend(left_codes(t, s)?);
                } else if t.threshold[s].is_nan() {
                    return None;
                } else {
                    r.thresholds.push(t.threshold[s]);
                }
            }
        }
        for r in &mut rankings {
            r.thresholds.sort_by(f64::total_cmp);
            // -0.0 and 0.0 are one threshold: `x > t` is the same for both.
            r.thresholds.dedup_by(|a, b| a == b);
            r.codes.sort_unstable();
            r.codes.dedup();
            if r.thresholds.len() > MAX_THRESHOLDS || r.codes.len() > MAX_CATEGORIES {
                return None;
            }
        }
        let any_cat = rankings.iter().any(|r| r.categorical);
        let narrow = rankings.iter().all(|r| r.codes.len() <= NARROW_CATEGORIES);
        let k = init.len().max(1);
        let mut forest = Forest {
            nodes: Vec::new(),
            leaf_values: Vec::new(),
            right_sets: Vec::new(),
            set_words: if narrow { 1 } else { 4 },
            segments: Vec::new(),
            rankings,
            init: init.to_vec(),
        };
        // Per tree: its root and where its leaves are.
        let mut placed = Vec::with_capacity(trees.len());
        for t in trees {
            let root = u32::try_from(forest.nodes.len()).ok()?;
            let (leaves, has_cat) = forest.push_tree(t, &dense, any_cat)?;
            placed.push((root, leaves, has_cat));
        }
        // Segments of about SEGMENT_NODES nodes per output, each with its end node.
        for c in 0..k {
            let mut start = c;
            while start < trees.len() {
                let mut stop = start;
                let mut size = 0;
                while stop < trees.len()
                    && (stop == start || size + 2 * trees[stop].n_nodes() < SEGMENT_NODES)
                {
                    size += 2 * trees[stop].n_nodes() + 1;
                    stop += k;
                }
                let end = u32::try_from(forest.nodes.len()).ok()?;
                forest.push_end(any_cat)?;
                let mut next = end;
                let mut has_cat = false;
                for (root, leaves, cat) in
                    placed[start..stop.min(trees.len())].iter().step_by(k).rev()
                {
                    for &leaf in leaves {
                        forest.nodes[leaf as usize].left = next;
                    }
                    next = *root;
                    has_cat |= cat;
                }
                forest.segments.push(Segment {
                    root: next,
                    end,
                    output: c,
                    has_cat,
                });
                start = stop;
            }
        }
        // A power-of-two length lets a masked index skip the bounds check.
        while !forest.nodes.len().is_power_of_two() {
            forest.push_end(any_cat)?;
        }
        Some(forest)
    }

    /// Appends a segment's end: a node that stays put and adds nothing.
    fn push_end(&mut self, any_cat: bool) -> Option<()> {
        self.nodes
            .push(Node::leaf(u32::try_from(self.nodes.len()).ok()?));
        self.leaf_values.push(-0.0);
        if any_cat {
            self.right_sets
                .extend(std::iter::repeat_n(0, self.set_words));
        }
        Some(())
    }

    /// Appends one tree breadth first: the children of the `i`-th node placed are appended
    /// together, so they sit side by side. Returns where its leaves are (to be chained) and
    /// whether it has a categorical split.
    fn push_tree(&mut self, t: &Tree, dense: &[u16], any_cat: bool) -> Option<(Vec<u32>, bool)> {
        let base = self.nodes.len();
        let mut leaves = Vec::with_capacity(t.n_leaves());
        let n = t.n_nodes();
        // Node references in placement order: `i >= 0` a split, `!j` leaf `j`.
        let mut order: Vec<i32> = Vec::with_capacity(2 * n + 1);
        order.push(if n > 0 { 0 } else { !0 });
        let mut has_cat = false;
        let mut i = 0;
        while let Some(&r) = order.get(i) {
            let at = u32::try_from(base + i).ok()?;
            let (node, value, set) = if r >= 0 {
                let s = r as usize;
                // A well-formed tree places each node once; anything else is not flattened.
                if order.len() + 2 > 2 * n + 1 {
                    return None;
                }
                let left = u32::try_from(base + order.len()).ok()?;
                u32::try_from(base + order.len() + 1).ok()?;
                order.extend([t.left_child[s], t.right_child[s]]);
                let feature = dense[t.split_feature[s] as usize];
                let ranking = &self.rankings[feature as usize];
                let slot = 2 * feature;
                if ranking.categorical {
                    has_cat = true;
                    // Ranks 0..=codes.len() exist (the last is "any other"); all but the
                    // left set's go right.
                    let mut set = [0u64; 4];
                    for r in 0..=ranking.codes.len() {
                        set[r / 64] |= 1 << (r % 64);
                    }
                    for code in left_codes(t, s)? {
                        let r = ranking.codes.binary_search(&code).ok()?;
                        set[r / 64] &= !(1 << (r % 64));
                    }
                    (
                        Node {
                            left,
                            slot,
                            threshold: NEVER,
                        },
                        -0.0,
                        set,
                    )
                } else {
                    // Threshold `j` sends ranks above `j` right; the second byte holds
                    // `rank + 1`, with NaN at 0.
                    let j = ranking.thresholds.partition_point(|&x| x < t.threshold[s]);
                    let j = u8::try_from(j).ok()?;
                    let node = if t.default_left[s] {
                        Node {
                            left,
                            slot: slot + 1,
                            threshold: j + 1,
                        }
                    } else {
                        Node {
                            left,
                            slot,
                            threshold: j,
                        }
                    };
                    (node, -0.0, [0; 4])
                }
            } else {
                leaves.push(at);
                (Node::leaf(at), *t.leaf_value.get(!r as usize)?, [0; 4])
            };
            self.nodes.push(node);
            self.leaf_values.push(value);
            if any_cat {
                self.right_sets.extend_from_slice(&set[..self.set_words]);
            }
            i += 1;
        }
        Some((leaves, has_cat))
    }

    /// Raw scores of `x` into `values` (`n_rows x k`, row-major), in parallel over blocks of
    /// rows when `parallel`.
    pub(crate) fn predict(&self, x: &Matrix, values: &mut [f64], parallel: bool) {
        match 2 * self.rankings.len() {
            0..=256 => self.predict_with::<256>(x, values, parallel),
            _ => self.predict_with::<{ 2 * MAX_FEATURES }>(x, values, parallel),
        }
    }

    /// [`Forest::predict`] with each row's ranks in `S` bytes (`S` a power of two, at least
    /// twice the number of used features): slots masked to `S - 1` need no bounds check.
    fn predict_with<const S: usize>(&self, x: &Matrix, values: &mut [f64], parallel: bool) {
        let k = self.init.len().max(1);
        // A small request needs only a few buffer rows.
        let rows = (values.len() / k).next_multiple_of(LANES).min(BLOCK);
        let new_buf = || vec![[0u8; S]; rows];
        let score = |buf: &mut Vec<[u8; S]>, (b, out): (usize, &mut [f64])| {
            self.predict_block(x, b * BLOCK, out, buf);
        };
        if parallel {
            values
                .par_chunks_mut(BLOCK * k)
                .enumerate()
                .for_each_init(new_buf, score);
        } else {
            let mut buf = new_buf();
            values
                .chunks_mut(BLOCK * k)
                .enumerate()
                .for_each(|c| score(&mut buf, c));
        }
    }

    /// Raw scores of rows `first..first + out.len() / k` of `x` into `out`; `buf` holds at
    /// least that many rows rounded up to a multiple of `LANES`.
    fn predict_block<const S: usize>(
        &self,
        x: &Matrix,
        first: usize,
        out: &mut [f64],
        buf: &mut [[u8; S]],
    ) {
        let k = self.init.len().max(1);
        let rows = out.len() / k;
        // A short or missing row reads as NaN. Buffer rows past `rows` hold stale ranks:
        // they are walked and ignored.
        for (r, dst) in buf.iter_mut().take(rows).enumerate() {
            let i = first + r;
            let row = x.data.get(i * x.n_cols..(i + 1) * x.n_cols).unwrap_or(&[]);
            for (d, ranking) in dst.chunks_exact_mut(2).zip(&self.rankings) {
                let x = row.get(ranking.column).copied().unwrap_or(f64::NAN);
                d.copy_from_slice(&ranking.ranks(x));
            }
        }
        let groups: Vec<&[[u8; S]; LANES]> = buf
            .chunks_exact(LANES)
            .take(rows.div_ceil(LANES))
            .filter_map(|g| g.try_into().ok())
            .collect();
        // Per group and output, per lane: the running sum.
        let mut sums: Vec<[f64; LANES]> = (0..groups.len() * k)
            .map(|i| [self.init[i % k]; LANES])
            .collect();
        // Each segment is walked by every group while it is in cache.
        for seg in &self.segments {
            for (g, lanes) in groups.iter().enumerate() {
                let sums = &mut sums[g * k + seg.output];
                match (seg.has_cat, self.set_words) {
                    (false, _) => self.walk::<S, false, 1>(seg, sums, lanes),
                    (true, 1) => self.walk::<S, true, 1>(seg, sums, lanes),
                    (true, _) => self.walk::<S, true, 4>(seg, sums, lanes),
                }
            }
        }
        for (r, o) in out.chunks_exact_mut(k).enumerate() {
            for (c, v) in o.iter_mut().enumerate() {
                *v = sums[(r / LANES) * k + c][r % LANES];
            }
        }
    }

    /// Adds to each lane's sum the values of the leaves its row reaches along the segment,
    /// stepping all lanes until all have reached its end.
    /// `HAS_CAT`: the segment has categorical splits; `W`: words per categorical set.
    #[inline(always)]
    fn walk<const S: usize, const HAS_CAT: bool, const W: usize>(
        &self,
        seg: &Segment,
        sums: &mut [f64; LANES],
        rows: &[[u8; S]; LANES],
    ) {
        let mut at = [seg.root; LANES];
        let nodes = self.nodes.as_slice();
        let values = self.leaf_values.as_slice();
        let sets = self.right_sets.as_slice();
        if nodes.is_empty()
            || values.len() != nodes.len()
            || HAS_CAT && sets.len() != W * nodes.len()
        {
            return;
        }
        let mask = nodes.len() - 1;
        loop {
            for _ in 0..CHECK_EVERY {
                for ((a, row), sum) in at.iter_mut().zip(rows).zip(sums.iter_mut()) {
                    let i = *a as usize & mask;
                    *sum += values[i];
                    *a = step::<S, HAS_CAT, W>(nodes, sets, i, row);
                }
            }
            // One test, not a branch per lane.
            if at.iter().fold(0, |acc, &a| acc | (a ^ seg.end)) == 0 {
                return;
            }
        }
    }
}

/// The node a row goes to from node `a` (`a`'s successor at a leaf); `sets` holds `W` words
/// per node when `HAS_CAT`.
#[inline(always)]
fn step<const S: usize, const HAS_CAT: bool, const W: usize>(
    nodes: &[Node],
    sets: &[u64],
    a: usize,
    row: &[u8; S],
) -> u32 {
    let node = &nodes[a];
    let x = row[node.slot as usize & (S - 1)];
    let mut right = x > node.threshold;
    if HAS_CAT {
        // With one word, categorical ranks are below 64; other nodes' sets are empty.
        let word = sets[W * a + (usize::from(x) >> 6) % W];
        right |= word.wrapping_shr(u32::from(x)) & 1 == 1;
    }
    node.left + u32::from(right)
}

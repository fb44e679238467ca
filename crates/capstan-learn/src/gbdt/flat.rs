//! The forest flattened for batch prediction, built once per model on its first prediction.
//!
//! All trees share one array of 16-byte nodes laid out breadth first, with the two children
//! of a split side by side, so a step is branch-free: `next = left + (x > threshold)`. A leaf
//! is a node whose threshold is `+inf` and whose `left` is itself, so a row that has reached
//! its leaf stays there; the leaf values lie in a parallel array. Several rows walk a tree in
//! lockstep until none moves, so their dependent loads overlap instead of waiting on each
//! other. NaN (a split's default side) and categorical splits (a bitset test) cost extra
//! work only in blocks that hold a NaN and in trees that have such splits.
//!
//! Rows are scored in blocks: a block's used features are first copied into a dense buffer
//! (missing columns read as NaN), then every tree in order walks the block. Each row's sum is
//! `init + tree 0 + tree 1 + ...` in tree order, exactly as [`super::Tree::predict_row`] was
//! summed one tree at a time, so the results are bit-identical.

use capstan_frame::Matrix;
use rayon::prelude::*;

use super::Tree;
use super::tree::category_in;

/// Rows walked in lockstep.
const LANES: usize = 8;

/// Rows scored together: every tree walks a block before the next tree starts.
const BLOCK: usize = 64;

/// Most features a flattened forest may split on.
const MAX_WIDTH: usize = 1024;

/// Set on the feature index of a categorical split.
const CAT: u32 = 1 << 31;

/// Set on the feature index of a numeric split that sends NaN right.
const NAN_RIGHT: u32 = 1 << 30;

#[derive(Debug, Clone, Copy)]
struct Node {
    /// A numeric split sends `x` right when `x > threshold`; `+inf` at a leaf.
    threshold: f64,
    /// Dense feature index, with `CAT` or `NAN_RIGHT` set; 0 at a leaf.
    feature: u32,
    /// The left child; the right child is `left + 1`. A leaf points at itself.
    left: u32,
}

/// Where one tree starts in the node array.
#[derive(Debug, Clone, Copy)]
struct Span {
    root: u32,
    /// The output (class) the tree adds to.
    output: usize,
    has_cat: bool,
}

/// A validated model's trees in one compact, read-only layout.
#[derive(Debug, Clone)]
pub(crate) struct Forest {
    nodes: Vec<Node>,
    /// Per node: the leaf value (0 at splits).
    leaf_values: Vec<f64>,
    trees: Vec<Span>,
    /// The input column of each dense feature.
    columns: Vec<usize>,
    /// Per node: the range of `bits` holding a categorical split's left set (empty when the
    /// forest has no categorical split).
    cat_words: Vec<[u32; 2]>,
    bits: Vec<u32>,
    init: Vec<f64>,
}

impl Forest {
    /// Flattens the trees of a validated model with `init.len()` outputs; `None` when the
    /// forest is too large for `u32` node indices, splits on too many features or has a NaN
    /// threshold (the trees then predict one by one).
    pub(crate) fn new(trees: &[Tree], init: &[f64], n_features: usize) -> Option<Forest> {
        let mut dense = vec![u32::MAX; n_features];
        let mut columns = Vec::new();
        for t in trees {
            for &f in &t.split_feature {
                let d = dense.get_mut(f as usize)?;
                if *d == u32::MAX {
                    *d = u32::try_from(columns.len()).ok()?;
                    columns.push(f as usize);
                }
            }
        }
        if columns.len() > MAX_WIDTH {
            return None;
        }
        let any_cat = trees.iter().any(|t| t.cat_index.iter().any(|&c| c >= 0));
        let mut forest = Forest {
            nodes: Vec::new(),
            leaf_values: Vec::new(),
            trees: Vec::with_capacity(trees.len()),
            columns,
            cat_words: Vec::new(),
            bits: Vec::new(),
            init: init.to_vec(),
        };
        let k = init.len().max(1);
        for (i, t) in trees.iter().enumerate() {
            let span = forest.push_tree(t, &dense, any_cat, i % k)?;
            forest.trees.push(span);
        }
        // A power-of-two length lets a masked index skip the bounds check.
        for i in forest.nodes.len()..forest.nodes.len().next_power_of_two() {
            forest.nodes.push(Node {
                threshold: f64::INFINITY,
                feature: 0,
                left: u32::try_from(i).ok()?,
            });
        }
        Some(forest)
    }

    /// Appends one tree breadth first: the children of the `i`-th node placed are appended
    /// together, so they sit side by side.
    fn push_tree(&mut self, t: &Tree, dense: &[u32], any_cat: bool, output: usize) -> Option<Span> {
        let base = self.nodes.len();
        let n = t.n_nodes();
        let bits_base = self.bits.len();
        self.bits.extend_from_slice(&t.cat_bitset);
        // Node references in placement order: `i >= 0` a split, `!j` leaf `j`.
        let mut order: Vec<i32> = Vec::with_capacity(2 * n + 1);
        order.push(if n > 0 { 0 } else { !0 });
        let mut has_cat = false;
        let mut i = 0;
        while let Some(&r) = order.get(i) {
            let slot = u32::try_from(base + i).ok()?;
            let (node, value, words) = if r >= 0 {
                let s = r as usize;
                // A well-formed tree places each node once; anything else is not flattened.
                if order.len() + 2 > 2 * n + 1 {
                    return None;
                }
                let left = u32::try_from(base + order.len()).ok()?;
                u32::try_from(base + order.len() + 1).ok()?;
                order.extend([t.left_child[s], t.right_child[s]]);
                let feature = dense[t.split_feature[s] as usize];
                let c = t.cat_index[s];
                if c < 0 {
                    // `x > t` stands for `!(x <= t)`, which differs when `t` is NaN.
                    if t.threshold[s].is_nan() {
                        return None;
                    }
                    let nan = if t.default_left[s] { 0 } else { NAN_RIGHT };
                    let node = Node {
                        threshold: t.threshold[s],
                        feature: feature | nan,
                        left,
                    };
                    (node, 0.0, [0, 0])
                } else {
                    has_cat = true;
                    let c = c as usize;
                    let word = |b: u32| u32::try_from(bits_base + b as usize).ok();
                    let words = [word(t.cat_boundaries[c])?, word(t.cat_boundaries[c + 1])?];
                    let node = Node {
                        threshold: 0.0,
                        feature: feature | CAT,
                        left,
                    };
                    (node, 0.0, words)
                }
            } else {
                let node = Node {
                    threshold: f64::INFINITY,
                    feature: 0,
                    left: slot,
                };
                (node, *t.leaf_value.get(!r as usize)?, [0, 0])
            };
            self.nodes.push(node);
            self.leaf_values.push(value);
            if any_cat {
                self.cat_words.push(words);
            }
            i += 1;
        }
        Some(Span {
            root: u32::try_from(base).ok()?,
            output,
            has_cat,
        })
    }

    /// Raw scores of `x` into `values` (`n_rows x k`, row-major), in parallel over blocks of
    /// rows when `parallel`.
    pub(crate) fn predict(&self, x: &Matrix, values: &mut [f64], parallel: bool) {
        match self.columns.len() {
            0..=16 => self.predict_with::<16>(x, values, parallel),
            17..=32 => self.predict_with::<32>(x, values, parallel),
            33..=64 => self.predict_with::<64>(x, values, parallel),
            65..=256 => self.predict_with::<256>(x, values, parallel),
            _ => self.predict_with::<MAX_WIDTH>(x, values, parallel),
        }
    }

    /// [`Forest::predict`] with each row copied to `S` values (`S` a power of two, at least
    /// the number of used features): feature indices masked to `S - 1` need no bounds check.
    fn predict_with<const S: usize>(&self, x: &Matrix, values: &mut [f64], parallel: bool) {
        let k = self.init.len().max(1);
        // A small request needs only a few buffer rows.
        let rows = (values.len() / k).next_multiple_of(LANES).min(BLOCK);
        let new_buf = || vec![[0.0; S]; rows];
        let score = |buf: &mut Vec<[f64; S]>, (b, out): (usize, &mut [f64])| {
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
        buf: &mut [[f64; S]],
    ) {
        let k = self.init.len().max(1);
        let rows = out.len() / k;
        // Dense copy of the used features; a short or missing row reads as NaN. Buffer rows
        // past `rows` hold stale values: they are walked and ignored.
        let mut nan = false;
        for (r, dst) in buf.iter_mut().take(rows).enumerate() {
            let i = first + r;
            let row = x.data.get(i * x.n_cols..(i + 1) * x.n_cols).unwrap_or(&[]);
            for (d, &c) in dst.iter_mut().zip(&self.columns) {
                *d = row.get(c).copied().unwrap_or(f64::NAN);
                nan |= d.is_nan();
            }
        }
        for o in out.chunks_exact_mut(k) {
            o.copy_from_slice(&self.init);
        }
        let groups = buf.chunks_exact(LANES).take(rows.div_ceil(LANES));
        for span in &self.trees {
            for (g, lanes) in groups.clone().enumerate() {
                let Ok(lanes) = <&[[f64; S]; LANES]>::try_from(lanes) else {
                    continue;
                };
                let leaves = match (nan, span.has_cat) {
                    (false, false) => self.walk::<S, false, false>(span.root, lanes),
                    (true, false) => self.walk::<S, true, false>(span.root, lanes),
                    (false, true) => self.walk::<S, false, true>(span.root, lanes),
                    (true, true) => self.walk::<S, true, true>(span.root, lanes),
                };
                let start = g * LANES;
                for (o, &leaf) in out[start * k..].chunks_exact_mut(k).zip(&leaves) {
                    o[span.output] += self.leaf_values[leaf as usize];
                }
            }
        }
    }

    /// The leaf each lane's row reaches from `root`, stepping all lanes until none moves.
    /// `NAN`: a row may hold NaN; `HAS_CAT`: the tree has categorical splits.
    #[inline(always)]
    fn walk<const S: usize, const NAN: bool, const HAS_CAT: bool>(
        &self,
        root: u32,
        rows: &[[f64; S]; LANES],
    ) -> [u32; LANES] {
        let mut at = [root; LANES];
        let nodes = self.nodes.as_slice();
        if nodes.is_empty() {
            return at;
        }
        let mask = nodes.len() - 1;
        loop {
            let mut moved = 0;
            for (a, row) in at.iter_mut().zip(rows) {
                let next = self.step::<S, NAN, HAS_CAT>(&nodes[*a as usize & mask], *a, row);
                moved |= next ^ *a;
                *a = next;
            }
            // One test, not a branch per lane.
            if std::hint::black_box(moved) == 0 {
                return at;
            }
        }
    }

    /// The node a row goes to from `node`, node `a` (`a` itself at a leaf).
    #[inline(always)]
    fn step<const S: usize, const NAN: bool, const HAS_CAT: bool>(
        &self,
        node: &Node,
        a: u32,
        row: &[f64; S],
    ) -> u32 {
        let x = row[node.feature as usize & (S - 1)];
        let right = if HAS_CAT && node.feature & CAT != 0 {
            let [lo, hi] = self.cat_words[a as usize];
            !category_in(&self.bits[lo as usize..hi as usize], x)
        } else if NAN {
            (x > node.threshold) | (x.is_nan() & (node.feature & NAN_RIGHT != 0))
        } else {
            x > node.threshold
        };
        node.left + u32::from(right)
    }
}

//! Column sampling, as LightGBM's `ColSampler`: the features of each tree
//! (`feature_fraction`) and, among them, the features searched at each node
//! (`feature_fraction_bynode`).

use super::rng::{Rng, keyed, sample};

/// Stream purpose of the per-node draws (see `rng::keyed`).
const BY_NODE_STREAM: u64 = 4;

/// LightGBM's `ColSampler::GetCnt`: `max(round(n * fraction), min(2, n))`.
fn count(n: usize, fraction: f64) -> usize {
    ((n as f64 * fraction).round() as usize).max(n.min(2))
}

/// The features of one tree, drawn from the forest's feature stream.
pub(crate) fn by_tree(rng: &mut Rng, n_features: usize, fraction: f64) -> Vec<bool> {
    if fraction >= 1.0 {
        return vec![true; n_features];
    }
    let mut used = vec![false; n_features];
    for f in sample(rng, n_features, count(n_features, fraction)) {
        used[f] = true;
    }
    used
}

/// Draws the features searched at each node of one tree. Every node has a stream of its own,
/// keyed by (seed, tree, node), so a draw does not depend on which thread searches the node
/// or on the order nodes are searched in.
#[derive(Debug, Clone)]
pub(crate) struct ByNode {
    seed: u64,
    tree: u64,
    /// Features per node, from the tree's feature count.
    count: usize,
}

impl ByNode {
    /// The sampler of tree number `tree` over its features `used`; `None` when `fraction`
    /// is 1 (every feature searched).
    pub(crate) fn new(seed: u64, tree: usize, used: &[bool], fraction: f64) -> Option<ByNode> {
        if fraction >= 1.0 {
            return None;
        }
        let n_tree = used.iter().filter(|&&u| u).count();
        Some(ByNode {
            seed,
            tree: tree as u64,
            count: count(n_tree, fraction),
        })
    }

    /// The features searched at node `node` (a number unique within the tree), drawn among
    /// `allowed` (the tree's features the node may use); when fewer are allowed than the count,
    /// all of them (LightGBM with interaction constraints).
    pub(crate) fn sample(&self, node: u64, allowed: &[bool]) -> Vec<bool> {
        let candidates: Vec<usize> = (0..allowed.len()).filter(|&f| allowed[f]).collect();
        let mut rng = keyed(self.seed, BY_NODE_STREAM, [self.tree, node]);
        let mut searched = vec![false; allowed.len()];
        for i in sample(&mut rng, candidates.len(), self.count) {
            searched[candidates[i]] = true;
        }
        searched
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_lightgbm() {
        assert_eq!(count(14, 0.5), 7);
        assert_eq!(count(14, 0.1), 2); // round(1.4) = 1, at least 2
        assert_eq!(count(1, 0.1), 1);
        assert_eq!(count(5, 0.3), 2); // round(1.5) = 2
        assert_eq!(count(10, 0.25), 3); // round(2.5) = 3
    }

    #[test]
    fn node_draws_are_keyed_and_stay_among_allowed_features() {
        let used = [true, false, true, true, true, false, true, true];
        let s = ByNode::new(7, 3, &used, 0.5).expect("sampler");
        assert_eq!(s.count, 3);
        let a = s.sample(5, &used);
        assert_eq!(a, s.sample(5, &used), "same node, same draw");
        assert_eq!(a.iter().filter(|&&b| b).count(), 3);
        assert!(a.iter().zip(&used).all(|(&s, &u)| !s || u));
        let other: Vec<Vec<bool>> = (0..20).map(|n| s.sample(n, &used)).collect();
        assert!(other.iter().any(|o| *o != a), "nodes draw differently");
        let two = [false, true, false, false, false, false, true, false];
        assert_eq!(
            s.sample(5, &two),
            two.to_vec(),
            "fewer allowed than the count"
        );
        assert!(ByNode::new(7, 3, &used, 1.0).is_none());
    }
}

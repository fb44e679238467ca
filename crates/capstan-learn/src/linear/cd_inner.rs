//! Coordinate descent on the proximal-Newton model `g.d + 1/2 d'Hd + lam1 ||w + d||_1`.
//!
//! Two ways to track `H d`: from the data (`X d`, O(n) per coordinate) or from the explicit
//! Hessian (O(dim) per coordinate, after an O(n dim^2) build). Each sweep ends with an exact
//! move along every flat direction of the loss (softmax class shifts `(1, .., 1) x e_j`,
//! exact column dependencies), which plain coordinate descent crosses only by tiny zig-zags.

use super::logistic::Logistic;

/// Curvature floor, keeps coordinate steps finite on all-zero columns.
const NU: f64 = 1e-12;

pub(super) struct Model<'a> {
    pub prob: &'a Logistic<'a>,
    pub probs: &'a [f64],
    pub g: &'a [f64],
    pub diag: &'a [f64],
    pub theta: &'a [f64],
    pub active: &'a [bool],
    /// Directions (sparse, over coefficient indices) along which the loss is constant.
    pub flat: &'a [Vec<(usize, f64)>],
}

/// How `H delta` is tracked.
pub(super) enum Curvature<'a> {
    /// `dz = X delta` (`k x n`) and `s = sum_c p_c dz_c` (`n`); shift moves leave them be.
    Data { dz: &'a mut [f64], s: &'a mut [f64] },
    /// `hd = H delta` with `h` the explicit `dim x dim` Hessian.
    Gram { h: &'a [f64], hd: &'a mut [f64] },
}

impl Model<'_> {
    /// Fills `delta` (starting from zero); returns the sweeps run.
    pub fn solve(
        &self,
        delta: &mut [f64],
        curv: &mut Curvature,
        inner_tol: f64,
        max_sweeps: usize,
    ) -> usize {
        let prob = self.prob;
        let (n, k, p, dim) = (prob.n(), prob.k, prob.p(), prob.dim());
        let kp = k * p;
        let inv_n = 1.0 / n as f64;
        delta.fill(0.0);
        match curv {
            Curvature::Data { dz, s } => {
                dz.fill(0.0);
                s.fill(0.0);
            }
            Curvature::Gram { hd, .. } => hd.fill(0.0),
        }
        // Column p stands for the intercept (a column of ones).
        let last = if prob.fit_intercept { p + 1 } else { p };
        for sweep in 0..max_sweeps {
            let mut sweep_viol: f64 = 0.0;
            for j in 0..last {
                let x = (j < p).then(|| prob.x.col(j));
                for c in 0..k {
                    let idx = if j < p { c * p + j } else { kp + c };
                    if !self.active[idx] {
                        continue;
                    }
                    let pc = &self.probs[c * n..(c + 1) * n];
                    let h_delta = match curv {
                        Curvature::Data { dz, s } => {
                            let dzc = &dz[c * n..(c + 1) * n];
                            let loss_part = match x {
                                Some(x) => quad_dot(x, pc, dzc, s),
                                None => quad_sum(pc, dzc, s),
                            } * inv_n;
                            loss_part + if j < p { prob.lam2 * delta[idx] } else { 0.0 }
                        }
                        Curvature::Gram { hd, .. } => hd[idx],
                    };
                    let gq = self.g[idx] + h_delta;
                    let a = self.diag[idx] + NU;
                    let cur = self.theta[idx] + delta[idx];
                    let next = if j < p {
                        sweep_viol = sweep_viol.max(violation(cur, gq, prob.lam1));
                        soft_threshold(cur - gq / a, prob.lam1 / a)
                    } else {
                        sweep_viol = sweep_viol.max(gq.abs());
                        cur - gq / a
                    };
                    let change = next - cur;
                    if change == 0.0 {
                        continue;
                    }
                    delta[idx] += change;
                    match curv {
                        Curvature::Data { dz, s } => {
                            let dzc = &mut dz[c * n..(c + 1) * n];
                            match x {
                                Some(x) => {
                                    for i in 0..n {
                                        let step = change * x[i];
                                        dzc[i] += step;
                                        s[i] += pc[i] * step;
                                    }
                                }
                                None => {
                                    for i in 0..n {
                                        dzc[i] += change;
                                        s[i] += pc[i] * change;
                                    }
                                }
                            }
                        }
                        Curvature::Gram { h, hd } => {
                            let row = &h[idx * dim..(idx + 1) * dim];
                            for (v, hv) in hd.iter_mut().zip(row) {
                                *v += change * hv;
                            }
                        }
                    }
                }
            }
            self.flat_moves(delta, curv);
            if sweep_viol <= inner_tol {
                return sweep + 1;
            }
        }
        max_sweeps
    }

    /// Exact minimization along each flat direction `v`: only the penalty changes, so the
    /// step solves a 1-D piecewise quadratic. The loss part of `H v` is zero: `dz` stays.
    fn flat_moves(&self, delta: &mut [f64], curv: &mut Curvature) {
        let prob = self.prob;
        let mut pts = Vec::new();
        for dir in self.flat {
            pts.clear();
            for &(idx, v) in dir {
                let u = self.theta[idx] + delta[idx];
                pts.push((-u / v, v.abs(), v * v));
            }
            let t = line_min(&mut pts, prob.lam1, prob.lam2);
            if t == 0.0 {
                continue;
            }
            for &(idx, v) in dir {
                delta[idx] += t * v;
                if let Curvature::Gram { hd, .. } = curv {
                    hd[idx] += prob.lam2 * t * v;
                }
            }
        }
    }
}

/// `argmin_t sum_l lam1 a_l |t - c_l| + lam2 / 2 b_l (t - c_l)^2` over points `(c, a, b)`
/// (`a, b > 0`); among ties (pure L1), the value nearest 0.
pub(super) fn line_min(pts: &mut [(f64, f64, f64)], lam1: f64, lam2: f64) -> f64 {
    if pts.is_empty() {
        return 0.0;
    }
    pts.sort_by(|x, y| x.0.total_cmp(&y.0));
    let sum_a: f64 = pts.iter().map(|p| p.1).sum();
    let sum_b: f64 = pts.iter().map(|p| p.2).sum();
    let sum_bc: f64 = pts.iter().map(|p| p.2 * p.0).sum();
    // Past the first m breakpoints: derivative lam1 (2 A_m - sum_a) + lam2 (sum_b t - sum_bc).
    let mut a_left = 0.0;
    for m in 0..=pts.len() {
        let lo = if m == 0 {
            f64::NEG_INFINITY
        } else {
            pts[m - 1].0
        };
        let hi = if m == pts.len() {
            f64::INFINITY
        } else {
            pts[m].0
        };
        let slope = lam1 * (2.0 * a_left - sum_a);
        if lam2 > 0.0 {
            let t = (lam2 * sum_bc - slope) / (lam2 * sum_b);
            if lo <= t && t <= hi {
                return t;
            }
        } else if slope == 0.0 {
            return 0.0f64.clamp(lo, hi);
        }
        if m < pts.len() {
            let a_next = a_left + pts[m].1;
            let quad = lam2 * (sum_b * hi - sum_bc);
            let right = lam1 * (2.0 * a_next - sum_a) + quad;
            // With lam2 = 0 a zero right slope starts a flat interval, handled next.
            if slope + quad <= 0.0 && (right > 0.0 || (lam2 > 0.0 && right >= 0.0)) {
                return hi;
            }
            a_left = a_next;
        }
    }
    0.0
}

/// Minimum-norm subgradient magnitude of `g + lam1 * d|w|` for one coefficient.
pub(super) fn violation(w: f64, g: f64, lam1: f64) -> f64 {
    if w > 0.0 {
        (g + lam1).abs()
    } else if w < 0.0 {
        (g - lam1).abs()
    } else {
        (g.abs() - lam1).max(0.0)
    }
}

fn soft_threshold(v: f64, t: f64) -> f64 {
    if v > t {
        v - t
    } else if v < -t {
        v + t
    } else {
        0.0
    }
}

/// `sum_i x_i p_i (d_i - s_i)`.
fn quad_dot(x: &[f64], pc: &[f64], dzc: &[f64], s: &[f64]) -> f64 {
    let n = x.len();
    let mut acc = [0.0f64; 4];
    let chunks = n / 4;
    for b in 0..chunks {
        for (l, a) in acc.iter_mut().enumerate() {
            let i = 4 * b + l;
            *a += x[i] * pc[i] * (dzc[i] - s[i]);
        }
    }
    let tail: f64 = (4 * chunks..n)
        .map(|i| x[i] * pc[i] * (dzc[i] - s[i]))
        .sum();
    (acc[0] + acc[2]) + (acc[1] + acc[3]) + tail
}

fn quad_sum(pc: &[f64], dzc: &[f64], s: &[f64]) -> f64 {
    pc.iter()
        .zip(dzc)
        .zip(s)
        .map(|((p, d), s)| p * (d - s))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::line_min;

    fn phi(pts: &[(f64, f64, f64)], t: f64, lam1: f64, lam2: f64) -> f64 {
        pts.iter()
            .map(|(c, a, b)| lam1 * a * (t - c).abs() + 0.5 * lam2 * b * (t - c).powi(2))
            .sum()
    }

    #[test]
    fn line_min_minimizes_the_penalty() {
        let pts = [
            (0.3, 1.0, 1.0),
            (-1.2, 0.5, 0.25),
            (2.5, 2.0, 4.0),
            (0.0, 1.0, 1.0),
            (0.7, 0.1, 0.01),
        ];
        for (lam1, lam2) in [(1.0, 0.0), (1.0, 0.5), (0.1, 2.0), (0.0, 1.0)] {
            let t = line_min(&mut pts.clone(), lam1, lam2);
            let best = phi(&pts, t, lam1, lam2);
            for step in -400..=400 {
                let s = step as f64 * 0.01;
                assert!(
                    best <= phi(&pts, s, lam1, lam2) + 1e-12,
                    "lam=({lam1},{lam2}) t={t}"
                );
            }
        }
        // Pure L1 with a flat interval: the point nearest 0.
        let mut flat = [
            (1.0, 1.0, 1.0),
            (2.0, 1.0, 1.0),
            (-1.0, 1.0, 1.0),
            (-2.0, 1.0, 1.0),
        ];
        assert_eq!(line_min(&mut flat, 1.0, 0.0), 0.0);
        let mut right = [
            (1.0, 1.0, 1.0),
            (2.0, 1.0, 1.0),
            (3.0, 1.0, 1.0),
            (4.0, 1.0, 1.0),
        ];
        assert_eq!(line_min(&mut right, 1.0, 0.0), 2.0);
    }
}

//! Dense Cholesky factorization for the small `p x p` normal equations.

#[derive(Debug)]
pub(super) struct Cholesky {
    n: usize,
    /// Lower triangle, row-major `n x n`.
    l: Vec<f64>,
}

impl Cholesky {
    /// Factors symmetric `a` (`n x n`, row-major); `None` when a pivot falls to
    /// `rel_pivot` times its diagonal entry or below (not numerically positive definite).
    pub fn factor(a: &[f64], n: usize, rel_pivot: f64) -> Option<Cholesky> {
        let mut l = vec![0.0; n * n];
        for j in 0..n {
            let mut d = a[j * n + j];
            for m in 0..j {
                d -= l[j * n + m] * l[j * n + m];
            }
            if d.is_nan() || d <= rel_pivot * a[j * n + j].abs() || d <= 0.0 {
                return None;
            }
            let d = d.sqrt();
            l[j * n + j] = d;
            for i in j + 1..n {
                let mut v = a[i * n + j];
                for m in 0..j {
                    v -= l[i * n + m] * l[j * n + m];
                }
                l[i * n + j] = v / d;
            }
        }
        Some(Cholesky { n, l })
    }

    /// Solves `L L^T x = b`.
    pub fn solve(&self, b: &[f64]) -> Vec<f64> {
        let (n, l) = (self.n, &self.l);
        let mut x = b.to_vec();
        for i in 0..n {
            let mut v = x[i];
            for m in 0..i {
                v -= l[i * n + m] * x[m];
            }
            x[i] = v / l[i * n + i];
        }
        for i in (0..n).rev() {
            let mut v = x[i];
            for m in i + 1..n {
                v -= l[m * n + i] * x[m];
            }
            x[i] = v / l[i * n + i];
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_spd_and_rejects_singular() {
        let a = [4.0, 2.0, 0.6, 2.0, 5.0, 1.0, 0.6, 1.0, 3.0];
        let x_true = [1.0, -2.0, 0.5];
        let b: Vec<f64> = (0..3)
            .map(|i| (0..3).map(|j| a[i * 3 + j] * x_true[j]).sum())
            .collect();
        let x = Cholesky::factor(&a, 3, 1e-12).expect("spd").solve(&b);
        for (u, v) in x.iter().zip(x_true) {
            assert!((u - v).abs() < 1e-14);
        }
        let singular = [1.0, 1.0, 1.0, 1.0];
        assert!(Cholesky::factor(&singular, 2, 1e-12).is_none());
    }
}

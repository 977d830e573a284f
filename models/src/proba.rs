//! Turning scores into class probabilities, one implementation each: the logistic sigmoid, the
//! softmax of a row of scores, and the two-class row `[1 − p, p]`. The sigmoid and the softmax are
//! generic over [`Real`], so the networks (in `f32`) and the tabular models (in `f64`) share them.

use crate::nn::param::Real;

/// Logistic sigmoid, stable for large |x|: `1 / (1 + e^−x)` for `x ≥ 0`, `e^x / (1 + e^x)` below.
///
/// Both forms are computed from the one `e = exp(−|x|)` and the numerator is chosen by a select,
/// not a branch: the gates of a recurrent layer have random signs, and a mispredicted branch per
/// gate cost more than the division. The bits are those of the two-branch form for every number
/// (test `sigmoid_has_the_bits_of_the_two_branch_form`); a NaN gives a NaN (whose sign bit may differ,
/// as the two-branch form keeps the input's sign; a variant keeping it measured 20 % slower).
#[inline]
pub fn sigmoid<T: Real>(x: T) -> T {
    let e = (-x.abs()).exp();
    let num = if x >= T::zero() { T::one() } else { e };
    num / (T::one() + e)
}

/// The largest value of a row, ignoring NaNs (−∞ for none), with eight running maxima so the loop
/// vectorises. The maximum is exact in any order; only the sign of a zero maximum may differ from a
/// left-to-right fold, and `v − (±0)` is the same for every `v` that is not itself a zero, whose
/// `exp` is 1 either way.
fn row_max<T: Real>(row: &[T]) -> T {
    let mut acc = [T::neg_infinity(); 8];
    let mut lanes = row.chunks_exact(8);
    for v in &mut lanes {
        for (a, &x) in acc.iter_mut().zip(v) {
            *a = if x > *a { x } else { *a };
        }
    }
    let mut m = T::neg_infinity();
    for &x in acc.iter().chain(lanes.remainder()) {
        m = if x > m { x } else { m };
    }
    m
}

/// `e^(v − m) / Σ e^(v − m)` of every `v` of the row, in place, summed left to right.
fn exp_normalise<T: Real>(row: &mut [T], m: T) {
    let mut s = T::zero();
    for v in row.iter_mut() {
        *v = (*v - m).exp();
        s += *v;
    }
    for v in row.iter_mut() {
        *v /= s;
    }
}

/// Softmax of a row of scores in place, shifted by the row's maximum. A row without a finite maximum
/// (no value, every value NaN, or an infinite one) becomes NaN — the networks' head
/// (`nn::dense::softmax_rows`), where that means training diverged.
pub(crate) fn softmax_row<T: Real>(row: &mut [T]) {
    let m = row_max(row);
    exp_normalise(row, m);
}

/// Softmax of a row of class scores in place, as [`softmax_row`] except that a row without a finite
/// maximum (all `−∞`, as naive Bayes gives when no class can produce the row) becomes uniform: the
/// output link of the tabular models.
pub(crate) fn softmax_in_place(v: &mut [f64]) {
    let mx = row_max(v);
    if !mx.is_finite() {
        let k = v.len() as f64;
        v.iter_mut().for_each(|x| *x = 1.0 / k);
        return;
    }
    exp_normalise(v, mx);
}

/// Writes the two-class probabilities `[1 − p, p]` of the positive-class probability `p`.
#[inline]
pub(crate) fn binary_into(p: f64, out: &mut [f64]) {
    out[0] = 1.0 - p;
    out[1] = p;
}

/// How many raw scores a model of `n_classes` classes outputs: one for two classes (the positive
/// class's, through the sigmoid), one per class otherwise (through the softmax).
pub(crate) fn score_outputs(n_classes: usize) -> usize {
    if n_classes == 2 {
        1
    } else {
        n_classes
    }
}

/// Class probabilities in place from the raw scores at the front of `out`: one score (two classes)
/// through the sigmoid, otherwise one score per class through the softmax — the output link of logistic
/// regression and gradient boosting.
pub(crate) fn scores_to_proba_in_place(out: &mut [f64], outputs: usize) {
    if outputs == 1 {
        binary_into(sigmoid(out[0]), out);
    } else {
        softmax_in_place(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The two-branch sigmoid the tabular models used before sharing the networks' one.
    fn two_branch(v: f64) -> f64 {
        if v >= 0.0 {
            1.0 / (1.0 + (-v).exp())
        } else {
            let e = v.exp();
            e / (1.0 + e)
        }
    }

    #[test]
    fn sigmoid_has_the_bits_of_the_two_branch_form() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let edges = [
            0.0, -0.0, 1e-300, -1e-300, 5e-324, 709.0, -745.0, 1e308, -1e308,
        ];
        let edges = edges.into_iter().chain([f64::INFINITY, f64::NEG_INFINITY]);
        let random = (0..100_000).map(|i| {
            if i % 2 == 0 {
                rng.gen_range(-40.0..40.0)
            } else {
                f64::from_bits(rng.gen::<u64>())
            }
        });
        for v in edges.chain(random).filter(|v| !v.is_nan()) {
            assert_eq!(sigmoid(v).to_bits(), two_branch(v).to_bits(), "{v:e}");
            let f = v as f32;
            let want = if f >= 0.0 {
                1.0 / (1.0 + (-f).exp())
            } else {
                f.exp() / (1.0 + f.exp())
            };
            assert_eq!(sigmoid(f).to_bits(), want.to_bits(), "{f:e}");
        }
        assert!(sigmoid(f64::NAN).is_nan() && sigmoid(f32::NAN).is_nan());
        assert_eq!(sigmoid(0.0), 0.5);
    }

    /// The tabular softmax before it shared the networks' maximum and normalisation.
    fn fold_softmax(v: &mut [f64]) {
        let mx = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        if !mx.is_finite() {
            let k = v.len() as f64;
            v.iter_mut().for_each(|x| *x = 1.0 / k);
            return;
        }
        v.iter_mut().for_each(|x| *x = (*x - mx).exp());
        let s: f64 = v.iter().sum();
        v.iter_mut().for_each(|x| *x /= s);
    }

    #[test]
    fn softmax_has_the_bits_of_a_left_to_right_fold() {
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        for len in 0..40 {
            for trial in 0..50 {
                let mut row: Vec<f64> = (0..len)
                    .map(|_| match rng.gen_range(0..20) {
                        0 => 0.0,
                        1 => -0.0,
                        2 if trial % 5 == 0 => f64::NAN,
                        3 if trial % 7 == 0 => f64::NEG_INFINITY,
                        4 if trial % 11 == 0 => f64::INFINITY,
                        _ => rng.gen_range(-30.0..30.0),
                    })
                    .collect();
                if trial == 1 {
                    row.iter_mut().for_each(|x| *x = f64::NEG_INFINITY);
                }
                let mut want = row.clone();
                fold_softmax(&mut want);
                softmax_in_place(&mut row);
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&row), bits(&want), "len {len} trial {trial}");
            }
        }
    }

    #[test]
    fn softmax_row_without_a_finite_maximum_is_nan_where_the_tabular_one_is_uniform() {
        let mut net = [f32::NEG_INFINITY; 3];
        softmax_row(&mut net);
        assert!(net.iter().all(|p| p.is_nan()));
        let mut tab = [f64::NEG_INFINITY; 4];
        softmax_in_place(&mut tab);
        assert_eq!(tab, [0.25; 4]);
        let mut row = [1.0f32, 2.0, 3.0];
        softmax_row(&mut row);
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6 && row[2] > row[1]);
    }
}

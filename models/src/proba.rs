//! Turning scores into class probabilities, one implementation each: the logistic sigmoid, the
//! softmax of a row of scores, and the two-class row `[1 − p, p]`.

/// `1 / (1 + e^−v)`, computed without overflow for large `|v|`.
#[inline]
pub(crate) fn sigmoid(v: f64) -> f64 {
    if v >= 0.0 {
        1.0 / (1.0 + (-v).exp())
    } else {
        let e = v.exp();
        e / (1.0 + e)
    }
}

/// Softmax of a row of scores in place (shifted by the maximum). A row without a finite maximum (all
/// `−∞`, as naive Bayes gives when no class can produce the row) becomes uniform.
pub(crate) fn softmax_in_place(v: &mut [f64]) {
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

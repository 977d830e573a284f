//! Layer normalisation (Ba, Kiros & Hinton 2016): each row is centred and scaled to unit variance,
//! then multiplied by a learned gain `γ` and shifted by a learned bias `β`:
//! `y = γ ⊙ (x − μ) / √(σ² + ε) + β`.
//!
//! Forward and backward cost a few passes over the `rows × width` input; the cache keeps the
//! normalised input and one inverse deviation per row.

use ndarray::{Array1, Array2, Axis};
use serde::{Deserialize, Serialize};

use super::param::{sl, sl_mut, Param, Real};

/// Gain and bias of a layer normalisation over rows of width `dim`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(bound = "")]
pub struct LayerNorm<T: Real> {
    /// Gain `γ` (`1 × dim`), starts at 1.
    pub gain: Param<T>,
    /// Bias `β` (`1 × dim`), starts at 0.
    pub bias: Param<T>,
    /// Variance guard `ε`.
    pub eps: f64,
}

/// What [`LayerNorm::backward`] needs: the normalised rows and `1/√(σ² + ε)` per row.
#[derive(Clone, Debug)]
pub struct LayerNormCache<T: Real> {
    xhat: Array2<T>,
    inv_std: Array1<T>,
}

impl<T: Real> LayerNorm<T> {
    /// Unit gain, zero bias, `ε = 1e-8` (SASRec's value).
    pub fn new(dim: usize) -> Self {
        LayerNorm {
            gain: Param::new(Array2::from_elem((1, dim), T::one()), false),
            bias: Param::zeros(1, dim, false),
            eps: 1e-8,
        }
    }

    /// Normalises every row of `x`; returns the output and the cache.
    pub fn forward(&self, x: &Array2<T>) -> (Array2<T>, LayerNormCache<T>) {
        let d = x.ncols();
        let mut xhat = x.to_owned();
        let mut inv_std = Array1::zeros(x.nrows());
        let inv_d = T::of(1.0 / d.max(1) as f64);
        let eps = T::of(self.eps);
        if d > 0 {
            for (row, is) in sl_mut(&mut xhat).chunks_mut(d).zip(inv_std.iter_mut()) {
                let mu = row.iter().copied().fold(T::zero(), |a, b| a + b) * inv_d;
                let var = row
                    .iter()
                    .map(|&v| (v - mu) * (v - mu))
                    .fold(T::zero(), |a, b| a + b)
                    * inv_d;
                *is = T::one() / (var + eps).sqrt();
                for v in row.iter_mut() {
                    *v = (*v - mu) * *is;
                }
            }
        }
        let mut y = &xhat * &self.gain.value;
        y += &self.bias.value;
        (y, LayerNormCache { xhat, inv_std })
    }

    /// Accumulates the gain and bias gradients for output gradient `dy`; returns `dx`:
    /// `dx = (1/σ) (ĝ − mean(ĝ) − x̂ · mean(ĝ ⊙ x̂))` with `ĝ = dy ⊙ γ`.
    pub fn backward(&mut self, cache: &LayerNormCache<T>, dy: &Array2<T>) -> Array2<T> {
        let d = dy.ncols();
        self.gain.grad += &(dy * &cache.xhat).sum_axis(Axis(0)).insert_axis(Axis(0));
        self.bias.grad += &dy.sum_axis(Axis(0)).insert_axis(Axis(0));
        let mut dx = dy * &self.gain.value;
        if d == 0 {
            return dx;
        }
        let inv_d = T::of(1.0 / d as f64);
        for ((g, xh), &is) in sl_mut(&mut dx)
            .chunks_mut(d)
            .zip(sl(&cache.xhat).chunks(d))
            .zip(cache.inv_std.iter())
        {
            let mean_g = g.iter().copied().fold(T::zero(), |a, b| a + b) * inv_d;
            let mean_gx = g
                .iter()
                .zip(xh)
                .map(|(&a, &b)| a * b)
                .fold(T::zero(), |a, b| a + b)
                * inv_d;
            for (v, &x) in g.iter_mut().zip(xh) {
                *v = is * (*v - mean_g - x * mean_gx);
            }
        }
        dx
    }

    /// The trainable parameters.
    pub fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        vec![&mut self.gain, &mut self.bias]
    }
}

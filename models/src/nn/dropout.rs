//! Inverted dropout (Srivastava et al. 2014): at training time each entry is zeroed with probability
//! `p` and the survivors scaled by `1/(1−p)`, so inference needs no rescaling. Costs one mask of the
//! input's size.

use ndarray::Array2;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::param::{sl, sl_mut, Real};

/// A dropout mask drawn for one forward pass (`None` when dropout is off).
#[derive(Clone, Debug, Default)]
pub struct Dropout<T: Real> {
    mask: Option<Array2<T>>,
}

impl<T: Real> Dropout<T> {
    /// Applies dropout with rate `p` to `x` in place, drawing the mask from `rng` (row-major order).
    /// `p == 0` leaves `x` untouched.
    pub fn forward(x: &mut Array2<T>, p: f64, rng: &mut ChaCha8Rng) -> Self {
        if p <= 0.0 {
            return Dropout { mask: None };
        }
        let keep = T::of(1.0 / (1.0 - p));
        let mut mask = Array2::zeros(x.dim());
        for (m, v) in sl_mut(&mut mask).iter_mut().zip(sl_mut(x).iter_mut()) {
            if rng.gen::<f64>() >= p {
                *m = keep;
                *v *= keep;
            } else {
                *v = T::zero();
            }
        }
        Dropout { mask: Some(mask) }
    }

    /// Applies a fixed mask (for gradient checks): entries are multiplied by `mask`.
    pub fn with_mask(x: &mut Array2<T>, mask: Array2<T>) -> Self {
        *x *= &mask;
        Dropout { mask: Some(mask) }
    }

    /// Back-propagates through the mask in place.
    pub fn backward(&self, dx: &mut Array2<T>) {
        if let Some(m) = &self.mask {
            for (d, &k) in sl_mut(dx).iter_mut().zip(sl(m)) {
                *d *= k;
            }
        }
    }
}

//! Scalars and trainable parameters.

use ndarray::{Array2, NdFloat};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A floating-point scalar the layers compute in: `f32` for training, `f64` for gradient checks.
pub trait Real: NdFloat + Serialize + DeserializeOwned + Default {
    /// Converts from `f64` (rounding for `f32`).
    fn of(x: f64) -> Self;
    /// Converts to `f64`.
    fn f64(self) -> f64;
}

impl Real for f32 {
    #[inline]
    fn of(x: f64) -> Self {
        x as f32
    }
    #[inline]
    fn f64(self) -> f64 {
        f64::from(self)
    }
}

impl Real for f64 {
    #[inline]
    fn of(x: f64) -> Self {
        x
    }
    #[inline]
    fn f64(self) -> f64 {
        self
    }
}

/// Logistic sigmoid, stable for large |x|.
#[inline]
pub fn sigmoid<T: Real>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

/// A trainable matrix (biases are `1 × n`) and its gradient.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Param<T: Real> {
    /// Current value.
    #[serde(bound(serialize = "T: Serialize", deserialize = "T: DeserializeOwned"))]
    pub value: Array2<T>,
    /// Gradient accumulated by the last backward pass (not saved; same shape as `value`).
    #[serde(skip)]
    pub grad: Array2<T>,
    /// Whether L2 weight decay applies (weights yes, biases no).
    pub decay: bool,
}

impl<T: Real> Param<T> {
    /// A parameter with the given value and a zero gradient.
    pub fn new(value: Array2<T>, decay: bool) -> Self {
        let grad = Array2::zeros(value.dim());
        Param { value, grad, decay }
    }

    /// Zeros of the given shape.
    pub fn zeros(rows: usize, cols: usize, decay: bool) -> Self {
        Self::new(Array2::zeros((rows, cols)), decay)
    }

    /// Uniform in `[-a, a]` drawn from `rng` in row-major order.
    pub fn uniform(rows: usize, cols: usize, a: f64, rng: &mut ChaCha8Rng) -> Self {
        let value = Array2::from_shape_simple_fn((rows, cols), || T::of(rng.gen_range(-a..=a)));
        Self::new(value, true)
    }

    /// Sets the gradient to zero (re-allocating it when shapes changed, e.g. after loading).
    pub fn zero_grad(&mut self) {
        if self.grad.dim() != self.value.dim() {
            self.grad = Array2::zeros(self.value.dim());
        } else {
            self.grad.fill(T::zero());
        }
    }

    /// Number of scalars.
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// Whether the parameter is empty.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }
}

/// The contiguous data of a standard-layout array (every array the layers allocate is one).
#[inline]
pub(crate) fn sl<T>(a: &Array2<T>) -> &[T] {
    a.as_slice()
        .expect("layers allocate arrays in standard layout")
}

/// Mutable counterpart of [`sl`].
#[inline]
pub(crate) fn sl_mut<T>(a: &mut Array2<T>) -> &mut [T] {
    a.as_slice_mut()
        .expect("layers allocate arrays in standard layout")
}

/// `a · b` into a new standard-layout (row-major) array, whatever the layouts of `a` and `b`.
pub fn matmul<T: Real, A, B>(
    a: &ndarray::ArrayBase<A, ndarray::Ix2>,
    b: &ndarray::ArrayBase<B, ndarray::Ix2>,
) -> Array2<T>
where
    A: ndarray::Data<Elem = T>,
    B: ndarray::Data<Elem = T>,
{
    let mut c = Array2::zeros((a.nrows(), b.ncols()));
    ndarray::linalg::general_mat_mul(T::one(), a, b, T::zero(), &mut c);
    c
}

/// Rows or columns per task of the parallel products. Fixed, so the split — and every result bit —
/// does not depend on the number of threads.
const PAR_BLOCK: usize = 256;

/// `a · bᵀ` (e.g. session vectors against every item vector), the rows of `b` cut into fixed blocks
/// computed in parallel on the rayon pool.
pub fn par_matmul_nt<T: Real>(a: &Array2<T>, b: &Array2<T>) -> Array2<T> {
    use ndarray::{s, Axis};
    use rayon::prelude::*;
    let blocks: Vec<Array2<T>> = b
        .axis_chunks_iter(Axis(0), PAR_BLOCK)
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|blk| matmul(a, &blk.t()))
        .collect();
    let mut out = Array2::zeros((a.nrows(), b.nrows()));
    for (i, blk) in blocks.iter().enumerate() {
        let c = i * PAR_BLOCK;
        out.slice_mut(s![.., c..c + blk.ncols()]).assign(blk);
    }
    out
}

/// `aᵀ · b` (e.g. score gradients back to every item vector), the columns of `a` cut into fixed
/// blocks computed in parallel.
pub fn par_matmul_tn<T: Real>(a: &Array2<T>, b: &Array2<T>) -> Array2<T> {
    use ndarray::{s, Axis};
    use rayon::prelude::*;
    let blocks: Vec<Array2<T>> = a
        .axis_chunks_iter(Axis(1), PAR_BLOCK)
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|blk| matmul(&blk.t(), b))
        .collect();
    let mut out = Array2::zeros((a.ncols(), b.ncols()));
    for (i, blk) in blocks.iter().enumerate() {
        let r = i * PAR_BLOCK;
        out.slice_mut(s![r..r + blk.nrows(), ..]).assign(blk);
    }
    out
}

/// `a · b`, the rows of `a` cut into fixed blocks of 32 computed in parallel.
pub fn par_matmul<T: Real>(a: &Array2<T>, b: &Array2<T>) -> Array2<T> {
    use ndarray::{s, Axis};
    use rayon::prelude::*;
    const ROWS: usize = 32;
    let blocks: Vec<Array2<T>> = a
        .axis_chunks_iter(Axis(0), ROWS)
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|blk| matmul(&blk, b))
        .collect();
    let mut out = Array2::zeros((a.nrows(), b.ncols()));
    for (i, blk) in blocks.iter().enumerate() {
        let r = i * ROWS;
        out.slice_mut(s![r..r + blk.nrows(), ..]).assign(blk);
    }
    out
}

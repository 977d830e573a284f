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

/// The logistic sigmoid of every model (networks in `f32`, tabular models in `f64`).
pub use crate::proba::sigmoid;

/// Gradients of at least this many values are cleared in parallel ([`Param::zero_grad`]).
const PARALLEL_CLEAR: usize = 1 << 16;

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

    /// Sets the gradient to zero (re-allocating it when shapes changed, e.g. after loading). Large
    /// gradients (an output layer over thousands of classes, an embedding table) are cleared in
    /// parallel chunks: done once per batch, a single-threaded clear was a serial stretch of every
    /// training step.
    pub fn zero_grad(&mut self) {
        use rayon::prelude::*;
        if self.grad.dim() != self.value.dim() {
            self.grad = Array2::zeros(self.value.dim());
            return;
        }
        match self.grad.as_slice_mut() {
            Some(g) if g.len() >= PARALLEL_CLEAR => g
                .par_chunks_mut(PARALLEL_CLEAR / 2)
                .for_each(|c| c.fill(T::zero())),
            _ => self.grad.fill(T::zero()),
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

/// `a · b` into a new standard-layout (row-major) array, whatever the layouts of `a` and `b`; large
/// products run on the rayon pool (see [`par_gemm`]), with the same bits as a one-thread product.
pub fn matmul<T: Real, A, B>(
    a: &ndarray::ArrayBase<A, ndarray::Ix2>,
    b: &ndarray::ArrayBase<B, ndarray::Ix2>,
) -> Array2<T>
where
    A: ndarray::Data<Elem = T>,
    B: ndarray::Data<Elem = T>,
{
    let mut c = Array2::zeros((a.nrows(), b.ncols()));
    par_gemm(a.view(), b.view(), T::zero(), c.view_mut());
    c
}

/// Multiply-adds below which a product is not split: a rayon task costs a few microseconds, a block
/// of this size some tens.
const MIN_BLOCK_WORK: usize = 1 << 17;

/// Most blocks one product is cut into.
const MAX_BLOCKS: usize = 8;

/// Block sizes are multiples of the widest matrixmultiply kernel tile (16 × 16 with AVX-512), so no
/// block boundary adds a masked edge tile.
const TILE: usize = 16;

/// Fewest rows or columns in a block: every block re-packs the other operand, which costs about as
/// much per value as a few multiply-adds, so a block at least this wide keeps that under a few percent.
const MIN_SIDE: usize = 64;

/// The width of the blocks `len` rows or columns are cut into for a task of `work` multiply-adds:
/// at most [`MAX_BLOCKS`] blocks of at least [`MIN_BLOCK_WORK`] and [`MIN_SIDE`], a multiple of
/// [`TILE`]. Depends on the shapes alone.
pub(crate) fn block_width(len: usize, work: usize) -> usize {
    let blocks = (work / MIN_BLOCK_WORK).clamp(1, MAX_BLOCKS);
    len.div_ceil(blocks).next_multiple_of(TILE).max(MIN_SIDE)
}

/// `c ← a·b + β c`, the output cut into fixed blocks computed on the rayon pool.
///
/// The cut depends only on the shapes (`block_width`; columns when `c` is at least as wide as it is
/// tall, else rows), never on the number
/// of threads, and each block is one call of the same single-threaded kernel (matrixmultiply through
/// ndarray's `general_mat_mul`). That kernel sums every output element over `k` in the same order
/// whatever part of `c` it is given (its `k` loop is outside its row and column tiling), so the result
/// is bit for bit the one-call, one-thread product for any `--threads`, including 1.
/// Cutting the columns re-packs `a` once per block and cutting the rows re-packs `b`, hence the
/// choice of the longer side.
pub fn par_gemm<T: Real>(
    a: ndarray::ArrayView2<'_, T>,
    b: ndarray::ArrayView2<'_, T>,
    beta: T,
    mut c: ndarray::ArrayViewMut2<'_, T>,
) {
    use ndarray::linalg::general_mat_mul;
    use ndarray::Axis;
    use rayon::prelude::*;
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    let work = m.saturating_mul(k).saturating_mul(n);
    let side = m.max(n);
    if block_width(side, work) >= side {
        general_mat_mul(T::one(), &a, &b, beta, &mut c);
    } else if n >= m {
        let w = block_width(n, work);
        c.axis_chunks_iter_mut(Axis(1), w)
            .into_par_iter()
            .zip(b.axis_chunks_iter(Axis(1), w).into_par_iter())
            .for_each(|(mut cb, bb)| general_mat_mul(T::one(), &a, &bb, beta, &mut cb));
    } else {
        let h = block_width(m, work);
        c.axis_chunks_iter_mut(Axis(0), h)
            .into_par_iter()
            .zip(a.axis_chunks_iter(Axis(0), h).into_par_iter())
            .for_each(|(mut cb, ab)| general_mat_mul(T::one(), &ab, &b, beta, &mut cb));
    }
}

//! # Neural sequence models on ndarray: embedding, Elman RNN, LSTM, GRU, dense heads
//!
//! Everything here — forward passes, backpropagation through time, optimisers — is written by hand on
//! ndarray; the heavy lifting is ndarray's matrix product (`dot`, matrixmultiply underneath). Every layer
//! and head has a finite-difference gradient check in `models/tests/nn_gradcheck.rs`.
//!
//! ## Design
//!
//! * **Packed variable-length batches** ([`Packed`]): the sequences of a minibatch are sorted by length,
//!   longest first, and stored time-major without padding — at step `t` only the `batch_sizes[t]`
//!   sequences still running take part, so no arithmetic is spent on padding (the layout of PyTorch's
//!   `pack_padded_sequence`). The trainer buckets sequences by length so a minibatch holds sequences of
//!   similar length.
//! * **One matrix product for all input projections**: a recurrent layer multiplies the whole packed
//!   input by its input weights once (`total_tokens × input` · `input × gates`), and per time step only
//!   the recurrent product `batch × hidden` · `hidden × gates` remains; the backward pass mirrors this
//!   (`dW = Xᵀ · dG`, `dX = dG · Wᵀ` once per layer).
//! * **Generic precision**: layers are generic over [`Real`] (`f32` for training, `f64` for gradient
//!   checks).
//! * **Parameters** are [`Param`]s (value + gradient), so optimisers ([`optim`]) see one flat list.
//!
//! ## Determinism and threads
//!
//! Initialisation, dropout masks and batch order come from a seeded ChaCha8 generator, and every
//! reduction runs in a fixed order, so results are byte-identical for a given seed. The matrix products
//! are single-threaded by default; nothing in the results depends on the rayon pool size.
//!
//! ## Cells
//!
//! * Elman RNN: `h = tanh(x W + h₋ U + b)` (Elman 1990).
//! * LSTM (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000): gates `i, f, g, o`;
//!   `c = f⊙c₋ + i⊙g`, `h = o⊙tanh(c)`; the forget-gate bias starts at 1 (Jozefowicz et al. 2015).
//! * GRU (Cho et al. 2014), in the "reset-after" form used by cuDNN, PyTorch and Keras 3:
//!   `r = σ(x W_r + h₋ U_r + b_r)`, `z = σ(x W_z + h₋ U_z + b_z)`,
//!   `n = tanh(x W_n + b_n + r⊙(h₋ U_n + b_hn))`, `h = (1−z)⊙n + z⊙h₋`. Applying the reset gate after the
//!   recurrent product lets all three gates share one matrix product per step.

pub mod attention;
pub mod classifier;
pub mod dense;
pub mod dropout;
pub mod embedding;
pub mod ggnn;
pub mod layer_norm;
pub mod network;
pub mod optim;
pub mod packed;
pub mod param;
pub mod positional;
pub mod readout;
pub mod recurrent;
pub mod transformer;

pub use attention::SelfAttention;
pub use classifier::{EpochRecord, SeqClassifier, SeqClassifierModel, SeqClassifierParams};
pub use dense::{sigmoid_bce, softmax_ce, Dense};
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use ggnn::{Ggnn, SessionGraphs};
pub use layer_norm::LayerNorm;
pub use network::SeqNet;
pub use optim::{clip_global_norm, LrSchedule, Optimizer, OptimizerKind};
pub use packed::Packed;
pub use param::{Param, Real};
pub use positional::PositionalEmbedding;
pub use readout::AttentionReadout;
pub use recurrent::{CellKind, Recurrent, RecurrentCache};
pub use transformer::{DropMode, FeedForward, Transformer, TransformerBlock};

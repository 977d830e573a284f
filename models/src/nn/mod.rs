//! # Neural sequence models on ndarray: embedding, Elman RNN, LSTM, GRU, dense heads
//!
//! Everything here — forward passes, backpropagation through time, optimisers — is written by hand on
//! ndarray; the heavy lifting is ndarray's matrix product (`general_mat_mul`, matrixmultiply underneath,
//! cut into parallel blocks by [`param::par_gemm`]). Every layer
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
//! reduction runs in a fixed order, so results are byte-identical for a given seed. Training runs on
//! the rayon pool (`--threads`) without changing a bit:
//!
//! * every matrix product goes through [`param::par_gemm`], which cuts the output into blocks fixed
//!   by the shapes and computes each with the same single-threaded kernel, whose sum for one element
//!   does not depend on the block it sits in — the bits of one sequential call;
//! * the recurrence runs per block of [`recurrent::SEQ_ROWS`] sequences through all time steps (a
//!   sequence depends only on its own past); the sums over sequences and steps (`dU`, biases) follow
//!   in the sequential order;
//! * softmax heads, optimiser updates and gradient clipping work row by row or element by element,
//!   and their sums (the loss, the gradient norm that decides clipping) are added in a fixed order.
//!
//! `models/tests/models/nn_threads.rs` checks the product against one call and whole trainings on
//! 1, 2 and 3 threads.
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
pub mod encoder;
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
pub use dense::{sigmoid_bce, softmax_ce, softmax_ce_owned, Dense};
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use encoder::{EncoderKind, SessionEncoder};
pub use ggnn::{Ggnn, GraphEncoder, SessionGraphs};
pub use layer_norm::LayerNorm;
pub use network::SeqNet;
pub use optim::{clip_global_norm, LrSchedule, Optimizer, OptimizerKind};
pub use packed::Packed;
pub use param::{Param, Real};
pub use positional::PositionalEmbedding;
pub use readout::AttentionReadout;
pub use recurrent::{CellKind, Recurrent, RecurrentCache};

/// The memory a recurrent network will hold while training (checked against `--max-memory` before
/// any weight is allocated): every parameter four times (weights, gradient, two Adam moments) plus the
/// activations of one packed batch kept for backpropagation through time (`batch × max_len` steps of
/// every layer's gates). `out_rows` is the size of the output layer (classes, or items for next-item
/// models). The parameter named is `hidden` when the recurrent layers dominate, else `embed_dim`.
pub fn memory_estimate(
    cell: CellKind,
    vocab: u64,
    embed_dim: u64,
    hidden: &[usize],
    out_rows: u64,
    batch: u64,
    max_len: u64,
) -> crate::memory::Estimate {
    use crate::memory::mul;
    let real = 8u64; // the networks train in f64
    let gates = cell.gates() as u64;
    let embed = mul(&[vocab, embed_dim]);
    let mut rec = 0u64;
    let mut act = 0u64;
    let mut input = embed_dim;
    for &h in hidden {
        let h = h as u64;
        rec = rec.saturating_add(mul(&[gates, h, input.saturating_add(h).saturating_add(1)]));
        act = act.saturating_add(mul(&[
            batch.max(1),
            max_len.max(1),
            gates.saturating_add(2),
            h,
        ]));
        input = h;
    }
    let head = mul(&[out_rows, input.saturating_add(1)]);
    let params = embed.saturating_add(rec).saturating_add(head);
    let bytes = mul(&[params, 4, real]).saturating_add(mul(&[act, real]));
    let hidden_share = rec.saturating_add(head).saturating_add(act / 4);
    if hidden_share >= embed || embed_dim == 0 {
        let value = hidden
            .iter()
            .map(|h| h.to_string())
            .collect::<Vec<_>>()
            .join("+");
        crate::memory::Estimate {
            bytes,
            param: "hidden",
            value,
        }
    } else {
        crate::memory::Estimate {
            bytes,
            param: "embed_dim",
            value: embed_dim.to_string(),
        }
    }
}
pub use transformer::{DropMode, FeedForward, Pool, Transformer, TransformerBlock};

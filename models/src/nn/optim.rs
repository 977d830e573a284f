//! Optimisers (SGD with momentum, Adam), learning-rate schedules, L2 weight decay and global-norm
//! gradient clipping.
//!
//! Each step costs a few passes over the parameters. Sources: Polyak (1964) momentum;
//! Kingma & Ba (2015) Adam; Pascanu et al. (2013) gradient-norm clipping.

use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::param::{sl, sl_mut, Param, Real};
use crate::params::{bad_value, check_non_negative, ParamValue};
use crate::ModelError;

/// Which update rule.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub enum OptimizerKind {
    /// `v = μ v − lr g; θ += v`.
    Sgd {
        /// Momentum μ in `[0, 1)`.
        momentum: f64,
    },
    /// Adam with bias correction.
    Adam {
        /// First-moment decay.
        beta1: f64,
        /// Second-moment decay.
        beta2: f64,
        /// Denominator guard.
        eps: f64,
    },
}

impl OptimizerKind {
    /// Adam with the usual constants (0.9, 0.999, 1e-8).
    pub fn adam() -> Self {
        OptimizerKind::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

/// Learning rate as a function of the epoch (0-based).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub enum LrSchedule {
    /// Always the base rate.
    Constant,
    /// Multiply by `gamma` every `every` epochs.
    Step {
        /// Epochs between decays (≥ 1).
        every: usize,
        /// Factor in `(0, 1]`.
        gamma: f64,
    },
    /// Multiply by `gamma` every epoch.
    Exponential {
        /// Factor in `(0, 1]`.
        gamma: f64,
    },
}

impl LrSchedule {
    /// The rate at `epoch` given the base rate.
    pub fn rate(&self, base: f64, epoch: usize) -> f64 {
        match *self {
            LrSchedule::Constant => base,
            LrSchedule::Step { every, gamma } => base * gamma.powi((epoch / every.max(1)) as i32),
            LrSchedule::Exponential { gamma } => base * gamma.powi(epoch as i32),
        }
    }
}

/// Checks the steps of training every network shares: epochs and batch size at least 1, a positive
/// learning rate.
pub(crate) fn check_steps(epochs: usize, batch_size: usize, lr: f64) -> Result<(), ModelError> {
    if epochs == 0 {
        return Err(ModelError::invalid("epochs", epochs, "at least 1"));
    }
    if batch_size == 0 {
        return Err(ModelError::invalid("batch_size", batch_size, "at least 1"));
    }
    if !(lr > 0.0 && lr.is_finite()) {
        return Err(ModelError::invalid("lr", lr, "a positive number"));
    }
    Ok(())
}

/// Checks the optimiser settings every network shares: SGD momentum in `[0, 1)` and a valid schedule.
pub(crate) fn check_optimizer(
    optimizer: OptimizerKind,
    schedule: LrSchedule,
) -> Result<(), ModelError> {
    let bad = |name, value: String, expected| Err(ModelError::invalid(name, value, expected));
    if let OptimizerKind::Sgd { momentum } = optimizer {
        if !(0.0..1.0).contains(&momentum) {
            return bad("momentum", momentum.to_string(), "in [0, 1)");
        }
    }
    match schedule {
        LrSchedule::Step { every, gamma } if every == 0 || !(gamma > 0.0 && gamma <= 1.0) => {
            return bad(
                "lr_schedule",
                format!("step every {every} × {gamma}"),
                "every ≥ 1, gamma in (0, 1]",
            )
        }
        LrSchedule::Exponential { gamma } if !(gamma > 0.0 && gamma <= 1.0) => {
            return bad(
                "lr_schedule",
                format!("exponential × {gamma}"),
                "gamma in (0, 1]",
            )
        }
        _ => {}
    }
    Ok(())
}

/// Checks the regularisation every network shares: weight decay and clipping norm ≥ 0 (0 = off).
pub(crate) fn check_regularisation(weight_decay: f64, clip_norm: f64) -> Result<(), ModelError> {
    check_non_negative("weight_decay", weight_decay, "a number ≥ 0")?;
    check_non_negative("clip_norm", clip_norm, "a number ≥ 0 (0 = off)")
}

/// `optimizer=adam|sgd` (switching to SGD starts from momentum 0.9; `momentum` refines it).
impl ParamValue for OptimizerKind {
    fn set(&mut self, key: &str, text: &str) -> Result<(), ModelError> {
        *self = match (text, *self) {
            ("adam", OptimizerKind::Adam { .. }) | ("sgd", OptimizerKind::Sgd { .. }) => *self,
            ("adam", _) => OptimizerKind::adam(),
            ("sgd", _) => OptimizerKind::Sgd { momentum: 0.9 },
            _ => return Err(bad_value(key, text, "adam or sgd")),
        };
        Ok(())
    }
    fn show(&self) -> String {
        match self {
            OptimizerKind::Sgd { .. } => "sgd",
            OptimizerKind::Adam { .. } => "adam",
        }
        .into()
    }
}

/// The `momentum` key: SGD's momentum (ignored with Adam; shown as SGD's default 0.9 then).
pub(crate) struct Momentum<'a>(pub &'a mut OptimizerKind);

impl ParamValue for Momentum<'_> {
    fn set(&mut self, key: &str, text: &str) -> Result<(), ModelError> {
        let mut m = 0.9;
        m.set(key, text)?;
        if let OptimizerKind::Sgd { momentum } = self.0 {
            *momentum = m;
        }
        Ok(())
    }
    fn show(&self) -> String {
        match *self.0 {
            OptimizerKind::Sgd { momentum } => momentum.show(),
            OptimizerKind::Adam { .. } => 0.9.show(),
        }
    }
}

/// The `lr_decay` key: the factor of the schedule (1 = constant rate; otherwise exponential per
/// epoch, or per `lr_step` epochs).
pub(crate) struct Decay<'a>(pub &'a mut LrSchedule);

impl ParamValue for Decay<'_> {
    fn set(&mut self, key: &str, text: &str) -> Result<(), ModelError> {
        let mut gamma = 1.0;
        gamma.set(key, text)?;
        *self.0 = match *self.0 {
            _ if gamma == 1.0 => LrSchedule::Constant,
            LrSchedule::Step { every, .. } => LrSchedule::Step { every, gamma },
            _ => LrSchedule::Exponential { gamma },
        };
        Ok(())
    }
    fn show(&self) -> String {
        match *self.0 {
            LrSchedule::Constant => 1.0.show(),
            LrSchedule::Step { gamma, .. } | LrSchedule::Exponential { gamma } => gamma.show(),
        }
    }
}

/// The `lr_step` key: with `lr_decay`, decay every this many epochs instead of every epoch (0).
pub(crate) struct DecayStep<'a>(pub &'a mut LrSchedule);

impl ParamValue for DecayStep<'_> {
    fn set(&mut self, key: &str, text: &str) -> Result<(), ModelError> {
        let mut every = 0usize;
        every.set(key, text)?;
        *self.0 = match *self.0 {
            LrSchedule::Constant => LrSchedule::Constant,
            LrSchedule::Step { gamma, .. } | LrSchedule::Exponential { gamma } if every == 0 => {
                LrSchedule::Exponential { gamma }
            }
            LrSchedule::Step { gamma, .. } | LrSchedule::Exponential { gamma } => {
                LrSchedule::Step { every, gamma }
            }
        };
        Ok(())
    }
    fn show(&self) -> String {
        match *self.0 {
            LrSchedule::Step { every, .. } => every.to_string(),
            _ => "0".into(),
        }
    }
}

/// Elements per task of the element-wise updates (fixed; each element is updated alone, so the
/// split cannot change a bit).
const UPDATE_CHUNK: usize = 1 << 14;

/// Scales all gradients so that their joint L2 norm is at most `max_norm`; returns the norm before
/// clipping.
///
/// The clipping decision and factor are those of one sequential sum of the squares (parameter by
/// parameter, element by element), whatever the number of threads. A first, parallel sum in fixed
/// blocks (eight running sums per block, blocks added in order) settles most steps: any two orders of
/// summing the same `n` non-negative squares (exact in `f64`) agree within a relative `2(n−1)ε`
/// (Higham 2002, §4.2), so when the blocked sum is below `max_norm²` by more than that margin the
/// sequential sum is too and nothing is scaled; the norm returned is then the blocked one. Otherwise
/// the sequential sums are taken, one task per parameter (zero gradients, most rows of an embedding
/// table, skipped: adding `+0` to a sum of squares changes no bit), and added in parameter order.
pub fn clip_global_norm<T: Real>(params: &mut [&mut Param<T>], max_norm: f64) -> f64 {
    let n: usize = params.iter().map(|p| p.grad.len()).sum();
    let blocked: Vec<f64> = params
        .par_iter()
        .flat_map_iter(|p| sl(&p.grad).chunks(UPDATE_CHUNK))
        .map(|c| {
            let mut acc = [0.0f64; 8];
            let mut lanes = c.chunks_exact(8);
            for v in &mut lanes {
                for (a, g) in acc.iter_mut().zip(v) {
                    *a += g.f64() * g.f64();
                }
            }
            let tail: f64 = lanes.remainder().iter().map(|g| g.f64() * g.f64()).sum();
            acc.iter().sum::<f64>() + tail
        })
        .collect();
    let fast: f64 = blocked.iter().sum();
    let margin = 1.0 - 8.0 * (n as f64 + 1.0) * f64::EPSILON - 1e-12;
    let clipping = max_norm > 0.0;
    if !clipping || (fast.is_finite() && fast < max_norm * max_norm * margin) {
        return fast.sqrt();
    }
    let sums: Vec<f64> = params
        .par_iter()
        .map(|p| {
            sl(&p.grad)
                .iter()
                .filter(|g| **g != T::zero())
                .map(|g| g.f64() * g.f64())
                .sum::<f64>()
        })
        .collect();
    let mut sq = 0.0f64;
    for s in sums {
        sq += s;
    }
    let norm = sq.sqrt();
    if norm > max_norm {
        let k = T::of(max_norm / norm);
        for p in params.iter_mut() {
            p.grad *= k;
        }
    }
    norm
}

/// Optimiser state for one list of parameters (always passed in the same order).
#[derive(Clone, Debug)]
pub struct Optimizer<T: Real> {
    /// Update rule.
    pub kind: OptimizerKind,
    /// L2 weight-decay coefficient added to the gradient of every decayed parameter.
    pub weight_decay: f64,
    /// Global gradient-norm limit (0 = off).
    pub clip_norm: f64,
    m: Vec<Array2<T>>,
    v: Vec<Array2<T>>,
    t: u64,
}

impl<T: Real> Optimizer<T> {
    /// A fresh optimiser.
    pub fn new(kind: OptimizerKind, weight_decay: f64, clip_norm: f64) -> Self {
        Optimizer {
            kind,
            weight_decay,
            clip_norm,
            m: Vec::new(),
            v: Vec::new(),
            t: 0,
        }
    }

    /// Applies decay and clipping to the gradients, then one update with learning rate `lr`.
    /// Gradients are left as they were used (the caller zeros them before the next backward pass).
    pub fn step(&mut self, params: &mut [&mut Param<T>], lr: f64) {
        if self.weight_decay > 0.0 {
            let wd = T::of(self.weight_decay);
            for p in params.iter_mut().filter(|p| p.decay) {
                let Param { value, grad, .. } = &mut **p;
                grad.scaled_add(wd, value);
            }
        }
        if self.clip_norm > 0.0 {
            clip_global_norm(params, self.clip_norm);
        }
        if self.m.len() != params.len() {
            self.m = params
                .iter()
                .map(|p| Array2::zeros(p.value.dim()))
                .collect();
            self.v = match self.kind {
                OptimizerKind::Adam { .. } => params
                    .iter()
                    .map(|p| Array2::zeros(p.value.dim()))
                    .collect(),
                OptimizerKind::Sgd { .. } => Vec::new(),
            };
        }
        self.t += 1;
        match self.kind {
            OptimizerKind::Sgd { momentum } => {
                let mu = T::of(momentum);
                let lr = T::of(lr);
                params
                    .par_iter_mut()
                    .zip(self.m.par_iter_mut())
                    .for_each(|(p, m)| {
                        let Param { value, grad, .. } = &mut **p;
                        sl_mut(value)
                            .par_chunks_mut(UPDATE_CHUNK)
                            .zip(sl(grad).par_chunks(UPDATE_CHUNK))
                            .zip(sl_mut(m).par_chunks_mut(UPDATE_CHUNK))
                            .for_each(|((w, g), m)| {
                                for ((w, g), v) in w.iter_mut().zip(g).zip(m) {
                                    *v = mu * *v - lr * *g;
                                    *w += *v;
                                }
                            });
                    });
            }
            OptimizerKind::Adam { beta1, beta2, eps } => {
                let t = self.t as i32;
                let step = lr * (1.0 - beta2.powi(t)).sqrt() / (1.0 - beta1.powi(t));
                let (b1, b2, e, step) = (T::of(beta1), T::of(beta2), T::of(eps), T::of(step));
                let (c1, c2) = (T::one() - b1, T::one() - b2);
                params
                    .par_iter_mut()
                    .zip(self.m.par_iter_mut())
                    .zip(self.v.par_iter_mut())
                    .for_each(|((p, m), v)| {
                        let Param { value, grad, .. } = &mut **p;
                        sl_mut(value)
                            .par_chunks_mut(UPDATE_CHUNK)
                            .zip(sl(grad).par_chunks(UPDATE_CHUNK))
                            .zip(sl_mut(m).par_chunks_mut(UPDATE_CHUNK))
                            .zip(sl_mut(v).par_chunks_mut(UPDATE_CHUNK))
                            .for_each(|(((w, g), m), v)| {
                                for (((w, &g), mm), vv) in w.iter_mut().zip(g).zip(m).zip(v) {
                                    *mm = b1 * *mm + c1 * g;
                                    *vv = b2 * *vv + c2 * g * g;
                                    *w -= step * *mm / (vv.sqrt() + e);
                                }
                            });
                    });
            }
        }
    }
}

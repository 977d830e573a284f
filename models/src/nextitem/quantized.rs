//! Post-training compression of a next-item network: **symmetric per-row int8 quantisation** of the
//! item embeddings, the recurrent weights and the output item vectors, with optional **magnitude
//! pruning** first (`cartseq compress MODEL -o SMALL --int8 [--prune 0.5]`).
//!
//! Every weight matrix is stored as one row per output unit (the output item vectors as they are; the
//! recurrent `W`, `U` transposed, one row per gate unit) with a scale `s_r = max_k |w_rk| / 127` and
//! `q_rk = round(w_rk / s_r)` in `[-127, 127]`. At scoring time the activation vector is quantised the
//! same way (one scale for the vector, PyTorch's "dynamic" quantisation), the products are summed in
//! **i32** and rescaled once per row (`y_r = s_r · s_x · Σ q_rk x_k + b_r`); biases and the cell
//! arithmetic stay f32. Pruning zeroes, in every row, the fraction `p` of weights of smallest
//! magnitude (ties to the higher column) before quantising.
//!
//! Storage: int8 codes as base64 in the JSON model file (1.33 bytes per weight instead of ~11 for a
//! shortest-round-trip f32), so the file is about 8× smaller. Pruned weights stay in the dense int8
//! layout: a sparse row needs a column index per kept weight (2 bytes with u16), which only pays above
//! 2/3 sparsity; the zeros are still counted in the file's statistics. The file states its
//! precision (`"precision": "int8"`) and the pruned fraction.
//!
//! Cost of scoring a prefix of `L` clicks: `L × layers × gates·hidden × (input + hidden)` plus
//! `items × hidden` multiply-adds on i8 → i32, a quarter of the memory traffic of f32.

use serde::{Deserialize, Serialize};

use crate::nextitem::{Gru4RecModel, NextItemModel, ScoreSink};
use crate::nn::CellKind;
use crate::{ModelError, Sequences};

/// How to compress.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CompressOptions {
    /// Fraction of weights zeroed per row by magnitude before quantising, in `[0, 1)`.
    pub prune: f64,
}

/// Serde form of the int8 codes: base64 of the bytes.
mod b64 {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(q: &[i8], s: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<u8> = q.iter().map(|&v| v as u8).collect();
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i8>, D::Error> {
        let s = String::deserialize(d)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(s.as_bytes())
            .map_err(serde::de::Error::custom)?;
        Ok(bytes.into_iter().map(|v| v as i8).collect())
    }
}

/// A `rows × cols` matrix of int8 codes with one f32 scale per row.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct QMatrix {
    /// Rows (output units).
    pub rows: usize,
    /// Columns (inputs).
    pub cols: usize,
    /// Scale of each row.
    pub scale: Vec<f32>,
    /// Codes, row-major.
    #[serde(with = "b64")]
    pub q: Vec<i8>,
}

impl QMatrix {
    /// Quantises `rows × cols` weights given by `at(r, c)`, zeroing first the fraction `prune` of each
    /// row's weights of smallest magnitude.
    fn quantize(rows: usize, cols: usize, prune: f64, at: impl Fn(usize, usize) -> f32) -> Self {
        let mut scale = Vec::with_capacity(rows);
        let mut q = Vec::with_capacity(rows * cols);
        let n_prune = ((cols as f64) * prune).floor() as usize;
        let mut row = vec![0f32; cols];
        let mut order: Vec<usize> = Vec::with_capacity(cols);
        for r in 0..rows {
            for (c, v) in row.iter_mut().enumerate() {
                *v = at(r, c);
            }
            if n_prune > 0 {
                order.clear();
                order.extend(0..cols);
                order.sort_by(|&a, &b| row[a].abs().total_cmp(&row[b].abs()).then(b.cmp(&a)));
                for &c in &order[..n_prune] {
                    row[c] = 0.0;
                }
            }
            let max = row.iter().fold(0f32, |m, &v| m.max(v.abs()));
            let s = if max > 0.0 && max.is_finite() {
                max / 127.0
            } else {
                0.0
            };
            scale.push(s);
            for &v in &row {
                let code = if s > 0.0 {
                    (v / s).round().clamp(-127.0, 127.0) as i8
                } else {
                    0
                };
                q.push(code);
            }
        }
        QMatrix {
            rows,
            cols,
            scale,
            q,
        }
    }

    fn row(&self, r: usize) -> &[i8] {
        &self.q[r * self.cols..(r + 1) * self.cols]
    }

    /// Row `r` back in f32.
    fn dequantize_row(&self, r: usize, out: &mut Vec<f32>) {
        let s = self.scale[r];
        out.clear();
        out.extend(self.row(r).iter().map(|&v| f32::from(v) * s));
    }

    /// `y_r = s_r · Σ_k q_rk x_k` for every row, with `x` quantised to int8 (one scale) and i32 sums.
    fn gemv(&self, x: &[f32], xq: &mut Vec<i8>, y: &mut [f32]) {
        let sx = quantize_vector(x, xq);
        for (r, out) in y.iter_mut().enumerate().take(self.rows) {
            let acc = dot_i8(self.row(r), xq);
            *out = self.scale[r] * sx * acc as f32;
        }
    }

    /// Zero codes.
    fn zeros(&self) -> usize {
        self.q.iter().filter(|&&v| v == 0).count()
    }

    fn check(&self, what: &str) -> Result<(), String> {
        if self.q.len() != self.rows * self.cols || self.scale.len() != self.rows {
            return Err(format!(
                "{what}: {} codes and {} scales for {} × {}",
                self.q.len(),
                self.scale.len(),
                self.rows,
                self.cols
            ));
        }
        Ok(())
    }
}

/// Quantises `x` with one scale `max|x| / 127`; returns the scale.
fn quantize_vector(x: &[f32], xq: &mut Vec<i8>) -> f32 {
    let max = x.iter().fold(0f32, |m, &v| m.max(v.abs()));
    xq.clear();
    if max == 0.0 || !max.is_finite() {
        xq.resize(x.len(), 0);
        return 0.0;
    }
    let inv = 127.0 / max;
    xq.extend(
        x.iter()
            .map(|&v| (v * inv).round().clamp(-127.0, 127.0) as i8),
    );
    max / 127.0
}

/// Σ a_k b_k in i32 (written so that the compiler vectorises it: widening multiply-adds).
#[inline]
fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let mut acc = [0i32; 8];
    let chunks = a.len() / 8;
    for c in 0..chunks {
        let (x, y) = (&a[c * 8..c * 8 + 8], &b[c * 8..c * 8 + 8]);
        for j in 0..8 {
            acc[j] += i32::from(x[j]) * i32::from(y[j]);
        }
    }
    let mut s: i32 = acc.iter().sum();
    for k in chunks * 8..a.len().min(b.len()) {
        s += i32::from(a[k]) * i32::from(b[k]);
    }
    s
}

/// One quantised recurrent layer: `W`ᵀ (`gates·hidden × input`) and `U`ᵀ (`gates·hidden × hidden`)
/// in int8, the biases in f32.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct QRecurrent {
    /// Input weights, one row per gate unit.
    pub w: QMatrix,
    /// Recurrent weights, one row per gate unit.
    pub u: QMatrix,
    /// Input bias (`gates·hidden`).
    pub b: Vec<f32>,
    /// GRU candidate recurrent bias (`hidden`; empty for other cells).
    pub bhn: Vec<f32>,
}

/// A next-item network with int8 weights (see the module docs).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct QuantizedGru4Rec {
    /// Always `int8`: the precision of the weights, stated in the file.
    pub precision: String,
    /// Fraction of each weight row pruned before quantising.
    pub pruned: f64,
    /// Recurrent cell.
    pub cell: CellKind,
    /// Whether input embeddings are the output item vectors.
    pub tie_embedding: bool,
    /// Items scored.
    pub n_items: usize,
    /// Input item embeddings (`items × embed`; `0 × 0` when tied).
    pub embedding: QMatrix,
    /// Recurrent stack, bottom first.
    pub layers: Vec<QRecurrent>,
    /// Output item vectors (`items × hidden`).
    pub out: QMatrix,
    /// Output biases (`items`).
    pub bias: Vec<f32>,
}

impl QuantizedGru4Rec {
    /// Compresses a trained network.
    pub fn compress(m: &Gru4RecModel, opts: CompressOptions) -> Result<Self, ModelError> {
        if !(0.0..1.0).contains(&opts.prune) {
            return Err(ModelError::invalid("prune", opts.prune, "in [0, 1)"));
        }
        let p = opts.prune;
        let dense =
            |a: &ndarray::Array2<f32>| QMatrix::quantize(a.nrows(), a.ncols(), p, |r, c| a[[r, c]]);
        let transposed =
            |a: &ndarray::Array2<f32>| QMatrix::quantize(a.ncols(), a.nrows(), p, |r, c| a[[c, r]]);
        let embedding = if m.params.tie_embedding {
            QMatrix::quantize(0, 0, p, |_, _| 0.0)
        } else {
            dense(&m.embedding.table.value)
        };
        let layers = m
            .layers
            .iter()
            .map(|l| QRecurrent {
                w: transposed(&l.w.value),
                u: transposed(&l.u.value),
                b: l.b.value.iter().copied().collect(),
                bhn: l.bhn.value.iter().copied().collect(),
            })
            .collect();
        Ok(QuantizedGru4Rec {
            precision: "int8".into(),
            pruned: p,
            cell: m.params.cell,
            tie_embedding: m.params.tie_embedding,
            n_items: m.n_items,
            embedding,
            layers,
            out: dense(&m.out.value),
            bias: m.bias.value.iter().copied().collect(),
        })
    }

    /// Weights stored (int8 codes) and how many of them are zero.
    pub fn weight_counts(&self) -> (usize, usize) {
        let mut mats: Vec<&QMatrix> = vec![&self.embedding, &self.out];
        for l in &self.layers {
            mats.push(&l.w);
            mats.push(&l.u);
        }
        (
            mats.iter().map(|m| m.q.len()).sum(),
            mats.iter().map(|m| m.zeros()).sum(),
        )
    }

    /// Checks the shapes of a loaded model, so a corrupt file can never index out of bounds.
    pub(crate) fn check_loaded(&self) -> Result<(), String> {
        if self.precision != "int8" {
            return Err(format!("precision {:?}, expected \"int8\"", self.precision));
        }
        let n = self.n_items;
        self.out.check("out")?;
        self.embedding.check("embedding")?;
        if self.out.rows != n || self.bias.len() != n {
            return Err(format!(
                "output has {} rows and {} biases for {n} items",
                self.out.rows,
                self.bias.len()
            ));
        }
        let mut input = if self.tie_embedding {
            self.out.cols
        } else {
            if self.embedding.rows != n {
                return Err(format!(
                    "embedding has {} rows for {n} items",
                    self.embedding.rows
                ));
            }
            self.embedding.cols
        };
        if self.layers.is_empty() {
            return Err("no recurrent layer".into());
        }
        for (i, l) in self.layers.iter().enumerate() {
            l.w.check("w")?;
            l.u.check("u")?;
            let h = l.u.cols;
            let g = self.cell.gates() * h;
            let bhn = if self.cell == CellKind::Gru { h } else { 0 };
            if l.w.cols != input
                || l.w.rows != g
                || l.u.rows != g
                || l.b.len() != g
                || l.bhn.len() != bhn
            {
                return Err(format!("layer {i} has inconsistent shapes"));
            }
            input = h;
        }
        if input != self.out.cols {
            return Err(format!(
                "top hidden width {input} differs from the output width {}",
                self.out.cols
            ));
        }
        Ok(())
    }

    /// Runs the stack over `clicks` (ids `< n_items`), calling `at(t, top hidden state)` after each.
    fn run(&self, clicks: &[u32], mut at: impl FnMut(usize, &[f32])) {
        let nl = self.layers.len();
        let widths: Vec<usize> = self.layers.iter().map(|l| l.u.cols).collect();
        let mut h: Vec<Vec<f32>> = widths.iter().map(|&w| vec![0.0; w]).collect();
        let mut c: Vec<Vec<f32>> = widths.iter().map(|&w| vec![0.0; w]).collect();
        let mut x = Vec::new();
        let mut xq = Vec::new();
        let mut gx = Vec::new();
        let mut gh = Vec::new();
        for (t, &item) in clicks.iter().enumerate() {
            if self.tie_embedding {
                self.out.dequantize_row(item as usize, &mut x);
            } else {
                self.embedding.dequantize_row(item as usize, &mut x);
            }
            for l in 0..nl {
                let layer = &self.layers[l];
                let hd = widths[l];
                let g = layer.w.rows;
                gx.resize(g, 0.0);
                gh.resize(g, 0.0);
                layer.w.gemv(&x, &mut xq, &mut gx);
                layer.u.gemv(&h[l], &mut xq, &mut gh);
                for (v, b) in gx.iter_mut().zip(&layer.b) {
                    *v += b;
                }
                let hp = &mut h[l];
                match self.cell {
                    CellKind::Rnn => {
                        for j in 0..hd {
                            hp[j] = (gx[j] + gh[j]).tanh();
                        }
                    }
                    CellKind::Lstm => {
                        let cp = &mut c[l];
                        for j in 0..hd {
                            let ig = sigmoid(gx[j] + gh[j]);
                            let fg = sigmoid(gx[hd + j] + gh[hd + j]);
                            let gg = (gx[2 * hd + j] + gh[2 * hd + j]).tanh();
                            let og = sigmoid(gx[3 * hd + j] + gh[3 * hd + j]);
                            cp[j] = fg * cp[j] + ig * gg;
                            hp[j] = og * cp[j].tanh();
                        }
                    }
                    CellKind::Gru => {
                        for j in 0..hd {
                            let rg = sigmoid(gx[j] + gh[j]);
                            let zg = sigmoid(gx[hd + j] + gh[hd + j]);
                            let hn = gh[2 * hd + j] + layer.bhn[j];
                            let ng = (gx[2 * hd + j] + rg * hn).tanh();
                            hp[j] = (1.0 - zg) * ng + zg * hp[j];
                        }
                    }
                }
                x.clear();
                x.extend_from_slice(&h[l]);
            }
            at(t, &x);
        }
    }

    /// Scores of every item for the top hidden state `h`.
    fn scores_of(&self, h: &[f32], xq: &mut Vec<i8>, scores: &mut Vec<f32>) {
        scores.resize(self.n_items, 0.0);
        self.out.gemv(h, xq, scores);
        for (s, b) in scores.iter_mut().zip(&self.bias) {
            *s += b;
        }
    }
}

/// The int8 cell's sigmoid, `1 / (1 + e^−x)` in one form for every `x`. Not the shared
/// [`crate::nn::param::sigmoid`]: for `x < 0` that one computes `e^x / (1 + e^x)`, which rounds
/// differently, and compressed models must keep scoring as they were measured.
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

impl NextItemModel for QuantizedGru4Rec {
    fn name(&self) -> String {
        format!("{}-int8", self.cell.name())
    }

    fn n_items(&self) -> usize {
        self.n_items
    }

    fn score_prefixes(&self, sessions: &Sequences, rows: &[usize], sink: ScoreSink<'_>) {
        let mut scores = Vec::new();
        let mut xq = Vec::new();
        for &r in rows {
            let s = sessions.row(r);
            let last = s.len().saturating_sub(1);
            self.run(&s[..last], |t, h| {
                self.scores_of(h, &mut xq, &mut scores);
                sink(r, t, &scores);
            });
        }
    }

    fn score_session(&self, clicks: &[u32], scores: &mut Vec<f32>) {
        scores.clear();
        if clicks.is_empty() {
            scores.resize(self.n_items, 0.0);
            return;
        }
        let mut top = Vec::new();
        self.run(clicks, |t, h| {
            if t + 1 == clicks.len() {
                top.extend_from_slice(h);
            }
        });
        let mut xq = Vec::new();
        self.scores_of(&top, &mut xq, scores);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_within_half_a_step() {
        let w = [[0.5f32, -1.0, 0.25, 0.0], [0.0, 0.0, 0.0, 0.0]];
        let q = QMatrix::quantize(2, 4, 0.0, |r, c| w[r][c]);
        assert_eq!(q.row(0)[1], -127);
        let mut out = Vec::new();
        q.dequantize_row(0, &mut out);
        for (a, b) in out.iter().zip(&w[0]) {
            assert!((a - b).abs() <= q.scale[0] / 2.0 + 1e-7);
        }
        q.dequantize_row(1, &mut out);
        assert_eq!(out, vec![0.0; 4]);
    }

    #[test]
    fn pruning_zeroes_the_smallest_of_each_row() {
        let w = [[0.1f32, -0.9, 0.3, -0.05]];
        let q = QMatrix::quantize(1, 4, 0.5, |r, c| w[r][c]);
        assert_eq!(q.row(0)[0], 0);
        assert_eq!(q.row(0)[3], 0);
        assert!(q.row(0)[1] != 0 && q.row(0)[2] != 0);
    }

    #[test]
    fn int8_gemv_is_close_to_f32() {
        let (rows, cols) = (7, 37);
        let at = |r: usize, c: usize| ((r * 31 + c * 17) % 23) as f32 / 11.0 - 1.0;
        let q = QMatrix::quantize(rows, cols, 0.0, at);
        let x: Vec<f32> = (0..cols)
            .map(|c| ((c * 13) % 7) as f32 / 3.0 - 1.0)
            .collect();
        let mut y = vec![0.0; rows];
        q.gemv(&x, &mut Vec::new(), &mut y);
        for (r, &yr) in y.iter().enumerate() {
            let exact: f32 = (0..cols).map(|c| at(r, c) * x[c]).sum();
            assert!(
                (yr - exact).abs() < 0.05 * cols as f32 / 10.0,
                "{yr} vs {exact}"
            );
        }
        assert_eq!(dot_i8(&[1, -2, 3], &[4, 5, -6]), 4 - 10 - 18);
    }

    #[test]
    fn base64_codes_round_trip() {
        let q = QMatrix::quantize(2, 3, 0.0, |r, c| (r as f32 - c as f32) / 3.0);
        let s = serde_json::to_string(&q).expect("serialises");
        let back: QMatrix = serde_json::from_str(&s).expect("parses");
        assert_eq!(back, q);
    }
}

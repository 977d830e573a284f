//! Session graphs and the gated graph neural network of SR-GNN (Wu et al., AAAI 2019; Li et al. 2016
//! for gated GNNs).
//!
//! A session `s₁ … sₙ` becomes a directed graph over its distinct items (the nodes, in ascending item
//! order as SR-GNN's `np.unique`); each consecutive pair `sᵢ → sᵢ₊₁` is an edge (repeated pairs count
//! once). Messages travel both ways: node `v` receives the mean of `P_in` over its in-neighbours
//! (normalised by its in-degree) and of `P_out` over its out-neighbours (normalised by its
//! out-degree) — the `A_in`, `A_out` halves of SR-GNN's connection matrix. One propagation step is
//!
//! ```text
//! m_in  = A_in  (H W_in  + b_in)  + b_iah
//! m_out = A_out (H W_out + b_out) + b_oah
//! H'    = GRU([m_in, m_out], H)          (reset-after GRU cell, input width 2d)
//! ```
//!
//! A batch stacks the nodes of all its graphs (`nodes × d`), so every product is one matrix product;
//! aggregation is a sparse weighted sum over the edge lists. Cost per step: `nodes × d × 2d` for the
//! edge projections, `edges × d` for the aggregation and `nodes × (2d + d) × 3d` for the GRU cell,
//! about three times that backwards.

use ndarray::{s, Array2, Axis};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::dense::Dense;
use super::embedding::Embedding;
use super::packed::Packed;
use super::param::{sl, sl_mut, Param, Real};
use super::readout::{AttentionReadout, ReadoutCache};
use super::recurrent::{CellKind, Recurrent, RecurrentCache};

/// A batch of session graphs with their nodes stacked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionGraphs {
    /// Item of every node (graphs one after another).
    pub items: Vec<u32>,
    /// First node of every graph, plus the total at the end.
    pub node_offsets: Vec<usize>,
    /// For every click of every session, its node (global index); sessions one after another.
    pub alias: Vec<usize>,
    /// First click of every session in `alias`, plus the total at the end.
    pub click_offsets: Vec<usize>,
    /// `(to, from, weight)`: node `to` receives `weight × P_in[from]` (`weight = 1 / in-degree(to)`).
    pub in_edges: Vec<(usize, usize, f64)>,
    /// `(to, from, weight)`: node `to` receives `weight × P_out[from]` (`weight = 1 / out-degree(to)`).
    pub out_edges: Vec<(usize, usize, f64)>,
}

impl SessionGraphs {
    /// The graphs of `sessions` (each non-empty).
    pub fn new(sessions: &[&[u32]]) -> Self {
        let mut g = SessionGraphs {
            node_offsets: vec![0],
            click_offsets: vec![0],
            ..Default::default()
        };
        for s in sessions {
            let base = g.items.len();
            let mut nodes: Vec<u32> = s.to_vec();
            nodes.sort_unstable();
            nodes.dedup();
            let local = |item: u32| nodes.binary_search(&item).unwrap_or(0);
            g.alias.extend(s.iter().map(|&i| base + local(i)));
            let mut edges: Vec<(usize, usize)> =
                s.windows(2).map(|w| (local(w[0]), local(w[1]))).collect();
            edges.sort_unstable();
            edges.dedup();
            let mut indeg = vec![0usize; nodes.len()];
            let mut outdeg = vec![0usize; nodes.len()];
            for &(u, v) in &edges {
                outdeg[u] += 1;
                indeg[v] += 1;
            }
            for &(u, v) in &edges {
                g.in_edges.push((base + v, base + u, 1.0 / indeg[v] as f64));
                g.out_edges
                    .push((base + u, base + v, 1.0 / outdeg[u] as f64));
            }
            g.items.extend_from_slice(&nodes);
            g.node_offsets.push(g.items.len());
            g.click_offsets.push(g.alias.len());
        }
        g
    }

    /// Number of graphs.
    pub fn len(&self) -> usize {
        self.node_offsets.len() - 1
    }

    /// Whether there are no graphs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total nodes.
    pub fn nodes(&self) -> usize {
        self.items.len()
    }

    /// Clicks of every session (`click_offsets` differences).
    pub fn lengths(&self) -> Vec<usize> {
        self.click_offsets.windows(2).map(|w| w[1] - w[0]).collect()
    }
}

/// Graph aggregation: `out[to] += weight × x[from]` for every edge — the sparse product `A · X`.
/// Costs `edges × width`.
pub fn aggregate<T: Real>(edges: &[(usize, usize, f64)], x: &Array2<T>, rows: usize) -> Array2<T> {
    let d = x.ncols();
    let mut out = Array2::zeros((rows, d));
    let src = sl(x);
    let dst = sl_mut(&mut out);
    for &(to, from, w) in edges {
        let w = T::of(w);
        for (a, &b) in dst[to * d..(to + 1) * d]
            .iter_mut()
            .zip(&src[from * d..(from + 1) * d])
        {
            *a += w * b;
        }
    }
    out
}

/// Backward of [`aggregate`]: `dx[from] += weight × dout[to]` (the product `Aᵀ · dOut`).
pub fn aggregate_backward<T: Real>(
    edges: &[(usize, usize, f64)],
    dout: &Array2<T>,
    rows: usize,
) -> Array2<T> {
    let flipped: Vec<(usize, usize, f64)> = edges.iter().map(|&(t, f, w)| (f, t, w)).collect();
    aggregate(&flipped, dout, rows)
}

/// The gated GNN of SR-GNN: edge projections, message biases and a GRU cell over `2d`-wide messages.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(bound = "")]
pub struct Ggnn<T: Real> {
    /// Projection of the states sent along incoming edges (`d → d`).
    pub edge_in: Dense<T>,
    /// Projection of the states sent along outgoing edges (`d → d`).
    pub edge_out: Dense<T>,
    /// Bias added to the aggregated incoming messages (`1 × d`).
    pub b_iah: Param<T>,
    /// Bias added to the aggregated outgoing messages (`1 × d`).
    pub b_oah: Param<T>,
    /// GRU cell: input `[m_in, m_out]` (`2d`), state `d`.
    pub cell: Recurrent<T>,
    /// Propagation steps.
    pub steps: usize,
}

/// What [`Ggnn::backward`] needs: per step, its input states and the GRU cache.
#[derive(Clone, Debug)]
pub struct GgnnCache<T: Real> {
    inputs: Vec<Array2<T>>,
    cells: Vec<RecurrentCache<T>>,
}

impl<T: Real> Ggnn<T> {
    /// Every weight and bias uniform in `±1/√d` (SR-GNN's initialisation).
    pub fn new(dim: usize, steps: usize, rng: &mut ChaCha8Rng) -> Self {
        let a = 1.0 / (dim.max(1) as f64).sqrt();
        let edge_in = Dense::uniform(dim, dim, a, rng);
        let edge_out = Dense::uniform(dim, dim, a, rng);
        let b_iah = Param::uniform(1, dim, a, rng);
        let b_oah = Param::uniform(1, dim, a, rng);
        let mut cell = Recurrent::new(CellKind::Gru, 2 * dim, dim, rng);
        cell.b = Param::uniform(1, 3 * dim, a, rng);
        cell.bhn = Param::uniform(1, dim, a, rng);
        Ggnn {
            edge_in,
            edge_out,
            b_iah,
            b_oah,
            cell,
            steps,
        }
    }

    /// State width `d`.
    pub fn dim(&self) -> usize {
        self.edge_in.output()
    }

    /// The concatenated messages `[m_in, m_out]` every node receives from states `h`.
    fn messages(&self, g: &SessionGraphs, h: &Array2<T>) -> Array2<T> {
        let n = h.nrows();
        let d = self.dim();
        let mut m = Array2::zeros((n, 2 * d));
        let mut min = aggregate(&g.in_edges, &self.edge_in.forward(h), n);
        min += &self.b_iah.value;
        let mut mout = aggregate(&g.out_edges, &self.edge_out.forward(h), n);
        mout += &self.b_oah.value;
        m.slice_mut(s![.., ..d]).assign(&min);
        m.slice_mut(s![.., d..]).assign(&mout);
        m
    }

    /// Runs `steps` propagation steps from the node states `h0` (`nodes × d`).
    pub fn forward(&self, g: &SessionGraphs, h0: Array2<T>) -> (Array2<T>, GgnnCache<T>) {
        let packed = Packed::new(&vec![1; h0.nrows()]);
        let mut cache = GgnnCache {
            inputs: Vec::with_capacity(self.steps),
            cells: Vec::with_capacity(self.steps),
        };
        let mut h = h0;
        for _ in 0..self.steps {
            let m = self.messages(g, &h);
            let c = self.cell.forward(m, &packed, Some(&h), None);
            let next = c.h.clone();
            cache.inputs.push(h);
            cache.cells.push(c);
            h = next;
        }
        (h, cache)
    }

    /// Accumulates parameter gradients for the gradient `dh` of the final states; returns the
    /// gradient of the initial states.
    pub fn backward(
        &mut self,
        g: &SessionGraphs,
        cache: &GgnnCache<T>,
        dh: Array2<T>,
    ) -> Array2<T> {
        let d = self.dim();
        let mut dh = dh;
        for (h, c) in cache.inputs.iter().zip(&cache.cells).rev() {
            let n = h.nrows();
            let packed = Packed::new(&vec![1; n]);
            let (dm, mut dprev, _) = self.cell.backward(c, &packed, &dh);
            let dmin = dm.slice(s![.., ..d]).to_owned();
            let dmout = dm.slice(s![.., d..]).to_owned();
            self.b_iah.grad += &dmin.sum_axis(Axis(0)).insert_axis(Axis(0));
            self.b_oah.grad += &dmout.sum_axis(Axis(0)).insert_axis(Axis(0));
            let dpin = aggregate_backward(&g.in_edges, &dmin, n);
            let dpout = aggregate_backward(&g.out_edges, &dmout, n);
            dprev += &self.edge_in.backward(h, &dpin);
            dprev += &self.edge_out.backward(h, &dpout);
            dh = dprev;
        }
        dh
    }

    /// The trainable parameters.
    pub fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        let mut v = self.edge_in.params_mut();
        v.extend(self.edge_out.params_mut());
        v.push(&mut self.b_iah);
        v.push(&mut self.b_oah);
        v.extend(self.cell.params_mut());
        v
    }
}

/// SR-GNN's session encoder: each session becomes a graph ([`SessionGraphs`]) whose nodes start from
/// their rows of an item table, the gated GNN propagates them, and the attention readout
/// ([`AttentionReadout`]) turns the click states into one session vector `s_h`. The one home of this
/// path for the next-item SR-GNN (whose table is also its output layer) and the `srgnn` sequence
/// classifier (whose table is its token embedding).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(bound = "")]
pub struct GraphEncoder<T: Real> {
    /// Gated GNN.
    pub ggnn: Ggnn<T>,
    /// Attention readout with the hybrid projection.
    pub readout: AttentionReadout<T>,
}

/// A forward pass of [`GraphEncoder`] kept for its backward pass.
#[derive(Clone, Debug)]
pub struct GraphEncoderCache<T: Real> {
    graphs: SessionGraphs,
    ggnn: GgnnCache<T>,
    readout: ReadoutCache<T>,
}

impl<T: Real> GraphEncoder<T> {
    /// Width `dim`, `steps` propagation steps; every weight uniform in `±1/√dim`.
    pub fn new(dim: usize, steps: usize, rng: &mut ChaCha8Rng) -> Self {
        let ggnn = Ggnn::new(dim, steps, rng);
        let readout = AttentionReadout::new(dim, rng);
        GraphEncoder { ggnn, readout }
    }

    /// The session vectors (`sessions × d`) of `sessions` (each non-empty, ids `< table.nrows()`).
    pub fn forward(
        &self,
        table: &Array2<T>,
        sessions: &[&[u32]],
    ) -> (Array2<T>, GraphEncoderCache<T>) {
        let graphs = SessionGraphs::new(sessions);
        let h0 = Embedding::gather(table, &graphs.items);
        let (h, ggnn) = self.ggnn.forward(&graphs, h0);
        let clicks = h.select(Axis(0), &graphs.alias);
        let (s, readout) = self.readout.forward(&clicks, &graphs.lengths());
        (
            s,
            GraphEncoderCache {
                graphs,
                ggnn,
                readout,
            },
        )
    }

    /// Accumulates every gradient for the gradient `ds` of the session vectors; the item rows'
    /// gradients go into `table_grad`.
    pub fn backward(
        &mut self,
        cache: &GraphEncoderCache<T>,
        ds: &Array2<T>,
        table_grad: &mut Array2<T>,
    ) {
        let dclicks = self.readout.backward(&cache.readout, ds);
        let mut dh = Array2::zeros((cache.graphs.nodes(), ds.ncols()));
        for (row, &node) in cache.graphs.alias.iter().enumerate() {
            let mut r = dh.row_mut(node);
            r += &dclicks.row(row);
        }
        let dh0 = self.ggnn.backward(&cache.graphs, &cache.ggnn, dh);
        Embedding::scatter_add(table_grad, &cache.graphs.items, &dh0);
    }

    /// The trainable parameters.
    pub fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        let mut v = self.ggnn.params_mut();
        v.extend(self.readout.params_mut());
        v
    }
}

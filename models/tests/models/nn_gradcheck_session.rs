//! Finite-difference gradient checks (f64, central differences) for the layers and heads of the
//! session models: layer norm, positional embedding, causal multi-head self-attention, the
//! transformer block and encoder (with dropout), graph aggregation, the gated GNN cell over session
//! graphs, SR-GNN's attention readout, the whole SR-GNN and SASRec losses, and the `srgnn` and
//! `sasrec` sequence classifiers (graph or attention encoder, pooling, dropout, head) end to end.

use cartseq_models::nextitem::{SasRecNet, SrGnnNet};
use cartseq_models::nn::ggnn::{aggregate, aggregate_backward};
use cartseq_models::nn::{
    AttentionReadout, DropMode, EncoderKind, Ggnn, LayerNorm, Param, Pool, PositionalEmbedding,
    SelfAttention, SeqNet, SessionGraphs, Transformer, TransformerBlock,
};
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::nn_gradcheck::{check, layer_check, params_check, rand_mat, whole_network_check};

/// Checks every parameter gradient of a whole network `net` for `loss`, which runs the forward and
/// backward passes (accumulating the gradients) and returns the loss.
fn net_loss_check<N: Clone>(
    name: &str,
    net: &N,
    params: impl Fn(&mut N) -> Vec<&mut Param<f64>>,
    loss: impl Fn(&mut N) -> f64,
) {
    params_check(
        name,
        net,
        params,
        |n| loss(&mut n.clone()),
        |n| {
            loss(n);
        },
    );
}

/// Sessions with repeated items, a self-loop (`3 → 3`), a repeated edge and a one-click session.
fn sessions() -> Vec<Vec<u32>> {
    vec![
        vec![1, 2, 3, 3, 2, 5],
        vec![4, 0],
        vec![5],
        vec![2, 0, 2, 0, 1],
    ]
}

#[test]
fn layer_norm_gradient() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut ln = LayerNorm::new(5);
    ln.gain.value = rand_mat(1, 5, &mut rng) + 1.0;
    ln.bias.value = rand_mat(1, 5, &mut rng);
    let x = rand_mat(4, 5, &mut rng) * 2.0;
    layer_check(
        "layer_norm",
        ln,
        x,
        &mut rng,
        LayerNorm::params_mut,
        |ln, x| ln.forward(x),
        |ln, cache, dy| ln.backward(cache, dy),
    );
}

#[test]
fn positional_embedding_gradient() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    #[derive(Clone)]
    struct Case {
        pos: PositionalEmbedding<f64>,
        x: Array2<f64>,
    }
    let lengths = [3usize, 1, 2];
    let positions = PositionalEmbedding::<f64>::positions(&lengths);
    assert_eq!(positions, vec![0, 1, 2, 0, 0, 1]);
    let case = Case {
        pos: PositionalEmbedding::new(4, 3, 0.5, &mut rng),
        x: rand_mat(6, 3, &mut rng),
    };
    let r = rand_mat(6, 3, &mut rng);
    let loss = |c: &Case| {
        let mut y = c.x.clone();
        c.pos.forward(&mut y, &positions);
        (&y * &y * &r).sum()
    };
    let mut c2 = case.clone();
    let mut y = c2.x.clone();
    c2.pos.forward(&mut y, &positions);
    let dy = &y * &r * 2.0;
    c2.pos.backward(&positions, &dy);
    check(
        "positional",
        &case,
        loss,
        &[c2.pos.table.grad.clone(), dy],
        |c| vec![&mut c.pos.table.value, &mut c.x],
    );
}

fn attention_check(heads: usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(13 + heads as u64);
    let lengths = [4usize, 1, 3];
    let mut att = SelfAttention::new(4, heads, &mut rng);
    att.qkv.b.value = rand_mat(1, 12, &mut rng) * 0.3;
    att.out.b.value = rand_mat(1, 4, &mut rng) * 0.3;
    let x = rand_mat(8, 4, &mut rng);
    layer_check(
        &format!("self-attention heads={heads}"),
        att,
        x,
        &mut rng,
        SelfAttention::params_mut,
        |att, x| att.forward(x, &lengths),
        |att, cache, dy| att.backward(cache, dy),
    );
}

#[test]
fn self_attention_gradient() {
    attention_check(1);
    attention_check(2);
}

#[test]
fn self_attention_is_causal() {
    // Changing a later token never changes an earlier output.
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let att: SelfAttention<f64> = SelfAttention::new(4, 2, &mut rng);
    let x = rand_mat(5, 4, &mut rng);
    let mut x2 = x.clone();
    x2.row_mut(3).fill(7.0);
    let (a, _) = att.forward(&x, &[5]);
    let (b, _) = att.forward(&x2, &[5]);
    for t in 0..3 {
        assert_eq!(a.row(t), b.row(t), "row {t}");
    }
    assert_ne!(a.row(3), b.row(3));
}

#[test]
fn transformer_gradient_with_dropout() {
    let mut rng = ChaCha8Rng::seed_from_u64(15);
    let lengths = [3usize, 2, 1];
    let enc = Transformer::new(4, 2, 2, 3, &mut rng);
    let block = TransformerBlock::new(4, 1, &mut rng);
    let x = rand_mat(6, 4, &mut rng);
    // One block alone, then the encoder; the same seed draws the same dropout masks every time.
    layer_check(
        "transformer",
        (block, enc),
        x,
        &mut rng,
        |(block, enc): &mut (TransformerBlock<f64>, Transformer<f64>)| {
            let mut v = block.params_mut();
            v.extend(enc.params_mut());
            v
        },
        |(block, enc), x| {
            let mut d = ChaCha8Rng::seed_from_u64(77);
            let (y, bc) = block.forward(x, &lengths, &mut DropMode::Random(0.3, &mut d));
            let (z, ec) = enc.forward(y, &lengths, &mut DropMode::Random(0.3, &mut d));
            (z, (bc, ec))
        },
        |(block, enc), (bc, ec), dz| {
            let dy = enc.backward(ec, dz);
            block.backward(bc, &dy)
        },
    );
}

#[test]
fn session_graphs_follow_srgnn() {
    let s = sessions();
    let refs: Vec<&[u32]> = s.iter().map(Vec::as_slice).collect();
    let g = SessionGraphs::new(&refs);
    // Session 0: nodes 1, 2, 3, 5; edges 1→2, 2→3, 3→3, 3→2, 2→5.
    assert_eq!(&g.items[..4], &[1, 2, 3, 5]);
    assert_eq!(&g.alias[..6], &[0, 1, 2, 2, 1, 3]);
    // Node 2 (index 1) has in-edges from 1 and 3 (weight 1/2 each); node 3 (index 2) has out-edges
    // to 3 and 2 (weight 1/2 each).
    let mut into_2: Vec<_> = g.in_edges.iter().filter(|e| e.0 == 1).copied().collect();
    into_2.sort_by_key(|a| a.1);
    assert_eq!(into_2, vec![(1, 0, 0.5), (1, 2, 0.5)]);
    let mut out_of_3: Vec<_> = g.out_edges.iter().filter(|e| e.0 == 2).copied().collect();
    out_of_3.sort_by_key(|a| a.1);
    assert_eq!(out_of_3, vec![(2, 1, 0.5), (2, 2, 0.5)]);
    // The one-click session is a single node without edges; the last session repeats 2→0 once.
    assert_eq!(g.lengths(), vec![6, 2, 1, 5]);
    assert_eq!(g.nodes(), 4 + 2 + 1 + 3);
    let last = &g.node_offsets[3];
    assert_eq!(g.in_edges.iter().filter(|e| e.0 >= *last).count(), 3);
}

#[test]
fn graph_aggregation_gradient() {
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    let edges = vec![
        (0, 1, 0.5),
        (0, 2, 0.5),
        (2, 2, 1.0),
        (1, 0, 0.25),
        (3, 1, 1.0),
    ];
    let x = rand_mat(4, 3, &mut rng);
    let r = rand_mat(4, 3, &mut rng);
    let dx = aggregate_backward(&edges, &r, 4);
    check(
        "graph aggregation",
        &x,
        |x| (&aggregate(&edges, x, 4) * &r).sum(),
        &[dx],
        |x| vec![x],
    );
}

#[test]
fn ggnn_gradient() {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let s = sessions();
    let refs: Vec<&[u32]> = s.iter().map(Vec::as_slice).collect();
    let g = SessionGraphs::new(&refs);
    let net = Ggnn::new(3, 2, &mut rng);
    let h0 = rand_mat(g.nodes(), 3, &mut rng);
    layer_check(
        "ggnn (2 steps)",
        net,
        h0,
        &mut rng,
        Ggnn::params_mut,
        |net, h0| net.forward(&g, h0.clone()),
        |net, cache, dh| net.backward(&g, cache, dh.clone()),
    );
}

#[test]
fn attention_readout_gradient() {
    let mut rng = ChaCha8Rng::seed_from_u64(18);
    let lengths = [3usize, 1, 2];
    let ro = AttentionReadout::new(4, &mut rng);
    let h = rand_mat(6, 4, &mut rng);
    layer_check(
        "attention readout",
        ro,
        h,
        &mut rng,
        AttentionReadout::params_mut,
        |ro, h| ro.forward(h, &lengths),
        |ro, cache, dy| ro.backward(cache, dy),
    );
}

#[test]
fn srgnn_loss_gradient() {
    let mut rng = ChaCha8Rng::seed_from_u64(19);
    let net: SrGnnNet<f64> = SrGnnNet::new(6, 4, 1, &mut rng);
    let s = sessions();
    let refs: Vec<&[u32]> = s.iter().map(Vec::as_slice).collect();
    let targets = [0usize, 5, 5, 3];
    net_loss_check("srgnn loss", &net, SrGnnNet::params_mut, |n| {
        n.loss(&refs, &targets)
    });
}

#[test]
fn sasrec_loss_gradient_with_dropout() {
    let mut rng = ChaCha8Rng::seed_from_u64(20);
    let net: SasRecNet<f64> = SasRecNet::new(6, 4, 2, 2, 5, &mut rng);
    let s = sessions();
    let refs: Vec<&[u32]> = s
        .iter()
        .filter(|s| s.len() >= 2)
        .map(Vec::as_slice)
        .collect();
    net_loss_check("sasrec loss", &net, SasRecNet::params_mut, |n| {
        let mut d = ChaCha8Rng::seed_from_u64(5);
        n.loss(&refs, &mut DropMode::Random(0.2, &mut d))
    });
}

/// The sequence classifiers' session encoders through the whole network (embedding with its
/// out-of-vocabulary row, encoder, dropout, head, softmax or sigmoid loss), an empty sequence
/// included: SR-GNN's graph encoder with one and two steps, the transformer pooled by its last and
/// by its mean state, with and without dropout.
#[test]
fn session_encoder_classifiers_gradient() {
    let cases = [
        (EncoderKind::Graph { steps: 1 }, 3, 0.0),
        (EncoderKind::Graph { steps: 2 }, 1, 0.3),
        (
            EncoderKind::Attention {
                blocks: 2,
                heads: 2,
                pool: Pool::Last,
            },
            3,
            0.2,
        ),
        (
            EncoderKind::Attention {
                blocks: 1,
                heads: 1,
                pool: Pool::Mean,
            },
            1,
            0.0,
        ),
    ];
    for (i, (encoder, outputs, dropout)) in cases.into_iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(60 + i as u64);
        let net: SeqNet<f64> = SeqNet::with_encoder(encoder, 7, 4, 6, outputs, dropout, &mut rng);
        assert!(net.layers.is_empty() && net.encoder.is_some());
        let name = format!("{encoder:?} outputs={outputs} dropout={dropout}");
        whole_network_check(&name, net, outputs);
    }
}

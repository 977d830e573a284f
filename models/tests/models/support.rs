//! Shared helpers of the models test binary: the generated datasets several areas fit on.

use cartseq_models::{Dataset, ModelSpec, Sequences};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `n` rows of 5 features with an interaction (`x0 + 0.5 · x1 · x2` plus noise) cut into `k` classes,
/// varied sample weights, and one token sequence per row (the sign pattern of its features) for the
/// sequence models.
pub fn data(n: usize, k: usize, seed: u64) -> Dataset {
    data_with(n, k, seed, 5, None)
}

/// Rows like [`data`] with `cols` features (at least 3), each rounded to a multiple of `1 / grid`
/// when a grid is given.
pub fn data_with(n: usize, k: usize, seed: u64, cols: usize, grid: Option<f64>) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = Array2::from_shape_fn((n, cols), |(_, j)| {
        let v = rng.gen_range(-1.0..1.0) * (1.0 + j as f64);
        grid.map_or(v, |g| (v * g).round() / g)
    });
    let y: Array1<usize> = x
        .rows()
        .into_iter()
        .map(|r| {
            let s = r[0] + 0.5 * r[1] * r[2] + rng.gen_range(-0.3..0.3);
            if k == 2 {
                usize::from(s > 0.0)
            } else {
                usize::from(s > -0.5) + usize::from(s > 0.5)
            }
        })
        .collect();
    let mut ds = Dataset::new(x.clone(), y, k).unwrap();
    ds.weights = Some((0..n).map(|i| 0.5 + (i % 4) as f64 * 0.5).collect());
    ds.seqs = Some(sign_tokens(&x));
    ds
}

/// One sequence per row: token `2j + (x_j > 0)` for each feature `j`.
pub fn sign_tokens(x: &Array2<f64>) -> Sequences {
    let mut seqs = Sequences::empty(2 * x.ncols());
    for r in x.rows() {
        seqs.push_row(
            r.iter()
                .enumerate()
                .map(|(j, &v)| 2 * j as u32 + u32::from(v > 0.0)),
        );
    }
    seqs
}

/// A classification data set of token sequences alone (no feature columns): `n` rows drawn in turn
/// by `row` from `ChaCha8Rng(seed)`, each its tokens (ids below `vocab`) and its label (below
/// `classes`).
pub fn sequence_task(
    n: usize,
    seed: u64,
    vocab: usize,
    classes: usize,
    mut row: impl FnMut(&mut ChaCha8Rng) -> (Vec<u32>, usize),
) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut seqs = Sequences::empty(vocab);
    let mut y = Vec::new();
    for _ in 0..n {
        let (tokens, label) = row(&mut rng);
        seqs.push_row(tokens);
        y.push(label);
    }
    let mut ds = Dataset::new(Array2::zeros((n, 0)), Array1::from(y), classes).expect("dataset");
    ds.seqs = Some(seqs);
    ds
}

/// Whether `name` is a sequence model.
pub fn is_nn(name: &str) -> bool {
    ModelSpec::defaults(name).is_some_and(|s| s.needs_seq())
}

/// Small, quick `--param`s for the sequence model `name`: `epochs`, the embedding width, and the
/// recurrent width when it has recurrent layers (`srgnn` and `sasrec` have none).
pub fn quick_nn(name: &str, epochs: usize, hidden: usize, embed: usize) -> Vec<String> {
    let mut v = vec![format!("epochs={epochs}"), format!("embed_dim={embed}")];
    if ModelSpec::info(name).is_some_and(|i| i.params.iter().any(|p| p.starts_with("hidden="))) {
        v.push(format!("hidden={hidden}"));
    }
    v
}

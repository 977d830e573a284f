//! The one seeded subsample of rows: where a computation is capped at `m` rows (the bin cut points of
//! the tree models, the silhouette score and the t-SNE map of `cartseq segment`), it reads
//! [`sorted_sample`]'s rows, so the same seed picks the same rows everywhere.
//!
//! A ChaCha8 generator seeded with `seed` draws `m` distinct indices of `0..n` with
//! `rand::seq::index::sample` (uniform without replacement; the draws depend on `n` and `m` only, so
//! the sample is the same on every platform and thread count), then they are sorted so the rows are
//! read in file order. Cost: `O(m log m)` time, `O(m)` memory (`O(n)` when every row is kept).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// `m` distinct row indices of `0..n` drawn with `seed`, ascending; every row `0..n` (no draw at all)
/// when `n <= m`.
pub fn sorted_sample(n: usize, m: usize, seed: u64) -> Vec<usize> {
    if n <= m {
        return (0..n).collect();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rows = rand::seq::index::sample(&mut rng, n, m).into_vec();
    rows.sort_unstable();
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_rows_when_few() {
        assert_eq!(sorted_sample(4, 4, 1), vec![0, 1, 2, 3]);
        assert_eq!(sorted_sample(3, 10, 1), vec![0, 1, 2]);
        assert!(sorted_sample(0, 5, 1).is_empty());
    }

    #[test]
    fn distinct_sorted_seeded() {
        let a = sorted_sample(1000, 50, 7);
        assert_eq!(a.len(), 50);
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert!(a.iter().all(|&i| i < 1000));
        assert_eq!(a, sorted_sample(1000, 50, 7));
        assert_ne!(a, sorted_sample(1000, 50, 8));
        assert!(sorted_sample(10, 0, 7).is_empty());
    }

    #[test]
    fn the_draws_of_rand_index_sample() {
        // The rows the callers read before this module existed: the same generator and draw.
        let mut rng = ChaCha8Rng::seed_from_u64(0x5eed_b145);
        let mut want = rand::seq::index::sample(&mut rng, 5000, 300).into_vec();
        want.sort_unstable();
        assert_eq!(sorted_sample(5000, 300, 0x5eed_b145), want);
    }
}

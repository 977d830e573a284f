//! The dataset every model reads: features, labels, weights, names and optional token sequences.

use ndarray::{Array1, Array2, Axis};

use crate::error::ModelError;

/// One variable-length token sequence per row, stored flat (`tokens[offsets[i]..offsets[i+1]]`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sequences {
    /// All tokens, rows concatenated. Token ids are `< vocab`.
    pub tokens: Vec<u32>,
    /// Row starts with an end sentinel (`len = rows + 1`).
    pub offsets: Vec<usize>,
    /// Size of the token vocabulary.
    pub vocab: usize,
}

impl Sequences {
    /// No row yet, over a vocabulary of `vocab` tokens: rows follow with [`Sequences::push_row`].
    pub fn empty(vocab: usize) -> Sequences {
        Sequences {
            tokens: Vec::new(),
            offsets: vec![0],
            vocab,
        }
    }

    /// Appends one row of tokens.
    pub fn push_row(&mut self, row: impl IntoIterator<Item = u32>) {
        self.tokens.extend(row);
        self.offsets.push(self.tokens.len());
    }

    /// Row `i`'s tokens.
    #[inline]
    pub fn row(&self, i: usize) -> &[u32] {
        &self.tokens[self.offsets[i]..self.offsets[i + 1]]
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows at `idx`, in that order.
    pub fn select(&self, idx: &[usize]) -> Sequences {
        let mut s = Sequences::empty(self.vocab);
        s.offsets.reserve(idx.len());
        for &i in idx {
            s.push_row(self.row(i).iter().copied());
        }
        s
    }
}

/// Features (`x`, rows × columns), class labels `0..n_classes`, optional sample weights, feature names
/// and optional token sequences aligned with the rows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dataset {
    /// Feature matrix (may have zero columns for a pure sequence dataset).
    pub x: Array2<f64>,
    /// Class label of each row.
    pub y: Array1<usize>,
    /// Sample weight of each row (`None` = all 1).
    pub weights: Option<Array1<f64>>,
    /// Column names (`len = x.ncols()`).
    pub feature_names: Vec<String>,
    /// Number of classes (labels are `< n_classes`).
    pub n_classes: usize,
    /// One token sequence per row, for sequence models.
    pub seqs: Option<Sequences>,
}

impl Dataset {
    /// A dataset from features and labels, checked: shapes agree and labels are `< n_classes`.
    /// Feature names default to `f0, f1, …`.
    pub fn new(x: Array2<f64>, y: Array1<usize>, n_classes: usize) -> Result<Self, ModelError> {
        if x.nrows() != y.len() {
            return Err(ModelError::Data(format!(
                "{} feature rows but {} labels",
                x.nrows(),
                y.len()
            )));
        }
        if let Some(&bad) = y.iter().find(|&&c| c >= n_classes) {
            return Err(ModelError::Data(format!(
                "label {bad} is not below n_classes = {n_classes}"
            )));
        }
        let feature_names = (0..x.ncols()).map(|j| format!("f{j}")).collect();
        Ok(Dataset {
            x,
            y,
            weights: None,
            feature_names,
            n_classes,
            seqs: None,
        })
    }

    /// Number of rows.
    pub fn nrows(&self) -> usize {
        self.y.len()
    }

    /// Number of feature columns.
    pub fn ncols(&self) -> usize {
        self.x.ncols()
    }

    /// Weight of row `i` (1 when unweighted).
    #[inline]
    pub fn weight(&self, i: usize) -> f64 {
        self.weights.as_ref().map_or(1.0, |w| w[i])
    }

    /// The rows at `idx`, in that order (features, labels, weights and sequences).
    pub fn select(&self, idx: &[usize]) -> Dataset {
        Dataset {
            x: self.x.select(Axis(0), idx),
            y: idx.iter().map(|&i| self.y[i]).collect(),
            weights: self
                .weights
                .as_ref()
                .map(|w| idx.iter().map(|&i| w[i]).collect()),
            feature_names: self.feature_names.clone(),
            n_classes: self.n_classes,
            seqs: self.seqs.as_ref().map(|s| s.select(idx)),
        }
    }

    /// Weighted count of each class.
    pub fn class_weights_sum(&self) -> Vec<f64> {
        let mut c = vec![0.0; self.n_classes];
        for (i, &y) in self.y.iter().enumerate() {
            c[y] += self.weight(i);
        }
        c
    }
}

/// Data of the learners' unit tests: `n` rows of `d` features uniform in [-1, 1) drawn from
/// `ChaCha8Rng(seed)`, then labelled row by row by `label`, which may draw noise from the same generator.
#[cfg(test)]
pub(crate) fn uniform_test_data(
    (n, d): (usize, usize),
    seed: u64,
    mut label: impl FnMut(ndarray::ArrayView1<f64>, &mut rand_chacha::ChaCha8Rng) -> usize,
) -> (Array2<f64>, Array1<usize>) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let x = Array2::from_shape_fn((n, d), |_| rng.gen_range(-1.0..1.0));
    let y = x.rows().into_iter().map(|r| label(r, &mut rng)).collect();
    (x, y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn select_keeps_rows_aligned() {
        let mut ds = Dataset::new(array![[1.0], [2.0], [3.0]], array![0, 1, 1], 2).unwrap();
        ds.seqs = Some(Sequences {
            tokens: vec![5, 6, 7, 8],
            offsets: vec![0, 1, 3, 4],
            vocab: 9,
        });
        let s = ds.select(&[2, 0]);
        assert_eq!(s.x, array![[3.0], [1.0]]);
        assert_eq!(s.y, array![1, 0]);
        assert_eq!(s.seqs.as_ref().unwrap().row(0), &[8]);
        assert_eq!(ds.class_weights_sum(), vec![1.0, 2.0]);
    }

    #[test]
    fn bad_labels_are_refused() {
        assert!(Dataset::new(array![[1.0]], array![2], 2).is_err());
        assert!(Dataset::new(array![[1.0], [2.0]], array![0], 2).is_err());
    }
}

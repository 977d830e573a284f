//! Class weights and the effective per-row weights every learner trains on.
//!
//! The effective weight of row `i` is `sample_weight[i] * class_weight[y[i]]`, as in scikit-learn:
//! `balanced` gives class `c` the weight `n_rows / (n_classes * count_c)` where `count_c` is the
//! unweighted number of rows of class `c` (`sklearn.utils.class_weight.compute_class_weight`).

use serde::{Deserialize, Serialize};

use crate::params::ParamValue;
use crate::{Dataset, ModelError};

/// How classes are weighted during fitting.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum ClassWeight {
    /// Every class weighs 1.
    #[default]
    None,
    /// `n_rows / (n_classes * count_c)`: rare classes weigh more.
    Balanced,
    /// One weight per class (`len = n_classes`).
    Explicit(Vec<f64>),
}

impl ClassWeight {
    /// Parses `none`, `balanced` or a comma-separated list of non-negative weights (`1,4.5`).
    pub fn parse(s: &str) -> Result<Self, ModelError> {
        let bad = || {
            ModelError::invalid(
                "class_weight",
                s,
                "none, balanced or a comma-separated list of non-negative numbers (one per class)",
            )
        };
        match s.trim() {
            "none" | "" => Ok(ClassWeight::None),
            "balanced" => Ok(ClassWeight::Balanced),
            list => {
                let w: Vec<f64> = list
                    .split(',')
                    .map(|t| t.trim().parse::<f64>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| bad())?;
                if w.iter().any(|v| !v.is_finite() || *v < 0.0) {
                    return Err(bad());
                }
                Ok(ClassWeight::Explicit(w))
            }
        }
    }

    /// The weight of each class for this dataset.
    pub fn per_class(&self, ds: &Dataset) -> Result<Vec<f64>, ModelError> {
        let k = ds.n_classes;
        match self {
            ClassWeight::None => Ok(vec![1.0; k]),
            ClassWeight::Balanced => {
                let mut counts = vec![0usize; k];
                for &y in ds.y.iter() {
                    counts[y] += 1;
                }
                let n = ds.nrows() as f64;
                let present = counts.iter().filter(|&&c| c > 0).count().max(1) as f64;
                Ok(counts
                    .iter()
                    .map(|&c| {
                        if c == 0 {
                            1.0
                        } else {
                            n / (present * c as f64)
                        }
                    })
                    .collect())
            }
            ClassWeight::Explicit(w) => {
                if w.len() != k {
                    return Err(ModelError::Data(format!(
                        "class_weight lists {} weights but the dataset has {k} classes",
                        w.len()
                    )));
                }
                Ok(w.clone())
            }
        }
    }
}

impl ParamValue for ClassWeight {
    fn set(&mut self, _key: &str, text: &str) -> Result<(), ModelError> {
        *self = ClassWeight::parse(text)?;
        Ok(())
    }
    fn show(&self) -> String {
        match self {
            ClassWeight::None => "none".into(),
            ClassWeight::Balanced => "balanced".into(),
            ClassWeight::Explicit(w) => {
                let parts: Vec<String> = w.iter().map(ParamValue::show).collect();
                parts.join(",")
            }
        }
    }
}

/// Effective weight of every row: sample weight × class weight, checked finite and non-negative with a
/// positive total.
pub fn effective_weights(ds: &Dataset, cw: &ClassWeight) -> Result<Vec<f64>, ModelError> {
    let per_class = cw.per_class(ds)?;
    let mut w = Vec::with_capacity(ds.nrows());
    for (i, &y) in ds.y.iter().enumerate() {
        let v = ds.weight(i) * per_class[y];
        if !v.is_finite() || v < 0.0 {
            return Err(ModelError::Data(format!(
                "row {i} has weight {v}; weights must be finite and >= 0"
            )));
        }
        w.push(v);
    }
    if w.iter().sum::<f64>() <= 0.0 {
        return Err(ModelError::Data("the sample weights sum to zero".into()));
    }
    Ok(w)
}

/// The rows' effective weights after checking the dataset ([`check_fit_data`] then
/// [`effective_weights`]): how every learner starts fitting.
pub fn checked_weights(
    ds: &Dataset,
    cw: &ClassWeight,
    allow_nan: bool,
) -> Result<Vec<f64>, ModelError> {
    check_fit_data(ds, allow_nan)?;
    effective_weights(ds, cw)
}

/// Total effective weight of each class (`w` from [`effective_weights`]), summed in row order.
pub fn class_totals(ds: &Dataset, w: &[f64]) -> Vec<f64> {
    let mut c = vec![0.0; ds.n_classes];
    for (i, &y) in ds.y.iter().enumerate() {
        c[y] += w[i];
    }
    c
}

/// Refuses an empty dataset or one whose feature matrix holds a non-finite value (NaN is allowed only
/// where `allow_nan`).
pub fn check_fit_data(ds: &Dataset, allow_nan: bool) -> Result<(), ModelError> {
    if ds.nrows() == 0 {
        return Err(ModelError::Data("no rows to fit on".into()));
    }
    if ds.n_classes < 1 {
        return Err(ModelError::Data("n_classes must be at least 1".into()));
    }
    if ds.x.nrows() != ds.y.len() {
        return Err(ModelError::Data(format!(
            "{} feature rows but {} labels",
            ds.x.nrows(),
            ds.y.len()
        )));
    }
    if let Some(w) = &ds.weights {
        if w.len() != ds.nrows() {
            return Err(ModelError::Data(format!(
                "{} weights for {} rows",
                w.len(),
                ds.nrows()
            )));
        }
    }
    for (i, row) in ds.x.rows().into_iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            if v.is_infinite() || (!allow_nan && v.is_nan()) {
                let name = ds.feature_names.get(j).map_or("?", |s| s.as_str());
                return Err(ModelError::Data(format!(
                    "row {i}, feature {name}: value {v} is not finite"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn balanced_matches_sklearn_formula() {
        let ds = Dataset::new(array![[0.], [0.], [0.], [1.]], array![0, 0, 0, 1], 2).unwrap();
        let w = ClassWeight::Balanced.per_class(&ds).unwrap();
        assert!((w[0] - 4.0 / 6.0).abs() < 1e-12 && (w[1] - 2.0).abs() < 1e-12);
        assert_eq!(
            ClassWeight::parse("1, 2").unwrap(),
            ClassWeight::Explicit(vec![1.0, 2.0])
        );
        assert!(ClassWeight::parse("x").is_err());
        assert!(ClassWeight::Explicit(vec![1.0]).per_class(&ds).is_err());
    }
}

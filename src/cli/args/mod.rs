//! Flag groups shared by several subcommands, each converted into the library's configuration type:
//! `input` → [`cartseq::input::InputSpec`], `task` → [`cartseq::tasks::TaskSpec`] and the pattern
//! featurizer's parameters, `model` → the learners to fit (model names, `--param`, ensembles).

pub mod input;
pub mod model;
pub mod task;

/// The frequent-itemset algorithms of `itemsets` and `rules --kind association`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ItemsetAlgo {
    /// FP-Growth (Han et al. 2000).
    Fpgrowth,
    /// Apriori (Agrawal & Srikant 1994).
    Apriori,
}

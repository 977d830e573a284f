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

impl From<ItemsetAlgo> for cartseq_mining::itemsets::ItemsetAlgorithm {
    fn from(a: ItemsetAlgo) -> Self {
        match a {
            ItemsetAlgo::Fpgrowth => Self::FpGrowth,
            ItemsetAlgo::Apriori => Self::Apriori,
        }
    }
}

/// Where and how an export of ranked rows (itemsets, rules) is written: `--top`, `-o`, `--format`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Keep the first N rows after sorting; 0 = all.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub top: usize,
    /// Output file (default: standard output). Written atomically, with OUT.manifest.json.
    #[arg(long, short = 'o', value_name = "OUT")]
    pub output: Option<std::path::PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: cartseq::export::ExportFormat,
}

/// `--help` section headings, one home for each so every command groups its flags the same way.
pub mod heading {
    /// `--help` heading of the input-format flags.
    pub const INPUT: &str = "Input";
    /// `--help` heading of the generic preset's column flags.
    pub const GENERIC_COLUMNS: &str = "Generic columns";
    /// `--help` heading of the sequence-building flags.
    pub const SEQUENCES: &str = "Sequences";
    /// `--help` heading of the nearest-neighbour and rule baselines' flags.
    pub const BASELINES: &str = "Baselines";
    /// `--help` heading of the ensemble flags.
    pub const ENSEMBLES: &str = "Ensembles";
    /// `--help` heading of the mining flags.
    pub const MINING: &str = "Mining";
    /// `--help` heading of the network flags.
    pub const NETWORK: &str = "Network";
    /// `--help` heading of the output flags.
    pub const OUTPUT: &str = "Output";
    /// `--help` heading of the pattern-feature flags.
    pub const PATTERN_FEATURES: &str = "Pattern features";
    /// `--help` heading of the task flags.
    pub const TASK: &str = "Task";
}

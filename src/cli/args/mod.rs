//! Flag groups shared by several subcommands, each converted into the library's configuration type:
//! `input` → [`cartseq::input::InputSpec`], `task` → [`cartseq::tasks::TaskSpec`] and the pattern
//! featurizer's parameters, `model` → the learners to fit (model names, `--param`, ensembles).

pub mod input;
pub mod model;
pub mod task;

use std::ffi::OsStr;
use std::marker::PhantomData;
use std::str::FromStr;

use cartseq::export::ExportFormat;
use cartseq_data::NamedEnum;
use clap::builder::{PossibleValue, TypedValueParser};
use clap::{Arg, Command};

/// The command line's one parser for a library setting chosen by name (a [`NamedEnum`] from a
/// `cartseq_data::named_enum!` table): `--help` lists the table's names, an alias or another
/// spelling is accepted where the table says so, and a bad value gets the table's error, e.g.
/// `invalid value 'gini' for '--pattern-select <PATTERN_SELECT>': expected a discrimination measure
/// (infogain, chi2 or supdiff), found "gini"`. A choice that exists only on the command line (an
/// output format of one command) stays a `clap::ValueEnum`; a library enum never gets a copy here.
pub fn named<T: NamedEnum>() -> Named<T> {
    Named(PhantomData)
}

/// The parser [`named`] returns.
#[derive(Clone, Copy, Debug)]
pub struct Named<T>(PhantomData<fn() -> T>);

impl<T> TypedValueParser for Named<T>
where
    T: NamedEnum + FromStr<Err = String> + Send + Sync,
{
    type Value = T;

    fn parse_ref(&self, cmd: &Command, arg: Option<&Arg>, value: &OsStr) -> Result<T, clap::Error> {
        (|s: &str| s.parse::<T>()).parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(T::NAMES.iter().map(|&n| PossibleValue::new(n))))
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
    #[arg(long, value_parser = named::<ExportFormat>(), default_value = "csv")]
    pub format: ExportFormat,
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

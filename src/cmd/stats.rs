//! `cartseq stats INPUT --preset P [--json]` — describes a log. Memory: the sequence database.

use std::path::PathBuf;

use cartseq_data::input::{open_input, LineReader};
use cartseq_data::OnError;

use crate::cmd::Global;

/// Arguments of `stats`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input file (`-` for stdin; `.gz` is decoded).
    pub input: PathBuf,
}

/// Runs `stats`.
pub fn run(args: Args, _global: &Global) -> anyhow::Result<()> {
    let input = open_input(&args.input)?;
    let read = cartseq_data::spmf::read_spmf(&mut LineReader::from_input(input), OnError::Fail)?;
    println!("sequences: {}", read.db.len());
    println!("itemsets: {}", read.db.num_itemsets());
    println!("items: {}", read.db.num_items());
    Ok(())
}

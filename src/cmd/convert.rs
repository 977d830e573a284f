//! `cartseq convert INPUT --preset P -o OUT` — reads a log and writes SPMF sequences (`OUT`) plus the
//! dictionary of names (`OUT.dict.json`). Memory: the sequence database (≈ 4–16 bytes per event) plus the
//! dictionary; the input is streamed.

use std::path::PathBuf;

use anyhow::Context;
use cartseq_data::input::{open_input, LineReader};
use cartseq_data::OnError;

use crate::cmd::Global;
use crate::output::AtomicFile;

/// Arguments of `convert`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input file (`-` for stdin; `.gz` is decoded).
    pub input: PathBuf,
    /// Output SPMF file; the dictionary is written beside it as `OUT.dict.json`.
    #[arg(short, long)]
    pub output: PathBuf,
}

/// Runs `convert`.
pub fn run(args: Args, _global: &Global) -> anyhow::Result<()> {
    let input = open_input(&args.input)?;
    let read = cartseq_data::spmf::read_spmf(&mut LineReader::from_input(input), OnError::Fail)?;
    let mut out = AtomicFile::create(&args.output)?;
    cartseq_data::spmf::write_spmf(&read.db, &mut out).context("writing sequences")?;
    let dict_path = cartseq_data::Dictionary::path_beside(&args.output);
    let mut dict = AtomicFile::create(&dict_path)?;
    read.dict.write_json(&mut dict)?;
    dict.commit()?;
    out.commit()
}

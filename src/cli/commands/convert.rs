//! `cartseq convert INPUT --preset P [sequence options] -o OUT [--format spmf|parquet|arrow]`
//!
//! With `--format parquet` or `arrow`, the log itself is written instead, as a typed columnar file
//! (`user`, `session`, `time` in UTC milliseconds, `item`, `category`, `action`, `quantity`, `price`:
//! [`cartseq::tables::events`]) with `OUT.manifest.json`; every command reads such a file back by its
//! column names (`cartseq stats OUT`), so a CSV log is parsed once.
//!
//! Reads a behaviour log (any preset), builds its sequences and writes them in SPMF format to `OUT`, plus
//! the dictionary of names (items, categories, actions, users, tokens) to `OUT.dict.json`, so every later
//! result can be shown with the original names. SPMF asks for positive item numbers, so token `k` of
//! the dictionary is written as item `k + 1` (the dictionary records the shift; SPMF and basket input
//! keep their own numbers). Both files appear only when complete (written to a
//! temporary file, then renamed); on any error neither is left behind. With `--times`, each itemset is
//! preceded by its timestamp `<ms>` (SPMF's timestamped format).
//!
//! Memory: the event log (≈ 17–21 bytes per event for Taobao-shaped logs) plus the dictionary; the
//! input is streamed, and the sequence database is built over the log's own columns as they are freed
//! (`cartseq_data::sessions::build_sequences_owned`), so the peak is about the log plus the names
//! (≈ 29 bytes per event on a 10M-row Taobao-shaped file). Time: one pass over the input, a counting
//! sort by key, a sort by time within each key.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use cartseq_data::spmf::{write_spmf_shifted, SPMF_TOKEN_SHIFT};
use cartseq_data::Dictionary;

use crate::cli::args::input::InputArgs;
use crate::cli::Global;
use cartseq::export::{check_export_path, write_batch, write_export, Columnar};
use cartseq::manifest::Manifest;
use cartseq::output::{check_all_writable, commit_all, is_regular_target, AtomicFile};

/// Arguments of `convert`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input, format and sequence options.
    #[command(flatten)]
    pub input: InputArgs,
    /// Output SPMF file; the dictionary is written beside it as `OUT.dict.json`.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
    /// Write each itemset's timestamp (`<ms>`) before it (SPMF's timestamped sequence format).
    #[arg(long)]
    pub times: bool,
    /// spmf: the sequences (and OUT.dict.json); parquet or arrow: the event log itself, typed columns
    /// (and OUT.manifest.json), for any command to read back.
    #[arg(long, value_enum, default_value = "spmf")]
    pub format: ConvertFormat,
}

/// Output format of `convert`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ConvertFormat {
    /// SPMF sequences plus the dictionary.
    Spmf,
    /// The event log as Apache Parquet (zstd).
    Parquet,
    /// The event log as an Arrow IPC file (Feather v2).
    Arrow,
}

/// Writes the event log of `args.input` as Parquet or Arrow IPC, with its manifest.
fn write_log(args: &Args, format: Columnar, global: &Global) -> anyhow::Result<()> {
    check_export_path(Some(&args.output))?;
    let started = std::time::Instant::now();
    let spec = args.input.spec()?;
    let (log, dict, skipped) = spec.load_events(global.quiet)?;
    let batch = cartseq::tables::events(&log, &dict)?;
    let name = if format == Columnar::Parquet {
        "parquet"
    } else {
        "arrow"
    };
    let rows = write_export(
        Some(&args.output),
        name,
        |w| write_batch(w, &batch, format),
        |_| {
            let mut m = Manifest::new("convert");
            m.param("preset", spec.preset().to_string())
                .count("events", log.len() as u64)
                .count("skipped_rows", skipped.total());
            m.input(&spec.path)?;
            Ok(Some(m))
        },
    )?;
    if !global.quiet {
        eprintln!(
            "wrote {rows} events to {} ({name}) in {:.2}s",
            args.output.display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// Runs `convert`.
pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    match args.format {
        ConvertFormat::Parquet => return write_log(&args, Columnar::Parquet, global),
        ConvertFormat::Arrow => return write_log(&args, Columnar::Arrow, global),
        ConvertFormat::Spmf => {}
    }
    if args.output.as_os_str() == "-" {
        anyhow::bail!("-o needs a file name (the dictionary is written beside it)");
    }
    let dict_path = Dictionary::path_beside(&args.output);
    check_all_writable([args.output.as_path()])?;
    if is_regular_target(&args.output) {
        check_all_writable([dict_path.as_path()])?;
    }
    let started = std::time::Instant::now();
    let loaded = args.input.spec()?.load_sequences(global.quiet)?;
    let db = if args.times {
        loaded.db
    } else {
        loaded.db.without_times()
    };
    if db.is_empty() {
        anyhow::bail!(
            "{}: no sequence is left after the filters (check --actions, --from/--to, --min-len)",
            loaded.path.display()
        );
    }
    // SPMF asks for positive item numbers: named tokens are written as id + 1 (the dictionary records
    // the shift); a numeric vocabulary (SPMF, basket input) keeps the input's own numbers.
    let shift = if loaded.dict.tokens.is_numeric() {
        0
    } else {
        SPMF_TOKEN_SHIFT
    };
    let mut out = AtomicFile::create(&args.output)?;
    write_spmf_shifted(&db, &mut out, shift)
        .with_context(|| format!("writing {}", args.output.display()))?;
    out.flush()
        .with_context(|| format!("writing {}", args.output.display()))?;
    if !is_regular_target(&args.output) {
        // A device or FIFO (e.g. /dev/stdout) gets the sequences only: no file can sit beside it.
        commit_all(vec![out])?;
        if !global.quiet {
            eprintln!(
                "no dictionary written: {} is not a regular file",
                args.output.display()
            );
        }
        return Ok(());
    }
    let mut dict_file = AtomicFile::create(&dict_path)?;
    loaded
        .dict
        .write_json_for_spmf(&mut dict_file, shift)
        .with_context(|| format!("writing {}", dict_path.display()))?;
    // Both files are complete: rename them into place together (dictionary first, so a reader never
    // finds a sequence file without its names; if either rename fails, neither is left changed).
    commit_all(vec![dict_file, out])?;
    if !global.quiet {
        eprintln!(
            "wrote {} sequences ({} itemsets, {} events, {} distinct tokens) to {} and {} in {:.2}s",
            db.len(),
            db.num_itemsets(),
            db.num_items(),
            cartseq_data::SequenceDb::distinct_items(&db),
            args.output.display(),
            dict_path.display(),
            started.elapsed().as_secs_f64()
        );
    }
    // Both files are written: the process is about to exit, so skip freeing ~1M names one by one.
    std::mem::forget(db);
    std::mem::forget(loaded.dict);
    Ok(())
}

//! Any input straight into a [`SequenceDb`]: event logs through a preset reader and the session
//! builder, SPMF and basket files as the sequences they already are.
//!
//! This module sits above [`crate::presets`], [`crate::spmf`] and [`crate::sessions`] and is the only
//! one that needs all three; none of them imports it (see the crate docs for the module layers).

use std::io::BufRead;
use std::path::Path;

use crate::dictionary::Dictionary;
use crate::error::{DataError, OnError, SkipReport};
use crate::input::{open_input, LineReader};
use crate::presets::{read_basket, read_events_from, Preset, PresetConfig};
use crate::sequence_db::SequenceDb;
use crate::sessions::{build_sequences_owned, filter_db, SequenceOptions};
use crate::spmf::read_spmf;

/// Reads any input into a [`SequenceDb`]: event presets are read with [`read_events_from`] and turned
/// into sequences with [`crate::sessions::build_sequences`]; `spmf` and `basket` input are sequences
/// already (only `min_len`/`max_len` apply; other sequence options are refused). `progress` receives the
/// bytes read so far.
pub fn read_sequences_from<R: BufRead + Send>(
    lines: &mut LineReader<R>,
    cfg: &PresetConfig,
    on_error: OnError,
    dict: &mut Dictionary,
    opts: &SequenceOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<(SequenceDb, SkipReport), DataError> {
    if cfg.preset.yields_sequences() {
        let unsupported = opts.event_only_options();
        if !unsupported.is_empty() {
            return Err(DataError::Option(format!(
                "{} only apply to event logs; preset {} holds sequences already",
                unsupported.join(", "),
                cfg.preset
            )));
        }
        let (db, skipped) = if cfg.preset == Preset::Spmf {
            let r = read_spmf(lines, on_error)?;
            progress(lines.bytes_read());
            *dict = r.dict;
            (r.db, r.skipped)
        } else {
            read_basket(lines, on_error, dict, progress)?
        };
        let db = filter_db(&db, opts)?;
        return Ok((db, skipped));
    }
    let (log, skipped) = read_events_from(lines, cfg, on_error, dict, progress)?;
    // The log is not needed afterwards: let the builder free its columns as it goes.
    let db = build_sequences_owned(log, dict, opts)?;
    Ok((db, skipped))
}

/// [`read_sequences_from`] on a path (`-` = stdin, gzip auto-detected).
pub fn read_sequences(
    path: &Path,
    cfg: &PresetConfig,
    on_error: OnError,
    dict: &mut Dictionary,
    opts: &SequenceOptions,
) -> Result<(SequenceDb, SkipReport), DataError> {
    let input = open_input(path)?;
    let mut lines = LineReader::from_input(input).with_max_line(cfg.max_line);
    read_sequences_from(&mut lines, cfg, on_error, dict, opts, &mut |_| {})
}

//! SPMF's sequence format, read and written losslessly.
//!
//! One sequence per line: items are non-negative integers, `-1` closes an itemset, `-2` closes the
//! sequence; an optional `<t>` before an itemset gives its timestamp (`<0> 1 -1 <5> 2 3 -1 -2`). Blank lines
//! and lines starting with `#`, `%` or `@` (SPMF's comments and metadata) are skipped, as SPMF does.
//! Item numbers are kept as they are (the dictionary's token vocabulary is numeric), so output written
//! back uses the original numbers and can be diffed with SPMF.

use std::io::Write;

use crate::dictionary::Dictionary;
use crate::error::{DataError, OnError, SkipReport};
use crate::ids::{ItemId, KeyId};
use crate::input::LineReader;
use crate::sequence_db::{SequenceDb, SequenceDbBuilder};

/// The result of reading an SPMF file.
#[derive(Debug)]
pub struct SpmfRead {
    /// The sequences (with times if any line had `<t>` stamps).
    pub db: SequenceDb,
    /// Numeric token vocabulary (items are their own numbers).
    pub dict: Dictionary,
    /// Rows skipped under [`OnError::Skip`].
    pub skipped: SkipReport,
}

/// Reads SPMF sequences from `lines`. Under [`OnError::Fail`] the first malformed line is an error naming
/// line and token; a file with no sequence at all is an error too.
pub fn read_spmf<R: std::io::BufRead>(
    lines: &mut LineReader<R>,
    policy: OnError,
) -> Result<SpmfRead, DataError> {
    let mut b = SequenceDbBuilder::new(true);
    let mut skipped = SkipReport::default();
    let mut set: Vec<ItemId> = Vec::new();
    let mut any_time = false;
    let mut n = 0u32;
    let saw_line = lines.for_each_line(policy, &mut skipped, |line, skipped| {
        let t = line.text.trim();
        if t.is_empty() || t.starts_with(['#', '%', '@']) {
            return Ok(());
        }
        match parse_line(t, &mut b, &mut set, &mut any_time) {
            Ok(()) => {
                b.end_sequence(KeyId(n))?;
                n += 1;
                Ok(())
            }
            Err((col, expected, found)) => {
                b.discard_sequence();
                let loc = line.location().with_column(col);
                skipped.handle(policy, DataError::parse(loc, expected, &found))
            }
        }
    })?;
    let db = b.build();
    if db.is_empty() && skipped.total() == 0 {
        let what = if saw_line {
            "no sequences (only blank or comment lines)"
        } else {
            "empty file"
        };
        return Err(DataError::Empty {
            location: crate::Location::file(lines.path()),
            what: what.into(),
        });
    }
    let db = if any_time { db } else { db.without_times() };
    Ok(SpmfRead {
        db,
        dict: Dictionary::numeric_tokens(),
        skipped,
    })
}

type TokenError = (usize, String, String);

fn parse_line(
    line: &str,
    b: &mut SequenceDbBuilder,
    set: &mut Vec<ItemId>,
    any_time: &mut bool,
) -> Result<(), TokenError> {
    set.clear();
    let mut time: Option<i64> = None;
    let mut ended = false;
    for (k, tok) in line.split_ascii_whitespace().enumerate() {
        let col = k + 1;
        if ended {
            return Err((col, "nothing after -2".into(), tok.into()));
        }
        if let Some(inner) = tok.strip_prefix('<').and_then(|x| x.strip_suffix('>')) {
            let t = inner
                .parse::<i64>()
                .map_err(|_| (col, "an integer timestamp in <t>".into(), tok.into()))?;
            if !set.is_empty() {
                return Err((
                    col,
                    "a timestamp only at the start of an itemset".into(),
                    tok.into(),
                ));
            }
            time = Some(t);
            *any_time = true;
            continue;
        }
        match tok {
            "-1" => {
                if set.is_empty() {
                    return Err((col, "an item before -1".into(), tok.into()));
                }
                b.push_itemset(set, time)
                    .map_err(|e| (col, "a smaller database".into(), e.to_string()))?;
                set.clear();
                time = None;
            }
            "-2" => {
                if !set.is_empty() {
                    // `1 2 -2`: SPMF tolerates an itemset closed by the end of the sequence.
                    b.push_itemset(set, time)
                        .map_err(|e| (col, "a smaller database".into(), e.to_string()))?;
                    set.clear();
                }
                ended = true;
            }
            _ => {
                let v = tok.parse::<u32>().map_err(|_| {
                    (
                        col,
                        "an item number (0..4294967295), -1 or -2".into(),
                        tok.into(),
                    )
                })?;
                set.push(ItemId(v));
            }
        }
    }
    if !ended {
        return Err((
            line.split_ascii_whitespace().count() + 1,
            "-2 at the end of the sequence".into(),
            "end of line".into(),
        ));
    }
    Ok(())
}

/// Writes `db` in SPMF format, one line per sequence, `<t>` stamps included when the database has times.
/// Items are written as their numbers (the ids; for a numeric vocabulary, the input's own numbers).
pub fn write_spmf<W: Write>(db: &SequenceDb, w: W) -> std::io::Result<()> {
    write_spmf_shifted(db, w, 0)
}

/// How far `convert` shifts interned token ids when it writes SPMF: SPMF's format asks for positive
/// item numbers, so token id `k` is written as `k + 1`; the dictionary beside the file records the
/// shift ([`crate::Dictionary::write_json_for_spmf`]), so names stay attached to the right numbers.
pub const SPMF_TOKEN_SHIFT: u32 = 1;

/// [`write_spmf`] with every item written as `id + shift`.
///
/// Sequences are formatted in batches, the sequences of a batch split over the rayon pool's threads
/// and written in order, so the bytes are the same for any number of threads.
pub fn write_spmf_shifted<W: Write>(db: &SequenceDb, mut w: W, shift: u32) -> std::io::Result<()> {
    use rayon::prelude::*;
    /// Sequences per piece formatted by one thread, and pieces per batch.
    const PIECE: usize = 1024;
    const BATCH: usize = 16;
    let mut bufs: Vec<Vec<u8>> = vec![Vec::new(); BATCH];
    let n = db.len();
    let mut first = 0;
    while first < n {
        let pieces = (n - first).div_ceil(PIECE).min(BATCH);
        bufs[..pieces]
            .par_iter_mut()
            .enumerate()
            .for_each(|(k, buf)| {
                let start = first + k * PIECE;
                format_spmf(db, start..(start + PIECE).min(n), shift, buf);
            });
        for buf in &bufs[..pieces] {
            w.write_all(buf)?;
        }
        first = (first + pieces * PIECE).min(n);
    }
    Ok(())
}

/// Formats sequences `range` of `db` as SPMF lines into `out` (cleared first).
fn format_spmf(db: &SequenceDb, range: std::ops::Range<usize>, shift: u32, out: &mut Vec<u8>) {
    let mut num = itoa::Buffer::new();
    out.clear();
    for i in range {
        let s = db.sequence(i);
        let times = s.times();
        for (k, set) in s.itemsets().enumerate() {
            if let Some(t) = times {
                out.push(b'<');
                out.extend_from_slice(num.format(t[k]).as_bytes());
                out.extend_from_slice(b"> ");
            }
            for it in set {
                out.extend_from_slice(num.format(u64::from(it.0) + u64::from(shift)).as_bytes());
                out.push(b' ');
            }
            out.extend_from_slice(b"-1 ");
        }
        out.extend_from_slice(b"-2\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &str) -> Result<SpmfRead, DataError> {
        read_spmf(
            &mut LineReader::new(s.as_bytes(), "in.txt", false),
            OnError::Fail,
        )
    }

    #[test]
    fn reads_itemsets_and_round_trips() {
        let src = "1 -1 1 2 3 -1 1 3 -1 4 -1 3 6 -1 -2\r\n\n5 -1 7 -1 -2";
        let r = read(src).unwrap();
        assert_eq!(r.db.len(), 2);
        assert!(r.db.times().is_none());
        let mut out = Vec::new();
        write_spmf(&r.db, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "1 -1 1 2 3 -1 1 3 -1 4 -1 3 6 -1 -2\n5 -1 7 -1 -2\n"
        );
    }

    #[test]
    fn timestamps_round_trip() {
        let r = read("<0> 1 -1 <5> 2 3 -1 -2\n").unwrap();
        assert_eq!(r.db.sequence(0).times().unwrap(), &[0, 5]);
        let mut out = Vec::new();
        write_spmf(&r.db, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "<0> 1 -1 <5> 2 3 -1 -2\n");
    }

    #[test]
    fn missing_terminator_is_located() {
        let e = read("1 -1 -2\n1 -1 2 -1\n").unwrap_err().to_string();
        assert_eq!(
            e,
            "in.txt:2:5: expected -2 at the end of the sequence, found \"end of line\""
        );
    }

    #[test]
    fn skip_policy_counts() {
        let r = read_spmf(
            &mut LineReader::new(&b"1 -1 -2\nx -1 -2\n2 -1\n3 -1 -2\n"[..], "f", false),
            OnError::Skip,
        )
        .unwrap();
        assert_eq!(r.db.len(), 2);
        assert_eq!(r.skipped.total(), 2);
    }

    #[test]
    fn empty_file_is_an_error() {
        assert!(matches!(read(""), Err(DataError::Empty { .. })));
        assert!(matches!(read("\n# c\n"), Err(DataError::Empty { .. })));
    }
}

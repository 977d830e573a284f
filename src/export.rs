//! Writing sequential patterns, itemsets and rules for hand-over: `csv` (UTF-8, names from the dictionary, spreadsheet-safe,
//! one row per result with every measure), `jsonl` (one JSON object per line, names and ids), and
//! `spmf` (SPMF's own line format with the original item numbers, to diff against SPMF), `parquet` and
//! `arrow` (typed columns, [`crate::tables`]; lists keep a pattern's structure).
//!
//! Rows keep the order they are given in (the caller sorts). A side of a rule is written as its items'
//! names joined by ` + `; in pattern rules, consecutive itemsets are joined by ` > `. Text cells go
//! through [`crate::output::spreadsheet_safe`], so no cell can start a formula.

use std::io::Write;
use std::path::Path;

use cartseq_data::{Dictionary, ItemId};
use cartseq_mining::itemsets::FrequentItemsets;
use cartseq_mining::rules::format::{itemset_line, rule_line};
use cartseq_mining::rules::{Measures, RuleKind, RuleSet};
use cartseq_mining::Pattern;
use serde_json::json;

use crate::manifest::{manifest_path, Manifest};
use crate::output::{
    check_writable, commit_all, is_regular_target, naming, spreadsheet_safe, AtomicFile,
};

/// Output format of `itemsets` and `rules`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// Comma-separated values with a header, names from the dictionary.
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// SPMF's line format with item numbers.
    Spmf,
    /// Apache Parquet (zstd), the columns of [`crate::tables`].
    Parquet,
    /// Arrow IPC file (Feather v2), the columns of [`crate::tables`].
    Arrow,
}

cartseq_data::named_enum!(ExportFormat, "an export format", [
    "csv" => ExportFormat::Csv,
    "jsonl" => ExportFormat::Jsonl,
    "spmf" => ExportFormat::Spmf,
    "parquet" => ExportFormat::Parquet,
    "arrow" => ExportFormat::Arrow,
]);

/// A columnar export format: Parquet or Arrow IPC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Columnar {
    /// Apache Parquet, zstd-compressed.
    Parquet,
    /// Arrow IPC file (Feather v2), uncompressed.
    Arrow,
}

impl ExportFormat {
    /// The columnar format, if this is one.
    pub fn columnar(self) -> Option<Columnar> {
        match self {
            ExportFormat::Parquet => Some(Columnar::Parquet),
            ExportFormat::Arrow => Some(Columnar::Arrow),
            _ => None,
        }
    }
}

/// Writes `batch` to `w` as one Parquet file (zstd, one row group per million rows) or one Arrow IPC
/// file; returns its row count. Text cells are written as they are: both formats are typed, and no
/// spreadsheet evaluates them as formulas.
pub fn write_batch<W: Write>(
    mut w: W,
    batch: &arrow_array::RecordBatch,
    format: Columnar,
) -> anyhow::Result<u64> {
    match format {
        Columnar::Parquet => {
            // Parquet's writer needs a `Send` sink; the encoded file (compressed) is smaller than the
            // batch it comes from, so it is built in memory and copied out.
            let props = parquet::file::properties::WriterProperties::builder()
                .set_compression(parquet::basic::Compression::ZSTD(Default::default()))
                .set_max_row_group_row_count(Some(1 << 20))
                .set_created_by(format!("cartseq {}", env!("CARGO_PKG_VERSION")))
                .build();
            let mut buf = Vec::new();
            let mut pw =
                parquet::arrow::ArrowWriter::try_new(&mut buf, batch.schema(), Some(props))?;
            pw.write(batch)?;
            pw.close()?;
            w.write_all(&buf)?;
        }
        Columnar::Arrow => {
            let mut fw = arrow_ipc::writer::FileWriter::try_new(&mut w, &batch.schema())?;
            fw.write(batch)?;
            fw.finish()?;
        }
    }
    w.flush()?;
    Ok(batch.num_rows() as u64)
}

/// Itemsets in the exports' notation: the token names of an itemset joined by ` + `, itemsets by ` > `
/// (`view:1 > cart_add:1 + fav:1`). Every pattern, itemset and rule side of an export is written by this.
pub fn itemsets_text<'a>(
    sets: impl IntoIterator<Item = &'a [ItemId]>,
    dict: &Dictionary,
) -> String {
    let mut s = String::new();
    for (k, set) in sets.into_iter().enumerate() {
        if k > 0 {
            s.push_str(" > ");
        }
        for (j, it) in set.iter().enumerate() {
            if j > 0 {
                s.push_str(" + ");
            }
            s.push_str(&dict.tokens.name(it.0));
        }
    }
    s
}

/// The names of `items` joined by ` + `.
pub fn itemset_text(items: &[ItemId], dict: &Dictionary) -> String {
    itemsets_text([items], dict)
}

/// A rule side: itemsets joined by ` > `.
pub fn side_text(side: &[Vec<ItemId>], dict: &Dictionary) -> String {
    itemsets_text(side.iter().map(Vec::as_slice), dict)
}

fn names(items: &[ItemId], dict: &Dictionary) -> Vec<String> {
    items
        .iter()
        .map(|i| dict.tokens.name(i.0).into_owned())
        .collect()
}

fn side_json(
    kind: RuleKind,
    side: &[Vec<ItemId>],
    dict: &Dictionary,
) -> (serde_json::Value, serde_json::Value) {
    if kind == RuleKind::Pattern {
        (
            json!(side.iter().map(|s| names(s, dict)).collect::<Vec<_>>()),
            json!(side
                .iter()
                .map(|s| s.iter().map(|i| i.0).collect::<Vec<_>>())
                .collect::<Vec<_>>()),
        )
    } else {
        let flat: Vec<ItemId> = side.iter().flatten().copied().collect();
        (
            json!(names(&flat, dict)),
            json!(flat.iter().map(|i| i.0).collect::<Vec<_>>()),
        )
    }
}

/// `x` rounded to 15 significant digits: a measure computed along two routes (e.g. a lift of
/// `(3/n) / ((4/n)(1/n))` and of `(6/n) / ((8/n)(1/n))`) can differ in the last bit of the binary
/// value, which the shortest round-trip decimal would show as `756.7500000000001` beside `756.75`;
/// 15 digits is what an f64 always carries exactly, so equal measures print equally and nothing
/// meaningful is lost.
pub fn tidy(x: f64) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    format!("{x:.14e}").parse().unwrap_or(x)
}

/// A float for JSON: finite values as numbers (see [`tidy`]), ±∞ as `null`.
fn jnum(x: f64) -> serde_json::Value {
    if x.is_finite() {
        json!(tidy(x))
    } else {
        serde_json::Value::Null
    }
}

/// A float for CSV: shortest round-trip decimal of [`tidy`]`(x)`, `inf` for +∞.
fn cnum(x: f64) -> String {
    if x.is_infinite() {
        "inf".into()
    } else {
        format!("{}", tidy(x))
    }
}

/// Writes the rules of `rs` in `format`; returns the number of rows written.
pub fn write_rules<W: Write>(
    mut w: W,
    rs: &RuleSet,
    dict: &Dictionary,
    format: ExportFormat,
) -> anyhow::Result<u64> {
    match format {
        ExportFormat::Parquet | ExportFormat::Arrow => {
            let b = crate::tables::rules(rs, dict)?;
            let c = format.columnar().expect("a columnar format");
            return write_batch(w, &b, c);
        }
        ExportFormat::Spmf => {
            for r in &rs.rules {
                writeln!(w, "{}", rule_line(rs.kind, r, rs.n))?;
            }
        }
        ExportFormat::Jsonl => {
            for r in &rs.rules {
                let m = r.measures(rs.n);
                let (a, ai) = side_json(rs.kind, &r.antecedent, dict);
                let (c, ci) = side_json(rs.kind, &r.consequent, dict);
                let mut v = json!({
                    "kind": rs.kind.name(),
                    "antecedent": a, "consequent": c,
                    "antecedent_ids": ai, "consequent_ids": ci,
                    "support_count": r.support,
                    "antecedent_count": r.antecedent_support,
                    "consequent_count": r.consequent_support,
                    "n": rs.n,
                });
                for (name, x) in Measures::NAMES.iter().zip(m.values()) {
                    v[*name] = jnum(x);
                }
                serde_json::to_writer(&mut w, &v)?;
                w.write_all(b"\n")?;
            }
        }
        ExportFormat::Csv => {
            let mut c = csv::Writer::from_writer(&mut w);
            let counts = [
                "antecedent",
                "consequent",
                "antecedent_size",
                "consequent_size",
                "support_count",
                "antecedent_count",
                "consequent_count",
            ];
            c.write_record(counts.iter().chain(&Measures::NAMES))?;
            for r in &rs.rules {
                let m = r.measures(rs.n);
                let a = side_text(&r.antecedent, dict);
                let b = side_text(&r.consequent, dict);
                let fields = [
                    spreadsheet_safe(&a).into_owned(),
                    spreadsheet_safe(&b).into_owned(),
                    r.antecedent_len().to_string(),
                    r.consequent_len().to_string(),
                    r.support.to_string(),
                    r.antecedent_support.to_string(),
                    r.consequent_support.to_string(),
                ];
                c.write_record(fields.into_iter().chain(m.values().map(cnum)))?;
            }
            c.flush()?;
        }
    }
    w.flush()?;
    Ok(rs.rules.len() as u64)
}

/// Writes the first `limit` itemsets of `fi` in `format`; returns the number of rows written.
pub fn write_itemsets<W: Write>(
    mut w: W,
    fi: &FrequentItemsets,
    limit: usize,
    dict: &Dictionary,
    format: ExportFormat,
) -> anyhow::Result<u64> {
    let n = fi.transactions() as f64;
    let mut rows = 0u64;
    match format {
        ExportFormat::Parquet | ExportFormat::Arrow => {
            let b = crate::tables::itemsets(fi, limit, dict)?;
            let c = format.columnar().expect("a columnar format");
            return write_batch(w, &b, c);
        }
        ExportFormat::Spmf => {
            for (s, sup) in fi.iter().take(limit) {
                writeln!(w, "{}", itemset_line(s, sup))?;
                rows += 1;
            }
        }
        ExportFormat::Jsonl => {
            for (s, sup) in fi.iter().take(limit) {
                let v = json!({
                    "itemset": names(s, dict),
                    "ids": s.iter().map(|i| i.0).collect::<Vec<_>>(),
                    "size": s.len(),
                    "support_count": sup,
                    "support": f64::from(sup) / n,
                });
                serde_json::to_writer(&mut w, &v)?;
                w.write_all(b"\n")?;
                rows += 1;
            }
        }
        ExportFormat::Csv => {
            let mut c = csv::Writer::from_writer(&mut w);
            c.write_record(["itemset", "size", "support_count", "support"])?;
            for (s, sup) in fi.iter().take(limit) {
                c.write_record([
                    spreadsheet_safe(&itemset_text(s, dict)).into_owned(),
                    s.len().to_string(),
                    sup.to_string(),
                    cnum(f64::from(sup) / n),
                ])?;
                rows += 1;
            }
            c.flush()?;
        }
    }
    w.flush()?;
    Ok(rows)
}

/// Runs `write` on `out` (atomically: the file appears only once complete) or on standard output when
/// `out` is `None` or `-`; returns what `write` returns (the row count).
pub fn write_to(
    out: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> anyhow::Result<u64>,
) -> anyhow::Result<u64> {
    write_export(out, "", write, |_| Ok(None))
}

/// Runs `write` on `out` or on standard output (as [`write_to`]); for a regular file, also writes
/// `OUT.manifest.json` from `manifest(rows)` (with `OUT` recorded as an output of `format`; a device
/// or FIFO gets none), and
/// commits the export and its manifest together: both appear, or neither and an old `OUT` is left as
/// it was. Returns the row count.
pub fn write_export(
    out: Option<&Path>,
    format: &str,
    write: impl FnOnce(&mut dyn Write) -> anyhow::Result<u64>,
    manifest: impl FnOnce(u64) -> anyhow::Result<Option<Manifest>>,
) -> anyhow::Result<u64> {
    match out {
        Some(p) if p.as_os_str() != "-" => {
            let mut f = AtomicFile::create(p)?;
            let rows = write(&mut f).map_err(|e| naming(e, p))?;
            let mut group = vec![f];
            let manifest = if is_regular_target(p) {
                manifest(rows)?
            } else {
                None
            };
            if let Some(mut m) = manifest {
                m.output(p, format, rows);
                group.push(m.file_beside(p)?);
            }
            commit_all(group)?;
            Ok(rows)
        }
        _ => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            let rows = write(&mut w)?;
            w.flush()?;
            Ok(rows)
        }
    }
}

/// Checks before any work that an export path and its manifest beside it can be written (nothing to
/// check for standard output).
pub fn check_export_path(out: Option<&Path>) -> anyhow::Result<()> {
    match out {
        Some(p) if p.as_os_str() != "-" => {
            check_writable(p)?;
            if is_regular_target(p) {
                check_writable(&manifest_path(p))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The id of token `name` in `dict`, or an error naming the input and showing how tokens look.
pub fn resolve_token(
    dict: &Dictionary,
    name: &str,
    input: &std::path::Path,
) -> anyhow::Result<ItemId> {
    if let Some(id) = dict.tokens.get(name) {
        return Ok(ItemId(id));
    }
    unknown_token(dict, name, input)
}

/// As [`resolve_token`], and for numeric vocabularies (SPMF, baskets), where every number is a valid
/// name, also checks that the token occurs in `db`.
pub fn resolve_token_in(
    dict: &Dictionary,
    db: &cartseq_data::SequenceDb,
    name: &str,
    input: &std::path::Path,
) -> anyhow::Result<ItemId> {
    let id = resolve_token(dict, name, input)?;
    if dict.tokens.is_numeric() && !db.items().contains(&id) {
        return unknown_token(dict, name, input);
    }
    Ok(id)
}

fn unknown_token(dict: &Dictionary, name: &str, input: &std::path::Path) -> anyhow::Result<ItemId> {
    let examples: Vec<String> = dict
        .tokens
        .names()
        .iter()
        .take(3)
        .map(|s| format!("{s:?}"))
        .collect();
    let hint = if dict.tokens.is_numeric() {
        "tokens of this input are item numbers".to_string()
    } else if examples.is_empty() {
        "the input has no tokens".to_string()
    } else {
        format!(
            "tokens look like {} (choose them with --token)",
            examples.join(", ")
        )
    };
    anyhow::bail!(
        "token {name:?} does not occur in {}; {hint}",
        input.display()
    )
}

/// The pattern as text: items joined by ` + `, itemsets by ` > `.
pub fn pattern_text(p: &Pattern, dict: &Dictionary) -> String {
    itemsets_text(p.itemsets(), dict)
}

/// `sup / n` (0 for an empty database).
pub fn relative(sup: u32, n: usize) -> f64 {
    if n == 0 {
        0.0
    } else {
        f64::from(sup) / n as f64
    }
}

/// Frequent sequential patterns as CSV: `pattern,support,relative_support,items,itemsets`.
pub fn write_patterns_csv(
    w: &mut dyn Write,
    pats: &[Pattern],
    dict: &Dictionary,
    n: usize,
) -> anyhow::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record([
        "pattern",
        "support",
        "relative_support",
        "items",
        "itemsets",
    ])?;
    for p in pats {
        let text = pattern_text(p, dict);
        out.write_record([
            spreadsheet_safe(&text).as_ref(),
            &p.support.to_string(),
            &format!("{:.6}", relative(p.support, n)),
            &p.num_items().to_string(),
            &p.num_itemsets().to_string(),
        ])?;
    }
    out.flush()?;
    Ok(())
}

/// Frequent sequential patterns as JSON lines (names and ids of every itemset, support, sizes).
pub fn write_patterns_jsonl(
    w: &mut dyn Write,
    pats: &[Pattern],
    dict: &Dictionary,
    n: usize,
) -> anyhow::Result<()> {
    for p in pats {
        let names: Vec<Vec<String>> = p
            .itemsets()
            .map(|s| {
                s.iter()
                    .map(|i| dict.tokens.name(i.0).into_owned())
                    .collect()
            })
            .collect();
        let ids: Vec<Vec<u32>> = p
            .itemsets()
            .map(|s| s.iter().map(|i| i.0).collect())
            .collect();
        let v = json!({
            "pattern": names,
            "ids": ids,
            "support": p.support,
            "relative_support": relative(p.support, n),
            "items": p.num_items(),
            "itemsets": p.num_itemsets(),
        });
        serde_json::to_writer(&mut *w, &v)?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cartseq_mining::rules::Rule;

    #[test]
    fn equal_measures_print_equally() {
        let a = 0.1 + 0.2;
        assert_eq!(cnum(a), "0.3");
        assert_eq!(cnum(756.7500000000001), "756.75");
        assert_eq!(cnum(1.0 / 3.0), "0.333333333333333");
        assert_eq!(cnum(f64::INFINITY), "inf");
        assert_eq!(cnum(-0.0009900980373860233), "-0.000990098037386023");
    }

    #[test]
    fn csv_cells_cannot_start_formulas() {
        let mut dict = Dictionary::new();
        dict.tokens.intern("=HYPERLINK(\"x\")");
        dict.tokens.intern("+1");
        dict.tokens.intern("plain");
        let rs = RuleSet {
            kind: RuleKind::Association,
            rules: vec![Rule::of_itemsets(
                vec![ItemId(0)],
                vec![ItemId(1), ItemId(2)],
                2,
                2,
                3,
            )],
            n: 4,
            min_support: 1,
        };
        let mut out = Vec::new();
        write_rules(&mut out, &rs, &dict, ExportFormat::Csv).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut rd = csv::Reader::from_reader(text.as_bytes());
        let rec = rd.records().next().unwrap().unwrap();
        assert_eq!(&rec[0], "'=HYPERLINK(\"x\")");
        assert_eq!(&rec[1], "'+1 + plain");
        assert_eq!(&rec[13], "inf");
        let mut j = Vec::new();
        write_rules(&mut j, &rs, &dict, ExportFormat::Jsonl).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&j).unwrap();
        assert_eq!(v["conviction"], serde_json::Value::Null);
        assert_eq!(v["consequent"][0], "+1");
    }
}

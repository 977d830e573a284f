//! The exported feature matrix: the exact rows `train`, `eval`, `leaderboard` and outside tools use.
//!
//! Format (CSV, comma-separated, one header line):
//!
//! ```text
//! user_id,split,label,n_events,n_view,…[,seq]
//! u123,train,0,17,15,…[,view view cart_add]
//! ```
//!
//! * column 1 — the row id, named `user_id` (or `session_id` for session-keyed logs); a text cell, written
//!   through [`crate::output::spreadsheet_safe`];
//! * `split` — `train`, `valid` or `test`;
//! * `label` — the class index (`0`/`1` for binary tasks; `0..3` = view/cart/fav/buy for next-action);
//! * then the named numeric features, written shortest-round-trip (reading gives back the same `f64`);
//! * optionally, last, `seq` — the row's token sequence (space-separated), present when the task was
//!   exported with `--seq`; sequence models (`lstm`, `gru`, `rnn`) read it, other tools can drop it.
//!
//! Cost: reading is streaming, `8 × rows × features` bytes for the matrix plus the tokens.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context};
use ndarray::Array2;

use crate::behaviour::TokenSeqs;
use crate::output::csv_text_cell;
use crate::tasks::Split;

/// A feature matrix with ids, splits and labels.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureTable {
    /// Name of the id column (`user_id` or `session_id`).
    pub id_column: String,
    /// Row ids.
    pub ids: Vec<String>,
    /// Split of each row.
    pub split: Vec<Split>,
    /// Label of each row.
    pub label: Vec<usize>,
    /// Feature column names.
    pub feature_names: Vec<String>,
    /// Features, rows × columns.
    pub x: Array2<f64>,
    /// Token sequences, when exported.
    pub seqs: Option<TokenSeqs>,
}

impl FeatureTable {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Writes the table as CSV.
    pub fn write_csv<W: Write>(&self, mut w: W) -> std::io::Result<()> {
        let mut line = String::with_capacity(64 + 16 * self.feature_names.len());
        line.push_str(&csv_text_cell(&self.id_column));
        line.push_str(",split,label");
        for n in &self.feature_names {
            line.push(',');
            line.push_str(&csv_text_cell(n));
        }
        if self.seqs.is_some() {
            line.push_str(",seq");
        }
        line.push('\n');
        w.write_all(line.as_bytes())?;
        for (i, row) in self.x.rows().into_iter().enumerate() {
            line.clear();
            line.push_str(&csv_text_cell(&self.ids[i]));
            line.push(',');
            line.push_str(self.split[i].name());
            line.push(',');
            push_display(&mut line, self.label[i]);
            for &v in row {
                line.push(',');
                push_display(&mut line, v);
            }
            if let Some(s) = &self.seqs {
                line.push(',');
                for (k, &t) in s.row(i).iter().enumerate() {
                    if k > 0 {
                        line.push(' ');
                    }
                    line.push_str(&s.names[t as usize]);
                }
            }
            line.push('\n');
            w.write_all(line.as_bytes())?;
        }
        w.flush()
    }

    /// Reads a table written by [`FeatureTable::write_csv`] (or any CSV with the same layout). Errors name
    /// the file, line and column, and what was expected.
    pub fn read_csv(path: &Path) -> anyhow::Result<FeatureTable> {
        let mut v = Self::read_csv_impl(path, &Split::ALL, true)?;
        Ok(v.remove(0))
    }

    /// Reads only the rows of `splits`, one table per requested split (in that order), in one pass: the
    /// other rows are validated but not kept, so `train` holds no test rows and `eval` no training rows.
    pub fn read_csv_splits(path: &Path, splits: &[Split]) -> anyhow::Result<Vec<FeatureTable>> {
        Self::read_csv_impl(path, splits, false)
    }

    fn read_csv_impl(
        path: &Path,
        splits: &[Split],
        one_table: bool,
    ) -> anyhow::Result<Vec<FeatureTable>> {
        let input = cartseq_data::input::open_input(path)?;
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(LfLines::new(input.reader));
        let p = path.display();
        let header = rdr
            .headers()
            .with_context(|| format!("{p}: cannot read the header line"))?
            .clone();
        if header.len() < 3 || &header[1] != "split" || &header[2] != "label" {
            bail!(
                "{p}:1: expected a header `user_id,split,label,<features…>` (a feature CSV from `cartseq task`), found {:?}",
                header.iter().take(4).collect::<Vec<_>>().join(",")
            );
        }
        let has_seq = header.iter().next_back() == Some("seq");
        let n_feat = header.len() - 3 - usize::from(has_seq);
        let feature_names: Vec<String> = header
            .iter()
            .skip(3)
            .take(n_feat)
            .map(str::to_owned)
            .collect();
        let n_buckets = if one_table { 1 } else { splits.len() };
        let mut buckets: Vec<Bucket> = (0..n_buckets).map(|_| Bucket::default()).collect();
        let mut vocab: hashbrown::HashMap<String, u32> = hashbrown::HashMap::new();
        let mut names: Vec<String> = Vec::new();
        let mut rec = csv::StringRecord::new();
        let mut row: Vec<f64> = vec![0.0; n_feat];
        loop {
            let more = rdr.read_record(&mut rec).map_err(|e| {
                let line = e.position().map_or(0, |q| q.line());
                anyhow::anyhow!("{p}:{line}: {e}")
            })?;
            if !more {
                break;
            }
            let line = rec.position().map_or(0, |q| q.line());
            let s = Split::from_name(&rec[1]).ok_or_else(|| {
                anyhow::anyhow!(
                    "{p}:{line}: column 2 (split): expected train, valid or test, found {:?}",
                    &rec[1]
                )
            })?;
            let l: usize = rec[2].trim().parse().map_err(|_| {
                anyhow::anyhow!(
                    "{p}:{line}: column 3 (label): expected a class index 0, 1, 2, …, found {:?}",
                    &rec[2]
                )
            })?;
            anyhow::ensure!(
                l < 1000,
                "{p}:{line}: column 3 (label): expected a class index below 1000, found {l}"
            );
            for (j, v) in row.iter_mut().enumerate() {
                let cell = &rec[3 + j];
                *v = cell.trim().parse().map_err(|_| {
                    anyhow::anyhow!(
                        "{p}:{line}: column {} ({}): expected a number, found {cell:?}",
                        4 + j,
                        feature_names[j]
                    )
                })?;
            }
            let Some(k) = splits.iter().position(|&x| x == s) else {
                continue;
            };
            let b = &mut buckets[if one_table { 0 } else { k }];
            b.ids
                .push(rec[0].strip_prefix('\'').unwrap_or(&rec[0]).to_owned());
            b.split.push(s);
            b.label.push(l);
            b.data.extend_from_slice(&row);
            if has_seq {
                for tok in rec[3 + n_feat].split_ascii_whitespace() {
                    let id = match vocab.get(tok) {
                        Some(&id) => id,
                        None => {
                            let id = names.len() as u32;
                            names.push(tok.to_owned());
                            vocab.insert(tok.to_owned(), id);
                            id
                        }
                    };
                    b.tokens.push(id);
                }
                b.offsets.push(b.tokens.len());
            }
        }
        buckets
            .into_iter()
            .map(|b| {
                let x = Array2::from_shape_vec((b.ids.len(), n_feat), b.data)
                    .context("feature matrix shape")?;
                Ok(FeatureTable {
                    id_column: header[0].to_owned(),
                    ids: b.ids,
                    split: b.split,
                    label: b.label,
                    feature_names: feature_names.clone(),
                    x,
                    seqs: has_seq.then(|| TokenSeqs {
                        tokens: b.tokens,
                        offsets: b.offsets,
                        names: names.clone(),
                    }),
                })
            })
            .collect()
    }

    /// Row indices of one split, in file order.
    pub fn rows_of(&self, s: Split) -> Vec<usize> {
        (0..self.len()).filter(|&i| self.split[i] == s).collect()
    }

    /// Number of classes: the task's, or `max label + 1` (at least 2).
    pub fn n_classes(&self) -> usize {
        self.label.iter().max().map_or(2, |&m| (m + 1).max(2))
    }
}

/// What to do with a NaN or infinite feature (`--allow-missing`); without it such a value is an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    /// Replace it with −1, the feature table's own "does not exist" value.
    MinusOne,
    /// Replace it with 0.
    Zero,
    /// Drop the row.
    Drop,
}

cartseq_data::named_enum!(Missing, "a missing-value treatment", [
    "minus-one" | "-1" => Missing::MinusOne,
    "zero" | "0" => Missing::Zero,
    "drop" => Missing::Drop,
]);

impl FeatureTable {
    /// Refuses NaN and ±inf features (a model would print NaN metrics, or a NaN-blind tree would
    /// silently send them one way), naming the file, the row id and the column; with `allow` they are
    /// replaced or their rows dropped. Returns the number of values (or rows) treated.
    pub fn check_finite(&mut self, path: &Path, allow: Option<Missing>) -> anyhow::Result<usize> {
        let bad: Vec<(usize, usize)> = self
            .x
            .indexed_iter()
            .filter(|(_, v)| !v.is_finite())
            .map(|(ij, _)| ij)
            .collect();
        let Some(&(i, j)) = bad.first() else {
            return Ok(0);
        };
        match allow {
            None => bail!(
                "{}: row {} ({}), column {}: expected a finite number, found {} ({} non-finite values in all); \
                 pass --allow-missing minus-one|zero|drop to treat them",
                path.display(),
                self.ids[i],
                self.split[i].name(),
                self.feature_names.get(j).map_or("?", String::as_str),
                self.x[[i, j]],
                bad.len()
            ),
            Some(Missing::MinusOne) | Some(Missing::Zero) => {
                let v = if allow == Some(Missing::Zero) { 0.0 } else { -1.0 };
                for &(i, j) in &bad {
                    self.x[[i, j]] = v;
                }
                Ok(bad.len())
            }
            Some(Missing::Drop) => {
                let mut drop = vec![false; self.len()];
                for &(i, _) in &bad {
                    drop[i] = true;
                }
                let keep: Vec<usize> = (0..self.len()).filter(|&i| !drop[i]).collect();
                let dropped = self.len() - keep.len();
                self.x = self.x.select(ndarray::Axis(0), &keep);
                self.ids = keep.iter().map(|&i| self.ids[i].clone()).collect();
                self.split = keep.iter().map(|&i| self.split[i]).collect();
                self.label = keep.iter().map(|&i| self.label[i]).collect();
                if let Some(s) = self.seqs.as_mut() {
                    s.retain_rows(&keep);
                }
                Ok(dropped)
            }
        }
    }

    /// Refuses labels that are not classes of the task: with `classes` known (the task's class names,
    /// from the manifest beside the CSV) a label `>= classes.len()`; otherwise a label above a class
    /// no row has (class indices are consecutive, so `0, 1, 7` is a typo, not an 8-class task).
    pub fn check_labels(&self, path: &Path, classes: Option<&[String]>) -> anyhow::Result<()> {
        if let Some(c) = classes {
            if let Some(i) = self.label.iter().position(|&l| l >= c.len()) {
                bail!(
                    "{}: row {} ({}), column 3 (label): expected a class of the task ({}: 0..{}), found {}",
                    path.display(),
                    self.ids[i],
                    self.split[i].name(),
                    c.join(", "),
                    c.len() - 1,
                    self.label[i]
                );
            }
            return Ok(());
        }
        let Some(&max) = self.label.iter().max() else {
            return Ok(());
        };
        let mut seen = vec![false; max + 1];
        for &l in &self.label {
            seen[l] = true;
        }
        if let Some(gap) = seen.iter().position(|&s| !s) {
            let i = self.label.iter().position(|&l| l == max).unwrap_or(0);
            bail!(
                "{}: row {} ({}), column 3 (label): label {max} but no row has class {gap}; class indices \
                 are 0, 1, … without gaps (a binary task has labels 0 and 1)",
                path.display(),
                self.ids[i],
                self.split[i].name()
            );
        }
        Ok(())
    }
}

/// The task's class names recorded in the manifest beside a feature CSV (`task -o` writes them), if
/// any.
pub fn classes_beside(csv: &Path) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(crate::manifest::manifest_path(csv)).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    serde_json::from_value(v.pointer("/parameters/classes")?.clone()).ok()
}

/// Rows of one split while reading.
struct Bucket {
    ids: Vec<String>,
    split: Vec<Split>,
    label: Vec<usize>,
    data: Vec<f64>,
    tokens: Vec<u32>,
    offsets: Vec<usize>,
}

impl Default for Bucket {
    fn default() -> Self {
        Bucket {
            ids: Vec::new(),
            split: Vec::new(),
            label: Vec::new(),
            data: Vec::new(),
            tokens: Vec::new(),
            offsets: vec![0],
        }
    }
}

/// Reads `inner` with every `\r\n` turned into `\n`. The `csv` crate counts a CRLF-ended line's
/// `\n` as the start of the next record, so every error in a CRLF file (as pandas writes on Windows)
/// named the line above the bad one; with plain `\n` its line numbers are the file's.
struct LfLines<R> {
    inner: R,
    raw: Vec<u8>,
    cooked: Vec<u8>,
    pos: usize,
    /// A `\r` ended the last chunk: dropped if the next chunk starts with `\n`, kept otherwise.
    cr: bool,
}

impl<R: std::io::Read> LfLines<R> {
    fn new(inner: R) -> Self {
        LfLines {
            inner,
            raw: vec![0; 1 << 16],
            cooked: Vec::with_capacity(1 << 16),
            pos: 0,
            cr: false,
        }
    }

    /// Refills `cooked` from `inner`; false at the end of the input.
    fn refill(&mut self) -> std::io::Result<bool> {
        self.cooked.clear();
        self.pos = 0;
        while self.cooked.is_empty() {
            let n = self.inner.read(&mut self.raw)?;
            if n == 0 {
                if std::mem::take(&mut self.cr) {
                    self.cooked.push(b'\r');
                    return Ok(true);
                }
                return Ok(false);
            }
            let raw = &self.raw[..n];
            if std::mem::take(&mut self.cr) && raw[0] != b'\n' {
                self.cooked.push(b'\r');
            }
            for (i, &b) in raw.iter().enumerate() {
                if b == b'\r' {
                    match raw.get(i + 1) {
                        Some(b'\n') => continue,
                        None => {
                            self.cr = true;
                            continue;
                        }
                        Some(_) => {}
                    }
                }
                self.cooked.push(b);
            }
        }
        Ok(true)
    }
}

impl<R: std::io::Read> std::io::Read for LfLines<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.cooked.len() && !self.refill()? {
            return Ok(0);
        }
        let k = out.len().min(self.cooked.len() - self.pos);
        out[..k].copy_from_slice(&self.cooked[self.pos..self.pos + k]);
        self.pos += k;
        Ok(k)
    }
}

fn push_display<T: std::fmt::Display>(s: &mut String, v: T) {
    use std::fmt::Write as _;
    let _ = write!(s, "{v}");
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn crlf_files_have_their_own_line_numbers() {
        use std::io::Read;
        // Every split point of the input, so a `\r` at the end of a chunk is handled too.
        let text = b"a,b\r\n1,2\r\n\r3,4\r\n\"x\r\ny\",5\r";
        let want = b"a,b\n1,2\n\r3,4\n\"x\ny\",5\r".to_vec();
        for chunk in 1..text.len() {
            struct Chunks<'a>(&'a [u8], usize);
            impl std::io::Read for Chunks<'_> {
                fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                    let k = self.1.min(self.0.len()).min(out.len());
                    out[..k].copy_from_slice(&self.0[..k]);
                    self.0 = &self.0[k..];
                    Ok(k)
                }
            }
            let mut got = Vec::new();
            LfLines::new(Chunks(text, chunk))
                .read_to_end(&mut got)
                .unwrap();
            assert_eq!(got, want, "chunks of {chunk}");
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.csv");
        std::fs::write(&p, "user_id,split,label,a\r\nu,train,0,1\r\nv,test,1,x\r\n").unwrap();
        let e = FeatureTable::read_csv(&p).unwrap_err().to_string();
        assert!(e.contains("f.csv:3: column 4"), "{e}");
    }

    #[test]
    fn round_trip_is_exact() {
        let t = FeatureTable {
            id_column: "user_id".into(),
            ids: vec!["a,1".into(), "-2".into()],
            split: vec![Split::Train, Split::Test],
            label: vec![0, 1],
            feature_names: vec!["x".into(), "y".into()],
            x: array![[0.1 + 0.2, -1.0], [1e-300, 123456789.0]],
            seqs: Some(TokenSeqs {
                tokens: vec![0, 1, 0],
                offsets: vec![0, 2, 3],
                names: vec!["view".into(), "buy:7".into()],
            }),
        };
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.csv");
        let mut buf = Vec::new();
        t.write_csv(&mut buf).unwrap();
        std::fs::write(&p, &buf).unwrap();
        let back = FeatureTable::read_csv(&p).unwrap();
        assert_eq!(back.x, t.x);
        assert_eq!(back.ids, vec!["a,1".to_string(), "-2".to_string()]);
        assert_eq!(back.seqs, t.seqs);
        assert_eq!(back.label, t.label);
    }

    #[test]
    fn splits_are_read_apart() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.csv");
        std::fs::write(
            &p,
            "user_id,split,label,a,seq\nu,train,0,1,view\nv,test,1,2,buy view\nw,train,1,3,\n",
        )
        .unwrap();
        let mut t = FeatureTable::read_csv_splits(&p, &[Split::Test, Split::Train]).unwrap();
        let train = t.pop().unwrap();
        let test = t.pop().unwrap();
        assert_eq!(train.ids, vec!["u".to_string(), "w".to_string()]);
        assert_eq!(train.x, array![[1.0], [3.0]]);
        assert_eq!(test.label, vec![1]);
        let s = test.seqs.unwrap();
        assert_eq!(s.row(0).len(), 2);
        assert_eq!(s.names[s.row(0)[0] as usize], "buy");
        assert!(FeatureTable::read_csv_splits(&p, &[Split::Valid]).unwrap()[0].is_empty());
    }

    #[test]
    fn bad_cell_is_located() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.csv");
        std::fs::write(&p, "user_id,split,label,a\nu,train,0,1\nv,test,1,x\n").unwrap();
        let e = FeatureTable::read_csv(&p).unwrap_err().to_string();
        assert!(e.contains(":3:") && e.contains("column 4 (a)"), "{e}");
        std::fs::write(&p, "user_id,split,label,a\nu,tr,0,1\n").unwrap();
        let e = FeatureTable::read_csv(&p).unwrap_err().to_string();
        assert!(e.contains("train, valid or test"), "{e}");
    }
}

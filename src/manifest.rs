//! `OUT.manifest.json`: what a receiving team needs to tell exactly what it got — the command line,
//! the parameters, each input's file name, size and SHA-256, each output's row count and format, the
//! cartseq version and the creation time (UTC, RFC 3339; `SOURCE_DATE_EPOCH` overrides it for
//! reproducible builds of an export).
//!
//! Any command writing a file can use it:
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! use cartseq::manifest::Manifest;
//! let mut m = Manifest::new("rules");
//! m.param("min_support", "0.01");
//! m.input(std::path::Path::new("retail.txt"))?;
//! m.output(std::path::Path::new("rules.csv"), "csv", 150);
//! m.write_beside(std::path::Path::new("rules.csv"))?;
//! # Ok(()) }
//! ```
//!
//! The manifest is written atomically; an export and its manifest are committed together
//! ([`Manifest::file_beside`], [`crate::output::commit_all`]).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::output::AtomicFile;

/// Format version of the manifest file.
pub const MANIFEST_FORMAT: u32 = 1;

/// One input file.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct InputFile {
    /// File name without folders (what a receiving team sees).
    pub name: String,
    /// Path as given on the command line.
    pub path: String,
    /// Size in bytes (`null` for standard input).
    pub bytes: Option<u64>,
    /// SHA-256 of the file's bytes as stored (compressed files are hashed compressed); `null` for
    /// standard input, which cannot be read twice.
    pub sha256: Option<String>,
}

/// One output file.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct OutputFile {
    /// File name without folders.
    pub name: String,
    /// Format (`csv`, `jsonl`, `spmf`, …).
    pub format: String,
    /// Data rows written (header lines not counted).
    pub rows: u64,
}

/// The manifest of one run.
#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    format: u32,
    tool: &'static str,
    cartseq_version: &'static str,
    command: String,
    command_line: Vec<String>,
    created_utc: String,
    parameters: BTreeMap<String, serde_json::Value>,
    inputs: Vec<InputFile>,
    outputs: Vec<OutputFile>,
    counts: BTreeMap<String, u64>,
}

impl Manifest {
    /// A manifest for subcommand `command`, capturing this process's command line and the time now.
    pub fn new(command: &str) -> Self {
        Manifest {
            format: MANIFEST_FORMAT,
            tool: "cartseq",
            cartseq_version: env!("CARGO_PKG_VERSION"),
            command: command.to_string(),
            command_line: std::env::args().collect(),
            created_utc: now_utc(),
            parameters: BTreeMap::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            counts: BTreeMap::new(),
        }
    }

    /// Records a parameter (any serialisable value).
    pub fn param(&mut self, key: &str, value: impl Serialize) -> &mut Self {
        let v = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
        self.parameters.insert(key.to_string(), v);
        self
    }

    /// Records a count (sequences read, transactions, rules before the top-N cut, …).
    pub fn count(&mut self, key: &str, value: u64) -> &mut Self {
        self.counts.insert(key.to_string(), value);
        self
    }

    /// Records an input file, hashing it (streamed, 1 MiB at a time). `-` is recorded as standard input.
    pub fn input(&mut self, path: &Path) -> anyhow::Result<&mut Self> {
        let sha = if path.as_os_str() == "-" {
            None
        } else {
            Some(sha256_file(path)?.0)
        };
        self.input_hashed(path, sha)
    }

    /// Records an input file whose SHA-256 the caller already computed (`None` for standard input), so
    /// a large log is not read a second time.
    pub fn input_hashed(
        &mut self,
        path: &Path,
        sha256: Option<String>,
    ) -> anyhow::Result<&mut Self> {
        let entry = match sha256 {
            None => InputFile {
                name: "-".into(),
                path: "-".into(),
                bytes: None,
                sha256: None,
            },
            Some(sha) => InputFile {
                name: file_name(path),
                path: path.display().to_string(),
                bytes: Some(
                    std::fs::metadata(path)
                        .with_context(|| format!("cannot read {}", path.display()))?
                        .len(),
                ),
                sha256: Some(sha),
            },
        };
        self.inputs.push(entry);
        Ok(self)
    }

    /// Records an output file with its format and number of data rows.
    pub fn output(&mut self, path: &Path, format: &str, rows: u64) -> &mut Self {
        self.outputs.push(OutputFile {
            name: file_name(path),
            format: format.to_string(),
            rows,
        });
        self
    }

    /// The inputs recorded so far.
    pub fn inputs(&self) -> &[InputFile] {
        &self.inputs
    }

    /// Writes the manifest atomically to `OUT.manifest.json` beside `out`; returns that path.
    pub fn write_beside(&self, out: &Path) -> anyhow::Result<PathBuf> {
        let f = self.file_beside(out)?;
        let p = f.path().to_path_buf();
        f.commit()?;
        Ok(p)
    }

    /// The manifest written to `OUT.manifest.json`'s temporary file, not yet committed: commit it with
    /// the export it describes ([`crate::output::commit_all`]), so the two appear together or not at all.
    pub fn file_beside(&self, out: &Path) -> anyhow::Result<AtomicFile> {
        let p = manifest_path(out);
        let mut f = AtomicFile::create(&p)?;
        serde_json::to_writer_pretty(&mut f, self).context("serialising the manifest")?;
        f.write_all(b"\n")
            .with_context(|| format!("writing {}", p.display()))?;
        Ok(f)
    }
}

/// `OUT.manifest.json` for an output `OUT`.
pub fn manifest_path(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(".manifest.json");
    s.into()
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

/// SHA-256 (lower-case hex) and size of a file.
pub fn sha256_file(path: &Path) -> anyhow::Result<(String, u64)> {
    let mut f = std::fs::File::open(path)
        .with_context(|| format!("cannot open {} to hash it", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let k = f
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if k == 0 {
            break;
        }
        total += k as u64;
        h.update(&buf[..k]);
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok((hex, total))
}

/// Now (or `SOURCE_DATE_EPOCH`) as `YYYY-MM-DDTHH:MM:SSZ`.
fn now_utc() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        });
    rfc3339(secs)
}

/// Seconds since the Unix epoch as an RFC 3339 UTC timestamp (proleptic Gregorian calendar):
/// [`cartseq_data::time::format_iso`], the one date formatter of cartseq.
pub fn rfc3339(secs: i64) -> String {
    cartseq_data::time::format_iso(secs.saturating_mul(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_511_539_200), "2017-11-24T16:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn manifest_records_hash_and_rows() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.txt");
        std::fs::write(&input, b"abc").unwrap();
        let out = dir.path().join("rules.csv");
        let mut m = Manifest::new("rules");
        m.param("min_support", 0.5).count("transactions", 3);
        m.input(&input).unwrap();
        m.output(&out, "csv", 2);
        let p = m.write_beside(&out).unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        assert_eq!(
            v["inputs"][0]["sha256"],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(v["inputs"][0]["name"], "in.txt");
        assert_eq!(v["outputs"][0]["rows"], 2);
        assert_eq!(v["parameters"]["min_support"], 0.5);
        assert_eq!(v["cartseq_version"], env!("CARGO_PKG_VERSION"));
    }
}

//! Writing results safely: atomic files (a temporary file in the target's folder, renamed into place
//! only when complete, so an error never leaves a half-written output), spreadsheet-safe CSV cells, and
//! broken-pipe detection.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// A file being written; it appears under its final name only after [`AtomicFile::commit`].
/// Dropping it without committing deletes the temporary file.
pub struct AtomicFile {
    target: PathBuf,
    tmp: BufWriter<tempfile::NamedTempFile>,
}

impl AtomicFile {
    /// Starts writing `target` (`-` is not accepted here: use stdout directly).
    pub fn create(target: &Path) -> anyhow::Result<Self> {
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(".cartseq-").suffix(".tmp");
        // A temporary file is private (0600) by default; outputs get the mode `File::create` gives
        // (0666 less the umask) so the receiving team can read them.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let tmp = builder
            .tempfile_in(&dir)
            .with_context(|| format!("cannot create a file in {}", dir.display()))?;
        Ok(AtomicFile {
            target: target.to_path_buf(),
            tmp: BufWriter::with_capacity(1 << 20, tmp),
        })
    }

    /// Flushes and renames the file into place.
    pub fn commit(self) -> anyhow::Result<()> {
        let target = self.target;
        let tmp = self
            .tmp
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("writing {}", target.display()))?;
        tmp.persist(&target)
            .map_err(|e| e.error)
            .with_context(|| format!("cannot write {}", target.display()))?;
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tmp.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.tmp.write_all(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.tmp.flush()
    }
}

/// Neutralises a CSV cell that a spreadsheet would run as a formula: a cell starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return gets a leading apostrophe (the OWASP recommendation). Numbers written
/// by cartseq itself (e.g. a negative leverage) are not passed through this; only text cells are.
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => {
            std::borrow::Cow::Owned(format!("'{cell}"))
        }
        _ => std::borrow::Cow::Borrowed(cell),
    }
}

/// Whether an error chain ends in a broken pipe (the reader, e.g. `head`, went away).
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    // The CSV and JSON writers wrap the I/O error in their own types, which do not expose it as a
    // `source`, so each is asked directly.
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == BrokenPipe)
            || c.downcast_ref::<csv::Error>().is_some_and(
                |e| matches!(e.kind(), csv::ErrorKind::Io(io) if io.kind() == BrokenPipe),
            )
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|e| e.io_error_kind() == Some(BrokenPipe))
    })
}

/// Peak resident memory of this process (Linux `VmHWM`), in MB.
pub fn peak_memory_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        for bad in ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(spreadsheet_safe(bad).starts_with('\''), "{bad}");
        }
        assert_eq!(spreadsheet_safe("cart_add:12"), "cart_add:12");
    }

    #[test]
    #[cfg(unix)]
    fn committed_file_has_the_usual_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain.txt");
        std::fs::File::create(&plain).unwrap();
        let target = dir.path().join("out.txt");
        let mut f = AtomicFile::create(&target).unwrap();
        f.write_all(b"x").unwrap();
        f.commit().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&target), mode(&plain));
    }

    #[test]
    fn uncommitted_file_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.txt");
        {
            let mut f = AtomicFile::create(&p).unwrap();
            f.write_all(b"partial").unwrap();
        }
        assert!(!p.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let mut f = AtomicFile::create(&p).unwrap();
        f.write_all(b"done").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "done");
    }
}

//! Writing results safely — the one output layer every file cartseq writes goes through:
//!
//! * a **regular file** (new or existing) is replaced atomically: the bytes go to a temporary file
//!   `.cartseq-XXXXXX.tmp` in the target's folder, which is flushed, `fsync`ed and renamed over the target
//!   only when complete, so a reader sees the old file or the new one, never a half-written one;
//! * a **symbolic link** is followed: its final target is replaced atomically and the link stays a link;
//! * a **non-regular target** (a device such as `/dev/null` or `/dev/full`, a FIFO, `/dev/stdout`) is
//!   written in place and never renamed over;
//! * a **group** of files (an export, its `OUT.manifest.json`, a dictionary) is committed together by
//!   [`commit_all`]: if any of them cannot be put in place, those already renamed are rolled back to
//!   their previous content (or removed when they did not exist), so the group appears whole or not at
//!   all;
//! * temporary files are removed on every error (and on drop), and on SIGINT/SIGTERM by the handler
//!   that [`clean_up_on_signals`] installs, which then exits with 130/143 as a shell would report;
//! * [`check_writable`] checks an output path before any work starts, so a typo in `-o` fails at once.
//!
//! Also here: spreadsheet-safe CSV cells, broken-pipe detection and the peak-memory probe.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;

// ---------------------------------------------------------------------------------------------------
// Temporary files registered for removal on a signal

/// Every temporary file that exists right now (created, not yet renamed or removed).
static TEMPS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn register(p: &Path) {
    TEMPS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(p.to_path_buf());
}

fn unregister(p: &Path) {
    let mut t = TEMPS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(i) = t.iter().rposition(|q| q == p) {
        t.swap_remove(i);
    }
}

/// Removes every registered temporary file (what the signal handler does before exiting).
fn remove_registered_temps() {
    let t = TEMPS.lock().unwrap_or_else(|e| e.into_inner());
    for p in t.iter() {
        let _ = fs::remove_file(p);
    }
}

/// Installs a SIGINT/SIGTERM handler that removes the temporary files of outputs being written and
/// exits with status 128 + signal (130 for SIGINT, 143 for SIGTERM). Called once by the binary at start;
/// a library user that wants the same guarantee calls it too. The handler runs on a thread of its own
/// (`signal-hook`'s iterator), so it may take locks and touch the file system, which a raw signal
/// handler may not.
pub fn clean_up_on_signals() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])
            .context("cannot install the signal handler")?;
        std::thread::Builder::new()
            .name("cartseq-signals".into())
            .spawn(move || {
                if let Some(sig) = signals.forever().next() {
                    remove_registered_temps();
                    std::process::exit(128 + sig);
                }
            })
            .context("cannot start the signal thread")?;
    }
    Ok(())
}

/// A temporary file's path: registered for signal clean-up while it exists, removed on drop unless
/// [`TempPath::keep`] was called (after it was renamed into place).
struct TempPath {
    path: PathBuf,
    armed: bool,
}

impl TempPath {
    /// Creates a fresh, empty `.cartseq-XXXXXX.<ext>` in `dir` (never an existing file), registered
    /// before it exists so that no signal can leave it behind.
    fn create_in(
        dir: &Path,
        ext: &str,
        mode_of: Option<&fs::Metadata>,
    ) -> io::Result<(Self, File)> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let tag = (u64::from(std::process::id()) << 32 ^ u64::from(nanos))
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .wrapping_add(n.wrapping_mul(0xD1B5_4A32_D192_ED03));
            let path = dir.join(format!(".cartseq-{:06x}.{ext}", tag & 0xFF_FFFF));
            register(&path);
            let guard = TempPath { path, armed: true };
            let mut o = OpenOptions::new();
            o.write(true).create_new(true);
            #[cfg(unix)]
            {
                // Outputs get the mode `File::create` gives (0666 less the umask), not a temporary
                // file's 0600, so the receiving team can read them; a replaced file keeps its mode.
                use std::os::unix::fs::OpenOptionsExt;
                o.mode(0o666);
            }
            match o.open(&guard.path) {
                Ok(f) => {
                    if let Some(m) = mode_of {
                        f.set_permissions(m.permissions())?;
                    }
                    return Ok((guard, f));
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    let mut g = guard;
                    g.armed = false; // nothing was created
                    return Err(e);
                }
            }
        }
    }

    /// The file was renamed into place (or moved back): do not remove it on drop.
    fn keep(mut self) {
        self.armed = false;
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_file(&self.path);
        }
        unregister(&self.path);
    }
}

// ---------------------------------------------------------------------------------------------------
// Where the bytes for a target go

/// How a target path is written.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    /// A regular file (existing or not), replaced atomically at this path: the target itself, or the
    /// final file a symbolic link points to.
    Replace(PathBuf),
    /// A device, FIFO or socket (or `/dev/stdout` and its kin): written in place.
    Direct,
}

/// Folders whose entries are windows onto other files (`/dev/stdout`, `/dev/fd/1`,
/// `/proc/self/fd/1`): written in place even when they lead to a regular file, which the shell opened
/// and may be appending to.
fn is_fd_alias(p: &Path) -> bool {
    ["/dev/stdout", "/dev/stderr", "/dev/fd", "/proc"]
        .iter()
        .any(|a| p.starts_with(a))
}

/// Decides how `target` is written; a folder (or a link to one) is an error.
fn route(target: &Path) -> io::Result<Route> {
    match fs::metadata(target) {
        Ok(m) if m.is_dir() => Err(io::Error::other("it is a folder")),
        Ok(m) if !m.is_file() => Ok(Route::Direct),
        Ok(_) if is_fd_alias(target) => Ok(Route::Direct),
        Ok(_) => Ok(Route::Replace(fs::canonicalize(target)?)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Route::Replace(follow_links(target)?)),
        Err(e) => Err(e),
    }
}

/// The file a chain of (possibly dangling) symbolic links ends at; `p` itself when it is no link.
fn follow_links(p: &Path) -> io::Result<PathBuf> {
    let mut cur = p.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                let next = fs::read_link(&cur)?;
                cur = match cur.parent() {
                    Some(dir) if next.is_relative() => dir.join(next),
                    _ => next,
                };
            }
            _ => return Ok(cur),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// The folder a file at `p` lives in (`.` for a bare name).
fn folder_of(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Opens the write side of `target`: a registered temporary file beside the final file, or the
/// target itself when it is not a regular file.
fn open_route(target: &Path) -> io::Result<Dest> {
    match route(target)? {
        Route::Direct => {
            let f = OpenOptions::new().write(true).open(target)?;
            Ok(Dest::Direct(BufWriter::with_capacity(1 << 16, f)))
        }
        Route::Replace(final_path) => {
            let dir = folder_of(&final_path);
            let old = fs::metadata(&final_path).ok();
            let (tmp, f) = TempPath::create_in(&dir, "tmp", old.as_ref())?;
            Ok(Dest::Replace {
                file: BufWriter::with_capacity(1 << 20, f),
                tmp,
                final_path,
            })
        }
    }
}

/// Whether `target` is (or will be) a regular file, replaced atomically; `false` for a device, FIFO
/// or `/dev/stdout`, which are written in place and get no manifest or dictionary beside them.
pub fn is_regular_target(target: &Path) -> bool {
    matches!(route(target), Ok(Route::Replace(_)))
}

/// Checks, before any work starts, that `target` can be written: its folder exists and takes a new
/// file (a temporary file is created and removed) and it is not a folder. The error names the path as
/// the user gave it.
pub fn check_writable(target: &Path) -> anyhow::Result<()> {
    if target.as_os_str() == "-" {
        return Ok(());
    }
    let fail = |e| cannot_write(target, e);
    match route(target).map_err(fail)? {
        // Opening a FIFO would wait for its reader (and hand it an empty stream): the write itself
        // reports a device that refuses bytes.
        Route::Direct => Ok(()),
        Route::Replace(final_path) => {
            // The temporary file is removed as soon as it is created.
            TempPath::create_in(&folder_of(&final_path), "tmp", None).map_err(fail)?;
            Ok(())
        }
    }
}

/// [`check_writable`] for every path given.
pub fn check_all_writable<'a>(targets: impl IntoIterator<Item = &'a Path>) -> anyhow::Result<()> {
    targets.into_iter().try_for_each(check_writable)
}

/// Checks before any work that folder `dir` exists and takes new files, or that it can be created: its
/// nearest existing ancestor is a folder that takes new files. Nothing is created.
pub fn check_folder(dir: &Path) -> anyhow::Result<()> {
    let mut cur = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    loop {
        match fs::metadata(cur) {
            Ok(m) if m.is_dir() => {
                return TempPath::create_in(cur, "tmp", None)
                    .map(drop)
                    .map_err(|e| anyhow::anyhow!("cannot write in {}: {e}", cur.display()));
            }
            Ok(_) => anyhow::bail!(
                "cannot create folder {}: {} is not a folder",
                dir.display(),
                cur.display()
            ),
            Err(e) if e.kind() == io::ErrorKind::NotFound => match cur.parent() {
                Some(p) if !p.as_os_str().is_empty() => cur = p,
                _ => cur = Path::new("."),
            },
            Err(e) => anyhow::bail!("cannot create folder {}: {e}", dir.display()),
        }
    }
}

fn cannot_write(target: &Path, e: io::Error) -> anyhow::Error {
    let why = match e.kind() {
        io::ErrorKind::NotFound => format!("folder {} does not exist", folder_of(target).display()),
        _ => e.to_string(),
    };
    anyhow::anyhow!("cannot write {}: {why}", target.display())
}

// ---------------------------------------------------------------------------------------------------
// AtomicFile

enum Dest {
    Replace {
        file: BufWriter<File>,
        tmp: TempPath,
        final_path: PathBuf,
    },
    Direct(BufWriter<File>),
}

/// A file being written; a regular file appears under its final name only after [`AtomicFile::commit`]
/// (or [`commit_all`]), and dropping it without committing removes the temporary file. A device or
/// FIFO target is written as the bytes come (see the module documentation).
pub struct AtomicFile {
    target: PathBuf,
    dest: Dest,
}

/// A file that is complete and synced, waiting to be renamed into place.
struct Staged {
    target: PathBuf,
    replace: Option<(TempPath, PathBuf)>,
}

impl AtomicFile {
    /// Starts writing `target` (`-` is not accepted here: use stdout directly).
    pub fn create(target: &Path) -> anyhow::Result<Self> {
        let dest = open_route(target).map_err(|e| cannot_write(target, e))?;
        Ok(AtomicFile {
            target: target.to_path_buf(),
            dest,
        })
    }

    /// The path as given to [`AtomicFile::create`].
    pub fn path(&self) -> &Path {
        &self.target
    }

    /// Flushes and renames the file into place.
    pub fn commit(self) -> anyhow::Result<()> {
        commit_all(vec![self])
    }

    fn writer(&mut self) -> &mut BufWriter<File> {
        match &mut self.dest {
            Dest::Replace { file, .. } => file,
            Dest::Direct(file) => file,
        }
    }

    /// Flushes and (for a temporary file) syncs the bytes to disk.
    fn finish(self) -> anyhow::Result<Staged> {
        let target = self.target;
        let writing = || format!("writing {}", target.display());
        match self.dest {
            Dest::Direct(file) => {
                file.into_inner()
                    .map_err(|e| e.into_error())
                    .with_context(writing)?;
                Ok(Staged {
                    target,
                    replace: None,
                })
            }
            Dest::Replace {
                file,
                tmp,
                final_path,
            } => {
                let f = file
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .with_context(writing)?;
                f.sync_all().with_context(writing)?;
                Ok(Staged {
                    target,
                    replace: Some((tmp, final_path)),
                })
            }
        }
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer().write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer().write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.writer().flush()
    }
}

/// One file put in place by [`commit_all`], with what is needed to undo it.
struct Swapped {
    final_path: PathBuf,
    /// A hard link (or copy) of the file it replaced; `None` when there was none.
    backup: Option<TempPath>,
}

/// Renames `tmp` over `final_path`, keeping the previous file as a backup first.
fn swap_in(tmp: TempPath, final_path: &Path) -> io::Result<Swapped> {
    let backup = match fs::symlink_metadata(final_path) {
        Ok(m) if m.is_file() => {
            let (b, _) = TempPath::create_in(&folder_of(final_path), "bak", None)?;
            fs::remove_file(&b.path)?;
            if fs::hard_link(final_path, &b.path).is_err() {
                fs::copy(final_path, &b.path)?;
            }
            Some(b)
        }
        _ => None,
    };
    fs::rename(&tmp.path, final_path)?;
    tmp.keep();
    Ok(Swapped {
        final_path: final_path.to_path_buf(),
        backup,
    })
}

/// Undoes [`swap_in`]s, last first: the previous file is moved back, or the new one removed.
fn roll_back(done: Vec<Swapped>) {
    for s in done.into_iter().rev() {
        match s.backup {
            Some(b) => {
                if fs::rename(&b.path, &s.final_path).is_ok() {
                    b.keep();
                }
            }
            None => {
                let _ = fs::remove_file(&s.final_path);
            }
        }
    }
}

/// Commits a group of files together: each is flushed and synced, then renamed into place in the
/// order given. If any step fails, every file already renamed is rolled back (the previous content
/// restored, or the new file removed), every temporary file is removed, and the error names the file
/// that failed — the group appears whole or not at all. Devices and FIFOs in the group were written
/// as the bytes came and are not undone.
pub fn commit_all(files: Vec<AtomicFile>) -> anyhow::Result<()> {
    let mut staged = Vec::with_capacity(files.len());
    for f in files {
        staged.push(f.finish()?);
    }
    let mut done = Vec::new();
    let mut dirs = Vec::new();
    for s in staged {
        let Some((tmp, final_path)) = s.replace else {
            continue;
        };
        match swap_in(tmp, &final_path) {
            Ok(sw) => {
                dirs.push(folder_of(&final_path));
                done.push(sw);
            }
            Err(e) => {
                roll_back(done);
                return Err(cannot_write(&s.target, e));
            }
        }
    }
    // The renames are durable once the folders are synced (best effort: not every file system
    // lets a folder be opened for that).
    dirs.dedup();
    for d in dirs {
        if let Ok(f) = File::open(&d) {
            let _ = f.sync_all();
        }
    }
    // Dropping the backups removes them.
    drop(done);
    Ok(())
}

/// `e` with the path of the file being written as context, unless its message names it already (so a
/// failed write says which output failed, once).
pub fn naming(e: anyhow::Error, target: &Path) -> anyhow::Error {
    let path = target.display().to_string();
    if format!("{e:#}").contains(&path) {
        e
    } else {
        e.context(format!("writing {path}"))
    }
}

/// Writes `target` with `write` and commits it (atomically, as [`AtomicFile`]).
pub fn write_file(
    target: &Path,
    write: impl FnOnce(&mut AtomicFile) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut f = AtomicFile::create(target)?;
    write(&mut f)?;
    f.commit()
}

// ---------------------------------------------------------------------------------------------------
// Cells, pipes, memory

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

/// A text cell of a hand-written CSV: [`spreadsheet_safe`], then quoted (quotes doubled) when it holds a
/// comma, a quote or a line break (`\r` included: the `csv` crate, like spreadsheets, reads a bare `\r` as
/// the end of a row). Numbers are written as they are, never through this.
pub fn csv_text_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    match spreadsheet_safe(cell) {
        c if c.contains([',', '"', '\n', '\r']) => {
            std::borrow::Cow::Owned(format!("\"{}\"", c.replace('"', "\"\"")))
        }
        c => c,
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

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn formulas_are_neutralised() {
        for bad in ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(spreadsheet_safe(bad).starts_with('\''), "{bad}");
        }
        assert_eq!(spreadsheet_safe("cart_add:12"), "cart_add:12");
    }

    #[test]
    fn text_cells_read_back_as_written() {
        let cells = [
            "plain",
            "a,b",
            "say \"hi\"",
            "two\nlines",
            "a\rb",
            "=cmd",
            "-1,5",
        ];
        let line: Vec<String> = cells
            .iter()
            .map(|c| csv_text_cell(c).into_owned())
            .collect();
        let text = format!("{}\n", line.join(","));
        let mut rd = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 1, "one row: {text:?}");
        let want = [
            "plain",
            "a,b",
            "say \"hi\"",
            "two\nlines",
            "a\rb",
            "'=cmd",
            "'-1,5",
        ];
        assert_eq!(rows[0].iter().collect::<Vec<_>>(), want);
        assert!(matches!(
            csv_text_cell("plain"),
            std::borrow::Cow::Borrowed(_)
        ));
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
        // A replaced file keeps its own mode.
        fs::set_permissions(&target, fs::Permissions::from_mode(0o640)).unwrap();
        write_file(&target, |f| Ok(f.write_all(b"y")?)).unwrap();
        assert_eq!(mode(&target), 0o640);
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
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        let mut f = AtomicFile::create(&p).unwrap();
        f.write_all(b"done").unwrap();
        f.commit().unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "done");
        assert_eq!(names(dir.path()), ["out.txt"]);
    }

    #[test]
    #[cfg(unix)]
    fn a_symlink_is_followed_and_stays_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.csv");
        fs::write(&real, "old").unwrap();
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink("real.csv", &link).unwrap();
        write_file(&link, |f| Ok(f.write_all(b"new")?)).unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "new");
        // A dangling link gets its target created.
        let dangling = dir.path().join("d.csv");
        std::os::unix::fs::symlink("made.csv", &dangling).unwrap();
        write_file(&dangling, |f| Ok(f.write_all(b"m")?)).unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join("made.csv")).unwrap(),
            "m"
        );
        assert_eq!(
            names(dir.path()),
            ["d.csv", "link.csv", "made.csv", "real.csv"]
        );
    }

    #[test]
    #[cfg(unix)]
    fn a_device_is_written_in_place() {
        write_file(Path::new("/dev/null"), |f| Ok(f.write_all(b"x")?)).unwrap();
        let m = fs::metadata("/dev/null").unwrap();
        assert!(!m.is_file());
        let e = write_file(Path::new("/dev/full"), |f| Ok(f.write_all(b"x")?)).unwrap_err();
        assert!(format!("{e:#}").contains("/dev/full"), "{e:#}");
        assert!(!fs::metadata("/dev/full").unwrap().is_file());
    }

    #[test]
    fn a_failed_group_leaves_the_old_files_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("r.csv");
        fs::write(&out, "old rules").unwrap();
        let manifest = dir.path().join("r.csv.manifest.json");
        let mut a = AtomicFile::create(&out).unwrap();
        a.write_all(b"new rules").unwrap();
        let mut b = AtomicFile::create(&manifest).unwrap();
        b.write_all(b"{}").unwrap();
        // The manifest's place is taken by a folder after the check: its rename fails.
        fs::create_dir(&manifest).unwrap();
        let e = commit_all(vec![a, b]).unwrap_err();
        assert!(format!("{e:#}").contains("r.csv.manifest.json"), "{e:#}");
        assert_eq!(fs::read_to_string(&out).unwrap(), "old rules");
        assert_eq!(names(dir.path()), ["r.csv", "r.csv.manifest.json"]);
        // Without an old file, the new one is removed again.
        fs::remove_file(&out).unwrap();
        let mut a = AtomicFile::create(&out).unwrap();
        a.write_all(b"new rules").unwrap();
        let b = AtomicFile::create(&dir.path().join("x.json")).unwrap();
        fs::create_dir(dir.path().join("x.json")).unwrap();
        commit_all(vec![a, b]).unwrap_err();
        assert_eq!(names(dir.path()), ["r.csv.manifest.json", "x.json"]);
    }

    #[test]
    fn bad_paths_are_named_before_any_work() {
        let e = check_writable(Path::new("/nonexistent/r.html")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot write /nonexistent/r.html: folder /nonexistent does not exist"
        );
        let dir = tempfile::tempdir().unwrap();
        let e = check_writable(dir.path()).unwrap_err().to_string();
        assert!(e.ends_with("it is a folder"), "{e}");
        check_writable(&dir.path().join("ok.csv")).unwrap();
        assert_eq!(names(dir.path()), Vec::<String>::new());
    }
}

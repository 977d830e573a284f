//! Opening inputs: a path, `-` for standard input, gzip detected by its magic bytes (whatever the
//! extension), and a [`LineReader`] that yields lines with their numbers, accepts CRLF and a missing final
//! newline, and refuses invalid UTF-8 and runaway lines with a located error instead of eating memory.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::error::{DataError, Location, OnError, SkipReport};

/// Longest line accepted by default (64 MiB): far above any real log row or SPMF sequence, and a bound
/// on the memory one line can take.
pub const DEFAULT_MAX_LINE: usize = 64 << 20;

/// An opened input: a buffered byte stream plus the name to use in messages.
pub struct Input {
    /// Name for messages (`-` is shown as `<stdin>`).
    pub path: PathBuf,
    /// Whether the stream is gzip-decoded.
    pub gzip: bool,
    /// The decoded bytes.
    pub reader: Box<dyn BufRead + Send>,
}

/// Opens `path` (`-` = stdin), transparently decoding gzip.
pub fn open_input(path: &Path) -> Result<Input, DataError> {
    let (name, raw): (PathBuf, Box<dyn Read + Send>) = if path.as_os_str() == "-" {
        (PathBuf::from("<stdin>"), Box::new(io::stdin()))
    } else {
        let f = File::open(path).map_err(|e| DataError::io(path, e))?;
        (path.to_path_buf(), Box::new(f))
    };
    let mut buf = BufReader::with_capacity(256 << 10, raw);
    let head = buf.fill_buf().map_err(|e| DataError::io(&name, e))?;
    let gzip = head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b;
    let reader: Box<dyn BufRead + Send> = if gzip {
        Box::new(BufReader::with_capacity(
            256 << 10,
            flate2::bufread::MultiGzDecoder::new(buf),
        ))
    } else {
        Box::new(buf)
    };
    Ok(Input {
        path: name,
        gzip,
        reader,
    })
}

/// One line handed to the callback of [`LineReader::for_each_line`].
#[derive(Clone, Copy, Debug)]
pub struct LineAt<'a> {
    /// The text, without its `\n` / `\r\n`.
    pub text: &'a str,
    /// Its 1-based number.
    pub no: u64,
    /// Bytes consumed so far (for progress bars).
    pub bytes: u64,
    /// The input's name.
    pub path: &'a Path,
}

impl LineAt<'_> {
    /// The location of this line, for an error about it.
    pub fn location(&self) -> Location {
        Location::line(self.path, self.no)
    }
}

/// Reads lines one at a time into a reused buffer.
///
/// Block readers (`LineReader::read_block`) take whole lines in bulk from the same stream and may
/// hand back what they did not use (`LineReader::unread`): those bytes are read again, line by line,
/// before the rest of the stream, so a block reader can leave any line it cannot handle to the
/// line-by-line path without losing its place.
pub struct LineReader<R: BufRead> {
    reader: R,
    path: PathBuf,
    gzip: bool,
    buf: Vec<u8>,
    line_no: u64,
    max_len: usize,
    bytes: u64,
    poisoned: bool,
    /// Bytes handed back by a block reader, read before `reader` (from `pending_pos` on).
    pending: Vec<u8>,
    pending_pos: usize,
    /// A stream error met by a block reader, reported once `pending` is read.
    pending_err: Option<io::Error>,
}

/// How [`LineReader::read_block`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BlockEnd {
    /// The block holds whole lines (each ending in `\n`) and the input goes on.
    Lines,
    /// The block holds the rest of the input (its last line may lack a `\n`; it may be empty).
    Eof,
    /// Nothing was taken: the next line is longer than the block, or the stream failed (the bytes
    /// before the failure stay to be read line by line, then the error is reported).
    Stop,
}

impl LineReader<Box<dyn BufRead + Send>> {
    /// A line reader over an opened [`Input`].
    pub fn from_input(input: Input) -> Self {
        LineReader::new(input.reader, input.path, input.gzip)
    }
}

impl<R: BufRead> LineReader<R> {
    /// A line reader over `reader`, reporting errors against `path`.
    pub fn new(reader: R, path: impl Into<PathBuf>, gzip: bool) -> Self {
        LineReader {
            reader,
            path: path.into(),
            gzip,
            buf: Vec::new(),
            line_no: 0,
            max_len: DEFAULT_MAX_LINE,
            bytes: 0,
            poisoned: false,
            pending: Vec::new(),
            pending_pos: 0,
            pending_err: None,
        }
    }

    /// Sets the longest accepted line in bytes.
    pub fn with_max_line(mut self, max: usize) -> Self {
        self.max_len = max;
        self
    }

    /// The input name used in messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of the line last returned (1-based; 0 before the first).
    pub fn line_no(&self) -> u64 {
        self.line_no
    }

    /// Bytes consumed so far (for progress bars).
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// Whether the stream failed (I/O error, truncated or corrupt gzip): no further line can be trusted,
    /// so such an error must never be skipped under `--on-error skip`.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// A location on the current line.
    pub fn location(&self) -> Location {
        Location::line(&self.path, self.line_no)
    }

    fn io_error(&mut self, e: io::Error) -> DataError {
        self.poisoned = true;
        if self.gzip {
            DataError::parse(
                Location::line(&self.path, self.line_no + 1),
                "a complete gzip stream",
                &format!("truncated or corrupt gzip data ({e})"),
            )
        } else {
            DataError::io(&self.path, e)
        }
    }

    /// Reads the current line up to and including its `\n` (or the end of the input) into `buf`, as
    /// long as it fits the limit; a longer line is discarded piece by piece so that reading can go on
    /// (`--on-error skip`) without ever holding it in memory. Returns whether any byte was read and, for
    /// a runaway line, its length when it passed the limit.
    fn read_line_into_buf(&mut self) -> Result<(bool, Option<usize>), DataError> {
        let limit = self.max_len.saturating_add(2);
        let mut saw_any = false;
        let mut runaway: Option<usize> = None;
        loop {
            let from_pending = self.pending_pos < self.pending.len();
            let chunk = if from_pending {
                &self.pending[self.pending_pos..]
            } else if let Some(e) = self.pending_err.take() {
                return Err(self.io_error(e));
            } else {
                match self.reader.fill_buf() {
                    Ok(c) => c,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(self.io_error(e)),
                }
            };
            if chunk.is_empty() {
                break;
            }
            saw_any = true;
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            if runaway.is_none() {
                if self.buf.len() + take > limit {
                    runaway = Some(self.buf.len() + take);
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(&chunk[..take]);
                }
            }
            if from_pending {
                self.pending_pos += take;
                if self.pending_pos == self.pending.len() {
                    self.pending.clear();
                    self.pending_pos = 0;
                }
            } else {
                self.reader.consume(take);
            }
            self.bytes += take as u64;
            if done {
                break;
            }
        }
        Ok((saw_any, runaway))
    }

    /// Calls `f` on every line, in order. A line that cannot be read as text (invalid UTF-8, longer
    /// than the limit) is recorded in `skipped` and passed over under [`OnError::Skip`], and returned
    /// under [`OnError::Fail`]; an error of the stream itself (I/O, corrupt gzip) is always returned.
    /// `f` gets the same `skipped` for its own row errors. Returns whether any line was read.
    pub fn for_each_line(
        &mut self,
        policy: OnError,
        skipped: &mut SkipReport,
        mut f: impl FnMut(LineAt<'_>, &mut SkipReport) -> Result<(), DataError>,
    ) -> Result<bool, DataError> {
        let path = self.path.clone();
        let mut saw_line = false;
        loop {
            let (no, bytes, text) = match self.next_line_numbered() {
                Ok(Some(l)) => l,
                Ok(None) => return Ok(saw_line),
                Err(e) => {
                    if self.is_poisoned() {
                        return Err(e);
                    }
                    skipped.handle(policy, e)?;
                    continue;
                }
            };
            saw_line = true;
            let line = LineAt {
                text,
                no,
                bytes,
                path: &path,
            };
            f(line, skipped)?;
        }
    }

    /// The next line without its `\n` / `\r\n`, or `None` at the end. Invalid UTF-8 and lines longer
    /// than the limit are errors naming the line (and, for UTF-8, the byte column).
    pub fn next_line(&mut self) -> Result<Option<&str>, DataError> {
        Ok(self.next_line_numbered()?.map(|(_, _, s)| s))
    }

    /// Like [`Self::next_line`], also returning the line's number and the bytes consumed so far (the line
    /// borrows the reader, so these cannot be asked for separately while it is held).
    pub fn next_line_numbered(&mut self) -> Result<Option<(u64, u64, &str)>, DataError> {
        self.buf.clear();
        if self.poisoned {
            return Ok(None);
        }
        let (saw_any, runaway) = self.read_line_into_buf()?;
        if !saw_any {
            return Ok(None);
        }
        self.line_no += 1;
        if let Some(len) = runaway {
            return Err(DataError::parse(
                self.location(),
                format!("a line of at most {} bytes", self.max_len),
                &format!("a line of more than {len} bytes"),
            ));
        }
        let (n, bytes) = (self.line_no, self.bytes);
        let text = line_text(&self.buf, &self.path, n)?;
        Ok(Some((n, bytes, text)))
    }

    /// Whether no handed-back bytes wait to be read (a block reader may take over here).
    pub(crate) fn at_stream(&self) -> bool {
        self.pending_pos >= self.pending.len() && self.pending_err.is_none() && !self.poisoned
    }

    /// Moves the next whole lines, about `size` bytes (at least `size` unless the input ends), into
    /// `block`, which is cleared first; the part of a line read beyond the last `\n` is kept for the
    /// next call. Line numbers and the byte count are not advanced: the caller reports what it used
    /// with [`LineReader::advance`] and hands back the rest with [`LineReader::unread`].
    pub(crate) fn read_block(&mut self, block: &mut Vec<u8>, size: usize) -> BlockEnd {
        block.clear();
        if self.pending_pos < self.pending.len() {
            block.extend_from_slice(&self.pending[self.pending_pos..]);
        }
        self.pending.clear();
        self.pending_pos = 0;
        if self.pending_err.is_some() || self.poisoned {
            self.unread(&block[..]);
            block.clear();
            return BlockEnd::Stop;
        }
        let want = size.saturating_sub(block.len());
        let got = match (&mut self.reader).take(want as u64).read_to_end(block) {
            Ok(n) => n,
            Err(e) => {
                // Whatever was read before the failure is read line by line, then the error is met
                // where the line reader would have met it.
                self.pending_err = Some(e);
                self.unread(&block[..]);
                block.clear();
                return BlockEnd::Stop;
            }
        };
        if got < want {
            return BlockEnd::Eof;
        }
        match memchr::memrchr(b'\n', block) {
            Some(i) => {
                self.unread(&block[i + 1..]);
                block.truncate(i + 1);
                BlockEnd::Lines
            }
            None => {
                self.unread(&block[..]);
                block.clear();
                BlockEnd::Stop
            }
        }
    }

    /// Puts `bytes` back in front of what is left to read.
    pub(crate) fn unread(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let rest = self.pending.split_off(self.pending_pos);
        self.pending.clear();
        self.pending.extend_from_slice(bytes);
        self.pending.extend_from_slice(&rest);
        self.pending_pos = 0;
    }

    /// Counts `lines` lines and `bytes` bytes taken by a block reader as read.
    pub(crate) fn advance(&mut self, lines: u64, bytes: u64) {
        self.line_no += lines;
        self.bytes += bytes;
    }

    /// The limit on a line's length (see [`LineReader::with_max_line`]).
    pub(crate) fn max_line(&self) -> usize {
        self.max_len
    }
}

/// The text of line `no` of `path`, from its raw bytes with or without the `\n` / `\r\n` that ends it:
/// the line without them, or an error naming the line and byte column of invalid UTF-8.
pub(crate) fn line_text<'a>(raw: &'a [u8], path: &Path, no: u64) -> Result<&'a str, DataError> {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    std::str::from_utf8(raw).map_err(|e| {
        let col = e.valid_up_to() + 1;
        let bad = &raw[e.valid_up_to()..(e.valid_up_to() + 4).min(raw.len())];
        DataError::parse(
            Location::line(path, no).with_column(col),
            "valid UTF-8 text",
            &format!("invalid byte(s) {bad:02x?} at byte {col}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<String> {
        let mut r = LineReader::new(input, "t", false);
        let mut v = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            v.push(l.to_string());
        }
        v
    }

    #[test]
    fn crlf_and_missing_final_newline() {
        assert_eq!(lines(b"a\r\nb\n\nc"), vec!["a", "b", "", "c"]);
        assert_eq!(lines(b""), Vec::<String>::new());
    }

    #[test]
    fn invalid_utf8_is_located() {
        let mut r = LineReader::new(&b"ok\nab\xffc\n"[..], "f.csv", false);
        r.next_line().unwrap();
        let e = r.next_line().unwrap_err().to_string();
        assert!(e.starts_with("f.csv:2:3: expected valid UTF-8"), "{e}");
    }

    #[test]
    fn long_line_is_refused() {
        let mut data = vec![b'x'; 1000];
        data.extend_from_slice(b"\nnext\n");
        let mut r = LineReader::new(std::io::BufReader::with_capacity(64, &data[..]), "f", false)
            .with_max_line(100);
        let e = r.next_line().unwrap_err().to_string();
        assert!(
            e.starts_with("f:1: expected a line of at most 100 bytes"),
            "{e}"
        );
        assert_eq!(r.next_line().unwrap(), Some("next"));
        assert_eq!(r.line_no(), 2);
    }
}

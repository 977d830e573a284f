//! The Taobao fast road of [`super::read_events_from`]: whole blocks of lines parsed straight from
//! their bytes on every thread of the rayon pool, their names interned in file order.
//!
//! A Taobao row is five fields of fixed shape, `user,item,category,behavior,seconds`, with decimal
//! ids. Reading it as text (a `&str` per line, a vector of field ranges, one string look-up per name)
//! costs more than the row is worth, so here a block of about [`BLOCK_BYTES`] of whole lines is cut
//! into pieces at line breaks and each piece is parsed on its own thread into numbers ([`RawRow`]):
//! the ids' values, the behaviour's code and the time in milliseconds. Interning cannot be split
//! (ids are numbered by first appearance), so one thread then takes the rows in file order and interns
//! each id by its value ([`crate::Vocab::intern_decimal`]: a table or hash look-up, no string), while
//! the other threads already parse the next block. The ids, the log and every message are therefore
//! exactly those of the line-by-line road, whatever the number of threads.
//!
//! Any line that is not such a plain row — blank, a header, an id with a leading zero or more than 19
//! digits, an unknown behaviour, a quote, invalid UTF-8, too many fields — is read by the line-by-line
//! code ([`EventReader::line`]) at its place in the order, with its own line number, so it is reported
//! or skipped as before. A line that ends inside a quoted field (its record goes on on the next line)
//! or one longer than the line limit ends the fast road: the rest of the block goes back to the
//! [`LineReader`] ([`LineReader::unread`]) and is read line by line; the fast road resumes at the next
//! block.

use std::io::BufRead;

use rayon::prelude::*;

use super::{action_id, EventReader, LineStep};
use crate::error::DataError;
use crate::event::{Action, Event, Timestamp};
use crate::ids::{ActionId, CategoryId, KeyId, ProductId};
use crate::input::{line_text, BlockEnd, LineReader};

/// Bytes of input per block: large enough that handing a block between threads costs nothing, small
/// enough that the rows parsed ahead stay in a few MB.
pub(super) const BLOCK_BYTES: usize = 4 << 20;

/// Bytes per piece a block is cut into for the threads (a piece ends at a line break).
const PIECE_BYTES: usize = 128 << 10;

/// How [`read_blocks`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ended {
    /// Every line of the input was read.
    Input,
    /// The lines from some point on were left to the line reader (see the module docs).
    HandedBack,
}

/// Behaviour code of a line that is not a plain Taobao row.
const IRREGULAR: u8 = u8::MAX;

/// The Taobao behaviours by code.
const BEHAVIOURS: [Action; 4] = [Action::View, Action::CartAdd, Action::Fav, Action::Buy];

/// One line as parsed by a piece's thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct RawRow {
    user: u64,
    item: u64,
    category: u64,
    time_ms: i64,
    /// Offset of the line's first byte in its block.
    start: u32,
    /// Index into [`BEHAVIOURS`], or [`IRREGULAR`].
    behaviour: u8,
}

/// A run of whole lines of a block and its parsed rows (one per line).
#[derive(Debug, Default)]
struct Piece {
    start: usize,
    end: usize,
    rows: Vec<RawRow>,
}

/// A block of the input, cut into pieces, with how its reading ended.
#[derive(Debug)]
struct Block {
    bytes: Vec<u8>,
    end: BlockEnd,
    pieces: Vec<Piece>,
    used: usize,
}

impl Block {
    fn new() -> Self {
        Block {
            bytes: Vec::new(),
            end: BlockEnd::Stop,
            pieces: Vec::new(),
            used: 0,
        }
    }

    /// Reads the next block from `lines` and parses it, the pieces on the pool's threads.
    fn read_and_parse<R: BufRead>(&mut self, lines: &mut LineReader<R>, size: usize) {
        self.end = lines.read_block(&mut self.bytes, size);
        self.used = 0;
        if self.end == BlockEnd::Stop {
            return;
        }
        let n = self.bytes.len();
        let mut s = 0;
        while s < n {
            let target = s + PIECE_BYTES;
            let e = if target >= n {
                n
            } else {
                memchr::memchr(b'\n', &self.bytes[target..]).map_or(n, |i| target + i + 1)
            };
            if self.used == self.pieces.len() {
                self.pieces.push(Piece::default());
            }
            let p = &mut self.pieces[self.used];
            p.start = s;
            p.end = e;
            self.used += 1;
            s = e;
        }
        let bytes = &self.bytes;
        self.pieces[..self.used]
            .par_iter_mut()
            .for_each(|p| parse_piece(bytes, p));
    }
}

/// Parses the lines of `p` (a run of whole lines of `bytes`) into `p.rows`.
fn parse_piece(bytes: &[u8], p: &mut Piece) {
    p.rows.clear();
    let b = &bytes[..p.end];
    let mut at = p.start;
    while at < p.end {
        let (row, next) = match parse_row(b, at) {
            Some(r) => r,
            None => {
                let next = memchr::memchr(b'\n', &b[at..]).map_or(b.len(), |i| at + i + 1);
                let row = RawRow {
                    start: at as u32,
                    behaviour: IRREGULAR,
                    ..RawRow::default()
                };
                (row, next)
            }
        };
        p.rows.push(row);
        at = next;
    }
}

/// The decimal number at `b[*at..]` up to the first non-digit, and its number of digits; `*at` moves
/// past it. More than 19 digits give a meaningless value (callers refuse them).
#[inline]
fn digits(b: &[u8], at: &mut usize) -> (u64, usize) {
    let s = *at;
    let mut v: u64 = 0;
    while let Some(&c) = b.get(*at) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        v = v.wrapping_mul(10).wrapping_add(u64::from(d));
        *at += 1;
    }
    (v, *at - s)
}

/// An id field followed by `,`: a plain decimal number as [`crate::Vocab::intern_decimal`] takes it
/// (1–19 digits, no leading zero).
#[inline]
fn id_field(b: &[u8], at: &mut usize) -> Option<u64> {
    let s = *at;
    let (v, n) = digits(b, at);
    if n == 0 || n > 19 || (n > 1 && b[s] == b'0') || b.get(*at) != Some(&b',') {
        return None;
    }
    *at += 1;
    Some(v)
}

/// The plain Taobao row starting at `b[at]` and the offset of the next line, or `None` for any other
/// line. The time is what the line-by-line reader makes of it (`i64` seconds × 1000): 1–15 digits
/// (leading zeros allowed), so the product cannot overflow.
#[inline]
fn parse_row(b: &[u8], start: usize) -> Option<(RawRow, usize)> {
    let mut at = start;
    let user = id_field(b, &mut at)?;
    let item = id_field(b, &mut at)?;
    let category = id_field(b, &mut at)?;
    let rest = &b[at..];
    let (behaviour, len) = if rest.starts_with(b"pv,") {
        (0, 3)
    } else if rest.starts_with(b"cart,") {
        (1, 5)
    } else if rest.starts_with(b"fav,") {
        (2, 4)
    } else if rest.starts_with(b"buy,") {
        (3, 4)
    } else {
        return None;
    };
    at += len;
    let (secs, n) = digits(b, &mut at);
    if n == 0 || n > 15 {
        return None;
    }
    let next = match &b[at..] {
        [] => at,
        [b'\n', ..] | [b'\r'] => at + 1,
        [b'\r', b'\n', ..] => at + 2,
        _ => return None,
    };
    let row = RawRow {
        user,
        item,
        category,
        time_ms: (secs as i64) * 1000,
        start: start as u32,
        behaviour,
    };
    Some((row, next))
}

/// The previous row's user and its id (logs are grouped by user, so it repeats), and the item and
/// category ids of a piece's rows looked up ahead.
#[derive(Default)]
struct Cache {
    user: Option<(u64, u32)>,
    known: Vec<(u32, u32)>,
}

/// Marks an id not known when looked up ahead.
const UNKNOWN: u32 = u32::MAX;

/// The longest plain row with its line break: three 19-digit ids, `cart`, 15 time digits, `\r\n`.
const LONGEST_PLAIN_ROW: usize = 3 * 20 + 5 + 15 + 2;

/// Where [`apply`] stopped.
enum Applied {
    /// Every line of the block was read; that many lines.
    All(u64),
    /// The line at this offset (after that many lines) must be read line by line.
    HandBack { offset: usize, lines: u64 },
}

/// Interns and logs the rows of `block` in order; the first line is line `first_line`.
fn apply(
    r: &mut EventReader<'_>,
    cache: &mut Cache,
    block: &Block,
    first_line: u64,
    max_line: usize,
) -> Result<Applied, DataError> {
    let mut line_no = first_line;
    let mut known = std::mem::take(&mut cache.known);
    // Only a line limit below the longest plain row can refuse a plain row for its length.
    let limit = max_line.saturating_add(2);
    let check_len = limit < LONGEST_PLAIN_ROW;
    for piece in &block.pieces[..block.used] {
        // Look the piece's items and categories up first: the look-ups do not depend on each other,
        // so their cache misses overlap instead of stalling one row at a time. An id, once given,
        // never changes; a name still unknown here may be added by an earlier row of the piece, so
        // those are interned in order below.
        let (products, categories) = (&r.dict.products, &r.dict.categories);
        known.clear();
        known.extend(piece.rows.iter().map(|row| {
            (
                products.get_decimal(row.item).unwrap_or(UNKNOWN),
                categories.get_decimal(row.category).unwrap_or(UNKNOWN),
            )
        }));
        for (k, row) in piece.rows.iter().enumerate() {
            let end = piece
                .rows
                .get(k + 1)
                .map_or(piece.end, |n| n.start as usize);
            let too_long = check_len && end - row.start as usize > limit;
            if row.behaviour == IRREGULAR || too_long || !push_row(r, cache, row, known[k]) {
                let text = &block.bytes[row.start as usize..end];
                if read_line(r, line_no, text, max_line)? == LineStep::OpenQuote {
                    cache.known = known;
                    return Ok(Applied::HandBack {
                        offset: row.start as usize,
                        lines: line_no - first_line,
                    });
                }
            }
            line_no += 1;
        }
    }
    cache.known = known;
    Ok(Applied::All(line_no - first_line))
}

/// Interns and logs a plain row whose item and category ids were looked up ahead as `known`
/// ([`UNKNOWN`] when not found then); `false` (nothing done) when an id or action cannot be interned,
/// so the line-by-line reader reports it.
#[inline]
fn push_row(r: &mut EventReader<'_>, cache: &mut Cache, row: &RawRow, known: (u32, u32)) -> bool {
    let dict = &mut *r.dict;
    let user = match cache.user {
        Some((k, id)) if k == row.user => id,
        _ => match dict.users.intern_decimal(row.user) {
            Some(id) => {
                cache.user = Some((row.user, id));
                id
            }
            None => return false,
        },
    };
    let item = match known.0 {
        UNKNOWN => match dict.products.intern_decimal(row.item) {
            Some(id) => id,
            None => return false,
        },
        id => id,
    };
    let category = match known.1 {
        UNKNOWN => match dict.categories.intern_decimal(row.category) {
            Some(id) => id,
            None => return false,
        },
        id => id,
    };
    let behaviour = BEHAVIOURS[usize::from(row.behaviour)];
    let Ok(action) = action_id(&mut r.state, &mut dict.actions, behaviour) else {
        return false;
    };
    r.data_rows += 1;
    r.log.push(&Event {
        user: KeyId(user),
        session: None,
        time: Timestamp(row.time_ms),
        item: ProductId(item),
        category: Some(CategoryId(category)),
        action: ActionId(u32::from(action)),
        quantity: None,
        price: None,
    });
    true
}

/// Reads one line (its bytes, with the line break) as the line reader and the line-by-line loop
/// would; [`LineStep::OpenQuote`] (nothing done) when it must be read by them instead: a line longer
/// than the limit, or one whose quoted field runs on to the next line.
fn read_line(
    r: &mut EventReader<'_>,
    line_no: u64,
    text: &[u8],
    max_line: usize,
) -> Result<LineStep, DataError> {
    if text.len() > max_line.saturating_add(2) {
        return Ok(LineStep::OpenQuote);
    }
    match line_text(text, &r.path, line_no) {
        Ok(t) => r.line(line_no, t),
        Err(e) => {
            r.skipped.handle(r.on_error, e)?;
            r.data_rows += 1;
            Ok(LineStep::Done)
        }
    }
}

/// Reads blocks of `block_bytes` from `lines` until the input ends ([`Ended::Input`]) or a line must
/// be read line by line ([`Ended::HandedBack`]: the reader's position is then that line). Each block is
/// interned on one thread while the next one is read and parsed on the others. The caller has read the
/// first line (the layout is known).
pub(super) fn read_blocks<R: BufRead + Send>(
    r: &mut EventReader<'_>,
    lines: &mut LineReader<R>,
    progress: &mut dyn FnMut(u64),
    block_bytes: usize,
) -> Result<Ended, DataError> {
    let max_line = lines.max_line();
    let mut cur = Block::new();
    let mut next = Block::new();
    cur.read_and_parse(lines, block_bytes);
    if cur.end == BlockEnd::Stop {
        return Ok(Ended::HandedBack);
    }
    let mut cache = Cache::default();
    loop {
        let more = cur.end == BlockEnd::Lines;
        let first_line = lines.line_no() + 1;
        let (applied, ()) = rayon::join(
            || apply(r, &mut cache, &cur, first_line, max_line),
            || {
                if more {
                    next.read_and_parse(lines, block_bytes);
                }
            },
        );
        match applied? {
            Applied::HandBack { offset, lines: n } => {
                if more && next.end != BlockEnd::Stop {
                    lines.unread(&next.bytes);
                }
                lines.unread(&cur.bytes[offset..]);
                lines.advance(n, offset as u64);
                return Ok(Ended::HandedBack);
            }
            Applied::All(n) => {
                lines.advance(n, cur.bytes.len() as u64);
                progress(lines.bytes_read());
            }
        }
        if !more {
            return Ok(Ended::Input);
        }
        if next.end == BlockEnd::Stop {
            return Ok(Ended::HandedBack);
        }
        std::mem::swap(&mut cur, &mut next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<RawRow> {
        let mut p = Piece {
            start: 0,
            end: text.len(),
            rows: Vec::new(),
        };
        parse_piece(text.as_bytes(), &mut p);
        p.rows
    }

    #[test]
    fn plain_rows_parse_from_bytes() {
        let r = rows("1,22,333,cart,1511544070\r\n0,5,6,buy,007\n9,8,7,pv,1");
        assert_eq!(r.len(), 3);
        assert_eq!(
            r[0],
            RawRow {
                user: 1,
                item: 22,
                category: 333,
                time_ms: 1_511_544_070_000,
                start: 0,
                behaviour: 1
            }
        );
        assert_eq!((r[1].user, r[1].time_ms, r[1].behaviour), (0, 7000, 3));
        assert_eq!((r[2].start, r[2].behaviour), (40, 0));
    }

    #[test]
    fn other_lines_are_irregular() {
        for line in [
            "",
            "user_id,item_id,category_id,behavior_type,timestamp",
            "01,2,3,pv,5",
            "1,2,3,pv,5,6",
            "1,2,3,click,5",
            "1,2,,pv,5",
            "1,2,3,pv,-5",
            "1,2,3,pv,+5",
            "1,2,3,pv,1234567890123456",
            "12345678901234567890,2,3,pv,5",
            "1,\"2\",3,pv,5",
            "1,2,3,pv,5\r\r",
            "1,2,3,pv,5 ",
        ] {
            let text = format!("{line}\n1,2,3,fav,4\n");
            let r = rows(&text);
            assert_eq!(r.len(), 2, "{line:?}");
            assert_eq!(r[0].behaviour, IRREGULAR, "{line:?}");
            assert_eq!(r[1].start as usize, line.len() + 1, "{line:?}");
            assert_eq!(r[1].behaviour, 2, "{line:?}");
        }
        // 19 digits is the most a plain id may have.
        assert_eq!(
            rows("9999999999999999999,2,3,pv,5")[0].user,
            9_999_999_999_999_999_999
        );
    }
}

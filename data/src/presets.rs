//! Readers for the public e-commerce logs, one preset each, plus a `generic` CSV reader and the
//! sequence-shaped formats (`spmf`, `basket`).
//!
//! Every reader streams: one line at a time through a reused buffer ([`LineReader`]), fields split in
//! place (a quote-aware slow path only for lines containing `"`), names interned into the
//! [`Dictionary`] as they are met, so memory grows with the [`EventLog`] (≈ 17–29 bytes per event) and
//! the vocabularies, never with the size of a row or the file. Cost: one pass, O(1) hash look-ups per
//! field (the previous row's user is cached, logs being grouped by user).
//!
//! | preset | columns | actions |
//! |---|---|---|
//! | `taobao` | `user,item,category,behavior,unix_seconds` (no header) | `pv cart fav buy` (strict) |
//! | `yoochoose` | raw `session,ISO time,item,category` (clicks) and `session,ISO time,item,price,quantity` (buys), or the prepared TSV `SessionId ItemId Time` | view / buy |
//! | `diginetica` | `session_id;user_id;item_id;timeframe;eventdate` (header, either spelling) | view |
//! | `online-retail` | UCI header `InvoiceNo,StockCode,…,CustomerID,Country` | buy; `return` for a negative quantity or a `C` invoice |
//! | `tianchi-mobile` | `user_id,item_id,behavior_type,user_geohash,item_category,time` | `1..4` = view, fav, cart_add, buy (strict) |
//! | `retailrocket` | `timestamp_ms,visitorid,event,itemid,transactionid` | `view addtocart transaction` (strict) |
//! | `generic` | any delimited file: columns by name or 1-based index ([`GenericSpec`]) | synonyms mapped to canonical names, others kept as custom actions |
//! | `spmf` | SPMF sequences (see [`crate::spmf`]) | — |
//! | `basket` | one transaction per line, whitespace-separated items (FIMI `retail.txt`) | — |

use std::io::BufRead;
use std::path::Path;

use hashbrown::HashMap;

use crate::dictionary::{Dictionary, Vocab};
use crate::error::{DataError, Location, OnError, SkipReport};
use crate::event::{canonical_action, Action, Event, Timestamp};
use crate::event_log::EventLog;
use crate::ids::{ActionId, CategoryId, ItemId, KeyId, ProductId};
use crate::input::{open_input, LineReader, DEFAULT_MAX_LINE};
use crate::sequence_db::{SequenceDb, SequenceDbBuilder};
use crate::time::{self, TimeFormat};

mod fast;

/// The input formats cartseq reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Preset {
    /// Alibaba Taobao UserBehavior.csv.
    Taobao,
    /// RecSys Challenge 2015 (YOOCHOOSE) clicks/buys, raw or prepared TSV.
    Yoochoose,
    /// CIKM Cup 2016 (DIGINETICA) train-item-views.
    Diginetica,
    /// UCI Online Retail invoices.
    OnlineRetail,
    /// Alibaba Tianchi mobile recommendation user behaviour.
    TianchiMobile,
    /// RetailRocket events.csv.
    Retailrocket,
    /// Any delimited file, columns chosen by a [`GenericSpec`].
    #[default]
    Generic,
    /// SPMF sequence format.
    Spmf,
    /// One basket (transaction) per line.
    Basket,
}

impl Preset {
    /// Every preset, in the order shown in help texts.
    pub const ALL: [Preset; 9] = [
        Preset::Taobao,
        Preset::Yoochoose,
        Preset::Diginetica,
        Preset::OnlineRetail,
        Preset::TianchiMobile,
        Preset::Retailrocket,
        Preset::Generic,
        Preset::Spmf,
        Preset::Basket,
    ];

    /// Whether this preset holds sequences directly (SPMF, baskets) instead of events.
    pub fn yields_sequences(self) -> bool {
        matches!(self, Preset::Spmf | Preset::Basket)
    }

    /// One-line description of the expected layout.
    pub fn describe(self) -> &'static str {
        match self {
            Preset::Taobao => "user,item,category,behavior(pv|cart|fav|buy),unix_seconds; no header",
            Preset::Yoochoose => {
                "session,ISO time,item,category (clicks) / session,time,item,price,quantity (buys), or TSV SessionId ItemId Time"
            }
            Preset::Diginetica => "session_id;user_id;item_id;timeframe;eventdate with header",
            Preset::OnlineRetail => {
                "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country with header"
            }
            Preset::TianchiMobile => "user_id,item_id,behavior_type(1-4),user_geohash,item_category,time",
            Preset::Retailrocket => "timestamp_ms,visitorid,event(view|addtocart|transaction),itemid,transactionid",
            Preset::Generic => "any delimited file; choose the columns",
            Preset::Spmf => "SPMF sequences: items, -1 closes an itemset, -2 a sequence",
            Preset::Basket => "one transaction per line, items separated by whitespace",
        }
    }
}

// The command-line names (in the order of [`Preset::ALL`]) and the other names of the same layouts; any
// case, `_` for `-`.
crate::named_enum!(Preset, "a preset", fold = |s: &str| s.to_ascii_lowercase().replace('_', "-"), [
    "taobao" | "userbehavior" | "taobao-userbehavior" => Preset::Taobao,
    "yoochoose" | "rsc15" | "recsys15" => Preset::Yoochoose,
    "diginetica" | "cikm16" => Preset::Diginetica,
    "online-retail" | "uci-online-retail" | "onlineretail" | "retail" => Preset::OnlineRetail,
    "tianchi-mobile" | "tianchi" | "tianchimobile" => Preset::TianchiMobile,
    "retailrocket" | "retail-rocket" => Preset::Retailrocket,
    "generic" | "csv" => Preset::Generic,
    "spmf" => Preset::Spmf,
    "basket" | "fimi" | "transactions" => Preset::Basket,
]);

/// A column chosen by header name or by 1-based position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ColumnRef {
    /// By header name (compared ignoring case, `_`, `-` and spaces).
    Name(String),
    /// By 1-based position.
    Index(usize),
}

impl std::str::FromStr for ColumnRef {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Err("expected a column name or 1-based number, found an empty value".into());
        }
        if s.bytes().all(|b| b.is_ascii_digit()) {
            return match s.parse::<usize>() {
                Ok(0) | Err(_) => Err(format!("expected a 1-based column number, found {s:?}")),
                Ok(i) => Ok(ColumnRef::Index(i)),
            };
        }
        Ok(ColumnRef::Name(s.to_owned()))
    }
}

impl std::fmt::Display for ColumnRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ColumnRef::Name(n) => write!(f, "{n:?}"),
            ColumnRef::Index(i) => write!(f, "#{i}"),
        }
    }
}

/// Which column holds each field of an event: the one column mapping of every reader that chooses
/// columns (the `generic` CSV preset, Arrow batches, Parquet and Arrow IPC files). `C` says how a column
/// is given: [`ColumnRef`] as the user chose it, `usize` (0-based) once resolved against a header or a
/// schema ([`EventColumns::try_map`]). `None` is a role without a column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventColumns<C> {
    /// User column (`None`: the session is the user).
    pub user: Option<C>,
    /// Session column.
    pub session: Option<C>,
    /// Item column (required).
    pub item: Option<C>,
    /// Category column.
    pub category: Option<C>,
    /// Action column (absent: every event is a `view`).
    pub action: Option<C>,
    /// Time column (absent: the line or row order orders events).
    pub time: Option<C>,
    /// Quantity column.
    pub quantity: Option<C>,
    /// Unit price column.
    pub price: Option<C>,
}

impl<C> Default for EventColumns<C> {
    fn default() -> Self {
        EventColumns {
            user: None,
            session: None,
            item: None,
            category: None,
            action: None,
            time: None,
            quantity: None,
            price: None,
        }
    }
}

/// A role every event log needs but no column was chosen for (see [`EventColumns::required`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissingColumn {
    /// No item column.
    Item,
    /// Neither a user nor a session column.
    UserOrSession,
}

impl<C> EventColumns<C> {
    /// Every role with its name (`user`, `session`, `item`, `category`, `action`, `time`, `quantity`,
    /// `price`: the names of the `--*-col` options and of the Python keys) and its column.
    pub fn roles(&self) -> [(&'static str, Option<&C>); 8] {
        [
            ("user", self.user.as_ref()),
            ("session", self.session.as_ref()),
            ("item", self.item.as_ref()),
            ("category", self.category.as_ref()),
            ("action", self.action.as_ref()),
            ("time", self.time.as_ref()),
            ("quantity", self.quantity.as_ref()),
            ("price", self.price.as_ref()),
        ]
    }

    /// [`EventColumns::roles`] with each role's slot, to fill.
    pub fn roles_mut(&mut self) -> [(&'static str, &mut Option<C>); 8] {
        [
            ("user", &mut self.user),
            ("session", &mut self.session),
            ("item", &mut self.item),
            ("category", &mut self.category),
            ("action", &mut self.action),
            ("time", &mut self.time),
            ("quantity", &mut self.quantity),
            ("price", &mut self.price),
        ]
    }

    /// Whether no role has a column.
    pub fn is_empty(&self) -> bool {
        self.roles().iter().all(|(_, c)| c.is_none())
    }

    /// Every chosen column mapped by `f` (given the column and its role's name), the first error
    /// returned. Item, user and session are mapped first, then the others in field order: the order
    /// every resolver has always reported a bad column in.
    pub fn try_map<D, E>(
        &self,
        mut f: impl FnMut(&C, &'static str) -> Result<D, E>,
    ) -> Result<EventColumns<D>, E> {
        let mut map = |c: &Option<C>, role| c.as_ref().map(|c| f(c, role)).transpose();
        let item = map(&self.item, "item")?;
        let user = map(&self.user, "user")?;
        let session = map(&self.session, "session")?;
        Ok(EventColumns {
            user,
            session,
            item,
            category: map(&self.category, "category")?,
            action: map(&self.action, "action")?,
            time: map(&self.time, "time")?,
            quantity: map(&self.quantity, "quantity")?,
            price: map(&self.price, "price")?,
        })
    }

    /// The item column, once the roles every event needs are known to have a column: the item, and a
    /// user or a session (without a user column the session stands for the user).
    pub fn required(&self) -> Result<&C, MissingColumn> {
        let item = self.item.as_ref().ok_or(MissingColumn::Item)?;
        if self.user.is_none() && self.session.is_none() {
            return Err(MissingColumn::UserOrSession);
        }
        Ok(item)
    }
}

/// Column choice for the `generic` preset (and overrides of the delimiter for others).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenericSpec {
    /// Which column holds user, session, item, category, action, time, quantity and price.
    pub columns: EventColumns<ColumnRef>,
    /// Field delimiter (`,` by default; `\t` for TSV).
    pub delimiter: u8,
    /// Whether the first line is a header.
    pub header: bool,
    /// How the time column is written.
    pub time_format: TimeFormat,
}

impl Default for GenericSpec {
    fn default() -> Self {
        GenericSpec {
            columns: EventColumns::default(),
            delimiter: b',',
            header: true,
            time_format: TimeFormat::Auto,
        }
    }
}

/// Everything a reader needs to know about an input's format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresetConfig {
    /// The format.
    pub preset: Preset,
    /// Column choice, used by [`Preset::Generic`].
    pub generic: GenericSpec,
    /// Longest accepted line in bytes (default 64 MiB).
    pub max_line: usize,
}

impl PresetConfig {
    /// The configuration of a named preset with default settings.
    pub fn new(preset: Preset) -> Self {
        PresetConfig {
            preset,
            generic: GenericSpec::default(),
            max_line: DEFAULT_MAX_LINE,
        }
    }

    /// A `generic` configuration with the given columns.
    pub fn generic(spec: GenericSpec) -> Self {
        PresetConfig {
            preset: Preset::Generic,
            generic: spec,
            max_line: DEFAULT_MAX_LINE,
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Field splitting

/// Byte ranges of the fields of one line; quoted lines are unescaped into `scratch`.
#[derive(Default)]
struct Fields {
    ranges: Vec<(usize, usize)>,
    scratch: String,
    quoted: bool,
}

/// (1-based column, expected, found) of a malformed field.
type FieldError = (Option<usize>, String, String);

impl Fields {
    fn split(&mut self, line: &str, delim: u8) -> Result<(), FieldError> {
        self.ranges.clear();
        let b = line.as_bytes();
        if memchr::memchr(b'"', b).is_none() {
            self.quoted = false;
            let mut start = 0;
            for i in memchr::memchr_iter(delim, b) {
                self.ranges.push((start, i));
                start = i + 1;
            }
            self.ranges.push((start, b.len()));
            return Ok(());
        }
        self.quoted = true;
        self.scratch.clear();
        let mut i = 0;
        loop {
            let start = self.scratch.len();
            if b.get(i) == Some(&b'"') {
                i += 1;
                let mut seg = i;
                loop {
                    match memchr::memchr(b'"', &b[i..]) {
                        None => {
                            return Err((
                                Some(self.ranges.len() + 1),
                                "a closing quote".into(),
                                "end of line".into(),
                            ))
                        }
                        Some(k) => {
                            let q = i + k;
                            self.scratch.push_str(&line[seg..q]);
                            if b.get(q + 1) == Some(&b'"') {
                                self.scratch.push('"');
                                i = q + 2;
                                seg = i;
                            } else {
                                i = q + 1;
                                break;
                            }
                        }
                    }
                }
                self.ranges.push((start, self.scratch.len()));
                match b.get(i) {
                    None => return Ok(()),
                    Some(&c) if c == delim => i += 1,
                    Some(_) => {
                        let rest: String = line[i..].chars().take(20).collect();
                        return Err((
                            Some(self.ranges.len()),
                            "a delimiter after a closing quote".into(),
                            rest,
                        ));
                    }
                }
            } else {
                let end = memchr::memchr(delim, &b[i..]).map_or(b.len(), |k| i + k);
                self.scratch.push_str(&line[i..end]);
                self.ranges.push((start, self.scratch.len()));
                if end == b.len() {
                    return Ok(());
                }
                i = end + 1;
            }
        }
    }

    #[inline]
    fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Whether `line` ends inside a quoted field (RFC 4180: a field that starts with `"` runs to the
    /// next `"` not doubled, across line breaks), i.e. the record goes on on the next line; `inside`
    /// says whether the line starts inside one (a continuation line). Only asked of lines that contain a
    /// quote, so unquoted input never pays for it. A malformed line (text after a closing quote) is
    /// left to [`Fields::split`] to report.
    fn ends_inside_quotes(line: &str, delim: u8, inside: bool) -> bool {
        let b = line.as_bytes();
        let mut i = 0;
        let mut open = inside;
        loop {
            if open || b.get(i) == Some(&b'"') {
                if !open {
                    i += 1;
                }
                open = false;
                loop {
                    match memchr::memchr(b'"', &b[i..]) {
                        None => return true,
                        Some(k) if b.get(i + k + 1) == Some(&b'"') => i += k + 2,
                        Some(k) => {
                            i += k + 1;
                            break;
                        }
                    }
                }
                match b.get(i) {
                    Some(&c) if c == delim => i += 1,
                    _ => return false,
                }
            } else {
                match memchr::memchr(delim, &b[i..]) {
                    Some(k) => i += k + 1,
                    None => return false,
                }
            }
        }
    }

    #[inline]
    fn get<'a>(&'a self, line: &'a str, i: usize) -> &'a str {
        let base = if self.quoted { &self.scratch } else { line };
        let (s, e) = self.ranges[i];
        &base[s..e]
    }
}

// ---------------------------------------------------------------------------------------------------
// Layouts: which column means what, per preset

#[derive(Clone, Debug)]
enum TimeRule {
    Secs,
    Millis,
    SecsFrac,
    Format(TimeFormat),
    /// Diginetica: a date column plus a millisecond offset column.
    DatePlusOffset(usize),
    /// No time column: the line number orders the events.
    LineNumber,
}

#[derive(Clone, Copy, Debug)]
enum ActionRule {
    Fixed(Action),
    Taobao,
    Tianchi,
    RetailRocket,
    Names,
    /// Online Retail: `return` for a `C` invoice (column) or a negative quantity, else `buy`.
    OnlineRetail(usize),
}

#[derive(Clone, Copy, Debug)]
enum UserRule {
    Column(usize),
    /// The session doubles as the user (session-only logs).
    Session,
    /// A user column whose `NA`/empty values fall back to the session (Diginetica).
    ColumnOrSession(usize),
    /// Online Retail: CustomerID (`17850.0` → `17850`), or `guest:<invoice>` when empty.
    Customer(usize),
}

#[derive(Clone, Debug)]
struct Layout {
    delim: u8,
    ncols: usize,
    names: String,
    user: UserRule,
    session: Option<usize>,
    item: usize,
    category: Option<usize>,
    action_col: Option<usize>,
    action: ActionRule,
    time_col: usize,
    time: TimeRule,
    quantity: Option<usize>,
    price: Option<usize>,
    numeric_ids: bool,
    zero_category_unknown: bool,
}

impl Layout {
    fn fixed(delim: u8, names: &str, user: UserRule, item: usize) -> Layout {
        Layout {
            delim,
            ncols: names.split(',').count(),
            names: names.to_owned(),
            user,
            session: None,
            item,
            category: None,
            action_col: None,
            action: ActionRule::Fixed(Action::View),
            time_col: 0,
            time: TimeRule::LineNumber,
            quantity: None,
            price: None,
            numeric_ids: true,
            zero_category_unknown: false,
        }
    }

    /// A comma-separated log with its columns in the fixed order `names`: the user, item, action
    /// code and time columns at `[user, item, action, time]`, the codes read by `action_rule`, the
    /// time by `time_rule`.
    fn coded_csv(
        names: &str,
        [user, item, action, time]: [usize; 4],
        action_rule: ActionRule,
        time_rule: TimeRule,
    ) -> Layout {
        let mut l = Layout::fixed(b',', names, UserRule::Column(user), item);
        l.action_col = Some(action);
        l.action = action_rule;
        l.time_col = time;
        l.time = time_rule;
        l
    }
}

fn norm_header(s: &str) -> String {
    s.trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' ' | '"'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// A header line: normalized names → 0-based index.
struct Header {
    names: Vec<String>,
}

impl Header {
    fn parse(line: &str, delim: u8) -> Header {
        let mut f = Fields::default();
        let names = match f.split(line, delim) {
            Ok(()) => (0..f.len()).map(|i| norm_header(f.get(line, i))).collect(),
            Err(_) => line.split(delim as char).map(norm_header).collect(),
        };
        Header { names }
    }
    fn find(&self, any_of: &[&str]) -> Option<usize> {
        any_of
            .iter()
            .find_map(|n| self.names.iter().position(|h| h == n))
    }
}

fn header_error(path: &Path, line: u64, expected: &str, found: &str) -> DataError {
    DataError::parse(
        Location::line(path, line),
        format!("a header line with the columns {expected}"),
        found,
    )
}

/// Decides the layout(s) from the preset and the first non-blank line. Returns the main layout, an
/// alternative chosen by field count (Yoochoose buys), and whether the first line was a header.
fn resolve(
    cfg: &PresetConfig,
    first: &str,
    path: &Path,
    line_no: u64,
) -> Result<(Layout, Option<Layout>, bool), DataError> {
    let first_field_norm = |delim: u8| {
        let end = memchr::memchr(delim, first.as_bytes()).unwrap_or(first.len());
        norm_header(&first[..end])
    };
    match cfg.preset {
        Preset::Taobao => {
            let mut l = Layout::coded_csv(
                "user_id,item_id,category_id,behavior_type,timestamp",
                [0, 1, 3, 4],
                ActionRule::Taobao,
                TimeRule::Secs,
            );
            l.category = Some(2);
            let header = matches!(first_field_norm(b',').as_str(), "userid" | "user");
            Ok((l, None, header))
        }
        Preset::Retailrocket => {
            let l = Layout::coded_csv(
                "timestamp,visitorid,event,itemid,transactionid",
                [1, 3, 2, 0],
                ActionRule::RetailRocket,
                TimeRule::Millis,
            );
            let header = first_field_norm(b',') == "timestamp";
            Ok((l, None, header))
        }
        Preset::TianchiMobile => {
            let mut l = Layout::coded_csv(
                "user_id,item_id,behavior_type,user_geohash,item_category,time",
                [0, 1, 2, 5],
                ActionRule::Tianchi,
                TimeRule::Format(TimeFormat::Iso),
            );
            l.category = Some(4);
            if first_field_norm(b',') != "userid" {
                return Ok((l, None, false));
            }
            let h = Header::parse(first, b',');
            let need = |names: &[&str]| {
                h.find(names)
                    .ok_or_else(|| header_error(path, line_no, &l.names, first))
            };
            l.user = UserRule::Column(need(&["userid"])?);
            l.item = need(&["itemid"])?;
            l.action_col = Some(need(&["behaviortype", "behavior"])?);
            l.category = Some(need(&["itemcategory", "categoryid", "category"])?);
            l.time_col = need(&["time"])?;
            l.ncols = h.names.len();
            Ok((l, None, true))
        }
        Preset::Yoochoose => {
            if first.contains('\t') || !first.contains(',') {
                // Prepared TSV (session-rec): SessionId ItemId Time, header optional.
                let mut l = Layout::fixed(b'\t', "SessionId,ItemId,Time", UserRule::Session, 1);
                l.session = Some(0);
                l.time_col = 2;
                l.time = TimeRule::SecsFrac;
                let numeric_first = first
                    .split('\t')
                    .next()
                    .is_some_and(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
                if numeric_first {
                    return Ok((l, None, false));
                }
                let h = Header::parse(first, b'\t');
                let need = |names: &[&str]| {
                    h.find(names).ok_or_else(|| {
                        header_error(path, line_no, "SessionId, ItemId, Time", first)
                    })
                };
                l.session = Some(need(&["sessionid", "session"])?);
                l.item = need(&["itemid", "item"])?;
                l.time_col = need(&["time", "timestamp"])?;
                l.category = h.find(&["category", "categoryid"]);
                l.ncols = h.names.len();
                return Ok((l, None, true));
            }
            let mut clicks = Layout::fixed(
                b',',
                "session,timestamp,item,category",
                UserRule::Session,
                2,
            );
            clicks.session = Some(0);
            clicks.category = Some(3);
            clicks.zero_category_unknown = true;
            clicks.time_col = 1;
            clicks.time = TimeRule::Format(TimeFormat::Iso);
            let mut buys = Layout::fixed(
                b',',
                "session,timestamp,item,price,quantity",
                UserRule::Session,
                2,
            );
            buys.session = Some(0);
            buys.time_col = 1;
            buys.time = TimeRule::Format(TimeFormat::Iso);
            buys.action = ActionRule::Fixed(Action::Buy);
            buys.price = Some(3);
            buys.quantity = Some(4);
            let header = matches!(first_field_norm(b',').as_str(), "session" | "sessionid");
            Ok((clicks, Some(buys), header))
        }
        Preset::Diginetica => {
            let expected = "session_id;user_id;item_id;timeframe;eventdate";
            let h = Header::parse(first, b';');
            let need = |names: &[&str]| {
                h.find(names)
                    .ok_or_else(|| header_error(path, line_no, expected, first))
            };
            let session = need(&["sessionid"])?;
            let user = need(&["userid"])?;
            let mut l = Layout::fixed(b';', expected, UserRule::ColumnOrSession(user), 0);
            l.session = Some(session);
            l.item = need(&["itemid"])?;
            l.time_col = need(&["eventdate"])?;
            l.time = TimeRule::DatePlusOffset(need(&["timeframe"])?);
            l.ncols = h.names.len();
            Ok((l, None, true))
        }
        Preset::OnlineRetail => {
            let expected =
                "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country";
            let h = Header::parse(first, b',');
            let need = |names: &[&str]| {
                h.find(names)
                    .ok_or_else(|| header_error(path, line_no, expected, first))
            };
            let invoice = need(&["invoiceno", "invoice"])?;
            let customer = need(&["customerid", "customer"])?;
            let mut l = Layout::fixed(b',', expected, UserRule::Customer(customer), 0);
            l.session = Some(invoice);
            l.item = need(&["stockcode"])?;
            l.quantity = Some(need(&["quantity"])?);
            l.price = Some(need(&["unitprice", "price"])?);
            l.time_col = need(&["invoicedate"])?;
            l.time = TimeRule::Format(TimeFormat::Auto);
            l.action = ActionRule::OnlineRetail(invoice);
            l.numeric_ids = false;
            l.ncols = h.names.len();
            Ok((l, None, true))
        }
        Preset::Generic => resolve_generic(&cfg.generic, first, path, line_no),
        Preset::Spmf | Preset::Basket => Err(DataError::Option(format!(
            "preset {} holds sequences, not events: read it with read_sequences",
            cfg.preset
        ))),
    }
}

fn resolve_generic(
    spec: &GenericSpec,
    first: &str,
    path: &Path,
    line_no: u64,
) -> Result<(Layout, Option<Layout>, bool), DataError> {
    let delim = spec.delimiter;
    let header = spec.header.then(|| Header::parse(first, delim));
    let ncols = match &header {
        Some(h) => h.names.len(),
        None => {
            let mut f = Fields::default();
            f.split(first, delim)
                .map_err(|(c, e, x)| row_error(path, line_no, c, e, &x))?;
            f.len()
        }
    };
    let col = |r: &ColumnRef, what: &str| -> Result<usize, DataError> {
        match (r, &header) {
            (ColumnRef::Index(i), _) if (1..=ncols).contains(i) => Ok(i - 1),
            (ColumnRef::Index(i), _) => Err(DataError::Option(format!(
                "--{what}-col {i}: the file has only {ncols} column(s)"
            ))),
            (ColumnRef::Name(n), Some(h)) => h.find(&[norm_header(n).as_str()]).ok_or_else(|| {
                DataError::parse(
                    Location::line(path, line_no),
                    format!("a header with a column {n:?} (for --{what}-col)"),
                    first,
                )
            }),
            (ColumnRef::Name(n), None) => Err(DataError::Option(format!(
                "--{what}-col {n:?} names a column but the file has no header (use a 1-based number)"
            ))),
        }
    };
    let cols = spec.columns.try_map(col)?;
    let item = *cols.required().map_err(|m| {
        DataError::Option(
            match m {
                MissingColumn::Item => {
                    "the generic preset needs --item-col (a column name or number)"
                }
                MissingColumn::UserOrSession => {
                    "the generic preset needs --user-col or --session-col"
                }
            }
            .into(),
        )
    })?;
    let user_rule = match cols.user {
        Some(u) => UserRule::Column(u),
        None => UserRule::Session,
    };
    let mut names = format!("{ncols} fields");
    if let Some(h) = &header {
        names = h.names.join(&(delim as char).to_string());
    }
    let mut l = Layout::fixed(delim, "", user_rule, item);
    l.ncols = ncols;
    l.names = names;
    l.session = cols.session;
    l.category = cols.category;
    l.action_col = cols.action;
    if l.action_col.is_some() {
        l.action = ActionRule::Names;
    }
    if let Some(t) = cols.time {
        l.time_col = t;
        l.time = TimeRule::Format(spec.time_format.clone());
    }
    l.quantity = cols.quantity;
    l.price = cols.price;
    l.numeric_ids = false;
    Ok((l, None, spec.header))
}

fn row_error(
    path: &Path,
    line: u64,
    col: Option<usize>,
    expected: String,
    found: &str,
) -> DataError {
    let mut loc = Location::line(path, line);
    if let Some(c) = col {
        loc = loc.with_column(c);
    }
    DataError::parse(loc, expected, found)
}

// ---------------------------------------------------------------------------------------------------
// Row parsing

/// Interning with a one-entry cache (logs are grouped by user, so the previous user repeats).
#[derive(Default)]
struct LastName {
    name: String,
    id: u32,
    valid: bool,
}

fn intern_cached(v: &mut Vocab, cache: &mut LastName, s: &str) -> Option<u32> {
    if cache.valid && cache.name == s {
        return Some(cache.id);
    }
    let id = v.intern(s)?;
    cache.name.clear();
    cache.name.push_str(s);
    cache.id = id;
    cache.valid = true;
    Some(id)
}

struct RowState {
    fields: Fields,
    last_user: LastName,
    last_session: LastName,
    canonical: [Option<u8>; 8],
    custom: HashMap<String, u8>,
    buf: String,
}

impl RowState {
    fn new() -> Self {
        RowState {
            fields: Fields::default(),
            last_user: LastName::default(),
            last_session: LastName::default(),
            canonical: [None; 8],
            custom: HashMap::new(),
            buf: String::new(),
        }
    }
}

fn action_id(state: &mut RowState, actions: &mut Vocab, a: Action) -> Result<u8, FieldError> {
    let k = Action::ALL.iter().position(|x| *x == a).unwrap_or(0);
    if let Some(id) = state.canonical[k] {
        return Ok(id);
    }
    let id = intern_action(actions, a.name())?;
    state.canonical[k] = Some(id);
    Ok(id)
}

fn intern_action(actions: &mut Vocab, name: &str) -> Result<u8, FieldError> {
    let id = actions.intern(name).unwrap_or(u32::MAX);
    u8::try_from(id).map_err(|_| {
        (
            None,
            "at most 255 distinct action names".into(),
            format!("another action {name:?}"),
        )
    })
}

fn is_uint(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn parse_row(
    l: &Layout,
    line: &str,
    line_no: u64,
    state: &mut RowState,
    dict: &mut Dictionary,
) -> Result<Event, FieldError> {
    let fields = std::mem::take(&mut state.fields);
    let r = parse_fields(l, line, line_no, &fields, state, dict);
    state.fields = fields;
    r
}

fn parse_fields(
    l: &Layout,
    line: &str,
    line_no: u64,
    f: &Fields,
    state: &mut RowState,
    dict: &mut Dictionary,
) -> Result<Event, FieldError> {
    let get = |i: usize| f.get(line, i);
    let id_field = |i: usize, what: &str| -> Result<&str, FieldError> {
        let v = get(i);
        if l.numeric_ids && !is_uint(v) {
            return Err((Some(i + 1), format!("an integer {what} id"), v.to_owned()));
        }
        if v.is_empty() {
            return Err((Some(i + 1), format!("a non-empty {what} id"), String::new()));
        }
        Ok(v)
    };
    let vocab_full = |i: usize, what: &str, v: &str| -> FieldError {
        (
            Some(i + 1),
            format!(
                "a {what} the dictionary can hold (numeric vocabulary or fewer than 2^32 names)"
            ),
            v.to_owned(),
        )
    };

    // Session first: the user may fall back to it.
    let session = match l.session {
        Some(i) => {
            let v = id_field(i, "session")?;
            Some(KeyId(
                intern_cached(&mut dict.sessions, &mut state.last_session, v)
                    .ok_or_else(|| vocab_full(i, "session", v))?,
            ))
        }
        None => None,
    };
    let session_name = |i: usize| get(i);
    let user = match l.user {
        UserRule::Column(i) => {
            let v = id_field(i, "user")?;
            intern_cached(&mut dict.users, &mut state.last_user, v)
                .ok_or_else(|| vocab_full(i, "user", v))?
        }
        UserRule::Session | UserRule::ColumnOrSession(_) | UserRule::Customer(_) => {
            let s = l.session.unwrap_or(0);
            let (raw, fallback) = match l.user {
                UserRule::ColumnOrSession(i) => {
                    let v = get(i);
                    if v.is_empty() || v == "NA" {
                        (session_name(s), true)
                    } else if l.numeric_ids && !is_uint(v) {
                        return Err((Some(i + 1), "an integer user id or NA".into(), v.to_owned()));
                    } else {
                        (v, false)
                    }
                }
                UserRule::Customer(i) => {
                    let v = get(i).trim();
                    let v = v.strip_suffix(".0").unwrap_or(v);
                    if v.is_empty() {
                        (session_name(s), true)
                    } else {
                        (v, false)
                    }
                }
                _ => (session_name(s), false),
            };
            let name: &str = if fallback {
                // A user-less event keys on its session, kept apart from real user ids.
                state.buf.clear();
                state
                    .buf
                    .push_str(if matches!(l.user, UserRule::Customer(_)) {
                        "guest:"
                    } else {
                        "session:"
                    });
                state.buf.push_str(raw);
                &state.buf
            } else {
                raw
            };
            intern_cached(&mut dict.users, &mut state.last_user, name)
                .ok_or_else(|| vocab_full(s, "user", name))?
        }
    };

    let item_raw = id_field(l.item, "item")?;
    let item = dict
        .products
        .intern(item_raw)
        .ok_or_else(|| vocab_full(l.item, "item", item_raw))?;

    let category = match l.category {
        Some(i) => {
            let v = get(i);
            if v.is_empty() || (l.zero_category_unknown && v == "0") {
                None
            } else {
                if l.numeric_ids && !is_uint(v) && !l.zero_category_unknown {
                    return Err((Some(i + 1), "an integer category id".into(), v.to_owned()));
                }
                Some(CategoryId(
                    dict.categories
                        .intern(v)
                        .ok_or_else(|| vocab_full(i, "category", v))?,
                ))
            }
        }
        None => None,
    };

    // A number in column `col`, when the layout has one.
    let number = |col: Option<usize>, what: &str| -> Result<Option<f32>, FieldError> {
        let Some(i) = col else { return Ok(None) };
        let v = get(i);
        match parse_num(v) {
            Some(x) => Ok(Some(x)),
            None => Err((Some(i + 1), format!("a number ({what})"), v.to_owned())),
        }
    };
    let quantity = number(l.quantity, "quantity")?;
    let price = number(l.price, "price")?;

    let action = match l.action {
        ActionRule::Fixed(a) => action_id(state, &mut dict.actions, a)?,
        ActionRule::OnlineRetail(inv) => {
            let cancelled = get(inv).starts_with(['C', 'c']);
            let neg = quantity.is_some_and(|q| q < 0.0);
            let a = if cancelled || neg {
                Action::Return
            } else {
                Action::Buy
            };
            action_id(state, &mut dict.actions, a)?
        }
        rule => {
            let i = l.action_col.unwrap_or(0);
            let v = get(i);
            let a =
                match rule {
                    ActionRule::Taobao => match v {
                        "pv" => Some(Action::View),
                        "cart" => Some(Action::CartAdd),
                        "fav" => Some(Action::Fav),
                        "buy" => Some(Action::Buy),
                        _ => {
                            return Err((
                                Some(i + 1),
                                "a Taobao behavior (pv, cart, fav or buy)".into(),
                                v.to_owned(),
                            ))
                        }
                    },
                    ActionRule::Tianchi => match v {
                        "1" => Some(Action::View),
                        "2" => Some(Action::Fav),
                        "3" => Some(Action::CartAdd),
                        "4" => Some(Action::Buy),
                        _ => return Err((
                            Some(i + 1),
                            "a Tianchi behavior_type 1 (click), 2 (collect), 3 (cart) or 4 (buy)"
                                .into(),
                            v.to_owned(),
                        )),
                    },
                    ActionRule::RetailRocket => match v {
                        "view" => Some(Action::View),
                        "addtocart" => Some(Action::CartAdd),
                        "transaction" => Some(Action::Buy),
                        _ => {
                            return Err((
                                Some(i + 1),
                                "a RetailRocket event (view, addtocart or transaction)".into(),
                                v.to_owned(),
                            ))
                        }
                    },
                    _ => canonical_action(v),
                };
            match a {
                Some(a) => action_id(state, &mut dict.actions, a)?,
                None => {
                    if v.trim().is_empty() {
                        return Err((Some(i + 1), "an action name".into(), String::new()));
                    }
                    match state.custom.get(v) {
                        Some(&id) => id,
                        None => {
                            let id = intern_action(&mut dict.actions, v.trim())
                                .map_err(|(_, e, x)| (Some(i + 1), e, x))?;
                            state.custom.insert(v.to_owned(), id);
                            id
                        }
                    }
                }
            }
        }
    };

    let tcol = l.time_col;
    let traw = get(tcol);
    let ms = match &l.time {
        TimeRule::Secs => traw
            .parse::<i64>()
            .ok()
            .and_then(|s| s.checked_mul(1000))
            .ok_or_else(|| {
                (
                    Some(tcol + 1),
                    "an integer Unix timestamp (seconds)".into(),
                    traw.to_owned(),
                )
            })?,
        TimeRule::Millis => traw.parse::<i64>().map_err(|_| {
            (
                Some(tcol + 1),
                "an integer Unix timestamp (milliseconds)".into(),
                traw.to_owned(),
            )
        })?,
        TimeRule::SecsFrac => time::parse_secs_frac(traw).ok_or_else(|| {
            (
                Some(tcol + 1),
                "a Unix timestamp in seconds (decimals allowed)".into(),
                traw.to_owned(),
            )
        })?,
        TimeRule::Format(fmt) => fmt
            .parse(traw)
            .ok_or_else(|| (Some(tcol + 1), fmt.describe(), traw.to_owned()))?,
        TimeRule::DatePlusOffset(off) => {
            let day = time::parse_iso(traw).ok_or_else(|| {
                (
                    Some(tcol + 1),
                    "a date YYYY-MM-DD".to_owned(),
                    traw.to_owned(),
                )
            })?;
            let o = get(*off);
            let o: i64 = o.parse().map_err(|_| {
                (
                    Some(off + 1),
                    "an integer timeframe (milliseconds)".to_owned(),
                    o.to_owned(),
                )
            })?;
            day.saturating_add(o)
        }
        TimeRule::LineNumber => i64::try_from(line_no).unwrap_or(i64::MAX),
    };

    Ok(Event {
        user: KeyId(user),
        session,
        time: Timestamp(ms),
        item: ProductId(item),
        category,
        action: ActionId(u32::from(action)),
        quantity,
        price,
    })
}

fn parse_num(s: &str) -> Option<f32> {
    let v: f32 = s.trim().parse().ok()?;
    v.is_finite().then_some(v)
}

// ---------------------------------------------------------------------------------------------------
// Entry points

/// Reads an event log from `path` (`-` = stdin, gzip auto-detected) with the given preset.
///
/// Names are interned into `dict` while streaming. Under [`OnError::Fail`] the first malformed row is a
/// located error; under [`OnError::Skip`] bad rows are counted per reason in the returned
/// [`SkipReport`]. An empty file, a header-only file, or a file whose every row was skipped is an error.
pub fn read_events(
    path: &Path,
    cfg: &PresetConfig,
    on_error: OnError,
    dict: &mut Dictionary,
) -> Result<(EventLog, SkipReport), DataError> {
    let input = open_input(path)?;
    let mut lines = LineReader::from_input(input).with_max_line(cfg.max_line);
    read_events_from(&mut lines, cfg, on_error, dict, &mut |_| {})
}

/// How often (in lines) the progress callback is called.
const PROGRESS_EVERY: u64 = 1 << 16;

/// [`read_events`] over an opened [`LineReader`]; `progress` receives the bytes read so far every 65,536
/// lines.
///
/// Taobao logs take a faster road once the first line is read: blocks of whole lines are parsed on
/// every thread of the rayon pool straight from their bytes (`fast`), and their names interned in file
/// order, so ids are the same as line by line and the same for any number of threads. A line that is
/// not a plain Taobao row (header, blank, quoted, malformed, too long) is read exactly as the line by
/// line path reads it, with the same messages.
pub fn read_events_from<R: BufRead + Send>(
    lines: &mut LineReader<R>,
    cfg: &PresetConfig,
    on_error: OnError,
    dict: &mut Dictionary,
    progress: &mut dyn FnMut(u64),
) -> Result<(EventLog, SkipReport), DataError> {
    read_events_with(lines, cfg, on_error, dict, progress, fast::BLOCK_BYTES)
}

/// [`read_events_from`] with the fast road's block size (`0`: line by line only), for tests.
fn read_events_with<R: BufRead + Send>(
    lines: &mut LineReader<R>,
    cfg: &PresetConfig,
    on_error: OnError,
    dict: &mut Dictionary,
    progress: &mut dyn FnMut(u64),
    block_bytes: usize,
) -> Result<(EventLog, SkipReport), DataError> {
    let mut r = EventReader {
        path: lines.path().to_path_buf(),
        cfg,
        on_error,
        dict,
        skipped: SkipReport::default(),
        log: EventLog::new(),
        state: RowState::new(),
        layouts: None,
        saw_header: false,
        data_rows: 0,
    };
    let fast = cfg.preset == Preset::Taobao && block_bytes > 0;
    // A record whose quoted field spans several lines, joined (the common one-line record is
    // parsed where the line reader holds it, with no copy).
    let mut record = String::new();
    loop {
        if fast
            && r.layouts.is_some()
            && lines.at_stream()
            && fast::read_blocks(&mut r, lines, progress, block_bytes)? == fast::Ended::Input
        {
            break;
        }
        let poisoned_before = lines.is_poisoned();
        let (line_no, bytes, line) = match lines.next_line_numbered() {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(e) => {
                if lines.is_poisoned() || poisoned_before {
                    return Err(e);
                }
                r.skipped.handle(on_error, e)?;
                r.data_rows += 1;
                continue;
            }
        };
        if line_no % PROGRESS_EVERY == 0 {
            progress(bytes);
        }
        let line = if line_no == 1 {
            line.trim_start_matches('\u{feff}')
        } else {
            line
        };
        if r.line(line_no, line)? == LineStep::Done {
            continue;
        }
        // The line ends inside a quoted field: join the lines that complete its record.
        r.data_rows += 1;
        record.clear();
        record.push_str(line);
        let delim = r.layouts.as_ref().map_or(b',', |(m, _)| m.delim);
        match continue_quoted_record(lines, &mut record, delim, cfg.max_line, line_no) {
            Ok(()) => r.row(line_no, &record)?,
            Err(e) => {
                if lines.is_poisoned() {
                    return Err(e);
                }
                r.skipped.handle(on_error, e)?;
            }
        }
    }
    progress(lines.bytes_read());
    r.finish()
}

/// What [`EventReader::line`] did with a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LineStep {
    /// Read (or skipped, or recorded as a bad row).
    Done,
    /// Nothing yet: the line ends inside a quoted field, so its record goes on on the next line(s).
    OpenQuote,
}

/// The state of one [`read_events_from`]: the log and names read so far, the layouts once the first
/// line decided them, the bad rows.
struct EventReader<'a> {
    path: std::path::PathBuf,
    cfg: &'a PresetConfig,
    on_error: OnError,
    dict: &'a mut Dictionary,
    skipped: SkipReport,
    log: EventLog,
    state: RowState,
    layouts: Option<(Layout, Option<Layout>)>,
    saw_header: bool,
    data_rows: u64,
}

impl EventReader<'_> {
    /// Reads line `line_no` (its text, without the line break and, on line 1, a byte order mark):
    /// decides the layouts on the first non-blank line (and passes over a header), skips blank lines,
    /// reads a row. A line that ends inside a quoted field is left to the caller
    /// ([`LineStep::OpenQuote`]), untouched.
    fn line(&mut self, line_no: u64, line: &str) -> Result<LineStep, DataError> {
        if line.trim().is_empty() {
            return Ok(LineStep::Done);
        }
        let delim = match &self.layouts {
            Some((m, _)) => m.delim,
            None => {
                let (m, a, header) = resolve(self.cfg, line, &self.path, line_no)?;
                let delim = m.delim;
                self.layouts = Some((m, a));
                if header {
                    self.saw_header = true;
                    return Ok(LineStep::Done);
                }
                delim
            }
        };
        if memchr::memchr(b'"', line.as_bytes()).is_some()
            && Fields::ends_inside_quotes(line, delim, false)
        {
            return Ok(LineStep::OpenQuote);
        }
        self.data_rows += 1;
        self.row(line_no, line)?;
        Ok(LineStep::Done)
    }

    /// Reads the record `line` (one line, or several joined) that starts on line `line_no`: an event
    /// for the log, or a bad row (an error, or counted under `--on-error skip`).
    fn row(&mut self, line_no: u64, line: &str) -> Result<(), DataError> {
        let Some((main, alt)) = &self.layouts else {
            return Err(DataError::Option("internal: layout missing".into()));
        };
        let alt = alt.as_ref();
        let state = &mut self.state;
        let dict = &mut *self.dict;
        let row = (|| {
            state.fields.split(line, main.delim)?;
            let n = state.fields.len();
            let layout = if n == main.ncols {
                main
            } else if let Some(a) = alt.filter(|a| a.ncols == n) {
                a
            } else {
                let exp = match alt {
                    Some(a) => format!(
                        "{} fields ({}) or {} fields ({})",
                        main.ncols, main.names, a.ncols, a.names
                    ),
                    None => format!("{} fields ({})", main.ncols, main.names),
                };
                return Err((None, exp, format!("{n} field(s)")));
            };
            parse_row(layout, line, line_no, state, dict)
        })();
        match row {
            Ok(e) => self.log.push(&e),
            Err((col, expected, found)) => {
                let err = row_error(&self.path, line_no, col, expected, &found);
                self.skipped.handle(self.on_error, err)?;
            }
        }
        Ok(())
    }

    /// The log read, or the error of a file without a single event.
    fn finish(self) -> Result<(EventLog, SkipReport), DataError> {
        if self.log.is_empty() {
            let what = if self.data_rows > 0 {
                format!(
                    "no valid rows: all {} data row(s) were skipped ({})",
                    self.data_rows,
                    self.skipped
                        .reasons
                        .keys()
                        .next()
                        .map_or("", String::as_str)
                )
            } else if self.saw_header {
                "header only, no data rows".to_owned()
            } else {
                "empty file (no data rows)".to_owned()
            };
            return Err(DataError::Empty {
                location: Location::file(&self.path),
                what,
            });
        }
        Ok((self.log, self.skipped))
    }
}

/// Appends the following lines to `record` (a line that ends inside a quoted field, from line
/// `start`), each after the `\n` it stood for, until the record's quotes are balanced: RFC 4180's
/// quoted fields with embedded line breaks. A record longer than `max_len` bytes, or one still open
/// at the end of the input, is an error at its first line.
fn continue_quoted_record<R: BufRead>(
    lines: &mut LineReader<R>,
    record: &mut String,
    delim: u8,
    max_len: usize,
    start: u64,
) -> Result<(), DataError> {
    let here = |lines: &LineReader<R>| Location::line(lines.path(), start);
    loop {
        let Some(next) = lines.next_line()? else {
            return Err(DataError::parse(
                here(lines),
                "a closing quote (a quoted field opens on this line)",
                "the end of the input",
            ));
        };
        record.push('\n');
        record.push_str(next);
        let open = Fields::ends_inside_quotes(next, delim, true);
        if record.len() > max_len {
            return Err(DataError::parse(
                here(lines),
                format!("a closing quote within {max_len} bytes"),
                "a quoted field running on",
            ));
        }
        if !open {
            return Ok(());
        }
    }
}

/// Reads a basket file: one transaction per line, items separated by spaces or tabs; each line becomes a
/// sequence of one itemset (key = its 0-based line index among non-blank lines). Numeric items keep their
/// numbers (numeric token vocabulary) until a non-numeric name appears, at which point every token so far
/// is re-interned by name, so the dictionary always names items as written.
pub fn read_basket<R: BufRead>(
    lines: &mut LineReader<R>,
    on_error: OnError,
    dict: &mut Dictionary,
    progress: &mut dyn FnMut(u64),
) -> Result<(SequenceDb, SkipReport), DataError> {
    let path = lines.path().to_path_buf();
    let mut skipped = SkipReport::default();
    let mut items: Vec<u32> = Vec::new();
    let mut starts: Vec<usize> = vec![0];
    let mut numeric = dict.tokens.is_numeric() || dict.tokens.is_empty();
    if numeric {
        dict.tokens = Vocab::numeric();
    }
    let saw_line = lines.for_each_line(on_error, &mut skipped, |line, _| {
        if line.no % PROGRESS_EVERY == 0 {
            progress(line.bytes);
        }
        if line.text.trim().is_empty() {
            return Ok(());
        }
        for tok in line.text.split_ascii_whitespace() {
            let id = match dict.tokens.intern(tok) {
                Some(id) => id,
                None if numeric => {
                    // First name: switch to an interning vocabulary, keeping every number as its name.
                    let mut v = Vocab::new();
                    let mut map: HashMap<u32, u32> = HashMap::new();
                    for x in items.iter_mut() {
                        let id = match map.get(x) {
                            Some(&id) => id,
                            None => {
                                let id = v.intern(&x.to_string()).unwrap_or(u32::MAX);
                                map.insert(*x, id);
                                id
                            }
                        };
                        *x = id;
                    }
                    dict.tokens = v;
                    numeric = false;
                    dict.tokens
                        .intern(tok)
                        .ok_or_else(|| DataError::Option("more than 2^32 distinct items".into()))?
                }
                None => {
                    return Err(DataError::Option("more than 2^32 distinct items".into()));
                }
            };
            items.push(id);
        }
        starts.push(items.len());
        Ok(())
    })?;
    progress(lines.bytes_read());
    if starts.len() == 1 {
        return Err(DataError::Empty {
            location: Location::file(&path),
            what: if saw_line {
                "no baskets (only blank lines)".into()
            } else {
                "empty file".into()
            },
        });
    }
    let mut b = SequenceDbBuilder::new(false);
    let mut set: Vec<ItemId> = Vec::new();
    for (k, w) in starts.windows(2).enumerate() {
        set.clear();
        set.extend(items[w[0]..w[1]].iter().map(|&x| ItemId(x)));
        b.push_itemset(&set, None)?;
        b.end_sequence(KeyId(u32::try_from(k).unwrap_or(u32::MAX)))?;
    }
    Ok((b.build(), skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(preset: Preset, text: &str) -> Result<(EventLog, Dictionary), DataError> {
        let mut dict = Dictionary::new();
        let mut lines = LineReader::new(text.as_bytes(), "t.csv", false);
        let (log, _) = read_events_from(
            &mut lines,
            &PresetConfig::new(preset),
            OnError::Fail,
            &mut dict,
            &mut |_| {},
        )?;
        Ok((log, dict))
    }

    #[test]
    fn taobao_rows() {
        let (log, d) = read(
            Preset::Taobao,
            "1,2268318,2520377,pv,1511544070\r\n1,2333346,2520771,cart,1511561733\n\n2,2268318,2520377,buy,1511572885",
        )
        .unwrap();
        assert_eq!(log.len(), 3);
        assert_eq!(d.users.len(), 2);
        assert_eq!(d.products.len(), 2);
        assert_eq!(d.actions.names(), &["view", "cart_add", "buy"]);
        assert_eq!(log.time[0], Timestamp(1_511_544_070_000));
    }

    #[test]
    fn taobao_errors_are_located() {
        let e = read(Preset::Taobao, "1,2,3,pv,5\n1,2,3,click,5\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.csv:2:4: expected a Taobao behavior (pv, cart, fav or buy), found \"click\""
        );
        let e = read(Preset::Taobao, "1,2,3,pv\n").unwrap_err().to_string();
        assert!(e.starts_with("t.csv:1: expected 5 fields"), "{e}");
        let e = read(Preset::Taobao, "x1,2,3,pv,5\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("t.csv:1:1: expected an integer user id"),
            "{e}"
        );
    }

    #[test]
    fn quoted_fields() {
        let mut f = Fields::default();
        let line = r#"a,"b, ""c""",d"#;
        f.split(line, b',').unwrap();
        assert_eq!(f.len(), 3);
        assert_eq!(f.get(line, 1), "b, \"c\"");
        assert_eq!(f.get(line, 2), "d");
        assert!(f.split(r#"a,"b"#, b',').is_err());
        assert!(f.split(r#"a,"b"x,c"#, b',').is_err());
    }

    #[test]
    fn quote_state_at_the_end_of_a_line() {
        let open = |l: &str| Fields::ends_inside_quotes(l, b',', false);
        assert!(open(r#"1,"two"#));
        assert!(open(r#"1,"a ""quoted"" word"#));
        assert!(!open(r#"1,"two",3"#));
        assert!(!open(r#"1,"two""#));
        assert!(
            !open(r#"1,ab"c,3"#),
            "a quote inside an unquoted field opens nothing"
        );
        assert!(Fields::ends_inside_quotes("still inside", b',', true));
        assert!(!Fields::ends_inside_quotes(r#"end of it",5"#, b',', true));
    }

    #[test]
    fn quoted_fields_may_hold_line_breaks() {
        // RFC 4180: a quoted Description with a line break (CRLF in the file) inside it.
        let text = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\r\n\
                    536365,85123A,\"WHITE HANGING\r\nHEART, \"\"T-LIGHT\"\"\",6,12/1/2010 8:26,2.55,17850.0,United Kingdom\r\n\
                    536366,22633,\"HAND\n\nWARMER\",6,12/1/2010 8:28,1.85,17850.0,United Kingdom\r\n\
                    536367,84879,ASSORTED,32,12/1/2010 8:34,1.69,13047.0,United Kingdom\r\n";
        let (log, d) = read(Preset::OnlineRetail, text).unwrap();
        assert_eq!(log.len(), 3);
        assert_eq!(d.products.len(), 3);
        // An error after a multi-line record names its own (physical) line.
        let bad = text.replace("32,12/1/2010 8:34", "x,12/1/2010 8:34");
        let e = read(Preset::OnlineRetail, &bad).unwrap_err().to_string();
        assert!(e.starts_with("t.csv:7:4:"), "{e}");
        // Generic rows take quoted line breaks too.
        let spec = GenericSpec {
            columns: EventColumns {
                item: Some(ColumnRef::Name("item".into())),
                user: Some(ColumnRef::Name("user".into())),
                ..EventColumns::default()
            },
            ..GenericSpec::default()
        };
        let mut d = Dictionary::new();
        let mut lines = LineReader::new(&b"user,item\n\"a\nb\",x\nc,\"y\n\"\n"[..], "g.csv", false);
        let cfg = PresetConfig::generic(spec);
        let (log, _) =
            read_events_from(&mut lines, &cfg, OnError::Fail, &mut d, &mut |_| {}).unwrap();
        assert_eq!((log.len(), d.users.name(0).as_ref()), (2, "a\nb"));
        // A quote that never closes is an error at the line where it opens.
        let e = read(Preset::Taobao, "1,2,3,pv,5\n1,\"2,3,pv,5\n1,2,3,pv,5\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("t.csv:2: expected a closing quote"), "{e}");
    }

    /// Reads `bytes` as Taobao with the fast road's blocks of `block` bytes (`0`: line by line),
    /// lines limited to `max_line` bytes: the log, names and skip report, or the error's message.
    fn taobao(
        bytes: &[u8],
        policy: OnError,
        block: usize,
        max_line: usize,
    ) -> Result<(EventLog, Dictionary, SkipReport), String> {
        let mut dict = Dictionary::new();
        let mut lines = LineReader::new(bytes, "t.csv", false).with_max_line(max_line);
        let mut cfg = PresetConfig::new(Preset::Taobao);
        cfg.max_line = max_line;
        read_events_with(&mut lines, &cfg, policy, &mut dict, &mut |_| {}, block)
            .map(|(log, skipped)| (log, dict, skipped))
            .map_err(|e| e.to_string())
    }

    /// Drops the byte count of "a line of more than N bytes": it is how much the reader had buffered
    /// when the line passed the limit, which differs after a block hands its rest back (both counts
    /// are true lower bounds; the limit itself is in the same message).
    fn blur_runaway(
        r: Result<(EventLog, Dictionary, SkipReport), String>,
    ) -> Result<(EventLog, Dictionary, SkipReport), String> {
        let blur = |m: &str| match m.find("a line of more than ") {
            Some(i) => {
                let rest = &m[i + "a line of more than ".len()..];
                let digits = rest.chars().take_while(char::is_ascii_digit).count();
                format!("{}a line of more than N{}", &m[..i], &rest[digits..])
            }
            None => m.to_owned(),
        };
        r.map(|(log, dict, mut skipped)| {
            for v in skipped.reasons.values_mut() {
                v.1 = blur(&v.1);
            }
            (log, dict, skipped)
        })
        .map_err(|e| blur(&e))
    }

    /// A Taobao line: mostly plain rows (repeating users and items), sometimes anything the fast
    /// road must leave to the line-by-line code.
    fn taobao_line() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            8 => (0u64..5, 0u64..40, 0u64..4, 0usize..4, 1_511_000_000i64..1_511_000_100)
                .prop_map(|(u, i, c, b, t)| {
                    let b = ["pv", "cart", "fav", "buy"][b];
                    format!("{u},{},{c},{b},{t}", i * 1_000_003)
                }),
            1 => proptest::sample::select(&[
                "",
                "  ",
                "user_id,item_id,category_id,behavior_type,timestamp",
                "007,1,2,pv,5",
                "7,1,2,click,5",
                "7,1,2,pv",
                "7,1,,pv,5",
                "7,1,2,pv,-5",
                "7,1,2,pv,99999999999999999",
                "99999999999999999999,1,2,pv,5",
                "7,\"1\",2,pv,5",
                "7,\"1\n2\",2,pv,5",
                "7,\"1,2,pv,5",
                "7,1,2,pv,5\r",
                "7,1\u{e9},2,pv,5",
                "7,1,2,pv,55555555555555555555555555555555555555",
            ][..])
            .prop_map(str::to_owned),
        ]
    }

    proptest::proptest! {
        /// The fast road reads exactly what the line-by-line road reads (same log, same ids, same
        /// skip report, same first error), whatever the block size and bad lines.
        #[test]
        fn fast_road_reads_as_line_by_line(
            rows in proptest::collection::vec(taobao_line(), 1..60),
            crlf in proptest::bool::ANY,
            final_break in proptest::bool::ANY,
            invalid_utf8 in proptest::option::of(0usize..60),
            block in 8usize..300,
            max_line in proptest::prop_oneof![proptest::strategy::Just(DEFAULT_MAX_LINE), 24usize..40],
        ) {
            let nl: &[u8] = if crlf { b"\r\n" } else { b"\n" };
            let mut bytes = Vec::new();
            for (k, r) in rows.iter().enumerate() {
                if k > 0 {
                    bytes.extend_from_slice(nl);
                }
                bytes.extend_from_slice(r.as_bytes());
                if invalid_utf8 == Some(k) {
                    bytes.push(0xff);
                }
            }
            if final_break {
                bytes.extend_from_slice(nl);
            }
            for policy in [OnError::Fail, OnError::Skip] {
                let slow = blur_runaway(taobao(&bytes, policy, 0, max_line));
                let fast = blur_runaway(taobao(&bytes, policy, block, max_line));
                proptest::prop_assert_eq!(&slow, &fast, "{:?} {:?}", policy, String::from_utf8_lossy(&bytes));
            }
        }
    }

    #[test]
    fn fast_road_matches_on_a_large_log() {
        // Several default-size blocks with pieces, a header, and bad rows here and there.
        let mut text = String::from("user_id,item_id,category_id,behavior_type,timestamp\n");
        for i in 0..400_000u64 {
            let line = match i % 99_991 {
                7 => "\n".to_string(),
                13 => "1,2,3,click,4\n".to_string(),
                _ => format!(
                    "{},{},{},{},{}\n",
                    i / 97,
                    i * 7919 % 50_000,
                    i % 31,
                    ["pv", "cart", "fav", "buy"][(i % 4) as usize],
                    1_511_544_070 + (i * 31 % 86_400)
                ),
            };
            text.push_str(&line);
        }
        let slow = taobao(text.as_bytes(), OnError::Skip, 0, DEFAULT_MAX_LINE);
        let fast = taobao(
            text.as_bytes(),
            OnError::Skip,
            fast::BLOCK_BYTES,
            DEFAULT_MAX_LINE,
        );
        assert!(slow.is_ok());
        assert_eq!(slow, fast);
        let fail = taobao(
            text.as_bytes(),
            OnError::Fail,
            fast::BLOCK_BYTES,
            DEFAULT_MAX_LINE,
        );
        assert_eq!(
            fail.unwrap_err(),
            "t.csv:15:4: expected a Taobao behavior (pv, cart, fav or buy), found \"click\""
        );
    }

    #[test]
    fn preset_names_parse() {
        for p in Preset::ALL {
            assert_eq!(p.name().parse::<Preset>(), Ok(p));
        }
        assert_eq!(Preset::NAMES.len(), Preset::ALL.len());
        for (typed, p) in [
            ("Online_Retail", Preset::OnlineRetail),
            ("RSC15", Preset::Yoochoose),
            ("taobao_userbehavior", Preset::Taobao),
            ("FIMI", Preset::Basket),
        ] {
            assert_eq!(typed.parse::<Preset>(), Ok(p));
        }
        assert_eq!(
            "nope".parse::<Preset>(),
            Err(format!(
                "expected a preset ({}), found \"nope\"",
                <Preset as crate::NamedEnum>::expected()
            ))
        );
    }

    #[test]
    fn basket_switches_to_names() {
        let mut d = Dictionary::new();
        let mut lines = LineReader::new(&b"3 1 2\r\n\nmilk 3\n"[..], "b", false);
        let (db, _) = read_basket(&mut lines, OnError::Fail, &mut d, &mut |_| {}).unwrap();
        assert_eq!(db.len(), 2);
        assert!(!d.tokens.is_numeric());
        let names: Vec<_> = db
            .sequence(1)
            .itemset(0)
            .iter()
            .map(|i| d.tokens.name(i.0).into_owned())
            .collect();
        assert!(names.contains(&"milk".to_string()) && names.contains(&"3".to_string()));
        let mut d = Dictionary::new();
        let mut lines = LineReader::new(&b"3 1 2\n"[..], "b", false);
        let (db, _) = read_basket(&mut lines, OnError::Fail, &mut d, &mut |_| {}).unwrap();
        assert_eq!(
            db.sequence(0).itemset(0),
            &[ItemId(1), ItemId(2), ItemId(3)]
        );
    }

    /// The generic preset's column choice: each way it can be wrong has its own message, and a session
    /// column stands for a missing user column.
    #[test]
    fn generic_column_choice_errors() {
        let name = |n: &str| Some(ColumnRef::Name(n.into()));
        let (sess, sku) = (name("sess"), name("sku"));
        let cases = [
            (None, sess.clone(), None, None, true, "the generic preset needs --item-col (a column name or number)"),
            (None, None, sku.clone(), None, true, "the generic preset needs --user-col or --session-col"),
            (None, sess.clone(), sku.clone(), None, true, ""),
            (None, sess.clone(), sku.clone(), Some(ColumnRef::Index(3)), true, "--price-col 3: the file has only 2 column(s)"),
            (None, sess, sku.clone(), None, false, "--item-col \"sku\" names a column but the file has no header (use a 1-based number)"),
            (name("who"), None, sku, None, true, "g.csv:1: expected a header with a column \"who\" (for --user-col)"),
        ];
        for (user, session, item, price, header, message) in cases {
            let columns = EventColumns {
                user,
                session,
                item,
                price,
                ..EventColumns::default()
            };
            let cfg = PresetConfig::generic(GenericSpec {
                columns,
                header,
                ..GenericSpec::default()
            });
            let mut lines = LineReader::new(&b"sess,sku\ns1,a\ns1,b\n"[..], "g.csv", false);
            let read = read_events_from(
                &mut lines,
                &cfg,
                OnError::Fail,
                &mut Dictionary::new(),
                &mut |_| {},
            );
            match read {
                Ok((log, _)) => assert_eq!((log.len(), message), (2, "")),
                Err(e) if e.to_string().starts_with("g.csv") => {
                    assert!(e.to_string().starts_with(message), "{e}")
                }
                Err(e) => assert_eq!(e.to_string(), format!("invalid option: {message}")),
            }
        }
    }
}

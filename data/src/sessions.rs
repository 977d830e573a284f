//! From an [`EventLog`] to a [`SequenceDb`]: grouping by user or session, inactivity splits, itemsets
//! of simultaneous events, the token choice and the filters.
//!
//! Cost: O(n) for the grouping (a stable counting sort on the key id) plus O(n log g) for sorting each
//! group of g events by time (stable, so events with equal timestamps keep their input order); one
//! 4-byte token per event and one 4-byte index per event of scratch memory, plus the result.
//!
//! Semantics, in the order applied:
//! 1. `actions` and `from`/`to` (half-open `[from, to)`) drop events;
//! 2. each event gets its token (`item`, `category`, `action`, `action:item`, `action:category`); events
//!    without the needed category are dropped;
//! 3. `min_item_count`: tokens seen in fewer than N of the remaining events are dropped (as the
//!    session-based recommendation literature does before building sessions);
//! 4. events are grouped by key and sorted by time; a gap longer than `session_gap` starts a new sequence;
//! 5. `drop_repeats` removes an event whose token equals the previous kept event's token;
//! 6. itemsets: events with the same timestamp form one itemset (`same-time`) or each event is its own
//!    itemset (`single`);
//! 7. `max_len` keeps the *last* (most recent) `max_len` itemsets of a sequence; `min_len` then drops
//!    sequences with fewer itemsets.

use hashbrown::HashMap;

use crate::dictionary::{Dictionary, Vocab};
use crate::error::DataError;
use crate::event::{canonical_action, Timestamp};
use crate::event_log::{EventLog, UNKNOWN_CATEGORY};
use crate::ids::{ItemId, KeyId};
use crate::sequence_db::{SequenceDb, SequenceDbBuilder};

/// What one sequence collects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum GroupBy {
    /// All events of a user (split further by `session_gap`).
    #[default]
    User,
    /// All events of a session as given by the log.
    Session,
}

/// How events become itemsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ItemsetMode {
    /// Events with the same timestamp form one itemset.
    #[default]
    SameTime,
    /// Every event is its own itemset.
    Single,
}

/// What symbol of the sequence database an event becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Token {
    /// The product.
    #[default]
    Item,
    /// The product's category.
    Category,
    /// The action name.
    Action,
    /// `action:product`, e.g. `cart_add:123`.
    ActionItem,
    /// `action:category`.
    ActionCategory,
}

crate::named_enum!(GroupBy, "a grouping", ["user" => GroupBy::User, "session" => GroupBy::Session]);
crate::named_enum!(ItemsetMode, "an itemset mode", ["same-time" => ItemsetMode::SameTime, "single" => ItemsetMode::Single]);
crate::named_enum!(Token, "a token", [
    "item" => Token::Item,
    "category" => Token::Category,
    "action" => Token::Action,
    "action:item" => Token::ActionItem,
    "action:category" => Token::ActionCategory,
]);

/// Sequence options as given (by the command line, the Python API or a test), not checked yet: set
/// the fields, `..SequenceOptions::builder()` for the others, and [`build`](Self::build) checks them
/// once into [`SequenceOptions`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SequenceOptionsBuilder {
    /// Group by user or session.
    pub by: GroupBy,
    /// Split a key's events where more than this many milliseconds pass without activity.
    pub session_gap: Option<i64>,
    /// Itemset mode.
    pub itemset: ItemsetMode,
    /// Token choice.
    pub token: Token,
    /// Keep only these actions (canonical names such as `cart_add`, common synonyms such as
    /// `addtocart`, or custom names as written in the log).
    pub actions: Option<Vec<String>>,
    /// Minimum sequence length in itemsets (default 1).
    pub min_len: usize,
    /// Maximum sequence length in itemsets; longer sequences keep their most recent itemsets.
    pub max_len: Option<usize>,
    /// Drop tokens with fewer than this many events.
    pub min_item_count: u64,
    /// Keep events at or after this time.
    pub from: Option<Timestamp>,
    /// Keep events before this time.
    pub to: Option<Timestamp>,
    /// Drop immediate repeats of a token.
    pub drop_repeats: bool,
    /// Keep per-itemset timestamps (default true).
    pub keep_times: bool,
}

impl Default for SequenceOptionsBuilder {
    fn default() -> Self {
        SequenceOptionsBuilder {
            by: GroupBy::User,
            session_gap: None,
            itemset: ItemsetMode::SameTime,
            token: Token::Item,
            actions: None,
            min_len: 1,
            max_len: None,
            min_item_count: 0,
            from: None,
            to: None,
            drop_repeats: false,
            keep_times: true,
        }
    }
}

/// Validated options for [`build_sequences`], made by [`SequenceOptionsBuilder::build`]; they read
/// as the builder's fields. The default (by user, same-time itemsets, item tokens, no filter) is
/// valid.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SequenceOptions(SequenceOptionsBuilder);

impl std::ops::Deref for SequenceOptions {
    type Target = SequenceOptionsBuilder;
    fn deref(&self) -> &SequenceOptionsBuilder {
        &self.0
    }
}

impl SequenceOptions {
    /// The kept time range `[from, to)` in milliseconds (`--from`/`--to`), either end open.
    pub fn time_range(&self) -> (Option<i64>, Option<i64>) {
        (self.from.map(|t| t.0), self.to.map(|t| t.0))
    }

    /// A builder starting from the defaults.
    pub fn builder() -> SequenceOptionsBuilder {
        SequenceOptionsBuilder::default()
    }
    /// Names of the options set away from their defaults that only make sense for event logs (not for
    /// SPMF or basket input, which are sequences already).
    pub fn event_only_options(&self) -> Vec<&'static str> {
        let d = SequenceOptions::default();
        let mut v = Vec::new();
        if self.by != d.by {
            v.push("--by");
        }
        if self.session_gap.is_some() {
            v.push("--session-gap");
        }
        if self.itemset != d.itemset {
            v.push("--itemset");
        }
        if self.token != d.token {
            v.push("--token");
        }
        if self.actions.is_some() {
            v.push("--actions");
        }
        if self.min_item_count != 0 {
            v.push("--min-item-count");
        }
        if self.from.is_some() {
            v.push("--from");
        }
        if self.to.is_some() {
            v.push("--to");
        }
        if self.drop_repeats {
            v.push("--drop-repeats");
        }
        v
    }
}

impl SequenceOptionsBuilder {
    /// Checks the options once.
    pub fn build(self) -> Result<SequenceOptions, DataError> {
        let o = self;
        if o.min_len == 0 {
            return Err(DataError::Option("--min-len must be at least 1".into()));
        }
        if let Some(m) = o.max_len {
            if m == 0 {
                return Err(DataError::Option("--max-len must be at least 1".into()));
            }
            if m < o.min_len {
                return Err(DataError::Option(format!(
                    "--max-len {m} is below --min-len {}",
                    o.min_len
                )));
            }
        }
        if let Some(g) = o.session_gap {
            if g <= 0 {
                return Err(DataError::Option(
                    "--session-gap must be positive (e.g. 30m)".into(),
                ));
            }
        }
        if let (Some(f), Some(t)) = (o.from, o.to) {
            if f >= t {
                return Err(DataError::Option(
                    "--from must be earlier than --to (the range is [from, to))".into(),
                ));
            }
        }
        if let Some(a) = &o.actions {
            if a.is_empty() || a.iter().any(|s| s.trim().is_empty()) {
                return Err(DataError::Option(
                    "--actions needs non-empty names, e.g. view,cart_add,buy".into(),
                ));
            }
        }
        Ok(SequenceOptions(o))
    }
}

/// Builds the sequence database of `log` (see the module docs for the exact semantics). Tokens are
/// interned into `dict.tokens`; sequence keys are user or session ids.
///
/// The log is only borrowed, so it stays in memory while the database is built; a caller that does
/// not need the log afterwards should use [`build_sequences_owned`], which frees it on the way.
pub fn build_sequences(
    log: &EventLog,
    dict: &mut Dictionary,
    opts: &SequenceOptions,
) -> Result<SequenceDb, DataError> {
    check_log(log, opts)?;
    let mut tok: Vec<u32> = log.item.iter().map(|p| p.0).collect();
    event_tokens(log, &mut tok, dict, opts)?;
    let grouped = group_by_key(keys_of(log, opts.by)?.to_vec(), log.time.clone(), tok);
    walk(grouped, opts)
}

/// [`build_sequences`] consuming the log: the tokens overwrite the product column, the other columns
/// are freed once the tokens are known, the grouping permutes the key, time and token columns in
/// place, and the database is written over the grouped events it is made from, so the building
/// never holds more than the log itself did (about 16 bytes per event after the tokens) instead of
/// the whole log plus the database. Same result as [`build_sequences`].
pub fn build_sequences_owned(
    mut log: EventLog,
    dict: &mut Dictionary,
    opts: &SequenceOptions,
) -> Result<SequenceDb, DataError> {
    check_log(&log, opts)?;
    // Same size and alignment: this reuses the product column's allocation.
    let mut tok: Vec<u32> = std::mem::take(&mut log.item)
        .into_iter()
        .map(|p| p.0)
        .collect();
    event_tokens(&log, &mut tok, dict, opts)?;
    let keys = match opts.by {
        GroupBy::User => std::mem::take(&mut log.user),
        GroupBy::Session => log.session.take().unwrap_or_default(),
    };
    let time = std::mem::take(&mut log.time);
    drop(log);
    let grouped = group_by_key(keys, time, tok);
    walk(grouped, opts)
}

/// The option errors that depend on the log's columns.
fn check_log(log: &EventLog, opts: &SequenceOptions) -> Result<(), DataError> {
    keys_of(log, opts.by)?;
    let needs_category = matches!(opts.token, Token::Category | Token::ActionCategory);
    if needs_category && log.category.is_none() {
        return Err(DataError::Option(
            "--token category needs a log with a category column; this log has none".into(),
        ));
    }
    Ok(())
}

/// The grouping column.
pub(crate) fn keys_of(log: &EventLog, by: GroupBy) -> Result<&[KeyId], DataError> {
    match by {
        GroupBy::User => Ok(&log.user),
        GroupBy::Session => log.session.as_deref().ok_or_else(|| {
            DataError::Option(
                "--by session needs a log with a session column; use --by user with --session-gap 30m to cut users' activity into sessions".into(),
            )
        }),
    }
}

/// Token of a dropped event in [`event_tokens`].
pub(crate) const NONE: u32 = u32::MAX;

/// Steps 1–3: replaces each event's product id in `tok` by the event's token ([`NONE`] when dropped
/// by a filter). The log's own product column is not read (it may have been moved into `tok`).
fn event_tokens(
    log: &EventLog,
    tok: &mut [u32],
    dict: &mut Dictionary,
    opts: &SequenceOptions,
) -> Result<(), DataError> {
    let n = log.len();
    let needs_category = matches!(opts.token, Token::Category | Token::ActionCategory);

    // 1. Action and time filters.
    let action_ok = action_mask(dict, opts)?;
    let from = opts.from.map_or(i64::MIN, |t| t.0);
    let to = opts.to.map_or(i64::MAX, |t| t.0);

    // 2. Tokens.
    let names = EventVocabs {
        products: &dict.products,
        categories: &dict.categories,
        actions: &dict.actions,
    };
    let tokens = &mut dict.tokens;
    let unfiltered = opts.actions.is_none() && opts.from.is_none() && opts.to.is_none();
    if unfiltered && opts.token == Token::Item && TokenInterner::shares_products(tokens, names, tok)
    {
        // Every event keeps its product as token, and the products are numbered in this log's order:
        // the tokens are the product ids, named as the products.
        *tokens = names.products.clone();
    } else {
        let mut interner = TokenInterner::new(names, tokens, opts.token);
        for i in 0..n {
            let item = tok[i];
            tok[i] = NONE;
            let a = log.action[i];
            let t = log.time[i].0;
            if !action_ok[a as usize] || t < from || t >= to {
                continue;
            }
            let cat = log.category.as_ref().map_or(UNKNOWN_CATEGORY, |c| c[i]);
            if needs_category && cat == UNKNOWN_CATEGORY {
                continue;
            }
            tok[i] = interner.token(tokens, a, item, cat.0)?;
        }
        interner.finish(tokens, tok)?;
    }

    // 3. Rare tokens.
    if opts.min_item_count > 1 {
        let mut count: Vec<u64> = Vec::new();
        for &t in tok.iter() {
            if t != NONE {
                let t = t as usize;
                if t >= count.len() {
                    count.resize(t + 1, 0);
                }
                count[t] += 1;
            }
        }
        for t in tok.iter_mut() {
            if *t != NONE && count[*t as usize] < opts.min_item_count {
                *t = NONE;
            }
        }
    }
    Ok(())
}

/// The kept events grouped by key (key `k` owns positions `start[k]..start[k + 1]`), each group in
/// time order, events with equal times in input order.
struct Grouped {
    start: Vec<u32>,
    time: Vec<i64>,
    tok: Vec<ItemId>,
}

/// Step 4: a stable counting sort by key, then a stable sort by time within each key. The events are
/// permuted in place (the key column becomes each event's destination, then cycles are followed), so
/// no second copy of the times and tokens is needed; the dropped events move to the end and are cut.
/// A log grouped by user already (as Taobao's is) is nearly the identity permutation.
fn group_by_key(keys: Vec<KeyId>, time: Vec<Timestamp>, tok: Vec<u32>) -> Grouped {
    let n = tok.len();
    let nkeys = keys.iter().map(|k| k.index() + 1).max().unwrap_or(0);
    let mut start = vec![0u32; nkeys + 1];
    for (k, &t) in keys.iter().zip(&tok) {
        if t != NONE {
            start[k.index() + 1] += 1;
        }
    }
    for k in 0..nkeys {
        start[k + 1] += start[k];
    }
    let kept = start[nkeys] as usize;
    // Same size and alignment: these reuse the columns' allocations.
    let mut dest: Vec<u32> = keys.into_iter().map(|k| k.0).collect();
    let mut gtime: Vec<i64> = time.into_iter().map(|t| t.0).collect();
    let mut gtok: Vec<ItemId> = tok.into_iter().map(ItemId).collect();
    {
        let mut next = start.clone();
        let mut spill = kept as u32;
        for (d, t) in dest.iter_mut().zip(&gtok) {
            if t.0 != NONE {
                let slot = &mut next[*d as usize];
                *d = *slot;
                *slot += 1;
            } else {
                *d = spill;
                spill += 1;
            }
        }
    }
    for i in 0..n {
        loop {
            let d = dest[i] as usize;
            if d == i {
                break;
            }
            gtime.swap(i, d);
            gtok.swap(i, d);
            dest.swap(i, d);
        }
    }
    drop(dest);
    gtime.truncate(kept);
    gtok.truncate(kept);
    sort_groups_by_time(&start, &mut gtime, &mut gtok);
    Grouped {
        start,
        time: gtime,
        tok: gtok,
    }
}

/// Sorts each group (`start[k]..start[k + 1]`) of `time` and `tok` by time, stably. Groups are
/// independent, so runs of whole groups (about 64 K events each) are sorted on the rayon pool's
/// threads; the result does not depend on their number.
fn sort_groups_by_time(start: &[u32], time: &mut [i64], tok: &mut [ItemId]) {
    use rayon::prelude::*;
    const RUN: usize = 1 << 16;
    let nkeys = start.len() - 1;
    let mut runs = Vec::new();
    let (mut time_rest, mut tok_rest) = (time, tok);
    let mut k0 = 0;
    while k0 < nkeys {
        let mut k1 = k0 + 1;
        while k1 < nkeys && ((start[k1] - start[k0]) as usize) < RUN {
            k1 += 1;
        }
        let len = (start[k1] - start[k0]) as usize;
        let (t, t_rest) = std::mem::take(&mut time_rest).split_at_mut(len);
        let (x, x_rest) = std::mem::take(&mut tok_rest).split_at_mut(len);
        runs.push((k0..k1, t, x));
        (time_rest, tok_rest) = (t_rest, x_rest);
        k0 = k1;
    }
    runs.into_par_iter().for_each(|(keys, time, tok)| {
        let base = start[keys.start] as usize;
        let mut scratch: Vec<(i64, ItemId)> = Vec::new();
        for k in keys {
            let r = start[k] as usize - base..start[k + 1] as usize - base;
            let times = &mut time[r.clone()];
            if times.windows(2).all(|w| w[0] <= w[1]) {
                continue;
            }
            let toks = &mut tok[r];
            scratch.clear();
            scratch.extend(times.iter().copied().zip(toks.iter().copied()));
            scratch.sort_by_key(|p| p.0);
            for (j, &(t, x)) in scratch.iter().enumerate() {
                times[j] = t;
                toks[j] = x;
            }
        }
    });
}

/// The database being written over the grouped events by [`walk`]: the items go to the front of the
/// token array and the itemset times to the front of the time array. Writing never overtakes reading:
/// a sequence is written only after all its events were read, and it has at most one item per event
/// and one itemset per event.
struct InPlace {
    items: Vec<ItemId>,
    times: Vec<i64>,
    n_items: usize,
    n_sets: usize,
    itemset_starts: Vec<u32>,
    seq_starts: Vec<u32>,
    keys: Vec<KeyId>,
}

/// Steps 5–7: each key's events into sequences.
fn walk(g: Grouped, opts: &SequenceOptions) -> Result<SequenceDb, DataError> {
    let Grouped { start, time, tok } = g;
    let nkeys = start.len() - 1;
    let n = tok.len();
    let mut out = InPlace {
        items: tok,
        times: time,
        n_items: 0,
        n_sets: 0,
        itemset_starts: Vec::with_capacity(n + 1),
        seq_starts: Vec::with_capacity(nkeys + 1),
        keys: Vec::with_capacity(nkeys),
    };
    out.itemset_starts.push(0);
    out.seq_starts.push(0);
    let mut seq = SeqBuffer::default();
    for k in 0..nkeys {
        let r = start[k] as usize..start[k + 1] as usize;
        if r.is_empty() {
            continue;
        }
        let key = KeyId(k as u32);
        seq.clear();
        let mut prev_time: Option<i64> = None;
        let mut last_tok = ItemId(NONE);
        for j in r {
            // Read the event before anything is written (writing may reach position j).
            let t = out.times[j];
            let tk = out.items[j];
            if let (Some(gap), Some(p)) = (opts.session_gap, prev_time) {
                if t.saturating_sub(p) > gap {
                    seq.flush_into(&mut out, key, opts)?;
                    last_tok = ItemId(NONE);
                }
            }
            prev_time = Some(t);
            if opts.drop_repeats && tk == last_tok {
                continue;
            }
            last_tok = tk;
            let new_set = match opts.itemset {
                ItemsetMode::Single => true,
                ItemsetMode::SameTime => seq.last_time() != Some(t),
            };
            seq.push(tk, t, new_set);
        }
        seq.flush_into(&mut out, key, opts)?;
    }
    let InPlace {
        mut items,
        mut times,
        n_items,
        n_sets,
        itemset_starts,
        seq_starts,
        keys,
    } = out;
    items.truncate(n_items);
    times.truncate(n_sets);
    Ok(SequenceDb::from_parts(
        items,
        itemset_starts,
        seq_starts,
        opts.keep_times.then_some(times),
        keys,
    ))
}

/// Itemsets of the sequence being built.
#[derive(Default)]
struct SeqBuffer {
    items: Vec<ItemId>,
    bounds: Vec<usize>,
    times: Vec<i64>,
}

impl SeqBuffer {
    fn clear(&mut self) {
        self.items.clear();
        self.bounds.clear();
        self.times.clear();
    }
    fn last_time(&self) -> Option<i64> {
        self.times.last().copied()
    }
    fn push(&mut self, item: ItemId, t: i64, new_set: bool) {
        if new_set || self.times.is_empty() {
            self.bounds.push(self.items.len());
            self.times.push(t);
        }
        self.items.push(item);
    }
    /// Writes the buffered sequence (its last `max_len` itemsets, if it has at least `min_len`), each
    /// itemset sorted and duplicate-free, and empties the buffer.
    fn flush_into(
        &mut self,
        out: &mut InPlace,
        key: KeyId,
        opts: &SequenceOptions,
    ) -> Result<(), DataError> {
        let sets = self.times.len();
        if sets >= opts.min_len && sets > 0 {
            let first = opts.max_len.map_or(0, |m| sets.saturating_sub(m));
            for j in first..sets {
                let end = self.bounds.get(j + 1).copied().unwrap_or(self.items.len());
                let set = &mut self.items[self.bounds[j]..end];
                if !set.windows(2).all(|w| w[0] < w[1]) {
                    set.sort_unstable();
                }
                let mut prev = None;
                for &it in set.iter() {
                    if prev != Some(it) {
                        out.items[out.n_items] = it;
                        out.n_items += 1;
                        prev = Some(it);
                    }
                }
                out.itemset_starts
                    .push(u32::try_from(out.n_items).map_err(|_| {
                        DataError::Option("more than 4,294,967,295 items in one database".into())
                    })?);
                out.times[out.n_sets] = self.times[j];
                out.n_sets += 1;
            }
            out.seq_starts.push(u32::try_from(out.n_sets).map_err(|_| {
                DataError::Option("more than 4,294,967,295 itemsets in one database".into())
            })?);
            out.keys.push(key);
        }
        self.clear();
        Ok(())
    }
}

/// Which action ids pass the `--actions` filter.
fn action_mask(dict: &Dictionary, opts: &SequenceOptions) -> Result<[bool; 256], DataError> {
    let Some(names) = &opts.actions else {
        return Ok([true; 256]);
    };
    let mut mask = [false; 256];
    let mut any = false;
    for raw in names {
        let raw = raw.trim();
        let name = canonical_action(raw).map_or(raw, |a| a.name());
        if let Some(id) = dict.actions.get(name).or_else(|| dict.actions.get(raw)) {
            if let Some(m) = mask.get_mut(id as usize) {
                *m = true;
                any = true;
            }
        }
    }
    if !any {
        return Err(DataError::Option(format!(
            "--actions {}: none of these actions occurs in the log (it has: {})",
            names.join(","),
            dict.actions.names().join(", ")
        )));
    }
    Ok(mask)
}

/// The vocabularies an event's token is named from (the parts of a [`Dictionary`] that tokens read,
/// borrowed apart from the token vocabulary they are written to).
#[derive(Clone, Copy)]
pub(crate) struct EventVocabs<'a> {
    pub products: &'a Vocab,
    pub categories: &'a Vocab,
    pub actions: &'a Vocab,
}

impl<'a> EventVocabs<'a> {
    /// The event vocabularies of `dict`.
    pub fn of(dict: &'a Dictionary) -> Self {
        EventVocabs {
            products: &dict.products,
            categories: &dict.categories,
            actions: &dict.actions,
        }
    }
}

/// Interns event tokens with dense caches (product/category/action → token) so an event costs an array
/// look-up, not a string hash, once its token was seen. This is the one place where a token's name is
/// made (`view`, `cart_add:123`, `buy:Shoes`), for [`build_sequences`] and for
/// [`crate::token_sequences`] alike.
///
/// Item tokens into an empty token vocabulary take a faster road: the token of a product is numbered
/// by first appearance without touching the vocabulary, whose names are filled in once at the end
/// ([`TokenInterner::finish`]); when every product became a token in product order (the usual case:
/// no filter, products read from this log), the token vocabulary simply shares the product names.
pub(crate) struct TokenInterner<'a> {
    kind: Token,
    names: EventVocabs<'a>,
    by_index: Vec<u32>,
    by_pair: HashMap<(u8, u32), u32>,
    buf: String,
    /// Item-token fast road: the products in order of their first token.
    first_seen: Option<Vec<u32>>,
}

impl<'a> TokenInterner<'a> {
    /// An interner of `kind` tokens named from `names`, writing new names to `tokens`.
    pub fn new(names: EventVocabs<'a>, tokens: &mut Vocab, kind: Token) -> Self {
        let cap = match kind {
            Token::Item => names.products.len(),
            Token::Category => names.categories.len(),
            Token::Action => names.actions.len(),
            _ => 0,
        };
        let fast = kind == Token::Item && tokens.is_empty() && !tokens.is_numeric();
        if !fast {
            // At most one token per product/category/action: size the token index once.
            tokens.reserve(cap.saturating_sub(tokens.len()));
        }
        TokenInterner {
            kind,
            names,
            by_index: vec![u32::MAX; cap],
            by_pair: HashMap::new(),
            buf: String::new(),
            first_seen: fast.then(Vec::new),
        }
    }

    /// Whether the item tokens of products `tok` (every event kept) are the product ids themselves:
    /// `tokens` is empty and would take [`TokenInterner`]'s fast road, and the products first appear
    /// in `tok` in id order, all of them — exactly the case where [`TokenInterner::finish`] makes the
    /// token vocabulary share the products' names. One pass in order, no table.
    pub fn shares_products(tokens: &Vocab, names: EventVocabs<'_>, tok: &[u32]) -> bool {
        if !tokens.is_empty() || tokens.is_numeric() {
            return false;
        }
        let mut next: u64 = 0;
        for &p in tok {
            let p = u64::from(p);
            if p == next {
                next += 1;
            } else if p > next {
                return false;
            }
        }
        next == names.products.len() as u64
    }

    /// Completes the token vocabulary of the item-token fast road and renumbers `tok` in the (rare)
    /// case where two products share a name (a hand-made dictionary), so the result is exactly what
    /// interning each token in turn would give. A no-op otherwise. [`NONE`] entries are left alone.
    pub fn finish(self, tokens: &mut Vocab, tok: &mut [u32]) -> Result<(), DataError> {
        let Some(first) = self.first_seen else {
            return Ok(());
        };
        let products = self.names.products;
        let identity = first.len() == products.len()
            && first.iter().enumerate().all(|(i, &p)| p as usize == i);
        if identity {
            *tokens = products.clone();
            return Ok(());
        }
        tokens.reserve(first.len());
        let mut remap: Option<Vec<u32>> = None;
        for (pos, &p) in first.iter().enumerate() {
            let t = intern_token(tokens, &products.name(p))?;
            if t as usize != pos {
                remap.get_or_insert_with(|| (0..first.len() as u32).collect())[pos] = t;
            }
        }
        if let Some(remap) = remap {
            for t in tok.iter_mut().filter(|t| **t != NONE) {
                *t = remap[*t as usize];
            }
        }
        Ok(())
    }

    /// The token of an event with this action, product and category ([`UNKNOWN_CATEGORY`] when it has
    /// none). An `action:category` token of an event without a category is its action's token.
    pub fn token(
        &mut self,
        tokens: &mut Vocab,
        action: u8,
        item: u32,
        cat: u32,
    ) -> Result<u32, DataError> {
        let EventVocabs {
            products,
            categories,
            actions,
        } = self.names;
        let single = |v: &Vocab, id: u32, cache: &mut Vec<u32>, tokens: &mut Vocab| {
            let ix = id as usize;
            if ix >= cache.len() {
                cache.resize(ix + 1, u32::MAX);
            }
            if cache[ix] != u32::MAX {
                return Ok(cache[ix]);
            }
            let name = v.name(id);
            let t = intern_token(tokens, &name)?;
            cache[ix] = t;
            Ok(t)
        };
        if let Some(first) = self.first_seen.as_mut() {
            let ix = item as usize;
            if ix >= self.by_index.len() {
                self.by_index.resize(ix + 1, u32::MAX);
            }
            if self.by_index[ix] == u32::MAX {
                self.by_index[ix] = u32::try_from(first.len()).map_err(|_| {
                    DataError::Option("more than 2^32 tokens in one dictionary".into())
                })?;
                first.push(item);
            }
            return Ok(self.by_index[ix]);
        }
        match self.kind {
            Token::Item => single(products, item, &mut self.by_index, tokens),
            Token::Category => single(categories, cat, &mut self.by_index, tokens),
            Token::Action => single(actions, u32::from(action), &mut self.by_index, tokens),
            Token::ActionCategory if cat == UNKNOWN_CATEGORY.0 => {
                single(actions, u32::from(action), &mut self.by_index, tokens)
            }
            Token::ActionItem | Token::ActionCategory => {
                let (v, id) = if self.kind == Token::ActionItem {
                    (products, item)
                } else {
                    (categories, cat)
                };
                if let Some(&t) = self.by_pair.get(&(action, id)) {
                    return Ok(t);
                }
                self.buf.clear();
                self.buf.push_str(&actions.name(u32::from(action)));
                self.buf.push(':');
                self.buf.push_str(&v.name(id));
                let t = intern_token(tokens, &self.buf)?;
                self.by_pair.insert((action, id), t);
                Ok(t)
            }
        }
    }
}

fn intern_token(tokens: &mut Vocab, name: &str) -> Result<u32, DataError> {
    tokens.intern(name).ok_or_else(|| {
        DataError::Option(format!(
            "token {name:?} cannot be added to the dictionary (numeric token vocabulary or more than 2^32 tokens)"
        ))
    })
}

/// Applies the options that make sense for sequence input (SPMF, baskets): `max_len` (keep the most
/// recent itemsets) and `min_len`. Event-only options must be rejected by the caller
/// ([`SequenceOptions::event_only_options`]).
pub fn filter_db(db: &SequenceDb, opts: &SequenceOptions) -> Result<SequenceDb, DataError> {
    if opts.min_len <= 1 && opts.max_len.is_none() {
        return Ok(db.clone());
    }
    let mut b = SequenceDbBuilder::new(db.times().is_some() && opts.keep_times);
    for s in db.iter() {
        let n = s.len();
        if n < opts.min_len {
            continue;
        }
        let first = opts.max_len.map_or(0, |m| n.saturating_sub(m));
        let times = s.times();
        for k in first..n {
            b.push_itemset(s.itemset(k), times.map(|t| t[k]))?;
        }
        b.end_sequence(s.key())?;
    }
    Ok(b.build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Action, Event};
    use crate::ids::{ActionId, CategoryId, ProductId};

    fn log(rows: &[(&str, i64, &str, &str)]) -> (EventLog, Dictionary) {
        let mut d = Dictionary::new();
        let mut l = EventLog::new();
        for &(u, t, item, action) in rows {
            let e = Event {
                user: KeyId(d.users.intern(u).unwrap()),
                session: None,
                time: Timestamp(t),
                item: ProductId(d.products.intern(item).unwrap()),
                category: Some(CategoryId(
                    d.categories.intern(&format!("c{item}")).unwrap(),
                )),
                action: ActionId(d.actions.intern(action).unwrap()),
                quantity: None,
                price: None,
            };
            l.push(&e);
        }
        (l, d)
    }

    /// A log of `view` events.
    fn views(rows: &[(&str, i64, &str)]) -> (EventLog, Dictionary) {
        let rows: Vec<_> = rows
            .iter()
            .map(|&(u, t, item)| (u, t, item, "view"))
            .collect();
        log(&rows)
    }

    /// A log of one user's `view` events, as (time, item).
    fn user_views(rows: &[(i64, &str)]) -> (EventLog, Dictionary) {
        let rows: Vec<_> = rows.iter().map(|&(t, item)| ("u", t, item)).collect();
        views(&rows)
    }

    fn names(db: &SequenceDb, d: &Dictionary) -> Vec<Vec<Vec<String>>> {
        db.iter()
            .map(|s| {
                s.itemsets()
                    .map(|set| {
                        set.iter()
                            .map(|i| d.tokens.name(i.0).into_owned())
                            .collect()
                    })
                    .collect()
            })
            .collect()
    }

    /// The database of `l` under the default options changed by `set` (checked).
    fn built(
        l: &EventLog,
        d: &mut Dictionary,
        set: impl FnOnce(&mut SequenceOptionsBuilder),
    ) -> SequenceDb {
        let mut o = SequenceOptions::builder();
        set(&mut o);
        build_sequences(l, d, &o.build().unwrap()).unwrap()
    }

    #[test]
    fn owned_builder_matches_borrowing_builder() {
        // Unsorted times, ties, repeats, several users and actions.
        let mut rows = Vec::new();
        let users = ["u3", "u1", "u2"];
        let items = ["10", "7", "x", "007", "7", "10"];
        let actions = ["view", "cart_add", "view", "buy"];
        for i in 0..60i64 {
            rows.push((
                users[(i % 3) as usize],
                (i * 7919) % 23,
                items[(i % 6) as usize],
                actions[(i % 4) as usize],
            ));
        }
        let (l, d) = log(&rows);
        let variants = [
            SequenceOptions::default(),
            SequenceOptionsBuilder {
                itemset: ItemsetMode::Single,
                keep_times: false,
                ..Default::default()
            }
            .build()
            .unwrap(),
            SequenceOptionsBuilder {
                token: Token::ActionItem,
                drop_repeats: true,
                session_gap: Some(5),
                ..Default::default()
            }
            .build()
            .unwrap(),
            SequenceOptionsBuilder {
                token: Token::Category,
                min_item_count: 5,
                max_len: Some(4),
                min_len: 2,
                from: Some(Timestamp(2)),
                to: Some(Timestamp(20)),
                ..Default::default()
            }
            .build()
            .unwrap(),
        ];
        for opts in &variants {
            let mut d1 = d.clone();
            let a = build_sequences(&l, &mut d1, opts).unwrap();
            let mut d2 = d.clone();
            let b = build_sequences_owned(l.clone(), &mut d2, opts).unwrap();
            assert_eq!(a, b, "{opts:?}");
            assert_eq!(d1, d2, "{opts:?}");
            assert!(!a.is_empty());
        }
        // Item tokens of an unfiltered log share the product names; filtered ones are named in order
        // of first appearance among the kept events.
        let mut d1 = d.clone();
        build_sequences(&l, &mut d1, &SequenceOptions::default()).unwrap();
        assert!(d1.tokens.shares_names_with(&d1.products));
        let mut d2 = d.clone();
        let only_buy = SequenceOptionsBuilder {
            actions: Some(vec!["buy".into()]),
            ..Default::default()
        }
        .build()
        .unwrap();
        build_sequences(&l, &mut d2, &only_buy).unwrap();
        assert!(!d2.tokens.shares_names_with(&d2.products));
        assert_eq!(d2.tokens.names(), &["007", "7", "10"]);
        let opts = SequenceOptionsBuilder {
            by: GroupBy::Session,
            ..Default::default()
        }
        .build()
        .unwrap();
        let e1 = build_sequences(&l, &mut d.clone(), &opts).unwrap_err();
        let e2 = build_sequences_owned(l, &mut d.clone(), &opts).unwrap_err();
        assert_eq!(e1.to_string(), e2.to_string());
    }

    #[test]
    fn groups_sorts_and_same_time_itemsets() {
        let (l, mut d) = views(&[
            ("u2", 5, "b"),
            ("u1", 3, "a"),
            ("u1", 1, "b"),
            ("u1", 3, "c"),
            ("u2", 5, "a"),
        ]);
        let db = build_sequences(&l, &mut d, &SequenceOptions::default()).unwrap();
        let n = names(&db, &d);
        // u2 was seen first, so it has the smaller key id and comes first.
        assert_eq!(db.keys(), &[KeyId(0), KeyId(1)]);
        assert_eq!(n[0], vec![vec!["b", "a"]]);
        assert_eq!(n[1], vec![vec!["b"], vec!["a", "c"]]);
        assert_eq!(db.sequence(1).times().unwrap(), &[1, 3]);
    }

    #[test]
    fn single_itemsets_keep_input_order_on_ties() {
        let (l, mut d) = user_views(&[(3, "x"), (3, "y"), (1, "z")]);
        let db = built(&l, &mut d, |o| o.itemset = ItemsetMode::Single);
        assert_eq!(names(&db, &d)[0], vec![vec!["z"], vec!["x"], vec!["y"]]);
    }

    #[test]
    fn session_gap_splits_exactly_above_the_gap() {
        let (l, mut d) = user_views(&[
            (0, "a"),
            (10, "b"), // gap 10 = limit: same session
            (21, "c"), // gap 11 > 10: new session
            (21, "d"),
        ]);
        let db = built(&l, &mut d, |o| o.session_gap = Some(10));
        assert_eq!(db.len(), 2);
        assert_eq!(names(&db, &d)[1], vec![vec!["c", "d"]]);
        assert_eq!(db.keys(), &[KeyId(0), KeyId(0)]);
    }

    #[test]
    fn action_tokens_filters_and_lengths() {
        let (l, mut d) = log(&[
            ("u", 1, "a", "view"),
            ("u", 2, "a", "cart_add"),
            ("u", 3, "a", "buy"),
            ("u", 4, "b", "view"),
            ("v", 1, "b", "view"),
        ]);
        let db = built(&l, &mut d, |o| {
            o.token = Token::ActionItem;
            o.actions = Some(vec!["addtocart".into(), "buy".into()]);
        });
        assert_eq!(
            names(&db, &d),
            vec![vec![vec!["cart_add:a"], vec!["buy:a"]]]
        );

        let mut d2 = d.clone();
        d2.tokens = Vocab::new();
        let db = built(&l, &mut d2, |o| {
            o.min_len = 2;
            o.max_len = Some(2);
        });
        assert_eq!(names(&db, &d2), vec![vec![vec!["a"], vec!["b"]]]);

        let o = SequenceOptionsBuilder {
            actions: Some(vec!["fav".into()]),
            ..Default::default()
        }
        .build()
        .unwrap();
        let e = build_sequences(&l, &mut d2, &o).unwrap_err().to_string();
        assert!(e.contains("none of these actions"), "{e}");
    }

    #[test]
    fn drop_repeats_time_window_and_rare_items() {
        let (l, mut d) = user_views(&[(1, "a"), (2, "a"), (3, "b"), (4, "a"), (9, "c")]);
        let db = built(&l, &mut d, |o| {
            o.drop_repeats = true;
            o.to = Some(Timestamp(9));
        });
        assert_eq!(names(&db, &d)[0], vec![vec!["a"], vec!["b"], vec!["a"]]);
        let db = built(&l, &mut d, |o| o.min_item_count = 2);
        assert_eq!(names(&db, &d)[0], vec![vec!["a"], vec!["a"], vec!["a"]]);
        let db = built(&l, &mut d, |o| o.token = Token::Category);
        assert_eq!(names(&db, &d)[0][0], vec!["ca"]);
    }

    #[test]
    fn invalid_options_are_refused_once() {
        for bad in [
            SequenceOptionsBuilder {
                min_len: 0,
                ..Default::default()
            },
            SequenceOptionsBuilder {
                min_len: 3,
                max_len: Some(2),
                ..Default::default()
            },
            SequenceOptionsBuilder {
                session_gap: Some(0),
                ..Default::default()
            },
            SequenceOptionsBuilder {
                from: Some(Timestamp(5)),
                to: Some(Timestamp(5)),
                ..Default::default()
            },
        ] {
            assert!(bad.clone().build().is_err(), "{bad:?}");
        }
        assert_eq!("action:item".parse::<Token>(), Ok(Token::ActionItem));
        assert!("x".parse::<GroupBy>().is_err());
        let (l, mut d) = user_views(&[(1, "a")]);
        let o = SequenceOptionsBuilder {
            by: GroupBy::Session,
            ..Default::default()
        }
        .build()
        .unwrap();
        assert!(build_sequences(&l, &mut d, &o).is_err());
        let _ = Action::View;
    }
}

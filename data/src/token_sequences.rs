//! Windowed token sequences: for each requested key (a user, a session, or a user at a cutoff), that
//! key's events strictly before the cutoff — the most recent `max_len` of them — in time order, each
//! event as one token. This is the one implementation behind every "log → per-row sequence" of the
//! pipeline: the pattern featurizer (a task row's history before its cutoff), the sequence models'
//! `seq` column, the report's frequent patterns (every user's whole history) and next-item sessions.
//!
//! Semantics, exactly:
//! * a key's events are ordered by time, events at the same time in file order (a stable sort);
//! * a [`SequenceCut`] keeps the events with time `< before` (all when `before` is `None`), then the
//!   last `max_len` of them;
//! * tokens are named as [`crate::build_sequences`] names them (`view`, `cart_add:123`,
//!   `buy:Shoes`, a product's name for [`Token::Item`]); one difference, because a row's history must
//!   not lose events: under [`Token::ActionCategory`] an event without a category becomes its action's
//!   token (`view`). Under [`Token::Category`] such an event is left out (before the `max_len` cut);
//! * token ids are numbered in order of first appearance (sequences in cut order, events in time
//!   order) into a vocabulary of their own ([`TokenSequences::names`]); the log's dictionary is only
//!   read.
//!
//! Cost: [`KeyIndex::new`] is a counting sort by key plus a sort of each key's events by time
//! (O(n log g) for groups of g events), 16 bytes per event; [`token_sequences`] is two binary searches
//! and one cached array look-up per output event, 16 bytes per output event plus the names.

use std::ops::Range;

use crate::dictionary::{Dictionary, Vocab};
use crate::error::DataError;
use crate::event::Timestamp;
use crate::event_log::{EventLog, UNKNOWN_CATEGORY};
use crate::ids::{ItemId, KeyId};
use crate::sequence_db::{SequenceDb, SequenceDbBuilder};
use crate::sessions::{keys_of, EventVocabs, GroupBy, Token, TokenInterner, NONE};

/// Every key's events in time order (ties in file order): the index that windowed look-ups
/// ("user `u`'s events before `t`") binary-search in. Events without a key (a session log's rows with
/// an empty session) are not indexed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyIndex {
    /// Event positions in the log, keys concatenated.
    pub order: Vec<u32>,
    /// `order[starts[k]..starts[k + 1]]` are key `k`'s events.
    pub starts: Vec<usize>,
    /// Times in `order` order (binary searches need no indirection).
    pub times: Vec<i64>,
}

impl KeyIndex {
    /// Indexes `log` by user or by session (an error when the log has no session column).
    pub fn new(log: &EventLog, by: GroupBy) -> Result<Self, DataError> {
        Ok(Self::of_keys(log, keys_of(log, by)?))
    }

    /// Indexes `log` by user (every log has users).
    pub fn by_user(log: &EventLog) -> Self {
        Self::of_keys(log, &log.user)
    }

    /// Indexes the events of `log` by `keys` (one per event).
    fn of_keys(log: &EventLog, keys: &[KeyId]) -> Self {
        let missing = KeyId(u32::MAX);
        let n_keys = keys
            .iter()
            .filter(|&&k| k != missing)
            .map(|k| k.index() + 1)
            .max()
            .unwrap_or(0);
        let mut starts = vec![0usize; n_keys + 1];
        for k in keys.iter().filter(|&&k| k != missing) {
            starts[k.index() + 1] += 1;
        }
        for k in 0..n_keys {
            starts[k + 1] += starts[k];
        }
        let mut order = vec![0u32; starts[n_keys]];
        let mut next = starts.clone();
        for (i, k) in keys.iter().enumerate().filter(|(_, &k)| k != missing) {
            order[next[k.index()]] = i as u32;
            next[k.index()] += 1;
        }
        for k in 0..n_keys {
            // Stable: events at the same time keep their file order.
            order[starts[k]..starts[k + 1]].sort_by_key(|&e| log.time[e as usize]);
        }
        let times = order.iter().map(|&e| log.time[e as usize].0).collect();
        KeyIndex {
            order,
            starts,
            times,
        }
    }

    /// Number of key ids (some may have no events).
    pub fn n_keys(&self) -> usize {
        self.starts.len() - 1
    }

    /// Key `k`'s events (positions in the log), in time order; empty for a key the index does not
    /// know.
    pub fn events(&self, k: usize) -> &[u32] {
        match self.starts.get(k..k + 2) {
            Some(&[s, e]) => &self.order[s..e],
            _ => &[],
        }
    }

    /// Positions (into [`Self::order`]) of key `k`'s events with time in `[from, to)`; empty for a key
    /// the index does not know.
    pub fn range(&self, k: usize, from: i64, to: i64) -> Range<usize> {
        if k >= self.n_keys() {
            return 0..0;
        }
        let (s, e) = (self.starts[k], self.starts[k + 1]);
        let t = &self.times[s..e];
        let a = t.partition_point(|&x| x < from);
        let b = t.partition_point(|&x| x < to);
        s + a..s + b
    }

    /// Positions of key `k`'s events strictly before `cutoff`.
    pub fn before(&self, k: usize, cutoff: i64) -> Range<usize> {
        self.range(k, i64::MIN, cutoff)
    }

    /// One cut per key id, each with the key's whole history, in key order.
    pub fn every_key(&self) -> Vec<SequenceCut> {
        (0..self.n_keys() as u32)
            .map(|k| SequenceCut {
                key: KeyId(k),
                before: None,
            })
            .collect()
    }
}

/// One sequence to cut out of a log: whose events, and up to when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SequenceCut {
    /// The user or session (as the [`KeyIndex`] groups them).
    pub key: KeyId,
    /// Only events strictly before this time; `None` = the whole history.
    pub before: Option<Timestamp>,
}

/// What each cut keeps and how its events are named.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TokenWindow {
    /// The token an event becomes.
    pub token: Token,
    /// Keep only the most recent this many events of each cut (`None` = all).
    pub max_len: Option<usize>,
}

/// The result of [`token_sequences`]: one sequence per cut (possibly empty), flat.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TokenSequences {
    /// Token of each event, sequences concatenated; ids index [`Self::names`].
    pub tokens: Vec<u32>,
    /// Time of each event (ms for event logs).
    pub times: Vec<i64>,
    /// Position of each event in the log.
    pub events: Vec<u32>,
    /// Sequence `i` is `offsets[i]..offsets[i + 1]` of the arrays above.
    pub offsets: Vec<usize>,
    /// Token names, ids in order of first appearance.
    pub names: Vocab,
}

impl TokenSequences {
    /// Number of sequences (= cuts).
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Whether there is no sequence.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Positions of sequence `i` in the flat arrays.
    pub fn range(&self, i: usize) -> Range<usize> {
        self.offsets[i]..self.offsets[i + 1]
    }

    /// Sequence `i`'s tokens.
    pub fn tokens_of(&self, i: usize) -> &[u32] {
        &self.tokens[self.range(i)]
    }

    /// Sequence `i`'s event times.
    pub fn times_of(&self, i: usize) -> &[i64] {
        &self.times[self.range(i)]
    }

    /// Sequence `i`'s event positions in the log.
    pub fn events_of(&self, i: usize) -> &[u32] {
        &self.events[self.range(i)]
    }

    /// The sequences as a [`SequenceDb`] for the miners: one itemset per event, with its time. Empty
    /// sequences are left out, so sequence `j` of the database carries the key `KeyId(i)` of the
    /// sequence `i` it came from (`db.keys()` maps back).
    pub fn to_sequence_db(&self) -> Result<SequenceDb, DataError> {
        let mut b = SequenceDbBuilder::with_capacity(
            true,
            self.tokens.len(),
            self.tokens.len(),
            self.len(),
        );
        for i in 0..self.len() {
            let r = self.range(i);
            for (&t, &time) in self.tokens[r.clone()].iter().zip(&self.times[r]) {
                b.push_itemset(&[ItemId(t)], Some(time))?;
            }
            b.end_sequence(KeyId(u32::try_from(i).unwrap_or(u32::MAX)))?;
        }
        Ok(b.build())
    }
}

/// Cuts one token sequence per entry of `cuts` out of `log` (indexed by `index`; see the module docs
/// for the exact semantics). The dictionary names the events; it is not changed.
pub fn token_sequences(
    log: &EventLog,
    dict: &Dictionary,
    index: &KeyIndex,
    cuts: &[SequenceCut],
    window: &TokenWindow,
) -> Result<TokenSequences, DataError> {
    if window.max_len == Some(0) {
        return Err(DataError::Option(
            "a token window needs max_len of at least 1".into(),
        ));
    }
    let cats = log.category.as_deref();
    let drop_uncategorised = window.token == Token::Category;
    if drop_uncategorised && cats.is_none() {
        return Err(DataError::Option(
            "category tokens need a log with a category column; this log has none".into(),
        ));
    }
    let category = |e: usize| cats.map_or(UNKNOWN_CATEGORY, |c| c[e]);
    let mut out = TokenSequences {
        offsets: Vec::with_capacity(cuts.len() + 1),
        ..TokenSequences::default()
    };
    out.offsets.push(0);
    for cut in cuts {
        let before = cut.before.map_or(i64::MAX, |t| t.0);
        let past = &index.order[index.range(cut.key.index(), i64::MIN, before)];
        let keep = |&&e: &&u32| !(drop_uncategorised && category(e as usize) == UNKNOWN_CATEGORY);
        // The last `max_len` kept events: count back from the end.
        let max_len = window.max_len.unwrap_or(usize::MAX);
        let mut first = past.len();
        let mut kept = 0usize;
        while first > 0 && kept < max_len {
            first -= 1;
            kept += usize::from(keep(&&past[first]));
        }
        for &e in past[first..].iter().filter(keep) {
            out.events.push(e);
            out.times.push(log.time[e as usize].0);
        }
        out.offsets.push(out.events.len());
    }
    let mut interner = TokenInterner::new(EventVocabs::of(dict), &mut out.names, window.token);
    out.tokens.reserve_exact(out.events.len());
    for &e in &out.events {
        let e = e as usize;
        let t = interner.token(&mut out.names, log.action[e], log.item[e].0, category(e).0)?;
        out.tokens.push(t);
    }
    interner.finish(&mut out.names, &mut out.tokens)?;
    debug_assert!(!out.tokens.contains(&NONE));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use crate::ids::{ActionId, CategoryId, ProductId};

    /// A log from `(user, time, item, category, action)` rows.
    fn log(rows: &[(&str, i64, &str, Option<&str>, &str)]) -> (EventLog, Dictionary) {
        let mut d = Dictionary::new();
        let mut l = EventLog::new();
        for &(u, t, item, cat, action) in rows {
            l.push(&Event {
                user: KeyId(d.users.intern(u).unwrap()),
                session: None,
                time: Timestamp(t),
                item: ProductId(d.products.intern(item).unwrap()),
                category: cat.map(|c| CategoryId(d.categories.intern(c).unwrap())),
                action: ActionId(d.actions.intern(action).unwrap()),
                quantity: None,
                price: None,
            });
        }
        (l, d)
    }

    fn named(s: &TokenSequences, i: usize) -> Vec<String> {
        s.tokens_of(i)
            .iter()
            .map(|&t| s.names.name(t).into_owned())
            .collect()
    }

    #[test]
    fn windows_order_ties_and_fallback() {
        let (l, d) = log(&[
            ("u", 5, "a", Some("c1"), "view"),
            ("v", 1, "b", None, "view"),
            ("u", 3, "b", None, "cart_add"),
            ("u", 5, "c", Some("c2"), "buy"),
            ("u", 9, "a", Some("c1"), "view"),
        ]);
        let idx = KeyIndex::new(&l, GroupBy::User).unwrap();
        let cuts = [
            SequenceCut {
                key: KeyId(0),
                before: Some(Timestamp(9)),
            },
            SequenceCut {
                key: KeyId(1),
                before: Some(Timestamp(1)),
            },
            SequenceCut {
                key: KeyId(0),
                before: None,
            },
        ];
        let w = TokenWindow {
            token: Token::ActionCategory,
            max_len: Some(2),
        };
        let s = token_sequences(&l, &d, &idx, &cuts, &w).unwrap();
        assert_eq!(s.len(), 3);
        // Same-time events keep file order; the window keeps the most recent two.
        assert_eq!(named(&s, 0), ["view:c1", "buy:c2"]);
        assert!(s.tokens_of(1).is_empty());
        assert_eq!(named(&s, 2), ["buy:c2", "view:c1"]);
        assert_eq!(s.times_of(0), &[5, 5]);
        assert_eq!(s.events_of(0), &[0, 3]);
        let all = TokenWindow {
            token: Token::ActionCategory,
            max_len: None,
        };
        let s = token_sequences(&l, &d, &idx, &idx.every_key(), &all).unwrap();
        assert_eq!(named(&s, 0), ["cart_add", "view:c1", "buy:c2", "view:c1"]);
        assert_eq!(s.names.names(), &["cart_add", "view:c1", "buy:c2", "view"]);
        let db = s.to_sequence_db().unwrap();
        assert_eq!(db.len(), 2);
        assert_eq!(db.keys(), &[KeyId(0), KeyId(1)]);
        assert_eq!(db.sequence(0).times().unwrap(), &[3, 5, 5, 9]);
        // Category tokens leave uncategorised events out before the window.
        let cat = TokenWindow {
            token: Token::Category,
            max_len: Some(3),
        };
        let s = token_sequences(&l, &d, &idx, &idx.every_key(), &cat).unwrap();
        assert_eq!(named(&s, 0), ["c1", "c2", "c1"]);
        assert!(s.tokens_of(1).is_empty());
        assert_eq!(s.to_sequence_db().unwrap().keys(), &[KeyId(0)]);
    }

    #[test]
    fn item_tokens_and_errors() {
        let (l, d) = log(&[("u", 2, "x", None, "view"), ("u", 1, "y", None, "buy")]);
        let idx = KeyIndex::new(&l, GroupBy::User).unwrap();
        let items = TokenWindow::default();
        let s = token_sequences(&l, &d, &idx, &idx.every_key(), &items).unwrap();
        assert_eq!(named(&s, 0), ["y", "x"]);
        assert_eq!(KeyIndex::by_user(&l), idx);
        assert_eq!(idx.events(0), &[1, 0]);
        assert!(idx.events(1).is_empty());
        let e = KeyIndex::new(&l, GroupBy::Session).unwrap_err();
        assert!(e.to_string().contains("session column"), "{e}");
        let zero = TokenWindow {
            max_len: Some(0),
            ..items
        };
        assert!(token_sequences(&l, &d, &idx, &[], &zero).is_err());
        let cat = TokenWindow {
            token: Token::Category,
            max_len: None,
        };
        let mut l2 = l.clone();
        l2.category = None;
        assert!(token_sequences(&l2, &d, &idx, &[], &cat).is_err());
        // An unknown key has no events.
        let far = [SequenceCut {
            key: KeyId(7),
            before: None,
        }];
        let s = token_sequences(&l, &d, &idx, &far, &items).unwrap();
        assert_eq!(s.len(), 1);
        assert!(s.tokens_of(0).is_empty());
    }
}

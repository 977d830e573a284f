//! `token_sequences` against a naive implementation written from its documented semantics: filter the
//! log by key and time, sort stably by time, leave out uncategorised events under category tokens, keep
//! the last `max_len`, name each event by formula, number the names by first appearance.

use cartseq_data::sessions::GroupBy;
use cartseq_data::{
    token_sequences, ActionId, CategoryId, Dictionary, Event, EventLog, KeyId, KeyIndex, ProductId,
    SequenceCut, Timestamp, Token, TokenWindow,
};
use proptest::prelude::*;

const TOKENS: [Token; 5] = [
    Token::Item,
    Token::Category,
    Token::Action,
    Token::ActionItem,
    Token::ActionCategory,
];

/// One random event: (user, session, time, item, category, action), all small numbers.
type Row = (u8, u8, i64, u8, Option<u8>, u8);

fn build(rows: &[Row]) -> (EventLog, Dictionary) {
    let products = ["10", "7", "x", "007", "y z"];
    let actions = ["view", "cart_add", "buy"];
    let mut d = Dictionary::new();
    let mut log = EventLog::new();
    for &(u, s, t, item, cat, a) in rows {
        log.push(&Event {
            user: KeyId(d.users.intern(&format!("u{u}")).unwrap()),
            session: Some(KeyId(d.sessions.intern(&format!("s{s}")).unwrap())),
            time: Timestamp(t),
            item: ProductId(d.products.intern(products[item as usize]).unwrap()),
            category: cat.map(|c| CategoryId(d.categories.intern(&format!("c{c}")).unwrap())),
            action: ActionId(d.actions.intern(actions[a as usize]).unwrap()),
            quantity: None,
            price: None,
        });
    }
    (log, d)
}

/// The name of event `e`'s token, or `None` when the event is left out.
fn naive_name(log: &EventLog, d: &Dictionary, e: usize, token: Token) -> Option<String> {
    let ev = log.get(e);
    let action = d.actions.name(ev.action.0).into_owned();
    let product = d.products.name(ev.item.0).into_owned();
    let cat = ev.category.map(|c| d.categories.name(c.0).into_owned());
    Some(match (token, cat) {
        (Token::Item, _) => product,
        (Token::Category, c) => c?,
        (Token::Action, _) | (Token::ActionCategory, None) => action,
        (Token::ActionItem, _) => format!("{action}:{product}"),
        (Token::ActionCategory, Some(c)) => format!("{action}:{c}"),
    })
}

/// Per cut, its (name, time, event) triples.
fn naive(
    log: &EventLog,
    d: &Dictionary,
    by: GroupBy,
    cuts: &[SequenceCut],
    w: &TokenWindow,
) -> Vec<Vec<(String, i64, u32)>> {
    let keys: Vec<KeyId> = match by {
        GroupBy::User => log.user.clone(),
        GroupBy::Session => log.session.clone().unwrap(),
    };
    cuts.iter()
        .map(|c| {
            let before = c.before.map_or(i64::MAX, |t| t.0);
            let mut ev: Vec<usize> = (0..log.len())
                .filter(|&e| keys[e] == c.key && log.time[e].0 < before)
                .collect();
            ev.sort_by_key(|&e| log.time[e]);
            let mut named: Vec<(String, i64, u32)> = ev
                .into_iter()
                .filter_map(|e| {
                    naive_name(log, d, e, w.token).map(|n| (n, log.time[e].0, e as u32))
                })
                .collect();
            let skip = named.len().saturating_sub(w.max_len.unwrap_or(usize::MAX));
            named.drain(..skip);
            named
        })
        .collect()
}

fn cut() -> impl Strategy<Value = SequenceCut> {
    (0u32..6, prop::option::of(0i64..12)).prop_map(|(k, t)| SequenceCut {
        key: KeyId(k),
        before: t.map(Timestamp),
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn token_sequences_equal_the_naive_definition(
        rows in prop::collection::vec(
            (0u8..4, 0u8..5, 0i64..10, 0u8..5, prop::option::of(0u8..3), 0u8..3),
            1..40,
        ),
        cuts in prop::collection::vec(cut(), 0..8),
        every_key in any::<bool>(),
        by_session in any::<bool>(),
        token in 0usize..5,
        max_len in prop::option::of(1usize..6),
    ) {
        let (log, d) = build(&rows);
        let by = if by_session { GroupBy::Session } else { GroupBy::User };
        let idx = KeyIndex::new(&log, by).unwrap();
        let cuts = if every_key { idx.every_key() } else { cuts };
        let w = TokenWindow { token: TOKENS[token], max_len };
        let got = token_sequences(&log, &d, &idx, &cuts, &w);
        if w.token == Token::Category && log.category.is_none() {
            prop_assert!(got.is_err());
            return Ok(());
        }
        let got = got.unwrap();
        let want = naive(&log, &d, by, &cuts, &w);
        prop_assert_eq!(got.len(), want.len());
        let mut first_seen: Vec<String> = Vec::new();
        for (i, seq) in want.iter().enumerate() {
            let names: Vec<String> =
                got.tokens_of(i).iter().map(|&t| got.names.name(t).into_owned()).collect();
            let want_names: Vec<String> = seq.iter().map(|x| x.0.clone()).collect();
            prop_assert_eq!(names, want_names, "cut {}", i);
            prop_assert_eq!(got.times_of(i).to_vec(), seq.iter().map(|x| x.1).collect::<Vec<_>>());
            prop_assert_eq!(got.events_of(i).to_vec(), seq.iter().map(|x| x.2).collect::<Vec<_>>());
            for (n, _, _) in seq {
                if !first_seen.contains(n) {
                    first_seen.push(n.clone());
                }
            }
        }
        // Ids are numbered in order of first appearance, one per distinct name.
        prop_assert_eq!(got.names.names().to_vec(), first_seen);
        // The database view: one single-item itemset per event, empty sequences left out.
        let db = got.to_sequence_db().unwrap();
        let non_empty: Vec<usize> = (0..got.len()).filter(|&i| !got.tokens_of(i).is_empty()).collect();
        prop_assert_eq!(db.len(), non_empty.len());
        for (j, &i) in non_empty.iter().enumerate() {
            let s = db.sequence(j);
            prop_assert_eq!(s.key(), KeyId(i as u32));
            let items: Vec<u32> = s.items().iter().map(|x| x.0).collect();
            prop_assert_eq!(items, got.tokens_of(i).to_vec());
            prop_assert_eq!(s.times().unwrap(), got.times_of(i));
        }
    }
}

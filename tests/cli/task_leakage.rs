//! The leakage rule of prediction tasks: features read only events strictly before a row's cutoff.
//! Every event at or after a cutoff is perturbed (time moved within the future, item, category and action
//! replaced at random, events added) and the features of the rows of that cutoff must stay byte-identical.
//!
//! The one module of this binary that calls the `cartseq` library rather than the built binary: it needs
//! an event log built in memory and perturbed event by event, which no command line can express.

use cartseq::behaviour::SeqTokens;
use cartseq::feature_table::FeatureTable;
use cartseq::tasks::table::{build_table, SeqOptions};
use cartseq::tasks::{Split, SplitMode, TaskKind, TaskSpec, HOUR_MS};
use cartseq_data::{
    ActionId, CategoryId, Dictionary, Event, EventLog, KeyId, ProductId, Timestamp,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const ACTIONS: [&str; 5] = ["view", "cart_add", "fav", "buy", "cart_remove"];
const T0: i64 = 1_511_568_000_000; // 2017-11-25

fn dict() -> Dictionary {
    let mut d = Dictionary::new();
    for a in ACTIONS {
        d.actions.intern(a);
    }
    for u in 0..200 {
        d.users.intern(&format!("u{u}"));
    }
    for c in 0..30 {
        d.categories.intern(&format!("c{c}"));
    }
    d
}

fn event(rng: &mut ChaCha8Rng, user: u32, t: i64, sessions: bool) -> Event {
    let item = rng.gen_range(0..300u32);
    // Skewed actions: mostly views.
    let a = match rng.gen_range(0..100) {
        0..=74 => 0,
        75..=84 => 1,
        85..=89 => 2,
        90..=96 => 3,
        _ => 4,
    };
    Event {
        user: KeyId(user),
        session: sessions.then_some(KeyId(user * 10 + (t / (6 * HOUR_MS)) as u32 % 10)),
        time: Timestamp(t),
        item: ProductId(item),
        category: Some(CategoryId(item % 30)),
        action: ActionId(a),
        quantity: Some(rng.gen_range(1..5) as f32),
        price: Some(rng.gen_range(1..100) as f32 / 4.0),
    }
}

/// Appends `n` random events of random users at random times in `[from, from + span)`.
fn push_random(
    log: &mut EventLog,
    rng: &mut ChaCha8Rng,
    n: usize,
    from: i64,
    span: i64,
    sessions: bool,
) {
    for _ in 0..n {
        let u = rng.gen_range(0..200u32);
        let t = from + rng.gen_range(0..span);
        let e = event(rng, u, t, sessions);
        log.push(&e);
    }
}

fn random_log(seed: u64, sessions: bool) -> EventLog {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut log = EventLog::new();
    push_random(&mut log, &mut rng, 6000, T0, 9 * 24 * HOUR_MS, sessions);
    log
}

/// Replaces every event with time `>= cutoff` by a random one at a random time `>= cutoff` (keeping the
/// user so the row set of past-only tasks is unchanged), and appends more future events.
fn perturb_future(log: &EventLog, cutoff: i64, seed: u64, sessions: bool) -> EventLog {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = EventLog::new();
    for i in 0..log.len() {
        let e = log.get(i);
        if e.time.0 >= cutoff {
            let t = cutoff + rng.gen_range(0..3 * 24 * HOUR_MS);
            let mut p = event(&mut rng, e.user.0, t, sessions);
            p.item = ProductId(rng.gen_range(0..400u32));
            out.push(&p);
        } else {
            out.push(&e);
        }
    }
    push_random(&mut out, &mut rng, 500, cutoff, 2 * 24 * HOUR_MS, sessions);
    out
}

fn spec(kind: TaskKind, split: SplitMode, cutoff: i64) -> TaskSpec {
    TaskSpec {
        kind,
        cutoff: Some(cutoff),
        horizon_ms: 24 * HOUR_MS,
        split,
        valid_frac: if split == SplitMode::User { 0.1 } else { 0.0 },
        test_frac: if split == SplitMode::User { 0.2 } else { 0.0 },
        train_windows: 2,
        seed: 7,
    }
}

/// The feature cells (and ids, splits, sequences) of rows in `splits`, labels dropped, as CSV bytes.
fn features_only(t: &FeatureTable, splits: &[Split]) -> Vec<u8> {
    let keep: Vec<usize> = (0..t.len())
        .filter(|&i| splits.contains(&t.split[i]))
        .collect();
    let mut sub = t.clone();
    sub.ids = keep.iter().map(|&i| t.ids[i].clone()).collect();
    sub.split = keep.iter().map(|&i| t.split[i]).collect();
    sub.label = vec![0; keep.len()];
    sub.x = t.x.select(ndarray::Axis(0), &keep);
    sub.seqs = t.seqs.as_ref().map(|s| {
        let mut tokens = Vec::new();
        let mut offsets = vec![0];
        for &i in &keep {
            tokens.extend(s.row(i).iter().copied());
            offsets.push(tokens.len());
        }
        cartseq::behaviour::TokenSeqs {
            tokens,
            offsets,
            names: s.names.clone(),
        }
    });
    let mut buf = Vec::new();
    sub.write_csv(&mut buf).unwrap();
    buf
}

fn build(log: &EventLog, s: &TaskSpec) -> FeatureTable {
    let seq = SeqOptions {
        tokens: SeqTokens::ActionCategory,
        max_len: 20,
    };
    build_table(log, &dict(), s, "user_id", Some(seq))
        .unwrap()
        .table
}

#[test]
fn post_cutoff_events_never_change_features() {
    let test_cutoff = T0 + 7 * 24 * HOUR_MS;
    let mut checked = 0;
    for (seed, sessions) in [(1u64, false), (2, true), (3, false)] {
        let log = random_log(seed, sessions);
        for kind in [TaskKind::Purchase, TaskKind::Abandon, TaskKind::Churn] {
            for split in [SplitMode::Time, SplitMode::User] {
                let s = spec(kind, split, test_cutoff);
                let before = build(&log, &s);
                // Everything after the test cutoff: every row's features are unchanged.
                let after = build(&perturb_future(&log, test_cutoff, seed + 100, sessions), &s);
                assert_eq!(
                    features_only(&before, &Split::ALL),
                    features_only(&after, &Split::ALL),
                    "{kind:?} {split:?} seed {seed}: features changed after perturbing events >= test cutoff"
                );
                if split == SplitMode::Time {
                    // Everything after the (latest) training cutoff: train rows unchanged.
                    let train_cutoff = test_cutoff - 2 * s.horizon_ms;
                    let after = build(
                        &perturb_future(&log, train_cutoff, seed + 200, sessions),
                        &s,
                    );
                    assert_eq!(
                        features_only(&before, &[Split::Train]),
                        features_only(&after, &[Split::Train]),
                        "{kind:?} seed {seed}: train features changed after perturbing events >= train cutoff"
                    );
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 18);
}

#[test]
fn labels_do_see_the_future() {
    // The converse: the perturbation is strong enough to change labels, so the test above is not vacuous.
    let test_cutoff = T0 + 7 * 24 * HOUR_MS;
    let log = random_log(5, false);
    let s = spec(TaskKind::Purchase, SplitMode::Time, test_cutoff);
    let a = build(&log, &s);
    let b = build(&perturb_future(&log, test_cutoff, 9, false), &s);
    let test: Vec<usize> = a.rows_of(Split::Test);
    assert!(
        test.iter().any(|&i| a.label[i] != b.label[i]),
        "no test label changed"
    );
}

#[test]
fn rows_and_features_are_deterministic_across_thread_counts() {
    let log = random_log(11, true);
    let s = spec(TaskKind::Purchase, SplitMode::Time, T0 + 7 * 24 * HOUR_MS);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let a = one.install(|| build(&log, &s));
    let four = rayon::ThreadPoolBuilder::new()
        .num_threads(4)
        .build()
        .unwrap();
    let b = four.install(|| build(&log, &s));
    let (mut x, mut y) = (Vec::new(), Vec::new());
    a.write_csv(&mut x).unwrap();
    b.write_csv(&mut y).unwrap();
    assert_eq!(x, y);
}

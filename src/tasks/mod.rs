//! Prediction tasks built from an [`EventLog`] with a time cutoff: which rows exist, what their label is,
//! and which split (train / valid / test) each row belongs to.
//!
//! **The leakage rule.** A row is a (user, cutoff) pair. Its features read only events *strictly before*
//! the cutoff; its label reads only events in `[cutoff, cutoff + horizon)`. Item and category statistics
//! (popularity, conversion) read only events before the *earliest training cutoff*. So no post-cutoff event
//! can change a feature — `tests/task_leakage.rs` perturbs every one of them and checks byte-identical
//! features.
//!
//! **Tasks** (horizon `H`, cutoff `c`):
//! * `purchase` — rows: users with an event before `c`; label 1 if the user buys in `[c, c+H)`.
//! * `abandon` — rows: users with an *open cart* at `c`: an item added to the cart in `[c−H, c)` and not
//!   bought by that user between the add and `c`; label 1 (abandoned) if none of the open items is bought
//!   in `[c, c+H)`.
//! * `next-action` — rows: users with an event before `c` and a view/cart/fav/buy event in `[c, c+H)`;
//!   label = the action of the first such event (0 view, 1 cart, 2 fav, 3 buy).
//! * `churn` — rows: users with an event before `c`; label 1 if the user has *no* event in `[c, c+H)`
//!   (for Online Retail every event is a purchase line, so with `--horizon 90d` this is "no repeat
//!   purchase within 90 days").
//!
//! **Splits.** `time` (default) uses rolling cutoffs one horizon apart: test rows at `c`, valid rows at
//! `c−H`, train rows at `c−2H` (and `c−3H`, … with more training windows). Every row's label window
//! `[cᵢ, cᵢ+H)` ends where the next split's begins, so no training label overlaps a validation or test
//! label window, and training rows never see the future of the test window. The same user may appear in
//! several splits (at different times): that is what a deployed model sees. `user` uses one cutoff and
//! assigns whole users to a split by a seeded hash of the user name, so no user is in two splits.
//!
//! Cost: one sort of the log by (user, time) — `O(n log n)` time, 4 bytes per event — then `O(events)`
//! per window, parallel over users.

pub mod table;

use cartseq_data::{canonical_action, Action, Dictionary, EventLog};
use rayon::prelude::*;

/// Milliseconds per hour.
pub const HOUR_MS: i64 = 3_600_000;

/// The prediction target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskKind {
    /// Will the user buy within the horizon.
    Purchase,
    /// Will the user's open cart be left without buying any of its items within the horizon.
    Abandon,
    /// Which action (view, cart, fav, buy) comes first after the cutoff.
    NextAction,
    /// Will the user have no activity within the horizon.
    Churn,
}

cartseq_data::named_enum!(TaskKind, "a task", [
    "purchase" => TaskKind::Purchase,
    "abandon" => TaskKind::Abandon,
    "next-action" => TaskKind::NextAction,
    "churn" => TaskKind::Churn,
]);

impl TaskKind {
    /// Class names, index = label.
    pub fn class_names(self) -> Vec<String> {
        let v: &[&str] = match self {
            TaskKind::Purchase => &["no_buy", "buy"],
            TaskKind::Abandon => &["bought", "abandoned"],
            TaskKind::NextAction => &["view", "cart", "fav", "buy"],
            TaskKind::Churn => &["active", "churned"],
        };
        v.iter().map(|s| (*s).to_owned()).collect()
    }
}

/// How rows are divided into train / valid / test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SplitMode {
    /// Rolling cutoffs one horizon apart (test latest).
    Time,
    /// One cutoff; users hashed into disjoint splits.
    User,
}

cartseq_data::named_enum!(SplitMode, "a split mode", ["time" => SplitMode::Time, "user" => SplitMode::User]);

/// The split a row belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Split {
    /// Fit on these.
    Train,
    /// Early stopping / tuning only.
    Valid,
    /// Final evaluation only.
    Test,
}

impl Split {
    /// All splits in file order.
    pub const ALL: [Split; 3] = [Split::Train, Split::Valid, Split::Test];
}

// The names written in the `split` column.
cartseq_data::named_enum!(Split, "a split", [
    "train" => Split::Train,
    "valid" => Split::Valid,
    "test" => Split::Test,
]);

/// The funnel role of an action, from its canonical (or a common raw) name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Product view / click.
    View,
    /// Cart add.
    Cart,
    /// Favourite / wish list.
    Fav,
    /// Purchase.
    Buy,
    /// Anything else (search, cart removal, return, custom).
    Other,
}

impl From<Action> for Role {
    fn from(a: Action) -> Role {
        match a {
            Action::View => Role::View,
            Action::CartAdd => Role::Cart,
            Action::Fav => Role::Fav,
            Action::Buy => Role::Buy,
            _ => Role::Other,
        }
    }
}

impl Role {
    /// The role of an action name: that of its canonical action ([`canonical_action`], the one table of
    /// action spellings, which the readers already applied to every name they stored), else
    /// [`Role::Other`] (a custom action such as a numeric code of a generic log).
    pub fn of_name(name: &str) -> Role {
        canonical_action(name).map_or(Role::Other, Role::from)
    }

    /// Place in the funnel: view 0, cart 1, favourite 2, buy 3, anything else 4.
    pub fn stage(self) -> usize {
        self.class().unwrap_or(4)
    }

    /// Class index for next-action (`None` for [`Role::Other`]).
    pub fn class(self) -> Option<usize> {
        match self {
            Role::View => Some(0),
            Role::Cart => Some(1),
            Role::Fav => Some(2),
            Role::Buy => Some(3),
            Role::Other => None,
        }
    }
}

/// The role of every action id of a dictionary (ids outside it are [`Role::Other`]).
pub fn roles(dict: &Dictionary) -> Vec<Role> {
    let mut r: Vec<Role> = dict
        .actions
        .names()
        .iter()
        .map(|n| Role::of_name(n))
        .collect();
    r.resize(256, Role::Other);
    r
}

/// A task request, validated by [`TaskSpec::check`].
#[derive(Clone, Debug)]
pub struct TaskSpec {
    /// The target.
    pub kind: TaskKind,
    /// Test cutoff (ms); `None` = automatic (see [`auto_cutoff`]).
    pub cutoff: Option<i64>,
    /// Horizon `H` in ms.
    pub horizon_ms: i64,
    /// Split mode.
    pub split: SplitMode,
    /// Fraction of users in valid (user split).
    pub valid_frac: f64,
    /// Fraction of users in test (user split).
    pub test_frac: f64,
    /// Number of training windows (time split): train rows at `c−2H, c−3H, …`.
    pub train_windows: usize,
    /// Seed of the user split hash.
    pub seed: u64,
}

impl TaskSpec {
    /// Checks ranges once.
    pub fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.horizon_ms > 0,
            "--horizon must be positive (e.g. 1d), found 0"
        );
        for (n, v) in [
            ("--valid-frac", self.valid_frac),
            ("--test-frac", self.test_frac),
        ] {
            anyhow::ensure!((0.0..1.0).contains(&v), "{n} must be in [0, 1), found {v}");
        }
        anyhow::ensure!(
            self.valid_frac + self.test_frac < 1.0,
            "--valid-frac + --test-frac must leave users for training, found {} + {}",
            self.valid_frac,
            self.test_frac
        );
        anyhow::ensure!(
            (1..=1000).contains(&self.train_windows),
            "--train-windows must be 1..=1000, found {}",
            self.train_windows
        );
        Ok(())
    }
}

/// One cutoff and the split its rows go to (`None` for user split: the split comes from the user).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Feature events are `< cutoff`.
    pub cutoff: i64,
    /// Label events are in `[cutoff, cutoff + horizon)`.
    pub horizon_ms: i64,
    /// Split of every row of this window (time split).
    pub split: Option<Split>,
}

/// The automatic test cutoff: the 99.9th percentile of event times (robust to a few far-future stamps,
/// as in the Taobao file) plus 1 ms, minus the horizon, floored to the hour when the horizon is at least
/// an hour — so the test label window is fully observed.
pub fn auto_cutoff(log: &EventLog, horizon_ms: i64) -> Option<i64> {
    let c = data_end(log)? - horizon_ms;
    Some(if horizon_ms >= HOUR_MS {
        c.div_euclid(HOUR_MS) * HOUR_MS
    } else {
        c
    })
}

/// Where the data ends for a label window: the 99.9th percentile of event times plus 1 ms (a few
/// far-future stamps, as in the Taobao file, do not count). `None` for an empty log.
pub fn data_end(log: &EventLog) -> Option<i64> {
    time_percentile(log, 0.999).map(|hi| hi + 1)
}

/// Where the data starts: the 0.1th percentile of event times (a few stamps years early do not count).
pub fn data_start(log: &EventLog) -> Option<i64> {
    time_percentile(log, 0.001)
}

/// The event time at fraction `q` of the sorted times: the value at 0-based rank `round((n − 1)·q)` (the
/// rounded rank, not the nearest rank of `stats`' percentiles, nor the interpolation of the bootstrap; kept
/// so automatic cutoffs stay where they were); `None` for an empty log.
fn time_percentile(log: &EventLog, q: f64) -> Option<i64> {
    if log.is_empty() {
        return None;
    }
    let mut t: Vec<i64> = log.time.iter().map(|t| t.0).collect();
    let k = ((t.len() as f64 - 1.0) * q).round() as usize;
    let (_, at, _) = t.select_nth_unstable(k);
    Some(*at)
}

/// The windows of a spec with the test cutoff resolved.
pub fn windows(spec: &TaskSpec, test_cutoff: i64) -> Vec<Window> {
    let h = spec.horizon_ms;
    match spec.split {
        SplitMode::User => vec![Window {
            cutoff: test_cutoff,
            horizon_ms: h,
            split: None,
        }],
        SplitMode::Time => {
            // File order: oldest training window first, then valid, then test.
            let mut w: Vec<Window> = (0..spec.train_windows)
                .rev()
                .map(|k| Window {
                    cutoff: test_cutoff - (2 + k as i64) * h,
                    horizon_ms: h,
                    split: Some(Split::Train),
                })
                .collect();
            w.push(Window {
                cutoff: test_cutoff - h,
                horizon_ms: h,
                split: Some(Split::Valid),
            });
            w.push(Window {
                cutoff: test_cutoff,
                horizon_ms: h,
                split: Some(Split::Test),
            });
            w
        }
    }
}

/// Events grouped by user, each user's events sorted by time (stable: ties keep input order): the
/// data crate's [`cartseq_data::KeyIndex`] by user (build it with `UserIndex::by_user(log)`), the
/// same index the windowed token sequences read.
pub type UserIndex = cartseq_data::KeyIndex;

/// One row of a task: a user at a window, with its label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    /// User key id.
    pub user: u32,
    /// Index into the task's windows.
    pub window: usize,
    /// Split.
    pub split: Split,
    /// Class label.
    pub label: usize,
}

/// The rows of a task, ordered by split (train, valid, test), then window, then user id.
pub struct TaskRows {
    /// The windows.
    pub windows: Vec<Window>,
    /// The rows.
    pub rows: Vec<Row>,
    /// Number of classes.
    pub n_classes: usize,
    /// Class names.
    pub class_names: Vec<String>,
    /// Item/category statistics read events `< stats_end` (the earliest training cutoff).
    pub stats_end: i64,
}

impl TaskRows {
    /// Each row's history as a cut of the log: its user's events before its window's cutoff, in row
    /// order (what the per-row token sequences read).
    pub fn cuts(&self) -> Vec<cartseq_data::SequenceCut> {
        self.rows
            .iter()
            .map(|r| cartseq_data::SequenceCut {
                key: cartseq_data::KeyId(r.user),
                before: Some(cartseq_data::Timestamp(self.windows[r.window].cutoff)),
            })
            .collect()
    }
}

/// A time for messages and reports (`YYYY-MM-DDTHH:MM:SSZ`).
pub fn format_time(ms: i64) -> String {
    cartseq_data::time::format_iso(ms)
}

/// A stable 64-bit hash (FNV-1a then SplitMix64 finalisation) of a user name and a seed.
fn user_hash(name: &str, seed: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// The split of a user under the user-disjoint mode.
pub fn user_split(name: &str, spec: &TaskSpec) -> Split {
    let u = (user_hash(name, spec.seed) >> 11) as f64 / (1u64 << 53) as f64;
    if u < spec.test_frac {
        Split::Test
    } else if u < spec.test_frac + spec.valid_frac {
        Split::Valid
    } else {
        Split::Train
    }
}

/// The label of user `u` at window `w`, or `None` if the user is not a row of this window.
pub fn label_of(
    log: &EventLog,
    idx: &UserIndex,
    roles: &[Role],
    kind: TaskKind,
    u: usize,
    w: &Window,
) -> Option<usize> {
    let past = idx.before(u, w.cutoff);
    if past.is_empty() {
        return None;
    }
    let future = idx.range(u, w.cutoff, w.cutoff.saturating_add(w.horizon_ms));
    let role = |p: usize| roles[log.action[idx.order[p] as usize] as usize];
    match kind {
        TaskKind::Purchase => Some(usize::from(future.clone().any(|p| role(p) == Role::Buy))),
        TaskKind::Churn => Some(usize::from(future.is_empty())),
        TaskKind::NextAction => future.clone().find_map(|p| role(p).class()),
        TaskKind::Abandon => {
            let open = open_cart_items(log, idx, roles, u, w.cutoff, w.horizon_ms);
            if open.is_empty() {
                return None;
            }
            let bought = future.clone().any(|p| {
                role(p) == Role::Buy
                    && open
                        .binary_search(&log.item[idx.order[p] as usize].0)
                        .is_ok()
            });
            Some(usize::from(!bought))
        }
    }
}

/// Items (sorted, distinct) that user `u` added to the cart in `[cutoff − lookback, cutoff)` and did not buy
/// between the add and the cutoff.
pub fn open_cart_items(
    log: &EventLog,
    idx: &UserIndex,
    roles: &[Role],
    u: usize,
    cutoff: i64,
    lookback_ms: i64,
) -> Vec<u32> {
    let past = idx.before(u, cutoff);
    let from = cutoff.saturating_sub(lookback_ms);
    // Walk backwards: an item is open if its latest cart add (in the lookback) comes after its latest buy.
    let mut bought: Vec<u32> = Vec::new();
    let mut open: Vec<u32> = Vec::new();
    for p in past.rev() {
        let e = idx.order[p] as usize;
        let item = log.item[e].0;
        match roles[log.action[e] as usize] {
            Role::Buy => bought.push(item),
            Role::Cart if idx.times[p] >= from && !bought.contains(&item) => open.push(item),
            _ => {}
        }
    }
    open.sort_unstable();
    open.dedup();
    open
}

/// Builds the rows of a task. Fails with an actionable message when a split ends up empty or the task
/// has a single class on the training rows.
pub fn build_rows(
    log: &EventLog,
    dict: &Dictionary,
    idx: &UserIndex,
    spec: &TaskSpec,
    test_cutoff: i64,
) -> anyhow::Result<TaskRows> {
    let roles = roles(dict);
    let windows = windows(spec, test_cutoff);
    let n_users = idx.n_keys();
    let mut rows: Vec<Row> = Vec::new();
    for (wi, w) in windows.iter().enumerate() {
        let part: Vec<Row> = (0..n_users)
            .into_par_iter()
            .filter_map(|u| {
                let label = label_of(log, idx, &roles, spec.kind, u, w)?;
                let split = match w.split {
                    Some(s) => s,
                    None => user_split(&dict.users.name(u as u32), spec),
                };
                Some(Row {
                    user: u as u32,
                    window: wi,
                    split,
                    label,
                })
            })
            .collect();
        rows.extend(part);
    }
    // Stable: within a split, windows then users stay in order.
    rows.sort_by_key(|r| (r.split, r.window, r.user));
    let class_names = spec.kind.class_names();
    let n_classes = class_names.len();
    let stats_end = windows
        .iter()
        .map(|w| w.cutoff)
        .min()
        .unwrap_or(test_cutoff);
    Ok(TaskRows {
        windows,
        rows,
        n_classes,
        class_names,
        stats_end,
    })
}

/// Rows and class counts per split, for the class-balance report.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Balance {
    /// `counts[split][class]`.
    pub counts: [Vec<usize>; 3],
}

impl Balance {
    /// Counts labels per split.
    pub fn of(rows: &[Row], n_classes: usize) -> Balance {
        let mut counts = [vec![0; n_classes], vec![0; n_classes], vec![0; n_classes]];
        for r in rows {
            counts[r.split as usize][r.label] += 1;
        }
        Balance { counts }
    }

    /// A short human-readable report, one line per split.
    pub fn report(&self, class_names: &[String]) -> String {
        let mut s = String::new();
        for sp in Split::ALL {
            let c = &self.counts[sp as usize];
            let n: usize = c.iter().sum();
            let parts: Vec<String> = c
                .iter()
                .zip(class_names)
                .map(|(k, name)| {
                    let pct = if n == 0 {
                        0.0
                    } else {
                        100.0 * *k as f64 / n as f64
                    };
                    format!("{name} {k} ({pct:.1}%)")
                })
                .collect();
            s.push_str(&format!(
                "  {:<5} {n:>8} rows: {}\n",
                sp.name(),
                parts.join(", ")
            ));
        }
        s
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use cartseq_data::{ActionId, Event, KeyId, ProductId, Timestamp};

    fn log_of(events: &[(u32, i64, u32, &str)]) -> (EventLog, Dictionary) {
        let mut dict = Dictionary::new();
        let mut log = EventLog::new();
        for &(u, t, item, a) in events {
            let uid = dict.users.intern(&format!("u{u}")).unwrap();
            let aid = dict.actions.intern(a).unwrap();
            log.push(&Event {
                user: KeyId(uid),
                session: None,
                time: Timestamp(t * HOUR_MS),
                item: ProductId(item),
                category: None,
                action: ActionId(aid),
                quantity: None,
                price: None,
            });
        }
        (log, dict)
    }

    #[test]
    fn roles_follow_the_one_table_of_action_spellings() {
        for (name, role) in [
            ("view", Role::View),
            ("pv", Role::View),
            ("cart_add", Role::Cart),
            ("addtocart", Role::Cart),
            ("Add_To_Cart", Role::Cart),
            ("collect", Role::Fav),
            ("buy", Role::Buy),
            ("checkout", Role::Buy),
            ("cart_remove", Role::Other),
            ("search", Role::Other),
            // A numeric code of a generic log is a custom action, as `stats` counts it.
            ("4", Role::Other),
        ] {
            assert_eq!(Role::of_name(name), role, "{name}");
        }
        for a in Action::ALL {
            assert_eq!(Role::of_name(a.name()), Role::from(a));
        }
        let stages: Vec<usize> = [Role::View, Role::Cart, Role::Fav, Role::Buy, Role::Other]
            .map(Role::stage)
            .to_vec();
        assert_eq!(stages, [0, 1, 2, 3, 4]);
    }

    fn spec(kind: TaskKind) -> TaskSpec {
        TaskSpec {
            kind,
            cutoff: None,
            horizon_ms: 10 * HOUR_MS,
            split: SplitMode::Time,
            valid_frac: 0.0,
            test_frac: 0.0,
            train_windows: 1,
            seed: 0,
        }
    }

    #[test]
    fn windows_are_rolling_and_disjoint() {
        let w = windows(&spec(TaskKind::Purchase), 100 * HOUR_MS);
        let c: Vec<i64> = w.iter().map(|w| w.cutoff / HOUR_MS).collect();
        assert_eq!(c, vec![80, 90, 100]);
        for p in w.windows(2) {
            assert!(p[0].cutoff + p[0].horizon_ms <= p[1].cutoff);
        }
    }

    #[test]
    fn labels_follow_definitions() {
        // u0: view at 1, buy at 25 (in test window [20,30) of cutoff 20).
        // u1: cart item 7 at 15, buys item 7 at 22 -> not abandoned. u2: cart 8 at 15, nothing after.
        let (log, dict) = log_of(&[
            (0, 1, 1, "view"),
            (0, 25, 1, "buy"),
            (1, 15, 7, "cart_add"),
            (1, 22, 7, "buy"),
            (2, 15, 8, "cart_add"),
            (2, 21, 9, "fav"),
            (3, 5, 1, "view"),
        ]);
        let idx = UserIndex::by_user(&log);
        let roles = roles(&dict);
        let w = Window {
            cutoff: 20 * HOUR_MS,
            horizon_ms: 10 * HOUR_MS,
            split: Some(Split::Test),
        };
        let lab = |k, u| label_of(&log, &idx, &roles, k, u, &w);
        assert_eq!(lab(TaskKind::Purchase, 0), Some(1));
        assert_eq!(lab(TaskKind::Purchase, 2), Some(0));
        assert_eq!(lab(TaskKind::Abandon, 0), None);
        assert_eq!(lab(TaskKind::Abandon, 1), Some(0));
        assert_eq!(lab(TaskKind::Abandon, 2), Some(1));
        assert_eq!(lab(TaskKind::NextAction, 2), Some(2));
        assert_eq!(lab(TaskKind::NextAction, 3), None);
        assert_eq!(lab(TaskKind::Churn, 3), Some(1));
        assert_eq!(lab(TaskKind::Churn, 0), Some(0));
    }

    #[test]
    fn user_split_is_disjoint_and_near_fractions() {
        let mut s = spec(TaskKind::Purchase);
        s.split = SplitMode::User;
        s.valid_frac = 0.1;
        s.test_frac = 0.2;
        let mut c = [0usize; 3];
        for u in 0..20_000 {
            c[user_split(&format!("user{u}"), &s) as usize] += 1;
        }
        assert!((c[2] as f64 / 20_000.0 - 0.2).abs() < 0.02, "{c:?}");
        assert!((c[1] as f64 / 20_000.0 - 0.1).abs() < 0.02, "{c:?}");
        s.seed = 1;
        let moved = (0..1000)
            .filter(|u| {
                let n = format!("user{u}");
                let mut s0 = s.clone();
                s0.seed = 0;
                user_split(&n, &s) != user_split(&n, &s0)
            })
            .count();
        assert!(moved > 100, "the seed changes the assignment");
    }
}

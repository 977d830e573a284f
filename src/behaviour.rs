//! Behaviour features of one row (a user at a cutoff), computed only from that user's events strictly
//! before the cutoff, plus item/category statistics computed only from events before the earliest
//! training cutoff. Every column has a name ([`FeatureSet::names`]); the README's models section lists
//! them with their definitions.
//!
//! Cost: `O(events before the cutoff)` per row plus a sort of the row's items and categories for the
//! distinct counts; rows run in parallel (rayon) and write into disjoint rows of the matrix, so the result
//! is identical for any thread count. Item statistics are dense arrays indexed by product/category id
//! (`O(items + categories)` memory).
//!
//! Missing values: a recency of an action the user never did, and gap features of a user with one event,
//! are `-1` (trees split on it; linear models also see the matching count being 0).

use cartseq_data::EventLog;
use ndarray::Array2;
use rayon::prelude::*;

use crate::tasks::{Role, Row, TaskRows, UserIndex, HOUR_MS};

/// Inactivity that ends a session when the log has no session ids.
pub const SESSION_GAP_MS: i64 = 30 * 60_000;

/// How many of the latest actions the `lastK_*` features look at.
pub const LAST_K: usize = 5;

/// Token used in the per-row sequences.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SeqTokens {
    /// The action name (`view`, `cart_add`, …).
    Action,
    /// `action:category` (falls back to the action when the category is unknown).
    ActionCategory,
}

impl SeqTokens {
    /// The data crate's token for these: every per-row sequence is cut by
    /// [`cartseq_data::token_sequences()`], whose `action:category` falls back to the action.
    pub fn token(self) -> cartseq_data::Token {
        match self {
            SeqTokens::Action => cartseq_data::Token::Action,
            SeqTokens::ActionCategory => cartseq_data::Token::ActionCategory,
        }
    }
}

cartseq_data::named_enum!(SeqTokens, "a sequence token", [
    "action" => SeqTokens::Action,
    "action-category" => SeqTokens::ActionCategory,
]);

/// Per-row token sequences (last `max_len` events before the cutoff), flat.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenSeqs {
    /// Token ids, rows concatenated (ids index `names`).
    pub tokens: Vec<u32>,
    /// Row starts with an end sentinel.
    pub offsets: Vec<usize>,
    /// Token names, index = id.
    pub names: Vec<String>,
}

impl TokenSeqs {
    /// Keeps only rows `keep` (ascending), in that order.
    pub fn retain_rows(&mut self, keep: &[usize]) {
        let mut tokens = Vec::new();
        let mut offsets = vec![0];
        for &i in keep {
            tokens.extend_from_slice(self.row(i));
            offsets.push(tokens.len());
        }
        self.tokens = tokens;
        self.offsets = offsets;
    }

    /// Row `i`'s tokens.
    pub fn row(&self, i: usize) -> &[u32] {
        &self.tokens[self.offsets[i]..self.offsets[i + 1]]
    }
}

/// Item and category statistics from the training window (events before `stats_end`).
pub struct ItemStats {
    item_pop: Vec<f64>,
    item_conv: Vec<f64>,
    cat_pop: Vec<f64>,
    cat_conv: Vec<f64>,
    prior_conv: f64,
}

/// Pseudo-views of the Bayesian smoothing of conversion rates towards the global rate.
const CONV_PRIOR_VIEWS: f64 = 5.0;

/// Raw counts behind [`ItemStats`]: `[events, views, buys]` per item and per category id, and the
/// views and buys of the whole window. Kept apart from the smoothed statistics so that the online
/// scorer (`crate::online_features`) can rebuild the same statistics bit for bit from stored counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatCounts {
    /// `[events, views, buys]` per product id.
    pub items: Vec<[u64; 3]>,
    /// `[events, views, buys]` per category id.
    pub cats: Vec<[u64; 3]>,
    /// Views in the window.
    pub views: u64,
    /// Buys in the window.
    pub buys: u64,
}

impl StatCounts {
    /// Counts events, views and buys per item and category over events with time `< stats_end`.
    pub fn count(log: &EventLog, roles: &[Role], stats_end: i64) -> Self {
        let n_items = log.item.iter().map(|i| i.0 as usize + 1).max().unwrap_or(0);
        let cats = log.category.as_deref();
        let n_cats = cats.map_or(0, |c| {
            c.iter()
                .filter(|c| c.0 != u32::MAX)
                .map(|c| c.0 as usize + 1)
                .max()
                .unwrap_or(0)
        });
        let mut ic = vec![[0u64; 3]; n_items]; // events, views, buys
        let mut cc = vec![[0u64; 3]; n_cats];
        let (mut views, mut buys) = (0u64, 0u64);
        for e in 0..log.len() {
            if log.time[e].0 >= stats_end {
                continue;
            }
            let r = roles[log.action[e] as usize];
            let k = [true, r == Role::View, r == Role::Buy];
            views += u64::from(k[1]);
            buys += u64::from(k[2]);
            let i = &mut ic[log.item[e].0 as usize];
            for j in 0..3 {
                i[j] += u64::from(k[j]);
            }
            if let Some(c) = cats.map(|c| c[e].0).filter(|&c| c != u32::MAX) {
                let c = &mut cc[c as usize];
                for j in 0..3 {
                    c[j] += u64::from(k[j]);
                }
            }
        }
        StatCounts {
            items: ic,
            cats: cc,
            views,
            buys,
        }
    }
}

impl ItemStats {
    /// Counts events, views and buys per item and category over events with time `< stats_end`.
    pub fn new(log: &EventLog, roles: &[Role], stats_end: i64) -> Self {
        Self::from_counts(&StatCounts::count(log, roles, stats_end))
    }

    /// The smoothed statistics of raw counts (popularity `ln(1 + events)`, conversion smoothed towards
    /// the window's rate).
    pub fn from_counts(c: &StatCounts) -> Self {
        let prior = (c.buys as f64 + 1.0) / (c.views as f64 + 1.0);
        let conv = |c: &[u64; 3]| {
            (c[2] as f64 + CONV_PRIOR_VIEWS * prior) / (c[1] as f64 + CONV_PRIOR_VIEWS)
        };
        ItemStats {
            item_pop: c.items.iter().map(|c| (c[0] as f64).ln_1p()).collect(),
            item_conv: c.items.iter().map(conv).collect(),
            cat_pop: c.cats.iter().map(|c| (c[0] as f64).ln_1p()).collect(),
            cat_conv: c.cats.iter().map(conv).collect(),
            prior_conv: prior,
        }
    }

    fn item(&self, i: u32) -> (f64, f64) {
        match self.item_pop.get(i as usize) {
            Some(&p) => (p, self.item_conv[i as usize]),
            None => (0.0, self.prior_conv),
        }
    }

    fn cat(&self, c: u32) -> (f64, f64) {
        match self.cat_pop.get(c as usize) {
            Some(&p) => (p, self.cat_conv[c as usize]),
            None => (0.0, self.prior_conv),
        }
    }
}

/// The feature columns; some appear only when the log has the data (quantities and prices).
pub struct FeatureSet {
    names: Vec<String>,
    money: bool,
}

/// Base columns, in order (see [`FeatureSet::names`]).
const BASE: &[&str] = &[
    "n_events",
    "n_view",
    "n_cart",
    "n_fav",
    "n_buy",
    "n_other",
    "share_view",
    "share_cart",
    "share_fav",
    "share_buy",
    "cart_per_view",
    "buy_per_view",
    "buy_per_cart",
    "recency_h",
    "recency_view_h",
    "recency_cart_h",
    "recency_fav_h",
    "recency_buy_h",
    "tenure_h",
    "active_days",
    "events_per_active_day",
    "n_events_last_h",
    "n_view_last_h",
    "n_cart_last_h",
    "n_buy_last_h",
    "gap_mean_h",
    "gap_max_h",
    "gap_last_h",
    "n_sessions",
    "session_len_mean",
    "last_session_len",
    "last_session_dur_s",
    "dwell_mean_s",
    "hour_last",
    "weekday_last",
    "night_share",
    "distinct_items",
    "distinct_categories",
    "n_baskets",
    "open_cart_items",
    "item_pop_mean",
    "item_conv_mean",
    "cat_pop_mean",
    "cat_conv_mean",
    "last_item_pop",
    "last_item_conv",
    "last_cat_pop",
    "last_cat_conv",
    "last1_view",
    "last1_cart",
    "last1_fav",
    "last1_buy",
    "last5_view",
    "last5_cart",
    "last5_fav",
    "last5_buy",
];

const MONEY: &[&str] = &["qty_total", "spend_total", "price_mean"];

impl FeatureSet {
    /// The columns for this log.
    pub fn for_log(log: &EventLog) -> Self {
        Self::with_money(log.quantity.is_some() && log.price.is_some())
    }

    /// The base columns, plus quantity and spend columns when `money` (what [`FeatureSet::for_log`]
    /// chooses for a log with quantities and prices).
    pub fn with_money(money: bool) -> Self {
        let mut names: Vec<String> = BASE.iter().map(|s| (*s).to_owned()).collect();
        if money {
            names.extend(MONEY.iter().map(|s| (*s).to_owned()));
        }
        FeatureSet { names, money }
    }

    /// Column names, in matrix order.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// Everything the feature extraction reads.
pub struct Extractor<'a> {
    /// The log.
    pub log: &'a EventLog,
    /// Its user index.
    pub idx: &'a UserIndex,
    /// Role per action id.
    pub roles: &'a [Role],
    /// Training-window statistics.
    pub stats: &'a ItemStats,
    /// The columns.
    pub set: &'a FeatureSet,
}

impl Extractor<'_> {
    /// The feature matrix of `rows` (one row each, parallel over rows).
    pub fn matrix(&self, task: &TaskRows) -> Array2<f64> {
        let d = self.set.names.len();
        let mut x = Array2::<f64>::zeros((task.rows.len(), d));
        x.as_slice_mut()
            .expect("a fresh matrix is contiguous")
            .par_chunks_mut(d.max(1))
            .zip(task.rows.par_iter())
            .for_each(|(out, r)| {
                let w = &task.windows[r.window];
                self.row(r, w.cutoff, w.horizon_ms, out);
            });
        x
    }

    /// Writes row `r`'s features (cutoff `c`, horizon `h`) into `out`.
    pub fn row(&self, r: &Row, c: i64, h: i64, out: &mut [f64]) {
        let log = self.log;
        let idx = self.idx;
        let u = r.user as usize;
        let past = idx.before(u, c);
        let ev = &idx.order[past.clone()];
        let times = &idx.times[past.clone()];
        let role = |e: u32| self.roles[log.action[e as usize] as usize];
        let n = ev.len() as f64;
        let hours = |ms: i64| ms as f64 / HOUR_MS as f64;

        let mut cnt = [0f64; 5]; // view cart fav buy other
        let mut last_t = [i64::MIN; 5];
        let mut cnt_last_h = [0f64; 5];
        let mut nights = 0f64;
        for (&e, &t) in ev.iter().zip(times) {
            let k = role(e).stage();
            cnt[k] += 1.0;
            last_t[k] = t;
            if t >= c - h {
                cnt_last_h[k] += 1.0;
            }
            if t.rem_euclid(86_400_000) < 6 * HOUR_MS {
                nights += 1.0;
            }
        }
        let first = times.first().copied().unwrap_or(c);
        let last = times.last().copied().unwrap_or(c);
        let rec = |t: i64| if t == i64::MIN { -1.0 } else { hours(c - t) };

        // Days, gaps, sessions.
        let mut active_days = 0f64;
        let mut prev_day = i64::MIN;
        let (mut gap_sum, mut gap_max) = (0f64, 0f64);
        let mut n_sessions = 0f64;
        let (mut dwell_sum, mut dwell_n) = (0f64, 0f64);
        let mut sess_len = 0f64;
        let mut sess_start = first;
        let sessions = log.session.as_deref();
        for (j, (&e, &t)) in ev.iter().zip(times).enumerate() {
            let day = t.div_euclid(86_400_000);
            if day != prev_day {
                active_days += 1.0;
                prev_day = day;
            }
            let new_session = if j == 0 {
                true
            } else {
                let g = t - times[j - 1];
                gap_sum += hours(g);
                gap_max = gap_max.max(hours(g));
                match sessions {
                    Some(s) => s[e as usize] != s[ev[j - 1] as usize],
                    None => g > SESSION_GAP_MS,
                }
            };
            if new_session {
                n_sessions += 1.0;
                sess_len = 0.0;
                sess_start = t;
            } else {
                dwell_sum += (t - times[j - 1]) as f64 / 1000.0;
                dwell_n += 1.0;
            }
            sess_len += 1.0;
        }
        let gaps = n - 1.0;

        // Distinct items and categories, baskets, open cart, item stats.
        let mut items: Vec<u32> = ev.iter().map(|&e| log.item[e as usize].0).collect();
        let cats = log.category.as_deref();
        let mut cat_ids: Vec<u32> = match cats {
            Some(cs) => ev
                .iter()
                .map(|&e| cs[e as usize].0)
                .filter(|&c| c != u32::MAX)
                .collect(),
            None => Vec::new(),
        };
        let (mut ipop, mut iconv, mut cpop, mut cconv) = (0f64, 0f64, 0f64, 0f64);
        for &i in &items {
            let (p, cv) = self.stats.item(i);
            ipop += p;
            iconv += cv;
        }
        for &k in &cat_ids {
            let (p, cv) = self.stats.cat(k);
            cpop += p;
            cconv += cv;
        }
        let n_cat_ev = cat_ids.len() as f64;
        let (last_item, last_cat) = match ev.last() {
            Some(&e) => (
                Some(self.stats.item(log.item[e as usize].0)),
                cats.map(|cs| cs[e as usize].0)
                    .filter(|&c| c != u32::MAX)
                    .map(|c| self.stats.cat(c)),
            ),
            None => (None, None),
        };
        items.sort_unstable();
        items.dedup();
        cat_ids.sort_unstable();
        cat_ids.dedup();
        let mut baskets = 0f64;
        let mut prev_buy = i64::MIN;
        for (&e, &t) in ev.iter().zip(times) {
            if role(e) == Role::Buy && t != prev_buy {
                baskets += 1.0;
                prev_buy = t;
            }
        }
        let open = crate::tasks::open_cart_items(log, idx, self.roles, u, c, h).len() as f64;

        // Last actions.
        let mut last1 = [0f64; 4];
        if let Some(&e) = ev.last() {
            let k = role(e).stage();
            if k < 4 {
                last1[k] = 1.0;
            }
        }
        let mut last5 = [0f64; 4];
        for &e in ev.iter().rev().take(LAST_K) {
            let k = role(e).stage();
            if k < 4 {
                last5[k] += 1.0;
            }
        }

        let div = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        let mean = |s: f64, k: f64| if k > 0.0 { s / k } else { -1.0 };
        let v: [f64; 56] = [
            n,
            cnt[0],
            cnt[1],
            cnt[2],
            cnt[3],
            cnt[4],
            div(cnt[0], n),
            div(cnt[1], n),
            div(cnt[2], n),
            div(cnt[3], n),
            div(cnt[1], cnt[0]),
            div(cnt[3], cnt[0]),
            div(cnt[3], cnt[1]),
            hours(c - last),
            rec(last_t[0]),
            rec(last_t[1]),
            rec(last_t[2]),
            rec(last_t[3]),
            hours(c - first),
            active_days,
            div(n, active_days),
            cnt_last_h.iter().sum(),
            cnt_last_h[0],
            cnt_last_h[1],
            cnt_last_h[3],
            mean(gap_sum, gaps),
            if gaps > 0.0 { gap_max } else { -1.0 },
            if gaps > 0.0 {
                hours(last - times[times.len() - 2])
            } else {
                -1.0
            },
            n_sessions,
            div(n, n_sessions),
            sess_len,
            (last - sess_start) as f64 / 1000.0,
            mean(dwell_sum, dwell_n),
            (last.rem_euclid(86_400_000) / HOUR_MS) as f64,
            // 1970-01-01 was a Thursday: Monday = 0.
            ((last.div_euclid(86_400_000) + 3).rem_euclid(7)) as f64,
            div(nights, n),
            items.len() as f64,
            cat_ids.len() as f64,
            baskets,
            open,
            div(ipop, n),
            div(iconv, n),
            div(cpop, n_cat_ev),
            div(cconv, n_cat_ev),
            last_item.map_or(0.0, |s| s.0),
            last_item.map_or(0.0, |s| s.1),
            last_cat.map_or(0.0, |s| s.0),
            last_cat.map_or(0.0, |s| s.1),
            last1[0],
            last1[1],
            last1[2],
            last1[3],
            last5[0],
            last5[1],
            last5[2],
            last5[3],
        ];
        out[..v.len()].copy_from_slice(&v);
        if self.set.money {
            let (q, p) = (
                log.quantity.as_deref().unwrap_or(&[]),
                log.price.as_deref().unwrap_or(&[]),
            );
            let (mut qty, mut spend, mut psum, mut pn) = (0f64, 0f64, 0f64, 0f64);
            for &e in ev {
                let (qe, pe) = (f64::from(q[e as usize]), f64::from(p[e as usize]));
                if !qe.is_nan() {
                    qty += qe;
                }
                if !qe.is_nan() && !pe.is_nan() {
                    spend += qe * pe;
                }
                if !pe.is_nan() {
                    psum += pe;
                    pn += 1.0;
                }
            }
            out[v.len()] = qty;
            out[v.len() + 1] = spend;
            out[v.len() + 2] = div(psum, pn);
        }
    }

    /// Token sequences of `rows`: the last `max_len` events before each row's cutoff (cut by
    /// [`cartseq_data::token_sequences()`]), token names made safe for the `seq` column.
    pub fn sequences(
        &self,
        task: &TaskRows,
        tokens: SeqTokens,
        max_len: usize,
        dict: &cartseq_data::Dictionary,
    ) -> Result<TokenSeqs, cartseq_data::DataError> {
        let window = cartseq_data::TokenWindow {
            token: tokens.token(),
            max_len: Some(max_len),
        };
        let s = cartseq_data::token_sequences(self.log, dict, self.idx, &task.cuts(), &window)?;
        Ok(TokenSeqs {
            tokens: s.tokens,
            offsets: s.offsets,
            names: s.names.names().iter().map(|n| token_safe(n)).collect(),
        })
    }
}

/// A token name without whitespace or commas (they separate tokens in the `seq` column).
pub fn token_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_whitespace() || c == ',' || c == '"' {
                '_'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_match_values() {
        assert_eq!(BASE.len(), 56);
        let mut s: Vec<&str> = BASE.to_vec();
        s.sort_unstable();
        s.dedup();
        assert_eq!(s.len(), BASE.len(), "column names are unique");
    }

    #[test]
    fn tokens_are_safe() {
        assert_eq!(token_safe("view:Home Decor, big"), "view:Home_Decor__big");
    }
}

//! What `cartseq stats` reports about a log and the sequences built from it, computed once here so
//! the HTML report shows the same counts and the same action funnel:
//! * events, distinct users, sessions, items, categories and actions, the time range, events per action;
//! * the action funnel over distinct (user, item) pairs: pairs viewed, added to the cart, bought, the
//!   conversion rates view → cart, cart → buy and view → buy (share of the earlier stage's pairs that
//!   also reached the later stage), and cart adds never bought;
//! * sequences, itemsets, tokens; the distributions of sequence length (itemsets per sequence), events
//!   per sequence and itemset size, each with min, percentiles (nearest rank), max and mean;
//! * the top items by events (with views, cart adds and buys), or for SPMF/basket input the top tokens
//!   by occurrences and by sequences containing them;
//! * the sequence database's memory (bytes per event).
//!
//! The funnel stages are the canonical action names the presets write (`view`, `cart_add`, `buy`).
//! Cost: one pass over the events plus one hash entry per distinct (user, item) pair with a funnel
//! action; one pass over the sequence database.

use cartseq_data::time::format_iso;
use cartseq_data::{Action, Dictionary, EventLog, SequenceDb};
use hashbrown::HashMap;
use serde::Serialize;

use crate::input::InputSpec;

/// Summary of a distribution: nearest-rank percentiles.
#[derive(Debug, Serialize, PartialEq)]
pub struct Distribution {
    /// Smallest value.
    pub min: u64,
    /// 25th percentile.
    pub p25: u64,
    /// Median.
    pub p50: u64,
    /// 75th percentile.
    pub p75: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Largest value.
    pub max: u64,
    /// Mean.
    pub mean: f64,
}

impl Distribution {
    /// Nearest-rank percentiles of `values` (sorted here); all zero when empty.
    pub fn of(mut values: Vec<u64>) -> Distribution {
        values.sort_unstable();
        let n = values.len();
        let at = |p: u64| -> u64 {
            if n == 0 {
                return 0;
            }
            // Nearest rank: the smallest value with at least p% of values at or below it.
            let rank = (p as usize * n).div_ceil(100).max(1);
            values[rank - 1]
        };
        let sum: u64 = values.iter().sum();
        Distribution {
            min: values.first().copied().unwrap_or(0),
            p25: at(25),
            p50: at(50),
            p75: at(75),
            p90: at(90),
            p99: at(99),
            max: values.last().copied().unwrap_or(0),
            mean: if n == 0 { 0.0 } else { sum as f64 / n as f64 },
        }
    }
}

/// Events per action.
#[derive(Debug, Serialize)]
pub struct ActionCount {
    /// Action name.
    pub action: String,
    /// Events.
    pub events: u64,
}

/// The view → cart → buy funnel over distinct (user, item) pairs.
#[derive(Debug, Serialize)]
pub struct Funnel {
    /// View events.
    pub view_events: u64,
    /// Cart-add events.
    pub cart_add_events: u64,
    /// Buy events.
    pub buy_events: u64,
    /// Distinct (user, item) pairs viewed.
    pub viewed_pairs: u64,
    /// Distinct pairs added to the cart.
    pub carted_pairs: u64,
    /// Distinct pairs bought.
    pub bought_pairs: u64,
    /// Share of viewed pairs that were also added to the cart.
    pub view_to_cart: Option<f64>,
    /// Share of carted pairs that were also bought.
    pub cart_to_buy: Option<f64>,
    /// Share of viewed pairs that were also bought.
    pub view_to_buy: Option<f64>,
    /// Pairs added to the cart but never bought.
    pub carted_never_bought: u64,
    /// Users with at least one view, cart add, buy.
    pub users_viewing: u64,
    /// Users with at least one cart add.
    pub users_carting: u64,
    /// Users with at least one buy.
    pub users_buying: u64,
}

impl Funnel {
    /// Share of carted pairs never bought (`None` without cart adds).
    pub fn carted_never_bought_share(&self) -> Option<f64> {
        rate(self.carted_never_bought, self.carted_pairs)
    }
}

/// One row of the top-items table.
#[derive(Debug, Serialize)]
pub struct TopItem {
    /// Item (or token) name.
    pub item: String,
    /// Events (occurrences).
    pub events: u64,
    /// Views (event logs only).
    pub views: Option<u64>,
    /// Cart adds (event logs only).
    pub cart_adds: Option<u64>,
    /// Buys (event logs only).
    pub buys: Option<u64>,
    /// Sequences containing it (sequence input only).
    pub sequences: Option<u64>,
}

/// Statistics of the event log.
#[derive(Debug, Serialize)]
pub struct EventStats {
    /// Events read.
    pub events: u64,
    /// Distinct users with events.
    pub users: u64,
    /// Distinct sessions, when the log has sessions.
    pub sessions: Option<u64>,
    /// Distinct items.
    pub items: u64,
    /// Distinct categories, when the log has categories.
    pub categories: Option<u64>,
    /// Distinct actions.
    pub actions: u64,
    /// Earliest event (UTC).
    pub first_time: String,
    /// Latest event (UTC).
    pub last_time: String,
    /// When a few far-off stamps stretch the time range: where the bulk of the events is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_outliers: Option<TimeOutliers>,
    /// Events per action, in funnel order (view, search, cart_add, …, buy, return; custom actions last).
    pub per_action: Vec<ActionCount>,
    /// The funnel.
    pub funnel: Funnel,
}

/// The range holding all but at most 0.1% of the events, when a few stamps far outside it stretch the
/// full range (a hint for `--from`/`--to`).
#[derive(Debug, Serialize)]
pub struct TimeOutliers {
    /// Start of the core range (UTC).
    pub core_from: String,
    /// End of the core range (UTC).
    pub core_to: String,
    /// Events outside it.
    pub outside: u64,
}

/// Statistics of the sequence database.
#[derive(Debug, Serialize)]
pub struct SequenceStats {
    /// Sequences.
    pub sequences: u64,
    /// Itemsets.
    pub itemsets: u64,
    /// Tokens (events kept in sequences).
    pub events: u64,
    /// Distinct tokens.
    pub distinct_tokens: u64,
    /// Itemsets per sequence.
    pub length: Distribution,
    /// Events per sequence.
    pub events_per_sequence: Distribution,
    /// Items per itemset.
    pub itemset_size: Distribution,
    /// Heap bytes of the sequence database.
    pub db_bytes: u64,
    /// Heap bytes per event.
    pub db_bytes_per_event: f64,
}

/// Everything `stats` reports.
#[derive(Debug, Serialize)]
pub struct Stats {
    /// Input path.
    pub input: String,
    /// Preset used.
    pub preset: String,
    /// Event statistics (event presets only).
    pub log: Option<EventStats>,
    /// Sequence statistics.
    pub sequences: SequenceStats,
    /// Top items (or tokens).
    pub top_items: Vec<TopItem>,
    /// Skipped rows per reason.
    pub skipped: std::collections::BTreeMap<String, u64>,
}

fn distinct(ids: impl Iterator<Item = u32>, bound_hint: usize) -> u64 {
    let mut seen = vec![false; bound_hint];
    let mut n = 0;
    for i in ids {
        let i = i as usize;
        if i >= seen.len() {
            seen.resize(i + 1, false);
        }
        if !seen[i] {
            seen[i] = true;
            n += 1;
        }
    }
    n
}

/// `num / den`, or `None` when `den` is 0 (a rate of nothing is undefined, not 0).
pub fn rate(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// The event statistics (counts, time range, events per action, the funnel) and the `top` items by
/// events, in one pass over the log.
pub fn event_stats(log: &EventLog, dict: &Dictionary, top: usize) -> (EventStats, Vec<TopItem>) {
    let n = log.len();
    let action_id = |name: &str| dict.actions.get(name).and_then(|i| u8::try_from(i).ok());
    let (view, cart, buy) = (action_id("view"), action_id("cart_add"), action_id("buy"));
    let mut per_action = vec![0u64; dict.actions.len().max(1)];
    let mut pair_bits: HashMap<(u32, u32), u8> = HashMap::new();
    let mut user_bits = vec![0u8; dict.users.len()];
    let mut per_item = vec![[0u64; 4]; dict.products.len()];
    let (mut tmin, mut tmax) = (i64::MAX, i64::MIN);
    for i in 0..n {
        let a = log.action[i];
        if let Some(c) = per_action.get_mut(a as usize) {
            *c += 1;
        }
        let t = log.time[i].0;
        tmin = tmin.min(t);
        tmax = tmax.max(t);
        let item = log.item[i].index();
        let bit = if Some(a) == view {
            1
        } else if Some(a) == cart {
            2
        } else if Some(a) == buy {
            4
        } else {
            0
        };
        if let Some(c) = per_item.get_mut(item) {
            c[0] += 1;
            match bit {
                1 => c[1] += 1,
                2 => c[2] += 1,
                4 => c[3] += 1,
                _ => {}
            }
        }
        if bit != 0 {
            *pair_bits.entry((log.user[i].0, log.item[i].0)).or_insert(0) |= bit;
            if let Some(u) = user_bits.get_mut(log.user[i].index()) {
                *u |= bit;
            }
        }
    }
    let count = |f: &dyn Fn(u8) -> bool| pair_bits.values().filter(|b| f(**b)).count() as u64;
    let viewed = count(&|b| b & 1 != 0);
    let carted = count(&|b| b & 2 != 0);
    let bought = count(&|b| b & 4 != 0);
    let ucount = |bit: u8| user_bits.iter().filter(|b| **b & bit != 0).count() as u64;
    let funnel = Funnel {
        view_events: view.map_or(0, |a| per_action[a as usize]),
        cart_add_events: cart.map_or(0, |a| per_action[a as usize]),
        buy_events: buy.map_or(0, |a| per_action[a as usize]),
        viewed_pairs: viewed,
        carted_pairs: carted,
        bought_pairs: bought,
        view_to_cart: rate(count(&|b| b & 3 == 3), viewed),
        cart_to_buy: rate(count(&|b| b & 6 == 6), carted),
        view_to_buy: rate(count(&|b| b & 5 == 5), viewed),
        carted_never_bought: count(&|b| b & 6 == 2),
        users_viewing: ucount(1),
        users_carting: ucount(2),
        users_buying: ucount(4),
    };
    let mut order: Vec<usize> = (0..per_item.len())
        .filter(|&i| per_item[i][0] > 0)
        .collect();
    order.sort_by(|&a, &b| {
        per_item[b][0].cmp(&per_item[a][0]).then_with(|| {
            dict.products
                .name(a as u32)
                .cmp(&dict.products.name(b as u32))
        })
    });
    let top_items = order
        .into_iter()
        .take(top)
        .map(|i| TopItem {
            item: dict.products.name(i as u32).into_owned(),
            events: per_item[i][0],
            views: Some(per_item[i][1]),
            cart_adds: Some(per_item[i][2]),
            buys: Some(per_item[i][3]),
            sequences: None,
        })
        .collect();
    let stats = EventStats {
        events: n as u64,
        users: distinct(log.user.iter().map(|k| k.0), dict.users.len()),
        sessions: log
            .session
            .as_ref()
            .map(|s| distinct(s.iter().map(|k| k.0), dict.sessions.len())),
        items: distinct(log.item.iter().map(|k| k.0), dict.products.len()),
        categories: log.category.as_ref().map(|c| {
            distinct(
                c.iter().filter(|k| k.0 != u32::MAX).map(|k| k.0),
                dict.categories.len(),
            )
        }),
        actions: per_action.iter().filter(|c| **c > 0).count() as u64,
        first_time: if n > 0 {
            format_iso(tmin)
        } else {
            String::new()
        },
        last_time: if n > 0 {
            format_iso(tmax)
        } else {
            String::new()
        },
        time_outliers: time_outliers(log, tmin, tmax),
        per_action: actions_in_funnel_order(&per_action, dict),
        funnel,
    };
    (stats, top_items)
}

/// The actions with events, in funnel order (view, search, cart_add, cart_remove, cart_modify, fav,
/// buy, return), then custom actions in order of first appearance.
fn actions_in_funnel_order(per_action: &[u64], dict: &Dictionary) -> Vec<ActionCount> {
    let mut v: Vec<(usize, ActionCount)> = per_action
        .iter()
        .enumerate()
        .filter(|(_, c)| **c > 0)
        .map(|(a, c)| {
            let action = dict.actions.name(a as u32).into_owned();
            let rank = Action::ALL
                .iter()
                .position(|x| x.name() == action)
                .unwrap_or(Action::ALL.len() + a);
            (rank, ActionCount { action, events: *c })
        })
        .collect();
    v.sort_by_key(|(rank, _)| *rank);
    v.into_iter().map(|(_, c)| c).collect()
}

/// Share of events, at each end, that may lie outside [`TimeOutliers`]' core range.
const OUTLIER_TAIL: f64 = 0.0005;

/// When a few stamps far from the rest stretch the time range (the Taobao file has a handful in
/// September for data from late November), the range where 99.9% of the events are and how many lie
/// outside it; `None` when the range is not stretched (the core covers more than half of it).
/// Found with a 1,024-bin histogram over the range (one pass, no copy of the stamps), so the core's
/// ends are rounded out to whole bins.
fn time_outliers(log: &EventLog, tmin: i64, tmax: i64) -> Option<TimeOutliers> {
    const BINS: usize = 1024;
    let n = log.len();
    if n == 0 || tmax <= tmin {
        return None;
    }
    let width = (tmax - tmin) as f64 / BINS as f64;
    let bin = |t: i64| (((t - tmin) as f64 / width) as usize).min(BINS - 1);
    let mut hist = vec![0u64; BINS];
    for t in &log.time {
        hist[bin(t.0)] += 1;
    }
    let tail = (OUTLIER_TAIL * n as f64).floor() as u64;
    let (mut lo, mut below) = (0, 0u64);
    while lo < BINS - 1 && below + hist[lo] <= tail {
        below += hist[lo];
        lo += 1;
    }
    let (mut hi, mut above) = (BINS - 1, 0u64);
    while hi > lo && above + hist[hi] <= tail {
        above += hist[hi];
        hi -= 1;
    }
    let outside = below + above;
    if outside == 0 || (hi + 1 - lo) * 2 > BINS {
        return None;
    }
    let from = tmin + (lo as f64 * width) as i64;
    let to = tmin + ((hi + 1) as f64 * width).ceil() as i64;
    Some(TimeOutliers {
        core_from: format_iso(from),
        core_to: format_iso(to.min(tmax)),
        outside,
    })
}

/// Sizes and length distributions of a sequence database.
pub fn sequence_stats(db: &SequenceDb) -> SequenceStats {
    let mut length = Vec::with_capacity(db.len());
    let mut events = Vec::with_capacity(db.len());
    for s in db.iter() {
        length.push(s.len() as u64);
        events.push(s.items().len() as u64);
    }
    let sizes: Vec<u64> = db
        .itemset_starts()
        .windows(2)
        .map(|w| u64::from(w[1] - w[0]))
        .collect();
    let bytes = db.heap_bytes() as u64;
    SequenceStats {
        sequences: db.len() as u64,
        itemsets: db.num_itemsets() as u64,
        events: db.num_items() as u64,
        distinct_tokens: db.distinct_items() as u64,
        length: Distribution::of(length),
        events_per_sequence: Distribution::of(events),
        itemset_size: Distribution::of(sizes),
        db_bytes: bytes,
        db_bytes_per_event: if db.num_items() == 0 {
            0.0
        } else {
            bytes as f64 / db.num_items() as f64
        },
    }
}

/// The `top` tokens of a sequence database by occurrences (ties by token id), with the number of
/// sequences containing each.
pub fn top_tokens(db: &SequenceDb, dict: &Dictionary, top: usize) -> Vec<TopItem> {
    let mut occ: HashMap<u32, (u64, u64, u32)> = HashMap::new();
    for s in db.iter() {
        let seq = s.index() as u32;
        for it in s.items() {
            let e = occ.entry(it.0).or_insert((0, 0, u32::MAX));
            e.0 += 1;
            if e.2 != seq {
                e.1 += 1;
                e.2 = seq;
            }
        }
    }
    let mut v: Vec<(u32, u64, u64)> = occ.into_iter().map(|(k, (o, s, _))| (k, o, s)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.into_iter()
        .take(top)
        .map(|(k, o, s)| TopItem {
            item: dict.tokens.name(k).into_owned(),
            events: o,
            views: None,
            cart_adds: None,
            buys: None,
            sequences: Some(s),
        })
        .collect()
}

/// Loads `input` and computes all its statistics, with the `top` items (or tokens).
pub fn compute(input: &InputSpec, top: usize, quiet: bool) -> anyhow::Result<Stats> {
    let (log, loaded) = input.load_all(quiet)?;
    let (log_stats, top_items) = match &log {
        Some(l) => {
            let (s, t) = event_stats(l, &loaded.dict, top);
            (Some(s), t)
        }
        None => (None, top_tokens(&loaded.db, &loaded.dict, top)),
    };
    Ok(Stats {
        input: loaded.path.display().to_string(),
        preset: input.preset().to_string(),
        log: log_stats,
        sequences: sequence_stats(&loaded.db),
        top_items,
        skipped: loaded
            .skipped
            .reasons
            .iter()
            .map(|(k, v)| (k.clone(), v.0))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let d = Distribution::of((1..=100).collect());
        assert_eq!(
            (d.min, d.p25, d.p50, d.p90, d.p99, d.max),
            (1, 25, 50, 90, 99, 100)
        );
        let d = Distribution::of(vec![5]);
        assert_eq!((d.p25, d.p99), (5, 5));
        assert_eq!(Distribution::of(vec![]).max, 0);
        let d = Distribution::of(vec![3, 1, 2, 4]);
        assert_eq!((d.p25, d.p50, d.p75), (1, 2, 3));
    }
}

//! `cartseq stats INPUT --preset P [sequence options] [--json] [--top N]`
//!
//! Describes a log and the sequences built from it (computed by `cartseq::stats`):
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
//! Memory: the event log and the sequence database (as `convert`), plus one hash entry per distinct
//! (user, item) pair for the funnel. `--json` prints one JSON object instead of the text report.

use std::io::Write;

use cartseq::stats::{self, Distribution, Stats};

use crate::cli::args::input::InputArgs;
use crate::cli::Global;

/// Arguments of `stats`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input, format and sequence options.
    #[command(flatten)]
    pub input: InputArgs,
    /// Print one JSON object instead of the text report.
    #[arg(long)]
    pub json: bool,
    /// How many top items to list.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
}

/// Runs `stats`.
pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let stats = stats::compute(&args.input.spec()?, args.top, global.quiet)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if args.json {
        serde_json::to_writer_pretty(&mut out, &stats)?;
        writeln!(out)?;
    } else {
        write_text(&mut out, &stats)?;
    }
    out.flush()?;
    Ok(())
}

fn pct(r: Option<f64>) -> String {
    r.map_or("n/a".into(), |r| format!("{:.2}%", r * 100.0))
}

fn dist_line(name: &str, d: &Distribution) -> String {
    format!(
        "  {name:<22} min {}  p25 {}  p50 {}  p75 {}  p90 {}  p99 {}  max {}  mean {:.2}",
        d.min, d.p25, d.p50, d.p75, d.p90, d.p99, d.max, d.mean
    )
}

/// `1 buy`, `2 buys`.
fn plural(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn write_text<W: Write>(w: &mut W, s: &Stats) -> std::io::Result<()> {
    writeln!(w, "input: {} (preset {})", s.input, s.preset)?;
    if let Some(l) = &s.log {
        writeln!(w, "events: {}", l.events)?;
        writeln!(w, "users: {}", l.users)?;
        if let Some(x) = l.sessions {
            writeln!(w, "sessions: {x}")?;
        }
        writeln!(w, "items: {}", l.items)?;
        if let Some(x) = l.categories {
            writeln!(w, "categories: {x}")?;
        }
        writeln!(w, "actions: {}", l.actions)?;
        writeln!(w, "time range: {} .. {}", l.first_time, l.last_time)?;
        if let Some(o) = &l.time_outliers {
            writeln!(
                w,
                "  ({} outside {} .. {}, where 99.9% of the events are: --from/--to drop them)",
                plural(o.outside, "event"),
                o.core_from,
                o.core_to
            )?;
        }
        writeln!(w, "events per action:")?;
        for a in &l.per_action {
            writeln!(
                w,
                "  {:<12} {:>10}  {:>6.2}%",
                a.action,
                a.events,
                a.events as f64 * 100.0 / l.events.max(1) as f64
            )?;
        }
        let f = &l.funnel;
        writeln!(w, "funnel (distinct user-item pairs):")?;
        writeln!(
            w,
            "  viewed               {:>10}  ({} events, {} users)",
            f.viewed_pairs, f.view_events, f.users_viewing
        )?;
        writeln!(
            w,
            "  added to cart        {:>10}  ({} events, {} users)  view→cart {}",
            f.carted_pairs,
            f.cart_add_events,
            f.users_carting,
            pct(f.view_to_cart)
        )?;
        writeln!(
            w,
            "  bought               {:>10}  ({} events, {} users)  cart→buy {}  view→buy {}",
            f.bought_pairs,
            f.buy_events,
            f.users_buying,
            pct(f.cart_to_buy),
            pct(f.view_to_buy)
        )?;
        writeln!(
            w,
            "  carted, never bought {:>10}  ({} of carted pairs)",
            f.carted_never_bought,
            pct(f.carted_never_bought_share())
        )?;
    }
    let q = &s.sequences;
    writeln!(w, "sequences: {}", q.sequences)?;
    writeln!(w, "itemsets: {}", q.itemsets)?;
    writeln!(w, "events in sequences: {}", q.events)?;
    writeln!(w, "distinct tokens: {}", q.distinct_tokens)?;
    writeln!(w, "distributions:")?;
    writeln!(w, "{}", dist_line("itemsets per sequence", &q.length))?;
    writeln!(
        w,
        "{}",
        dist_line("events per sequence", &q.events_per_sequence)
    )?;
    writeln!(w, "{}", dist_line("itemset size", &q.itemset_size))?;
    writeln!(w, "top items:")?;
    for (k, t) in s.top_items.iter().enumerate() {
        let mut line = format!("  {:>3}. {:<24} {:>8} events", k + 1, t.item, t.events);
        if let (Some(v), Some(c), Some(b)) = (t.views, t.cart_adds, t.buys) {
            line.push_str(&format!(
                "  {}  {}  {}",
                plural(v, "view"),
                plural(c, "cart add"),
                plural(b, "buy")
            ));
        }
        if let Some(x) = t.sequences {
            line.push_str(&format!("  in {}", plural(x, "sequence")));
        }
        writeln!(w, "{line}")?;
    }
    writeln!(
        w,
        "sequence database: {} bytes ({:.2} bytes/event)",
        q.db_bytes, q.db_bytes_per_event
    )?;
    if !s.skipped.is_empty() {
        writeln!(w, "skipped rows:")?;
        for (reason, n) in &s.skipped {
            writeln!(w, "  {n} × {reason}")?;
        }
    }
    Ok(())
}

//! "What comes next" after a token sequence: the one query behind `cartseq next` and `GET /v1/next` of
//! `cartseq serve` — resolve the `--after` tokens, run [`follow_ups`] over the sequences, filter by
//! count, sort, cut to the top rows, and (for an `action:item` query) the other actions on the same
//! item.
//!
//! The server answers from sequences it loads and indexes once, at start-up and on reload
//! ([`NextSource::load`]); a query is then one pass over the held sequences, exactly as the command
//! makes it, so the two give the same rows.

use std::path::Path;

use cartseq_data::{Dictionary, SequenceDb};
use cartseq_mining::rules::next::{follow_ups, FollowUp, FollowUps, Within};

use crate::export::resolve_token_in;
use crate::input::{InputSpec, Loaded};

/// Sort key of follow-ups (descending).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum NextSort {
    /// Sequences in which the token follows.
    #[default]
    Count,
    /// Share of matching sequences.
    Confidence,
    /// Confidence over the token's base rate.
    Lift,
}

cartseq_data::named_enum!(NextSort, "a sort key", [
    "count" => NextSort::Count,
    "confidence" => NextSort::Confidence,
    "lift" => NextSort::Lift,
]);

/// A query: the tokens, how far to look, and which rows to keep.
#[derive(Clone, Debug)]
pub struct NextQuery {
    /// Token names, in order.
    pub after: Vec<String>,
    /// How far after the last token to look.
    pub within: Within,
    /// Rows seen in fewer sequences are dropped.
    pub min_count: u32,
    /// Sort key.
    pub sort: NextSort,
    /// Rows kept; 0 = all.
    pub top: usize,
}

/// The answer: the follow-ups (sorted, cut) and the same-item conversions of an `action:item` query.
#[derive(Clone, Debug)]
pub struct NextAnswer {
    /// Sequences, matches and the kept rows.
    pub follow: FollowUps,
    /// `(token, count, confidence)` of every other action on the query's last item.
    pub conversions: Vec<(String, u32, f64)>,
}

/// Parses `--within`: a plain integer is a number of itemsets, anything else a duration (ms).
pub fn parse_within(s: Option<&str>) -> anyhow::Result<Within> {
    let Some(s) = s else {
        return Ok(Within::Anywhere);
    };
    let t = s.trim();
    if let Ok(n) = t.parse::<usize>() {
        if n == 0 {
            anyhow::bail!("--within 0 leaves no room for a follow-up");
        }
        return Ok(Within::Steps(n));
    }
    let ms = cartseq_data::time::parse_duration(t)
        .map_err(|e| anyhow::anyhow!("--within {s:?}: expected a number of itemsets or {e}"))?;
    Ok(Within::Duration(ms))
}

/// Answers `q` on loaded sequences (an unknown token is an error naming it and the input).
pub fn answer(loaded: &Loaded, q: &NextQuery) -> anyhow::Result<NextAnswer> {
    answer_in(&loaded.db, &loaded.dict, &loaded.path, q)
}

/// Answers `q` on sequences `db` named by `dict`; `source` names the input in the error for an
/// unknown token. The one implementation of the query: the command and the server reach it through
/// [`answer`], the Python wheel's `next_after` (which holds its sequences without a [`Loaded`]) calls
/// it directly, so all three sort and cut the rows the same way.
pub fn answer_in(
    db: &SequenceDb,
    dict: &Dictionary,
    source: &Path,
    q: &NextQuery,
) -> anyhow::Result<NextAnswer> {
    let after = q
        .after
        .iter()
        .map(|t| resolve_token_in(dict, db, t, source))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut f = follow_ups(db, &after, q.within)?;
    f.rows.retain(|r| r.count >= q.min_count);
    sort_rows(&mut f.rows, q.sort);
    let conversions = same_item_conversions(&q.after, &f, dict);
    if q.top > 0 {
        f.rows.truncate(q.top);
    }
    Ok(NextAnswer {
        follow: f,
        conversions,
    })
}

fn sort_rows(rows: &mut [FollowUp], key: NextSort) {
    rows.sort_by(|a, b| {
        let k = match key {
            NextSort::Count => b.count.cmp(&a.count).then(b.lift.total_cmp(&a.lift)),
            NextSort::Confidence => b
                .confidence
                .total_cmp(&a.confidence)
                .then(b.lift.total_cmp(&a.lift)),
            NextSort::Lift => b.lift.total_cmp(&a.lift).then(b.count.cmp(&a.count)),
        };
        k.then(a.item.cmp(&b.item))
    });
}

/// For a last query token `action:item`, the other actions on the same item among the follow-ups:
/// (token, count, confidence), in follow-up order.
fn same_item_conversions(
    after: &[String],
    f: &FollowUps,
    dict: &Dictionary,
) -> Vec<(String, u32, f64)> {
    let Some((action, item)) = after.last().and_then(|t| t.split_once(':')) else {
        return Vec::new();
    };
    let mut out: Vec<(String, u32, f64)> = f
        .rows
        .iter()
        .filter_map(|r| {
            let name = dict.tokens.name(r.item.0);
            let (a, i) = name.split_once(':')?;
            (i == item && a != action).then(|| (name.to_string(), r.count, r.confidence))
        })
        .collect();
    // The question merchandisers ask first: how many buy it? Say so even when nobody does.
    let buy = format!("buy:{item}");
    if action != "buy" && !out.iter().any(|(t, _, _)| *t == buy) {
        out.push((buy, 0, 0.0));
    }
    out
}

/// Where the server's `/v1/next` sequences come from: the input options of `cartseq next`.
#[derive(Clone, Debug)]
pub struct NextSource {
    /// The input, its format and sequence options.
    pub input: InputSpec,
}

/// Sequences held for `/v1/next`.
pub struct NextIndex {
    /// The sequences and their names.
    pub loaded: Loaded,
}

impl NextSource {
    /// Reads and builds the sequences (quietly).
    pub fn load(&self) -> anyhow::Result<NextIndex> {
        Ok(NextIndex {
            loaded: self.input.load_sequences(true)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cartseq_data::sequence_db::from_nested;

    /// Five sequences; after `1`: `9` and `10` follow in two of the three matching sequences and
    /// occur nowhere else (equal count, confidence and lift), `3` follows in two but occurs in four
    /// (same confidence, lower lift), `5` follows in one.
    fn ties() -> SequenceDb {
        from_nested(&[
            vec![vec![1], vec![9], vec![10], vec![3]],
            vec![vec![1], vec![9], vec![10], vec![3]],
            vec![vec![1], vec![5]],
            vec![vec![5], vec![3]],
            vec![vec![5], vec![3]],
        ])
    }

    fn tokens(q: &NextQuery) -> Vec<String> {
        let dict = Dictionary::numeric_tokens();
        let a = answer_in(&ties(), &dict, Path::new("ties.txt"), q).unwrap();
        a.follow
            .rows
            .iter()
            .map(|r| dict.tokens.name(r.item.0).into_owned())
            .collect()
    }

    fn query(sort: NextSort, top: usize) -> NextQuery {
        NextQuery {
            after: vec!["1".into()],
            within: Within::Anywhere,
            min_count: 1,
            sort,
            top,
        }
    }

    #[test]
    fn ties_break_by_lift_then_count_then_item_id() {
        // Confidence ties: higher lift first, then the smaller id (9 before 10, not "10" before "9"
        // as a sort on names would put them).
        assert_eq!(
            tokens(&query(NextSort::Confidence, 0)),
            ["9", "10", "3", "5"]
        );
        assert_eq!(tokens(&query(NextSort::Count, 0)), ["9", "10", "3", "5"]);
        // Lift: 9 and 10 tie on lift (5/3) and count, so the id decides; then 3 (5/6), 5 (5/9).
        assert_eq!(tokens(&query(NextSort::Lift, 0)), ["9", "10", "3", "5"]);
        assert_eq!(tokens(&query(NextSort::Lift, 1)), ["9"]);
        assert_eq!(tokens(&query(NextSort::Confidence, 2)), ["9", "10"]);
    }

    #[test]
    fn min_count_drops_rare_follow_ups() {
        let mut q = query(NextSort::Lift, 0);
        q.min_count = 2;
        assert_eq!(tokens(&q), ["9", "10", "3"]);
    }

    #[test]
    fn an_unknown_token_names_the_source() {
        let q = NextQuery {
            after: vec!["42".into()],
            ..query(NextSort::Count, 0)
        };
        let e = answer_in(
            &ties(),
            &Dictionary::numeric_tokens(),
            Path::new("ties.txt"),
            &q,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("\"42\"") && e.contains("ties.txt"), "{e}");
    }
}

//! SPMF's text format for itemsets and rules, so results can be diffed against SPMF:
//!
//! ```text
//! 38 39 48 #SUP: 1234                                           frequent itemset
//! 39 ==> 48 #SUP: 7366 #CONF: 0.43 #LIFT: 0.89                  association rule
//! 1,3 ==> 2 #SUP: 3 #CONF: 0.75                                 sequential rule (RuleGrowth)
//! ```
//!
//! Items are written as their numbers (for SPMF input: the original numbers). Measures are printed the
//! way Java's `Double.toString` prints them ([`java_double`]), which is what SPMF writes.

use std::fmt::Write as _;

use cartseq_data::ItemId;

use super::{Rule, RuleKind};

/// Formats `x` like Java's `Double.toString`: the shortest decimal that reads back as `x`, at least one
/// digit after the point (`1.0`), and scientific notation (`1.0E-4`) outside [10⁻³, 10⁷).
pub fn java_double(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let a = x.abs();
    if (1e-3..1e7).contains(&a) {
        let s = format!("{x}");
        if s.contains('.') {
            s
        } else {
            s + ".0"
        }
    } else {
        let s = format!("{x:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mant = if mant.contains('.') {
            mant.to_string()
        } else {
            format!("{mant}.0")
        };
        format!("{mant}E{exp}")
    }
}

/// An itemset line: `38 39 48 #SUP: 1234`.
pub fn itemset_line(items: &[ItemId], support: u32) -> String {
    let mut s = String::new();
    for (k, i) in items.iter().enumerate() {
        if k > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{}", i.0);
    }
    let _ = write!(s, " #SUP: {support}");
    s
}

fn side(out: &mut String, side: &[Vec<ItemId>], sep: char) {
    for (k, set) in side.iter().enumerate() {
        if k > 0 {
            // Pattern rules: itemsets of a side separated as in SPMF sequences.
            out.push_str(" -1 ");
        }
        for (j, i) in set.iter().enumerate() {
            if j > 0 {
                out.push(sep);
            }
            let _ = write!(out, "{}", i.0);
        }
    }
}

/// A rule line in SPMF's format for `kind`: association rules as `39 48 ==> 12 #SUP: 7 #CONF: c
/// #LIFT: l` (space-separated items, as FPGrowth_association_rules_with_lift), sequential rules as
/// `1,3 ==> 2 #SUP: 3 #CONF: c` (comma-separated, as RuleGrowth), pattern rules as
/// `1 -1 2 ==> 3 #SUP: s #CONF: c #LIFT: l`.
pub fn rule_line(kind: RuleKind, r: &Rule, n: usize) -> String {
    let mut s = String::new();
    let sep = if kind == RuleKind::Sequential {
        ','
    } else {
        ' '
    };
    side(&mut s, &r.antecedent, sep);
    s.push_str(" ==> ");
    side(&mut s, &r.consequent, sep);
    let m = r.measures(n);
    let _ = write!(
        s,
        " #SUP: {} #CONF: {}",
        r.support,
        java_double(m.confidence)
    );
    if kind != RuleKind::Sequential {
        let _ = write!(s, " #LIFT: {}", java_double(m.lift));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_doubles() {
        for (x, java) in [
            (1.0, "1.0"),
            (0.75, "0.75"),
            (2.0 / 3.0, "0.6666666666666666"),
            (0.0001, "1.0E-4"),
            (1.5e-5, "1.5E-5"),
            (12345678.0, "1.2345678E7"),
            (5.513257946763509, "5.513257946763509"),
        ] {
            assert_eq!(java_double(x), java, "{x}");
        }
    }

    #[test]
    fn lines() {
        let r = Rule::of_itemsets(vec![ItemId(1), ItemId(3)], vec![ItemId(2)], 3, 4, 4);
        assert_eq!(
            rule_line(RuleKind::Sequential, &r, 4),
            "1,3 ==> 2 #SUP: 3 #CONF: 0.75"
        );
        assert_eq!(
            itemset_line(&[ItemId(38), ItemId(39)], 12),
            "38 39 #SUP: 12"
        );
    }
}

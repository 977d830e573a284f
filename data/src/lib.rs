//! # cartseq-data
//!
//! Everything between a raw behaviour log and the flat [`SequenceDb`] the miners and models read:
//!
//! * [`event`] — the event model (user, optional session, timestamp, item, optional category, action,
//!   optional quantity and price) with every name interned into dense ids;
//! * [`dictionary`] — the [`Dictionary`] (item, category, action, key and token vocabularies) that maps ids
//!   back to original names and is saved beside every converted file;
//! * [`presets`] — streaming readers for Taobao, Yoochoose, Diginetica, Online Retail, Tianchi, RetailRocket,
//!   generic CSV, SPMF and basket files;
//! * [`sessions`] — grouping events into sequences (users, sessions, inactivity gaps, tokens, filters);
//! * [`token_sequences`](mod@token_sequences) — windowed token sequences (a key's last N events before a cutoff, as
//!   tokens): the one function behind every per-row or per-user sequence of the pipeline;
//! * [`load`] — any input file (event log, SPMF, baskets) straight into a [`SequenceDb`];
//! * [`time`] — durations and dates without a calendar dependency;
//! * [`spmf`] — reading and writing SPMF's sequence format losslessly;
//! * [`sequence_db`] — the [`SequenceDb`]: one flat item array with itemset and sequence offsets, plus
//!   per-itemset timestamps, so a projection is a pair of integers and never a copy.
//!
//! The design choice worth knowing: readers intern names *while they stream*, so a row never allocates
//! once its names have been seen, and the sequence database holds four bytes per item plus offsets.
//!
//! Dependencies between the modules point one way, from the top of this list down:
//!
//! 1. [`load`] (file → sequences) uses the readers and the builders below it;
//! 2. [`token_sequences`](mod@token_sequences) uses [`sessions`] (grouping, token naming);
//! 3. [`sessions`] uses the event log, the dictionary and the sequence database;
//! 4. the readers [`presets`] and [`spmf`] use [`input`], [`event`], [`event_log`], [`dictionary`] and
//!    [`sequence_db`];
//! 5. [`event`] (including the action synonyms, [`event::canonical_action`]), [`ids`], [`time`],
//!    [`error`] and [`input`] import nothing above them.
//!
//! No module imports one above it, so a reader never depends on how its events are grouped later.

/// A fieldless enum chosen by name: on the command line, in `--param`, in files and in queries. Its
/// names are written once, in a [`named_enum!`] table, and parsing, showing, listing and the error
/// text all come from that table.
pub trait NamedEnum: Copy + PartialEq + 'static {
    /// What a value is, for error messages (`a clustering method`).
    const WHAT: &'static str;
    /// The name of every value, in table order (aliases left out).
    const NAMES: &'static [&'static str];
    /// The value's name.
    fn name(self) -> &'static str;
    /// The value a name or an alias stands for.
    fn from_name(s: &str) -> Option<Self>;
    /// The names as an error says what is accepted: `kmeans, gmm or dbscan`.
    fn expected() -> String {
        match Self::NAMES.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => Self::NAMES.join(", "),
        }
    }
}

/// A name as typed: the spelling [`named_enum!`] matches when no `fold` is given.
#[doc(hidden)]
pub fn exact_spelling(s: &str) -> &str {
    s
}

/// Implements [`NamedEnum`] (also as inherent `NAMES`, `name()` and `from_name()`), `FromStr` (its
/// error, `expected a shade (light, dark or mid), found "black"`, is every front end's text for a bad
/// name: the command line's flags, `--param`, the server's query parameters and the Python keywords)
/// and `Display` for a fieldless enum from `"name" => Variant` rows;
/// `"name" | "alias" => Variant` accepts other spellings too. Used by every crate of the workspace,
/// so a command line parses every such enum one way without the library crates depending on a
/// command-line parser.
///
/// `fold = f` (a `fn(&str)` returning a string) first maps what the user typed onto the table's spelling (a preset accepts
/// `Online_Retail`); without it a name must match exactly.
#[macro_export]
macro_rules! named_enum {
    ($t:ty, $what:literal, [$($rows:tt)+]) => {
        $crate::named_enum!($t, $what, fold = $crate::exact_spelling, [$($rows)+]);
    };
    ($t:ty, $what:literal, fold = $fold:expr, [$($name:literal $(| $alias:literal)* => $v:expr),+ $(,)?]) => {
        impl $t {
            /// The name of every value (aliases left out).
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            /// The value's name.
            pub fn name(self) -> &'static str {
                $(if self == $v { return $name; })+
                ""
            }

            /// The value a name or an alias stands for.
            pub fn from_name(s: &str) -> Option<Self> {
                match &*($fold)(s) {
                    $($name $(| $alias)* => Some($v),)+
                    _ => None,
                }
            }
        }

        impl $crate::NamedEnum for $t {
            const WHAT: &'static str = $what;
            const NAMES: &'static [&'static str] = <$t>::NAMES;
            fn name(self) -> &'static str {
                <$t>::name(self)
            }
            fn from_name(s: &str) -> Option<Self> {
                <$t>::from_name(s)
            }
        }

        impl std::str::FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                Self::from_name(s).ok_or_else(|| {
                    format!(
                        concat!("expected ", $what, " ({}), found {:?}"),
                        <Self as $crate::NamedEnum>::expected(),
                        s
                    )
                })
            }
        }

        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

#[cfg(test)]
mod named_enum_tests {
    use super::NamedEnum;

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Shade {
        Light,
        Dark,
        Mid,
    }

    crate::named_enum!(Shade, "a shade", [
        "light" | "pale" => Shade::Light,
        "dark" => Shade::Dark,
        "mid" | "medium" | "grey" => Shade::Mid,
    ]);

    #[test]
    fn names_aliases_and_errors_come_from_the_one_table() {
        assert_eq!(Shade::NAMES, ["light", "dark", "mid"]);
        assert_eq!(<Shade as NamedEnum>::NAMES, Shade::NAMES);
        assert_eq!(Shade::WHAT, "a shade");
        for (alias, v) in [
            ("pale", Shade::Light),
            ("medium", Shade::Mid),
            ("grey", Shade::Mid),
        ] {
            assert_eq!(Shade::from_name(alias), Some(v));
            assert_eq!(alias.parse::<Shade>(), Ok(v));
        }
        for v in [Shade::Light, Shade::Dark, Shade::Mid] {
            // An alias never becomes the name a value is shown with.
            assert_eq!(v.to_string().parse::<Shade>(), Ok(v));
            assert!(Shade::NAMES.contains(&v.name()));
        }
        assert_eq!(Shade::from_name("Light"), None);
        assert_eq!(
            "black".parse::<Shade>(),
            Err(r#"expected a shade (light, dark or mid), found "black""#.to_string())
        );
        assert_eq!(Shade::expected(), "light, dark or mid");
    }
}

pub mod arrow;
pub mod columnar;
pub mod dictionary;
pub mod error;
pub mod event;
pub mod event_log;
pub mod ids;
pub mod input;
pub mod load;
pub mod memory;
pub mod presets;
pub mod sequence_db;
pub mod sessions;
pub mod spmf;
pub mod time;
pub mod token_sequences;

pub use dictionary::{Dictionary, Vocab};
pub use error::{DataError, Location, OnError, SkipReport};
pub use event::{canonical_action, Action, Event, Timestamp};
pub use event_log::EventLog;
pub use ids::{ActionId, CategoryId, ItemId, KeyId, ProductId};
pub use load::{read_sequences, read_sequences_from};
pub use presets::{ColumnRef, EventColumns, GenericSpec, MissingColumn, Preset, PresetConfig};
pub use sequence_db::{SequenceDb, SequenceDbBuilder};
pub use sessions::{build_sequences, GroupBy, ItemsetMode, SequenceOptions, Token};
pub use token_sequences::{token_sequences, KeyIndex, SequenceCut, TokenSequences, TokenWindow};

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

/// Implements `NAMES`, `name()`, `FromStr` (its error lists the accepted names) and `Display` for a
/// fieldless enum from `"name" => Variant` pairs: the names an enum has on the command line and in
/// files. Used here and by the `cartseq` library, so a command line parses every such enum one way
/// without the library crates depending on a command-line parser.
#[macro_export]
macro_rules! named_enum {
    ($t:ty, $what:literal, [$($name:literal => $v:expr),+ $(,)?]) => {
        impl $t {
            /// The command-line names of every value.
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            /// The command-line name.
            pub fn name(self) -> &'static str {
                $(if self == $v { return $name; })+
                ""
            }
        }

        impl std::str::FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($name => Ok($v),)+
                    _ => Err(format!(concat!($what, " ({}), found {:?}"), Self::NAMES.join(", "), s)),
                }
            }
        }

        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
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

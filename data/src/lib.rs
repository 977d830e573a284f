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
//! * [`time`] — durations and dates without a calendar dependency;
//! * [`spmf`] — reading and writing SPMF's sequence format losslessly;
//! * [`sequence_db`] — the [`SequenceDb`]: one flat item array with itemset and sequence offsets, plus
//!   per-itemset timestamps, so a projection is a pair of integers and never a copy.
//!
//! The design choice worth knowing: readers intern names *while they stream*, so a row never allocates
//! once its names have been seen, and the sequence database holds four bytes per item plus offsets.

pub mod dictionary;
pub mod error;
pub mod event;
pub mod event_log;
pub mod ids;
pub mod input;
pub mod presets;
pub mod sequence_db;
pub mod sessions;
pub mod spmf;
pub mod time;

pub use dictionary::{Dictionary, Vocab};
pub use error::{DataError, Location, OnError, SkipReport};
pub use event::{Action, Event, Timestamp};
pub use event_log::EventLog;
pub use ids::{ActionId, CategoryId, ItemId, KeyId, ProductId};
pub use presets::{ColumnRef, GenericSpec, Preset, PresetConfig};
pub use sequence_db::{SequenceDb, SequenceDbBuilder};
pub use sessions::{build_sequences, GroupBy, ItemsetMode, SequenceOptions, Token};

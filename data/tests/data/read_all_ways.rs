//! One input read every way the readers offer, shared by the property test `readers_never_panic` and
//! the fuzz targets (`fuzz/fuzz_targets/common.rs` includes this file by path), so both drive the same
//! calls: each error policy, through both entry points (sequences, and events for presets whose input
//! is an event log).

use cartseq_data::input::LineReader;
use cartseq_data::presets::read_events_from;
use cartseq_data::{
    read_sequences_from, ColumnRef, DataError, Dictionary, EventColumns, EventLog, GenericSpec,
    OnError, PresetConfig, SequenceDb, SequenceOptions, SkipReport,
};

/// The generic preset reading user, item, action and time from columns 1 to 4 of a file without a
/// header.
pub fn generic_columns_1_to_4() -> PresetConfig {
    PresetConfig::generic(GenericSpec {
        columns: EventColumns {
            user: Some(ColumnRef::Index(1)),
            item: Some(ColumnRef::Index(2)),
            action: Some(ColumnRef::Index(3)),
            time: Some(ColumnRef::Index(4)),
            ..EventColumns::default()
        },
        header: false,
        ..GenericSpec::default()
    })
}

/// What one read of the input gave.
pub enum Outcome {
    /// `read_sequences_from`'s answer.
    Sequences(Result<(SequenceDb, SkipReport), DataError>),
    /// `read_events_from`'s answer.
    Events(Result<(EventLog, SkipReport), DataError>),
}

/// Reads `bytes` (named `name` in locations) with `cfg` (its `max_line` included) under
/// [`OnError::Fail`] and [`OnError::Skip`], through `read_sequences_from` and, for presets whose input
/// is an event log, `read_events_from`; `seen` gets every outcome.
pub fn read_all_ways(bytes: &[u8], name: &str, cfg: &PresetConfig, mut seen: impl FnMut(Outcome)) {
    for policy in [OnError::Fail, OnError::Skip] {
        let mut dict = Dictionary::new();
        let mut lines = LineReader::new(bytes, name, false).with_max_line(cfg.max_line);
        let r = read_sequences_from(
            &mut lines,
            cfg,
            policy,
            &mut dict,
            &SequenceOptions::default(),
            &mut |_| {},
        );
        seen(Outcome::Sequences(r));
        if !cfg.preset.yields_sequences() {
            let mut dict = Dictionary::new();
            let mut lines = LineReader::new(bytes, name, false).with_max_line(cfg.max_line);
            let r = read_events_from(&mut lines, cfg, policy, &mut dict, &mut |_| {});
            seen(Outcome::Events(r));
        }
    }
}

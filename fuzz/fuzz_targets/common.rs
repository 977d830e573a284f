//! What the reader targets share: read `bytes` as a log with `cfg` under both error policies, through
//! both entry points (events and sequences). Only panics are failures; errors are expected.

use cartseq_data::input::LineReader;
use cartseq_data::presets::{read_events_from, PresetConfig};
use cartseq_data::{read_sequences_from, Dictionary, OnError, SequenceOptions};

pub fn read_all(bytes: &[u8], mut cfg: PresetConfig) {
    cfg.max_line = 4096;
    for policy in [OnError::Fail, OnError::Skip] {
        let mut dict = Dictionary::new();
        let mut lines = LineReader::new(bytes, "fuzz", false).with_max_line(cfg.max_line);
        let _ = read_sequences_from(
            &mut lines,
            &cfg,
            policy,
            &mut dict,
            &SequenceOptions::default(),
            &mut |_| {},
        );
        if !cfg.preset.yields_sequences() {
            let mut dict = Dictionary::new();
            let mut lines = LineReader::new(bytes, "fuzz", false).with_max_line(cfg.max_line);
            let _ = read_events_from(&mut lines, &cfg, policy, &mut dict, &mut |_| {});
        }
    }
}

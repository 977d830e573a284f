//! Saved next-item models (`nextitem --save-model`: pop, markov, iknn, sknn, rnn, lstm, gru; and the
//! int8 networks of `cartseq compress`) as `serve` and `compress` load them
//! (`NextItemFile::load`), then scoring a session with whatever loaded — shapes that load but cannot
//! score must be refused at load time.
#![no_main]
use cartseq_models::nextitem::NextItemFile;
use cartseq_models::Sequences;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(file) = NextItemFile::load(data) else {
        return;
    };
    let model = file.model.as_model();
    let n = model.n_items();
    if n == 0 || n > 4096 {
        return;
    }
    let _ = file.items.names();
    let clicks: Vec<u32> = [0, n / 2, n - 1].iter().map(|&i| i as u32).collect();
    let mut scores = Vec::new();
    model.score_session(&clicks, &mut scores);
    assert_eq!(scores.len(), n);
    let seqs = Sequences {
        tokens: clicks.iter().chain(&clicks).copied().collect(),
        offsets: vec![0, 3, 6],
        vocab: n,
    };
    model.score_prefixes(&seqs, &[0, 1], &mut |_, _, s| assert_eq!(s.len(), n));
});

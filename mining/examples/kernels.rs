//! Times PrefixSpan (which picks the projection or the bitmap kernel by itself) against the forced
//! bitmap kernel ([`Spam`]) on an SPMF file, streaming SPMF lines into memory as `mine` does. Used to
//! place the automatic switch (`spam::prefers`):
//!
//! `RAYON_NUM_THREADS=2 cargo run --release -p cartseq-mining --example kernels -- FILE 0.2 [REPS]
//! [both|prefixspan|spam] [OUT]` (OUT: the last run's SPMF lines, to `cmp` with `cartseq mine`'s)
//!
//! Mind the memory of `spam` on sparse data: frequent items × sequences × bitmap words × 8 bytes.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::Instant;

use cartseq_data::input::{open_input, LineReader};
use cartseq_data::OnError;
use cartseq_mining::{MinSupport, Miner, Options, Params, PrefixSpan, Spam, WriteSink};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: kernels FILE MIN_SUPPORT [REPS] [both|prefixspan|spam]");
        std::process::exit(2);
    }
    let input = open_input(Path::new(&args[1])).unwrap();
    let db = cartseq_data::spmf::read_spmf(&mut LineReader::from_input(input), OnError::Fail)
        .unwrap()
        .db;
    let opts = Options {
        min_support: MinSupport::parse(&args[2]).unwrap(),
        ..Options::default()
    };
    let reps: usize = args.get(3).map_or(3, |s| s.parse().unwrap());
    let which = args.get(4).map_or("both", String::as_str);
    let ps: PrefixSpan = Params::from_options(opts.clone()).check().unwrap();
    let sp: Spam = Params::from_options(opts).check().unwrap();
    let miners: [(&str, &dyn Miner); 2] = [("prefixspan", &ps), ("spam", &sp)];
    for _ in 0..reps {
        for (name, m) in miners {
            if which != "both" && which != name {
                continue;
            }
            let t = Instant::now();
            let mut buf = Vec::new();
            let stats = m.mine(&db, &mut WriteSink::spmf(&mut buf)).unwrap();
            if let Some(path) = args.get(5) {
                std::fs::write(path, &buf).unwrap();
            }
            println!(
                "{name}: {} patterns, {:.4} s, {} bytes",
                stats.patterns,
                t.elapsed().as_secs_f64(),
                buf.len()
            );
        }
    }
}

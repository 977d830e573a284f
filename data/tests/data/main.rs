//! The integration tests of cartseq-data, in one test binary (one link, as Cargo's own test suite
//! does): one module per area and a shared [`support`] module.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod read_all_ways;
mod readers_never_panic;
mod spmf_roundtrip;
mod support;
mod token_sequences;

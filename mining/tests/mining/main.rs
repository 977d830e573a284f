//! The integration tests of cartseq-mining, in one test binary (one link, as Cargo's own test suite
//! does): one module per area and a shared [`support`] module (the shared-data folder, SPMF reference
//! files, basket files, line diffs and the proptest configuration).
//!
//! * [`oracle`] — PrefixSpan, SPADE, GSP and the bitmap kernel against the brute-force oracle (property test);
//! * [`spmf_reference`] — pattern sets equal SPMF's on the shared datasets;
//! * [`itemsets_oracle`], [`rules_oracle`] — itemsets and every rule kind against brute force;
//! * [`rules_spmf`], [`rules_mlxtend`] — itemsets and rules equal SPMF's and mlxtend's outputs.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod itemsets_oracle;
mod oracle;
mod rules_mlxtend;
mod rules_oracle;
mod rules_spmf;
mod spmf_reference;
mod support;

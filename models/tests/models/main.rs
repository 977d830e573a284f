//! The models crate's integration tests, one binary (a full run links once): a module per area and
//! one shared helper module.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod compare_linfa_smartcore;
mod input_checks;
mod legacy_files;
#[cfg(feature = "linfa")]
mod linfa_interop;
mod loaders_never_panic;
mod metrics_vs_sklearn;
mod nn_classifier;
mod nn_gradcheck;
mod nn_gradcheck_session;
mod nn_nextitem;
mod nn_session_models;
mod nn_threads;
mod persist_roundtrip;
mod support;

//! Mining

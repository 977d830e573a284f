//! Mining
pub mod features;
pub mod itemsets;

//! Where mined patterns go: the [`PatternSink`] trait and its three standard implementations — keep them
//! in memory ([`CollectSink`]), stream them to a writer ([`WriteSink`], bounded memory) or keep the top-k by
//! support with ties ([`TopKSink`]).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write;

use crate::error::MiningError;
use crate::pattern::Pattern;

/// Receives patterns from a miner, one at a time, in the miner's deterministic order.
pub trait PatternSink {
    /// Takes one pattern. An error stops mining and is returned by the miner.
    fn accept(&mut self, pattern: Pattern) -> Result<(), MiningError>;

    /// Whether patterns leave memory as they arrive (a writer): miners then hold as few patterns as
    /// their deterministic order allows (see `FrequentRun::emit_roots`).
    fn streams(&self) -> bool {
        false
    }
}

impl<S: PatternSink + ?Sized> PatternSink for &mut S {
    fn accept(&mut self, pattern: Pattern) -> Result<(), MiningError> {
        (**self).accept(pattern)
    }

    fn streams(&self) -> bool {
        (**self).streams()
    }
}

impl PatternSink for Vec<Pattern> {
    fn accept(&mut self, pattern: Pattern) -> Result<(), MiningError> {
        self.push(pattern);
        Ok(())
    }
}

/// Keeps every pattern in memory.
#[derive(Debug, Default, Clone)]
pub struct CollectSink {
    /// The patterns in the order received.
    pub patterns: Vec<Pattern>,
}

impl CollectSink {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// The patterns sorted by support descending, then pattern (the output order).
    pub fn into_sorted(mut self) -> Vec<Pattern> {
        self.patterns.sort_unstable_by(|a, b| a.cmp_support_desc(b));
        self.patterns
    }
}

impl PatternSink for CollectSink {
    fn accept(&mut self, pattern: Pattern) -> Result<(), MiningError> {
        self.patterns.push(pattern);
        Ok(())
    }
}

/// Streams each pattern to a writer as one line made by a formatter (memory: one line).
pub struct WriteSink<W: Write, F: FnMut(&Pattern, &mut String)> {
    out: W,
    format: F,
    line: String,
    written: u64,
}

impl<W: Write, F: FnMut(&Pattern, &mut String)> WriteSink<W, F> {
    /// A sink writing `format(pattern)` plus a newline for every pattern.
    pub fn new(out: W, format: F) -> Self {
        WriteSink {
            out,
            format,
            line: String::new(),
            written: 0,
        }
    }

    /// Number of patterns written.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The writer back (flush it yourself).
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> WriteSink<W, fn(&Pattern, &mut String)> {
    /// A sink writing SPMF lines (`1 -1 2 3 -1 #SUP: 5`).
    pub fn spmf(out: W) -> Self {
        WriteSink::new(out, |p, s| p.write_spmf(s))
    }
}

impl<W: Write, F: FnMut(&Pattern, &mut String)> PatternSink for WriteSink<W, F> {
    fn streams(&self) -> bool {
        true
    }

    fn accept(&mut self, pattern: Pattern) -> Result<(), MiningError> {
        self.line.clear();
        (self.format)(&pattern, &mut self.line);
        self.line.push('\n');
        self.out.write_all(self.line.as_bytes())?;
        self.written += 1;
        Ok(())
    }
}

/// Keeps every pattern whose support is at least the k-th highest support seen (ties included, so the
/// answer is unique). Memory: the retained patterns, pruned as the threshold rises.
#[derive(Debug)]
pub struct TopKSink {
    k: usize,
    top: BinaryHeap<Reverse<u32>>,
    patterns: Vec<Pattern>,
    /// Length of `patterns` beyond which those below the threshold are dropped.
    prune_at: usize,
}

impl TopKSink {
    /// A top-`k` keeper (`k ≥ 1`; 0 is treated as 1).
    pub fn new(k: usize) -> Self {
        let k = k.max(1);
        TopKSink {
            k,
            top: BinaryHeap::new(),
            patterns: Vec::new(),
            prune_at: 2 * k + 1024,
        }
    }

    /// The current threshold: the k-th highest support seen, or 0 before k patterns arrived.
    pub fn threshold(&self) -> u32 {
        if self.top.len() < self.k {
            0
        } else {
            self.top.peek().map_or(0, |r| r.0)
        }
    }

    /// The retained patterns (every pattern at or above the k-th support, ties included), unsorted:
    /// the top-k driver sorts once, when a round's answer is final.
    pub fn into_patterns(self) -> Vec<Pattern> {
        let t = self.threshold();
        self.patterns
            .into_iter()
            .filter(|p| p.support >= t)
            .collect()
    }
}

impl PatternSink for TopKSink {
    fn accept(&mut self, pattern: Pattern) -> Result<(), MiningError> {
        if pattern.support < self.threshold() {
            return Ok(());
        }
        self.top.push(Reverse(pattern.support));
        if self.top.len() > self.k {
            self.top.pop();
        }
        self.patterns.push(pattern);
        if self.patterns.len() > self.prune_at {
            let t = self.threshold();
            self.patterns.retain(|p| p.support >= t);
            // Ties at the threshold survive a prune: the next one waits until the list has doubled,
            // so pruning stays linear in the patterns seen.
            self.prune_at = (2 * self.patterns.len()).max(2 * self.k + 1024);
        }
        Ok(())
    }

    /// Patterns below the running threshold leave memory as they arrive, so the miner need not
    /// buffer whole subtrees for it either.
    fn streams(&self) -> bool {
        true
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn top_k_keeps_ties() {
        let mut s = TopKSink::new(2);
        for (i, sup) in [3u32, 5, 3, 1, 4, 3].iter().enumerate() {
            s.accept(Pattern::from_nested(&[&[i as u32]], *sup))
                .unwrap();
        }
        let mut v: Vec<u32> = s.into_patterns().iter().map(|p| p.support).collect();
        v.sort_unstable();
        assert_eq!(v, vec![4, 5]);
        let mut s = TopKSink::new(3);
        for (i, sup) in [3u32, 5, 3, 1, 4, 3].iter().enumerate() {
            s.accept(Pattern::from_nested(&[&[i as u32]], *sup))
                .unwrap();
        }
        assert_eq!(s.into_patterns().len(), 5);
    }

    #[test]
    fn write_sink_writes_spmf_lines() {
        let mut s = WriteSink::spmf(Vec::new());
        s.accept(Pattern::from_nested(&[&[1], &[2, 3]], 5)).unwrap();
        assert_eq!(s.written(), 1);
        assert_eq!(s.into_inner(), b"1 -1 2 3 -1 #SUP: 5\n");
    }
}

//! Packed variable-length batches: time-major rows without padding.

/// The layout of a minibatch of sequences sorted by length, longest first.
///
/// At time `t` the first `batch_sizes[t]` sequences are still running; their rows are
/// `offsets[t] .. offsets[t] + batch_sizes[t]` of every packed matrix, in batch order. Sequence `r` at
/// time `t` is therefore row `offsets[t] + r`. `batch_sizes` never increases, so the rows active at `t`
/// are a prefix of those active at `t − 1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packed {
    /// Length of each sequence, non-increasing.
    pub lengths: Vec<usize>,
    /// Running sequences per time step.
    pub batch_sizes: Vec<usize>,
    /// First packed row of each time step, plus the total at the end (`len = steps + 1`).
    pub offsets: Vec<usize>,
}

impl Packed {
    /// The layout for sequences of the given lengths.
    ///
    /// # Panics
    /// If `lengths` is not sorted in non-increasing order (a programming error of the caller).
    pub fn new(lengths: &[usize]) -> Self {
        assert!(
            lengths.windows(2).all(|w| w[0] >= w[1]),
            "packed lengths must be non-increasing"
        );
        let steps = lengths.first().copied().unwrap_or(0);
        let mut batch_sizes = Vec::with_capacity(steps);
        let mut offsets = Vec::with_capacity(steps + 1);
        offsets.push(0);
        let mut n = lengths.len();
        for t in 0..steps {
            while n > 0 && lengths[n - 1] <= t {
                n -= 1;
            }
            batch_sizes.push(n);
            offsets.push(offsets[t] + n);
        }
        Packed {
            lengths: lengths.to_vec(),
            batch_sizes,
            offsets,
        }
    }

    /// Number of sequences.
    pub fn batch(&self) -> usize {
        self.lengths.len()
    }

    /// Number of time steps (the longest length).
    pub fn steps(&self) -> usize {
        self.batch_sizes.len()
    }

    /// Number of packed rows (sum of lengths).
    pub fn total(&self) -> usize {
        self.offsets.last().copied().unwrap_or(0)
    }

    /// Packed row of sequence `r` at time `t`.
    #[inline]
    pub fn row(&self, t: usize, r: usize) -> usize {
        self.offsets[t] + r
    }

    /// Packed row of the last step of sequence `r`, `None` for an empty sequence.
    #[inline]
    pub fn last_row(&self, r: usize) -> Option<usize> {
        let len = self.lengths[r];
        (len > 0).then(|| self.offsets[len - 1] + r)
    }

    /// Number of row blocks of at most `rows` sequences ([`Packed::split_rows`]).
    pub fn row_blocks(&self, rows: usize) -> usize {
        self.batch().div_ceil(rows.max(1))
    }

    /// Cuts a packed matrix (`data`, `width` values per row) into the parts owned by blocks of
    /// `rows` consecutive sequences: block `b` gets, for every time step `t`, the slice of rows
    /// `offsets[t] + b·rows ..` of the sequences `b·rows .. (b+1)·rows` still running at `t` (empty
    /// once they have all ended). The time loop of one block touches nothing outside its parts, so
    /// blocks can run in parallel without sharing a mutable row.
    pub fn split_rows<'a, T>(
        &self,
        data: &'a mut [T],
        width: usize,
        rows: usize,
    ) -> Vec<Vec<&'a mut [T]>> {
        let rows = rows.max(1);
        let blocks = self.row_blocks(rows);
        let mut out: Vec<Vec<&'a mut [T]>> = (0..blocks)
            .map(|_| Vec::with_capacity(self.steps()))
            .collect();
        let mut rest = data;
        for &n in &self.batch_sizes {
            let (mut step, tail) = std::mem::take(&mut rest).split_at_mut(n * width);
            rest = tail;
            for (b, parts) in out.iter_mut().enumerate() {
                let take = n.saturating_sub(b * rows).min(rows);
                let (part, tail) = std::mem::take(&mut step).split_at_mut(take * width);
                step = tail;
                parts.push(part);
            }
        }
        out
    }

    /// Packs token sequences (already sorted longest first) into time-major order.
    pub fn pack_tokens(&self, seqs: &[&[u32]]) -> Vec<u32> {
        let mut out = vec![0; self.total()];
        for (r, s) in seqs.iter().enumerate() {
            for (t, &tok) in s.iter().enumerate() {
                out[self.offsets[t] + r] = tok;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_of_ragged_batch() {
        let p = Packed::new(&[3, 2, 2, 0]);
        assert_eq!(p.batch_sizes, vec![3, 3, 1]);
        assert_eq!(p.offsets, vec![0, 3, 6, 7]);
        assert_eq!(p.total(), 7);
        assert_eq!(p.last_row(0), Some(6));
        assert_eq!(p.last_row(1), Some(4));
        assert_eq!(p.last_row(3), None);
        let toks = p.pack_tokens(&[&[1, 2, 3], &[4, 5], &[6, 7], &[]]);
        assert_eq!(toks, vec![1, 4, 6, 2, 5, 7, 3]);
        // Blocks of 2 sequences: rows {0, 1} and {2, 3} of every step, one value per row.
        let mut data: Vec<u32> = toks.clone();
        let parts = p.split_rows(&mut data, 1, 2);
        let seen: Vec<Vec<Vec<u32>>> = parts
            .iter()
            .map(|b| b.iter().map(|s| s.to_vec()).collect())
            .collect();
        assert_eq!(
            seen,
            vec![
                vec![vec![1, 4], vec![2, 5], vec![3]],
                vec![vec![6], vec![7], vec![]]
            ]
        );
    }
}

//! The wire format of `cartseq.spark`'s shuffle: many sequences in one binary cell.
//!
//! The distributed path ships every sequence's suffix to the groups mining its items. As one Spark
//! row per suffix (`array<array<long>>`), the JVM converts each element between Arrow and its own
//! row format twice and the shuffle carries per-row headers; profiled on a 10 k-user log, that
//! conversion, not cartseq's mining, was the stage's time. Packed, each Arrow batch sends one row per
//! group: `(group, bytes)`, where the bytes are the group's suffixes from that batch, back to back.
//!
//! Layout, all numbers little-endian `u32`: for each sequence its itemset count, then for each itemset
//! its length followed by its items (ascending, distinct). A basket is a sequence of one itemset.
//! (The crate's tests are pytest's: `python/tests/test_api.py::test_packed_shipping_round_trip`.)

use anyhow::{bail, Result};
use cartseq_data::{ItemId, KeyId, SequenceDbBuilder};

/// Appends one sequence to `out` itemset by itemset, straight into the blob (no per-itemset
/// allocation): the counts are written as placeholders and filled in when known.
pub struct SequenceWriter<'a> {
    out: &'a mut Vec<u8>,
    count_at: usize,
    n_sets: u32,
}

impl<'a> SequenceWriter<'a> {
    /// Starts a sequence at the end of `out`.
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        let count_at = out.len();
        push_u32(out, 0);
        SequenceWriter {
            out,
            count_at,
            n_sets: 0,
        }
    }

    /// Appends an itemset of `items` (ascending, distinct); an empty one is left out.
    pub fn itemset(&mut self, items: impl Iterator<Item = u32>) {
        let len_at = self.out.len();
        push_u32(self.out, 0);
        let mut len = 0u32;
        for i in items {
            push_u32(self.out, i);
            len += 1;
        }
        if len == 0 {
            self.out.truncate(len_at);
        } else {
            self.out[len_at..len_at + 4].copy_from_slice(&len.to_le_bytes());
            self.n_sets += 1;
        }
    }
}

impl Drop for SequenceWriter<'_> {
    fn drop(&mut self) {
        let at = self.count_at;
        self.out[at..at + 4].copy_from_slice(&self.n_sets.to_le_bytes());
    }
}

fn push_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Decodes the sequences of `blob` into `b`, numbering them from `*next_key`. A blob that does not
/// follow the layout (truncated, an empty or unsorted itemset) is an error naming the byte offset:
/// it can only come from another writer than [`SequenceWriter`].
pub fn decode_into(blob: &[u8], b: &mut SequenceDbBuilder, next_key: &mut u32) -> Result<()> {
    let mut r = Reader { blob, at: 0 };
    let mut set: Vec<ItemId> = Vec::new();
    while r.at < blob.len() {
        let n_sets = r.u32()?;
        for _ in 0..n_sets {
            let len = r.u32()? as usize;
            if len == 0 || len > (blob.len() - r.at) / 4 {
                bail!(
                    "packed sequences: itemset length {len} at byte {} does not fit",
                    r.at - 4
                );
            }
            set.clear();
            for _ in 0..len {
                set.push(ItemId(r.u32()?));
            }
            if set.windows(2).any(|w| w[0] >= w[1]) {
                bail!(
                    "packed sequences: itemset ending at byte {} is not ascending",
                    r.at
                );
            }
            b.push_itemset(&set, None)?;
        }
        b.end_sequence(KeyId(*next_key))?;
        *next_key += 1;
    }
    Ok(())
}

struct Reader<'a> {
    blob: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn u32(&mut self) -> Result<u32> {
        let Some(bytes) = self.blob.get(self.at..self.at + 4) else {
            bail!("packed sequences: truncated at byte {}", self.at);
        };
        self.at += 4;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }
}

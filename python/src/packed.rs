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

/// Appends one sequence, given as its non-empty itemsets, to `out`.
pub fn push_sequence<'a>(out: &mut Vec<u8>, itemsets: impl ExactSizeIterator<Item = &'a [u32]>) {
    push_u32(out, itemsets.len() as u32);
    for set in itemsets {
        push_u32(out, set.len() as u32);
        for &i in set {
            push_u32(out, i);
        }
    }
}

fn push_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Decodes the sequences of `blob` into `b`, numbering them from `*next_key`. A blob that does not
/// follow the layout (truncated, an empty or unsorted itemset) is an error naming the byte offset:
/// it can only come from another writer than [`push_sequence`].
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

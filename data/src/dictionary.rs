//! Names ⇄ dense ids. A [`Dictionary`] is written beside every converted file (`OUT.dict.json`) so that
//! patterns, rules and predictions can always be shown with the original names.

use std::hash::{BuildHasherDefault, Hasher};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use hashbrown::HashMap;
use serde::{Deserialize, Serialize};

use crate::error::DataError;

/// One vocabulary: interns names into ids `0, 1, 2, …` in order of first appearance, or (numeric mode)
/// uses non-negative integer names as their own ids, which keeps SPMF item numbers unchanged.
///
/// Interning mode keeps two indexes: names that are plain decimal numbers (no sign, no leading zero,
/// at most 19 digits, so they fit a `u64`) are looked up by that number in a map with a one-multiply
/// hash, which is the common case for log ids (Taobao items, users, categories) and needs neither a
/// string hash nor a string compare; every other name is looked up by string. A decimal name and its
/// number determine each other, so both indexes together map each distinct name to one id, assigned
/// in order of first appearance exactly as a single string map would.
///
/// The names and indexes sit behind an [`Arc`], so cloning a vocabulary is cheap and two vocabularies
/// with the same names (e.g. item tokens and products) can share one copy; the first change to a
/// shared vocabulary copies it (copy on write).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Vocab {
    /// Numeric mode: the id *is* the name's number; `names` stays empty.
    #[serde(default)]
    numeric: bool,
    #[serde(with = "names_serde")]
    names: Arc<Names>,
}

/// The interned names of a [`Vocab`] and their indexes.
#[derive(Clone, Debug, Default)]
struct Names {
    names: Vec<String>,
    /// Ids of the names that are not plain decimal numbers.
    index: HashMap<String, u32>,
    /// Ids of the plain decimal names whose value is below `dense.len()`, indexed by value
    /// (`u32::MAX` = absent): one array access instead of a hash probe for compact numeric ids.
    dense: Vec<u32>,
    /// Ids of the other plain decimal names, keyed by their value.
    num_index: HashMap<u64, u32, BuildHasherDefault<NumHasher>>,
}

/// The dense table of a vocabulary with `n` names covers values below `DENSE_SLACK * n + DENSE_FLOOR`
/// (so it costs at most 32 bytes per name plus 256 KiB; sparser numbers go to the hash map).
const DENSE_SLACK: u64 = 8;
/// See [`DENSE_SLACK`].
const DENSE_FLOOR: u64 = 1 << 16;

impl Names {
    /// The id of the decimal name with value `k`.
    #[inline]
    fn get_num(&self, k: u64) -> Option<u32> {
        if k < self.dense.len() as u64 {
            let id = self.dense[k as usize];
            (id != u32::MAX).then_some(id)
        } else {
            self.num_index.get(&k).copied()
        }
    }

    /// Records `id` for the decimal name with value `k` (replacing any previous id), growing the
    /// dense table when `k` is within its bound and moving the hashed values it now covers into it.
    fn insert_num(&mut self, k: u64, id: u32) {
        if k >= self.dense.len() as u64 {
            let limit = DENSE_SLACK * (self.names.len() as u64 + 1) + DENSE_FLOOR;
            if k >= limit {
                self.num_index.insert(k, id);
                return;
            }
            let new_len = (k + 1).max(2 * self.dense.len() as u64).min(limit) as usize;
            let Names {
                dense, num_index, ..
            } = self;
            dense.resize(new_len, u32::MAX);
            num_index.retain(|&key, &mut v| {
                if key < new_len as u64 {
                    dense[key as usize] = v;
                    false
                } else {
                    true
                }
            });
        }
        self.dense[k as usize] = id;
    }
}

/// Serializes a [`Vocab`]'s names as a plain list of strings (the indexes are rebuilt on reading).
mod names_serde {
    use super::{Arc, Names};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(n: &Arc<Names>, s: S) -> Result<S::Ok, S::Error> {
        n.names.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<Names>, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        Ok(Arc::new(Names {
            names,
            ..Names::default()
        }))
    }
}

/// The value of `name` if it is a plain decimal number that prints back as exactly `name`: ASCII
/// digits only, no leading zero (except `"0"` itself), at most 19 digits (always below 2^64).
#[inline]
fn decimal_key(name: &str) -> Option<u64> {
    let b = name.as_bytes();
    if b.is_empty() || b.len() > 19 || (b[0] == b'0' && b.len() > 1) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + u64::from(d);
    }
    Some(v)
}

/// Hasher for `u64` keys: one 64×64→128-bit multiply, folded (high half XOR low half), so every
/// output bit depends on every input bit. Not DoS-resistant; keys are ids from the user's own file.
#[derive(Default, Clone, Copy, Debug)]
pub struct NumHasher(u64);

impl Hasher for NumHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    #[inline]
    fn write_u64(&mut self, x: u64) {
        let p = u128::from(self.0 ^ x ^ 0x243f_6a88_85a3_08d3) * 0x9e37_79b9_7f4a_7c15_u128;
        self.0 = (p as u64) ^ ((p >> 64) as u64);
    }
}

impl PartialEq for Vocab {
    fn eq(&self, other: &Self) -> bool {
        self.numeric == other.numeric && self.names.names == other.names.names
    }
}

impl Vocab {
    /// An empty interning vocabulary.
    pub fn new() -> Self {
        Self::default()
    }

    /// A vocabulary whose names are the ids' decimal numbers (SPMF and numeric basket files).
    pub fn numeric() -> Self {
        Vocab {
            numeric: true,
            ..Self::default()
        }
    }

    /// Whether ids are the names' own numbers.
    pub fn is_numeric(&self) -> bool {
        self.numeric
    }

    /// The id of `name`, adding it if new. In numeric mode `name` must be a `u32`; `None` otherwise.
    #[inline]
    pub fn intern(&mut self, name: &str) -> Option<u32> {
        if self.numeric {
            return name.parse::<u32>().ok();
        }
        // Look up through the shared reference first: only a new name needs a unique copy.
        let key = decimal_key(name);
        let found = match key {
            Some(k) => self.names.get_num(k),
            None => self.names.index.get(name).copied(),
        };
        if let Some(id) = found {
            return Some(id);
        }
        let n = Arc::make_mut(&mut self.names);
        let id = u32::try_from(n.names.len()).ok()?;
        n.names.push(name.to_owned());
        match key {
            Some(k) => n.insert_num(k, id),
            None => {
                n.index.insert(name.to_owned(), id);
            }
        }
        Some(id)
    }

    /// The id of the plain decimal name with value `k` (the name `k.to_string()`), adding it if new:
    /// the same as [`Vocab::intern`] of that name, for readers that parse numbers straight from bytes
    /// and so never hold the name as text.
    #[inline]
    pub fn intern_decimal(&mut self, k: u64) -> Option<u32> {
        if self.numeric {
            return u32::try_from(k).ok();
        }
        if let Some(id) = self.names.get_num(k) {
            return Some(id);
        }
        let n = Arc::make_mut(&mut self.names);
        let id = u32::try_from(n.names.len()).ok()?;
        n.names.push(k.to_string());
        n.insert_num(k, id);
        Some(id)
    }

    /// The id of the plain decimal name with value `k` if it is known: [`Vocab::get`] of that name.
    #[inline]
    pub fn get_decimal(&self, k: u64) -> Option<u32> {
        if self.numeric {
            return u32::try_from(k).ok();
        }
        self.names.get_num(k)
    }

    /// Makes room for `additional` more names without rehashing (a hint; numeric mode ignores it).
    pub fn reserve(&mut self, additional: usize) {
        if !self.numeric {
            let n = Arc::make_mut(&mut self.names);
            n.names.reserve(additional);
        }
    }

    /// The id of `name` if it is known (numeric mode: if it is a number).
    pub fn get(&self, name: &str) -> Option<u32> {
        if self.numeric {
            return name.parse::<u32>().ok();
        }
        match decimal_key(name) {
            Some(k) => self.names.get_num(k),
            None => self.names.index.get(name).copied(),
        }
    }

    /// The name of `id`. Unknown ids (never produced by this vocabulary) are shown as `#id`.
    pub fn name(&self, id: u32) -> std::borrow::Cow<'_, str> {
        if self.numeric {
            return std::borrow::Cow::Owned(id.to_string());
        }
        match self.names.names.get(id as usize) {
            Some(s) => std::borrow::Cow::Borrowed(s.as_str()),
            None => std::borrow::Cow::Owned(format!("#{id}")),
        }
    }

    /// Number of interned names (0 in numeric mode, where the id space is open).
    pub fn len(&self) -> usize {
        self.names.names.len()
    }

    /// Whether nothing was interned.
    pub fn is_empty(&self) -> bool {
        self.names.names.is_empty()
    }

    /// All interned names in id order.
    pub fn names(&self) -> &[String] {
        &self.names.names
    }

    /// Whether `self` and `other` share one copy of their names (see [`Vocab`]).
    pub fn shares_names_with(&self, other: &Vocab) -> bool {
        Arc::ptr_eq(&self.names, &other.names)
    }

    fn rebuild_index(&mut self) {
        let n = Arc::make_mut(&mut self.names);
        n.index = HashMap::new();
        n.num_index = HashMap::default();
        n.dense = Vec::new();
        let names = std::mem::take(&mut n.names);
        n.names.reserve_exact(names.len());
        for (i, name) in names.into_iter().enumerate() {
            // A repeated name (hand-edited file) maps to its last id, as it always did.
            match decimal_key(&name) {
                Some(k) => n.insert_num(k, i as u32),
                None => {
                    n.index.insert(name.clone(), i as u32);
                }
            }
            n.names.push(name);
        }
    }
}

/// The vocabularies of one converted log.
///
/// * `products`, `categories`, `actions` — the raw columns of the log;
/// * `users`, `sessions` — user and session identifiers as written in the log;
/// * `tokens` — the symbols of the [`crate::SequenceDb`] (the mined "items"), e.g. `cart_add:123`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Dictionary {
    /// Product (item column) names.
    pub products: Vocab,
    /// Category names.
    pub categories: Vocab,
    /// Action names (`view`, `cart_add`, …, or a custom name).
    pub actions: Vocab,
    /// User ids as written in the log.
    pub users: Vocab,
    /// Session ids as written in the log.
    pub sessions: Vocab,
    /// Names of the sequence database's symbols.
    pub tokens: Vocab,
}

/// Format version written into dictionary files; bumped on incompatible change.
/// (Format 2 added `spmf_token_shift`; format 1 files are read as shift 0.)
pub const DICTIONARY_FORMAT: u32 = 2;

#[derive(Deserialize)]
struct DictionaryFile {
    format: u32,
    /// Written beside an SPMF file whose item numbers are token ids plus this shift.
    #[serde(default)]
    spmf_token_shift: u32,
    #[serde(flatten)]
    dict: Dictionary,
}

/// What [`Dictionary::write_json`] serializes: the same fields as [`DictionaryFile`], borrowed (no copy
/// of the vocabularies).
#[derive(Serialize)]
struct DictionaryFileRef<'a> {
    format: u32,
    spmf_token_shift: u32,
    #[serde(flatten)]
    dict: &'a Dictionary,
}

impl Dictionary {
    /// An empty dictionary with interning vocabularies.
    pub fn new() -> Self {
        Self::default()
    }

    /// A dictionary for SPMF/numeric input: tokens are their own numbers.
    pub fn numeric_tokens() -> Self {
        Dictionary {
            tokens: Vocab::numeric(),
            ..Self::default()
        }
    }

    /// Writes the dictionary as JSON.
    pub fn write_json<W: Write>(&self, w: W) -> Result<(), serde_json::Error> {
        self.write_json_for_spmf(w, 0)
    }

    /// Writes the dictionary as JSON for an SPMF file whose item numbers are token ids plus `shift`
    /// ([`crate::spmf::SPMF_TOKEN_SHIFT`]); reading it back gives a token vocabulary whose ids are
    /// those numbers.
    pub fn write_json_for_spmf<W: Write>(&self, w: W, shift: u32) -> Result<(), serde_json::Error> {
        serde_json::to_writer(
            w,
            &DictionaryFileRef {
                format: DICTIONARY_FORMAT,
                spmf_token_shift: shift,
                dict: self,
            },
        )
    }

    /// Reads a dictionary written by [`Dictionary::write_json`].
    pub fn read_json<R: Read>(r: R, path: &Path) -> Result<Self, DataError> {
        let file: DictionaryFile = serde_json::from_reader(r).map_err(|e| {
            DataError::parse(
                crate::Location::line(path, e.line() as u64),
                "a cartseq dictionary (JSON)",
                &e.to_string(),
            )
        })?;
        if !(1..=DICTIONARY_FORMAT).contains(&file.format) {
            return Err(DataError::parse(
                crate::Location::file(path),
                format!("dictionary format {DICTIONARY_FORMAT}"),
                &file.format.to_string(),
            ));
        }
        let mut d = file.dict;
        for v in [
            &mut d.products,
            &mut d.categories,
            &mut d.actions,
            &mut d.users,
            &mut d.sessions,
            &mut d.tokens,
        ] {
            v.rebuild_index();
        }
        if file.spmf_token_shift > 0 && !d.tokens.is_numeric() {
            // The SPMF numbers are ids + shift: the ids below the shift name nothing (`#0`).
            let mut shifted = Vocab::new();
            for k in 0..file.spmf_token_shift {
                shifted.intern(&format!("#{k}"));
            }
            for name in d.tokens.names() {
                shifted.intern(name);
            }
            if shifted.len() != d.tokens.len() + file.spmf_token_shift as usize {
                return Err(DataError::parse(
                    crate::Location::file(path),
                    "token names distinct from the placeholder #0",
                    "a token named #0",
                ));
            }
            d.tokens = shifted;
        }
        Ok(d)
    }

    /// The conventional dictionary path beside a converted file: `OUT.dict.json`.
    pub fn path_beside(out: &Path) -> std::path::PathBuf {
        let mut s = out.as_os_str().to_owned();
        s.push(".dict.json");
        s.into()
    }

    /// Loads the dictionary beside `out` if there is one.
    pub fn load_beside(out: &Path) -> Result<Option<Self>, DataError> {
        let p = Self::path_beside(out);
        match std::fs::File::open(&p) {
            Ok(f) => Self::read_json(std::io::BufReader::new(f), &p).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(DataError::io(p, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `d` written as JSON and read back.
    fn json_round_tripped(d: &Dictionary) -> Dictionary {
        let mut buf = Vec::new();
        d.write_json(&mut buf).unwrap();
        Dictionary::read_json(&buf[..], Path::new("x")).unwrap()
    }

    #[test]
    fn spmf_shift_round_trips() {
        let mut d = Dictionary::new();
        d.tokens.intern("view:7");
        d.tokens.intern("buy:7");
        let mut buf = Vec::new();
        d.write_json_for_spmf(&mut buf, 1).unwrap();
        let back = Dictionary::read_json(&buf[..], Path::new("x")).unwrap();
        assert_eq!(back.tokens.get("view:7"), Some(1));
        assert_eq!(back.tokens.name(2), "buy:7");
        assert_eq!(back.tokens.name(0), "#0");
        // A format-1 file (no shift) still reads.
        let old = String::from_utf8(buf)
            .unwrap()
            .replace("\"format\":2", "\"format\":1");
        let old = old.replace("\"spmf_token_shift\":1,", "");
        let back = Dictionary::read_json(old.as_bytes(), Path::new("x")).unwrap();
        assert_eq!(back.tokens.get("view:7"), Some(0));
    }

    #[test]
    fn interning_is_dense_and_stable() {
        let mut v = Vocab::new();
        assert_eq!(v.intern("b"), Some(0));
        assert_eq!(v.intern("a"), Some(1));
        assert_eq!(v.intern("b"), Some(0));
        assert_eq!(v.name(1), "a");
        assert_eq!(v.name(7), "#7");
    }

    #[test]
    fn decimal_names_keep_first_seen_order_and_spelling() {
        let mut v = Vocab::new();
        let names = [
            "7",
            "007",
            "x7",
            "0",
            "00",
            "18446744073709551615",
            "9999999999999999999",
            "7",
            "-7",
            "+7",
            "７",
            "007",
        ];
        let ids: Vec<u32> = names.iter().map(|n| v.intern(n).unwrap()).collect();
        assert_eq!(ids, vec![0, 1, 2, 3, 4, 5, 6, 0, 7, 8, 9, 1]);
        assert_eq!(v.len(), 10);
        for (n, id) in names.iter().zip(&ids) {
            assert_eq!(v.get(n), Some(*id));
            assert_eq!(v.name(*id), *n);
        }
        assert_eq!(v.get("8"), None);
        assert_eq!(v.get("08"), None);
        assert_eq!(
            decimal_key("9999999999999999999"),
            Some(9_999_999_999_999_999_999)
        );
        assert_eq!(decimal_key("10000000000000000000"), None);
        assert_eq!(decimal_key("0"), Some(0));
        assert_eq!(decimal_key("01"), None);
        assert_eq!(decimal_key(""), None);
        let mut d = Dictionary::new();
        d.products = v;
        let back = json_round_tripped(&d);
        assert_eq!(back, d);
        for (n, id) in names.iter().zip(&ids) {
            assert_eq!(back.products.get(n), Some(*id));
        }
    }

    #[test]
    fn dense_and_hashed_decimal_names_agree() {
        // Far values start in the hash map and move into the dense table as the vocabulary grows.
        let mut order: Vec<u64> = vec![5_000_000, 123_456_789_012];
        order.extend((0..700_000).rev().step_by(3));
        order.extend([4_999_999, 5_000_001, 5_000_000, 42]);
        let mut v = Vocab::new();
        let mut expect = Vec::new();
        let mut seen = hashbrown::HashMap::new();
        for k in &order {
            let next = seen.len() as u32;
            let id = *seen.entry(*k).or_insert(next);
            expect.push(id);
            assert_eq!(v.intern(&k.to_string()), Some(id));
        }
        for (k, id) in order.iter().zip(&expect) {
            assert_eq!(v.get(&k.to_string()), Some(*id));
            assert_eq!(v.name(*id), k.to_string());
        }
        assert_eq!(v.get("700001"), None);
        let mut d = Dictionary::new();
        d.users = v;
        let back = json_round_tripped(&d);
        for (k, id) in order.iter().zip(&expect) {
            assert_eq!(back.users.get(&k.to_string()), Some(*id));
        }
    }

    #[test]
    fn numeric_vocab_keeps_numbers() {
        let mut v = Vocab::numeric();
        assert_eq!(v.intern("42"), Some(42));
        assert_eq!(v.intern("x"), None);
        assert_eq!(v.name(42), "42");
    }

    #[test]
    fn json_round_trip() {
        let mut d = Dictionary::new();
        d.products.intern("p1");
        d.tokens.intern("cart_add:p1");
        let back = json_round_tripped(&d);
        assert_eq!(back, d);
        assert_eq!(back.tokens.get("cart_add:p1"), Some(0));
    }
}

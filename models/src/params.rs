//! `--param key=value` parsing: every learner declares its keys once, in its own file, by visiting its
//! fields ([`crate::spec::LearnerParams::visit_keys`]); setting a key, listing the keys with their
//! defaults (`--param help`) and filling in the run's seed are three [`KeyVisitor`]s over that one list.
//!
//! A field type says how it is written on the command line by implementing [`ParamValue`] (integers,
//! finite numbers, booleans, `none`/`auto`/`scale` for optional values through [`Optional`], and the
//! model-specific enums next to their definitions), so the text of an error names the key as the user
//! wrote it and what is accepted, for every model alike.

use serde::{Deserialize, Serialize};

use cartseq_data::NamedEnum;

use crate::{ClassWeight, ModelError};

/// Builder setters of parameter structs: `setter!(/// doc. name: Type)` writes `fn name(self, v: Type)
/// -> Self`; `setter!(/// doc. name: Some(Type))` sets an optional field (`seed`).
macro_rules! setter {
    ($(#[$m:meta])* $name:ident : Some($t:ty)) => {
        $(#[$m])*
        pub fn $name(mut self, v: $t) -> Self {
            self.$name = Some(v);
            self
        }
    };
    ($(#[$m:meta])* $name:ident : $t:ty) => {
        $(#[$m])*
        pub fn $name(mut self, v: $t) -> Self {
            self.$name = v;
            self
        }
    };
}
pub(crate) use setter;

/// The settings every classical learner with randomness takes after its own: class weights and a
/// seed. Each learner's parameters hold one, `#[serde(flatten)]`ed so the keys stay `class_weight`
/// and `seed`; its builder setters come from [`WithShared`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SharedParams {
    /// Class weights (default none).
    pub class_weight: ClassWeight,
    /// Seed of the learner's randomness (`None` = 0); what it drives is said by each learner.
    pub seed: Option<u64>,
}

impl SharedParams {
    /// The seed, 0 when unset.
    pub fn seed_or_zero(&self) -> u64 {
        self.seed.unwrap_or(0)
    }

    /// Visits `class_weight` and `seed`, the last keys of every learner that has them.
    pub(crate) fn visit_keys(&mut self, v: &mut dyn KeyVisitor) -> Result<(), ModelError> {
        v.key(&["class_weight"], &mut self.class_weight)?;
        v.seed(&mut self.seed, 0)
    }
}

/// The builder setters of the [`SharedParams`] in a learner's parameters:
/// `AdaBoost::params().class_weight(ClassWeight::Balanced).seed(7)`.
pub trait WithShared: Sized {
    /// The shared settings.
    fn shared_mut(&mut self) -> &mut SharedParams;

    /// Sets the class weights.
    fn class_weight(mut self, class_weight: ClassWeight) -> Self {
        self.shared_mut().class_weight = class_weight;
        self
    }

    /// Sets the seed.
    fn seed(mut self, seed: u64) -> Self {
        self.shared_mut().seed = Some(seed);
        self
    }
}

/// A field that can be set from the text of a `key=value` parameter and shown as such.
pub trait ParamValue {
    /// Parses `text`, given for `key` (as the user spelled it), into `self`.
    fn set(&mut self, key: &str, text: &str) -> Result<(), ModelError>;
    /// The current value as `--param` writes it (`sqrt`, `none`, `0.001`).
    fn show(&self) -> String;
}

/// The spellings of a key: its name first, then the aliases it also accepts (`["n_trees",
/// "n_estimators"]`).
pub type Names = &'static [&'static str];

/// Sees every parameter key of a learner, in the order of its `--param help` listing.
pub trait KeyVisitor {
    /// One key: its spellings and the field it sets.
    fn key(&mut self, names: Names, value: &mut dyn ParamValue) -> Result<(), ModelError>;

    /// The `seed` key (`None` = the learner's `default`); typed so a run's seed can be filled in where
    /// the user gave none ([`crate::ModelSpec::seed_if_unset`]).
    fn seed(&mut self, seed: &mut Option<u64>, default: u64) -> Result<(), ModelError> {
        self.key(&["seed"], &mut SeedValue { seed, default })
    }
}

impl dyn KeyVisitor + '_ {
    /// An optional key: `value` is absent when the user writes `word` (`none`, `auto`, `scale`).
    pub fn optional<T: ParamValue + Default>(
        &mut self,
        names: Names,
        value: &mut Option<T>,
        word: &'static str,
    ) -> Result<(), ModelError> {
        self.key(names, &mut Optional::new(value, word))
    }
}

/// The error of a value that does not parse: `invalid parameter {key} = {text}: expected {expected}`.
pub fn bad_value(key: &str, text: &str, expected: &str) -> ModelError {
    ModelError::Registry(format!(
        "invalid parameter {key} = {text}: expected {expected}"
    ))
}

/// A setting chosen by name (`criterion=gini`): a [`NamedEnum`] whose table is also its `--param`
/// spelling, so parsing, showing and the error text all come from that one table.
pub trait Named: NamedEnum {}

impl<T: Named> ParamValue for T {
    fn set(&mut self, key: &str, text: &str) -> Result<(), ModelError> {
        *self = T::from_name(text).ok_or_else(|| bad_value(key, text, &T::expected()))?;
        Ok(())
    }
    fn show(&self) -> String {
        NamedEnum::name(*self).to_string()
    }
}

impl ParamValue for usize {
    fn set(&mut self, key: &str, text: &str) -> Result<(), ModelError> {
        *self = text
            .parse()
            .map_err(|_| bad_value(key, text, "a non-negative integer"))?;
        Ok(())
    }
    fn show(&self) -> String {
        self.to_string()
    }
}

impl ParamValue for f64 {
    fn set(&mut self, key: &str, text: &str) -> Result<(), ModelError> {
        *self = text
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| bad_value(key, text, "a finite number"))?;
        Ok(())
    }
    /// Shortest form that reads back: `1`, `0.1`, `1e-9`.
    fn show(&self) -> String {
        let s = format!("{self:?}");
        s.strip_suffix(".0").map_or(s.clone(), str::to_string)
    }
}

impl ParamValue for bool {
    fn set(&mut self, key: &str, text: &str) -> Result<(), ModelError> {
        *self = match text {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            _ => return Err(bad_value(key, text, "true or false")),
        };
        Ok(())
    }
    fn show(&self) -> String {
        self.to_string()
    }
}

/// Layer widths bottom first, written joined by `+` (`128+64`; `,` is accepted too).
impl ParamValue for Vec<usize> {
    fn set(&mut self, key: &str, text: &str) -> Result<(), ModelError> {
        *self = text
            .split(['+', ','])
            .map(|w| w.trim().parse::<usize>())
            .collect::<Result<_, _>>()
            .map_err(|_| bad_value(key, text, "layer widths joined by +, e.g. 128+64"))?;
        Ok(())
    }
    fn show(&self) -> String {
        let parts: Vec<String> = self.iter().map(usize::to_string).collect();
        parts.join("+")
    }
}

/// An optional value whose absence is written as a word: `max_depth=none`, `gamma=scale`,
/// `early_stopping=auto`.
pub struct Optional<'a, T> {
    value: &'a mut Option<T>,
    word: &'static str,
}

impl<'a, T> Optional<'a, T> {
    /// `value`, absent when the user writes `word`.
    pub fn new(value: &'a mut Option<T>, word: &'static str) -> Self {
        Optional { value, word }
    }
}

impl<T: ParamValue + Default> ParamValue for Optional<'_, T> {
    fn set(&mut self, key: &str, text: &str) -> Result<(), ModelError> {
        if text == self.word {
            *self.value = None;
            return Ok(());
        }
        let mut v = T::default();
        v.set(key, text)?;
        *self.value = Some(v);
        Ok(())
    }
    fn show(&self) -> String {
        self.value
            .as_ref()
            .map_or_else(|| self.word.to_string(), ParamValue::show)
    }
}

/// A seed field: shown as the learner's default while unset.
struct SeedValue<'a> {
    seed: &'a mut Option<u64>,
    default: u64,
}

impl ParamValue for SeedValue<'_> {
    fn set(&mut self, key: &str, text: &str) -> Result<(), ModelError> {
        *self.seed = Some(
            text.parse()
                .map_err(|_| bad_value(key, text, "a non-negative integer"))?,
        );
        Ok(())
    }
    fn show(&self) -> String {
        self.seed.unwrap_or(self.default).to_string()
    }
}

/// Collects the spellings and the current value of every key.
#[derive(Default)]
pub(crate) struct KeyList(pub Vec<(Names, String)>);

impl KeyVisitor for KeyList {
    fn key(&mut self, names: Names, value: &mut dyn ParamValue) -> Result<(), ModelError> {
        self.0.push((names, value.show()));
        Ok(())
    }
}

/// Applies `key=value` pairs, each where its key (or an alias) is declared. Keys are applied in the
/// learner's declaration order, pairs of one key in the user's order (the last wins), so keys that
/// refine another (`momentum` after `optimizer`, `lr_step` after `lr_decay`) work in any order.
pub(crate) struct KeySetter<'a> {
    pub pairs: &'a [(&'a str, &'a str)],
}

impl KeyVisitor for KeySetter<'_> {
    fn key(&mut self, names: Names, value: &mut dyn ParamValue) -> Result<(), ModelError> {
        for &(k, v) in self.pairs.iter().filter(|(k, _)| names.contains(k)) {
            value.set(k, v)?;
        }
        Ok(())
    }
}

/// Sets every unset seed to one value.
pub(crate) struct SeedFiller(pub u64);

impl KeyVisitor for SeedFiller {
    fn key(&mut self, _: Names, _: &mut dyn ParamValue) -> Result<(), ModelError> {
        Ok(())
    }
    fn seed(&mut self, seed: &mut Option<u64>, _default: u64) -> Result<(), ModelError> {
        seed.get_or_insert(self.0);
        Ok(())
    }
}

/// Refuses a count parameter of 0 (rounds, trees, iterations, rows per leaf).
pub(crate) fn check_at_least_one(name: &'static str, v: usize) -> Result<(), ModelError> {
    if v == 0 {
        Err(ModelError::invalid(name, v, ">= 1"))
    } else {
        Ok(())
    }
}

/// Refuses a number parameter that is not finite and > 0 (penalties, learning rates, tolerances,
/// smoothing).
pub(crate) fn check_positive(name: &'static str, v: f64) -> Result<(), ModelError> {
    if v > 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(ModelError::invalid(name, v, "a finite number > 0"))
    }
}

/// Refuses a number parameter that is not finite and ≥ 0 (regularisation strengths, where 0 is
/// none); `expected` is how the error words it (the networks say what 0 means).
pub(crate) fn check_non_negative(
    name: &'static str,
    v: f64,
    expected: &'static str,
) -> Result<(), ModelError> {
    if v >= 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(ModelError::invalid(name, v, expected))
    }
}

/// Refuses a sample fraction outside `(0, 1]` (bootstrap sizes of forests and bagging).
pub(crate) fn check_fraction(name: &'static str, f: f64) -> Result<(), ModelError> {
    if f > 0.0 && f <= 1.0 {
        Ok(())
    } else {
        Err(ModelError::invalid(name, f, "a fraction in (0, 1]"))
    }
}

/// Splits `key=value` (both trimmed).
pub(crate) fn split_kv(kv: &str) -> Result<(&str, &str), ModelError> {
    kv.split_once('=')
        .map(|(k, v)| (k.trim(), v.trim()))
        .ok_or_else(|| {
            ModelError::Registry(format!("parameter `{kv}` is not of the form key=value"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_show_as_they_parse() {
        let mut x = 0.0;
        for text in ["1", "0.1", "1e-9", "0.001", "1e-7", "5"] {
            x.set("k", text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(x.show(), text);
        }
        assert!(x.set("k", "inf").is_err());
        let mut d: Option<usize> = Some(3);
        let mut o = Optional::new(&mut d, "none");
        o.set("max_depth", "none").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(o.show(), "none");
        o.set("max_depth", "7").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d, Some(7));
        let mut h = vec![1];
        h.set("hidden", "128+64").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((h.clone(), h.show()), (vec![128, 64], "128+64".to_string()));
        let e = h.set("hidden", "x").err().map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("hidden = x")));
    }

    #[test]
    fn named_values_parse_aliases_and_show_their_name() {
        let mut a = crate::adaboost::AdaBoostAlgorithm::Samme;
        a.set("algorithm", "SAMME.R")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (a, a.show()),
            (
                crate::adaboost::AdaBoostAlgorithm::SammeR,
                "samme.r".to_string()
            )
        );
        let mut c = crate::tree::Criterion::Gini;
        let e = c.set("criterion", "mse").err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("invalid parameter criterion = mse: expected gini or entropy")
        );
    }
}

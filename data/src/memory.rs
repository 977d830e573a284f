//! The process-wide memory guard behind `--max-memory`: one limit, set once by the command line, and
//! two ways of checking it.
//!
//! * **Estimates before allocating** ([`check_estimate`]): a learner or a table that knows how much it is
//!   about to allocate asks first, so `--param hidden=1000000` is refused with the option's name instead
//!   of aborting in the allocator.
//! * **Periodic accounting** ([`Accountant`]): the miners, the rule miners, `next` and the task builder
//!   call [`Accountant::tick`] in their inner loops; every few thousand ticks it reads the resident set
//!   size of the process (`VmRSS` in `/proc/self/status`, ~10 µs) and fails once it is above the limit.
//!   Reading the real RSS (not a sum of estimates) means every allocation counts, whoever made it; freed
//!   memory the allocator keeps also counts, which errs on the safe side.
//!
//! This module is the one home of the limit: the models crate re-exports it (`cartseq_models::memory`)
//! for its estimates and for the periodic checks of long fits (trees, boosting rounds, epochs), so one
//! `--max-memory` governs every command.
//!
//! The default limit is three quarters of physical memory (`MemTotal` in `/proc/meminfo`); where that
//! cannot be read (not Linux) there is no default limit and only the count guards apply. Why a share of
//! physical memory and not of free memory: the answer must not depend on what else runs at the moment
//! (a run that passes once should pass again), and the guard is there to stop a run *before* the
//! machine swaps or the OOM killer picks a victim, not to pack the machine.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// `u64::MAX` = no limit.
static LIMIT: AtomicU64 = AtomicU64::new(u64::MAX);

/// The share of physical memory used as the default limit (numerator / 4).
pub const DEFAULT_SHARE_QUARTERS: u64 = 3;

/// The smallest accepted `--max-memory` (below it the program's own baseline would trip it).
pub const MIN_LIMIT: u64 = 16 << 20;

/// Sets the process-wide limit in bytes (`None`: no limit).
pub fn set_limit(bytes: Option<u64>) {
    LIMIT.store(bytes.unwrap_or(u64::MAX), Ordering::Relaxed);
}

/// The current limit in bytes, if any.
pub fn limit() -> Option<u64> {
    match LIMIT.load(Ordering::Relaxed) {
        u64::MAX => None,
        n => Some(n),
    }
}

/// Physical memory in bytes (`MemTotal` of `/proc/meminfo`), if it can be read.
pub fn physical_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    kib_field(&text, "MemTotal:")
}

/// The default limit: [`DEFAULT_SHARE_QUARTERS`]/4 of physical memory.
pub fn default_limit() -> Option<u64> {
    physical_memory().map(|m| m / 4 * DEFAULT_SHARE_QUARTERS)
}

/// Resident set size of this process in bytes (`VmRSS` of `/proc/self/status`), if it can be read.
pub fn resident_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    kib_field(&text, "VmRSS:")
}

fn kib_field(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(key))?;
    let kib: u64 = line[key.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Parses a size: `512M`, `2G`, `1.5GiB`, `3000000` (bytes), `50%` (of physical memory). Units are
/// binary (K = 1024). `none`/`off` = no limit.
pub fn parse_size(s: &str) -> Result<Option<u64>, String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("none") || t.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let bad = || format!("expected a size such as 2G, 512M, 75% or none, found {s:?}");
    if let Some(p) = t.strip_suffix('%') {
        let f: f64 = p.trim().parse().map_err(|_| bad())?;
        if !(f > 0.0 && f <= 100.0) {
            return Err(format!(
                "a share of memory must be in (0%, 100%], found {s:?}"
            ));
        }
        let phys = physical_memory().ok_or_else(|| {
            format!("{s:?}: physical memory is unknown here; give a size such as 2G")
        })?;
        return Ok(Some((phys as f64 * f / 100.0) as u64));
    }
    let lower = t.to_ascii_lowercase();
    let num_end = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == '+' || c == '-'))
        .unwrap_or(lower.len());
    // "1e9" parses as a number; a unit may follow.
    let (num, unit) = lower.split_at(num_end);
    let x: f64 = num.parse().map_err(|_| bad())?;
    let mult: f64 = match unit.trim() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err(bad()),
    };
    let bytes = x * mult;
    if !bytes.is_finite() || bytes < 0.0 {
        return Err(bad());
    }
    let bytes = bytes as u64;
    if bytes < MIN_LIMIT {
        return Err(format!(
            "{s:?} is below the smallest limit, 16M (the program itself needs about that much)"
        ));
    }
    Ok(Some(bytes))
}

/// Formats bytes for a message: `3.0 TiB`, `1.5 GiB`, `230.0 MiB`.
pub fn human(bytes: u64) -> String {
    let b = bytes as f64;
    const K: f64 = 1024.0;
    if b >= K * K * K * K {
        format!("{:.1} TiB", b / (K * K * K * K))
    } else if b >= K * K * K {
        format!("{:.1} GiB", b / (K * K * K))
    } else {
        format!("{:.1} MiB", b / (K * K))
    }
}

/// The memory limit was (or would be) exceeded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("memory use {} reached the limit --max-memory {}", human(*.used), human(*.limit))]
pub struct OverLimit {
    /// Bytes in use (resident) or about to be, when the guard fired.
    pub used: u64,
    /// The limit.
    pub limit: u64,
}

/// Checks that allocating `bytes` more would stay under the limit (counting what is resident now).
/// `Err` carries the total that would be reached.
pub fn check_estimate(bytes: u64) -> Result<(), OverLimit> {
    let Some(limit) = limit() else {
        return Ok(());
    };
    let now = resident_bytes().unwrap_or(0);
    let used = now.saturating_add(bytes);
    if used > limit {
        return Err(OverLimit { used, limit });
    }
    Ok(())
}

/// Checks the resident set size against the limit now.
pub fn check_now() -> Result<(), OverLimit> {
    check_with(limit(), resident_bytes)
}

/// How the resident set size is read: [`resident_bytes`], or a stand-in that a test injects to trip a
/// guard deterministically ([`Accountant::with_reader`]).
pub type RssReader = fn() -> Option<u64>;

/// Checks the resident set size as `read` reports it against `limit`.
fn check_with(limit: Option<u64>, read: RssReader) -> Result<(), OverLimit> {
    let Some(limit) = limit else {
        return Ok(());
    };
    match read() {
        Some(used) if used > limit => Err(OverLimit { used, limit }),
        _ => Ok(()),
    }
}

/// Periodic accounting shared by parallel workers: [`Accountant::tick`] is cheap (one relaxed atomic
/// add); every `every` ticks one caller reads the RSS. Once over the limit the accountant stays
/// tripped, so every worker stops at its next tick.
#[derive(Debug)]
pub struct Accountant {
    ticks: AtomicU64,
    every: u64,
    tripped: AtomicBool,
    used: AtomicU64,
    limit: Option<u64>,
    read: RssReader,
}

impl Default for Accountant {
    fn default() -> Self {
        Accountant::new(4096)
    }
}

impl Accountant {
    /// Reads the RSS once every `every` ticks (at least 1), against the process-wide limit as it is
    /// now (set once at start-up).
    pub fn new(every: u64) -> Self {
        Accountant::with_reader(every, limit(), resident_bytes)
    }

    /// [`Accountant::new`] with its own `limit` and RSS reader `read`: tests trip it
    /// deterministically with a reader that grows, without touching the process-wide limit.
    pub fn with_reader(every: u64, limit: Option<u64>, read: RssReader) -> Self {
        Accountant {
            ticks: AtomicU64::new(0),
            every: every.max(1),
            tripped: AtomicBool::new(false),
            used: AtomicU64::new(0),
            limit,
            read,
        }
    }

    /// Counts one unit of work; `Err` once the process is over the limit.
    #[inline]
    pub fn tick(&self) -> Result<(), OverLimit> {
        if self.tripped.load(Ordering::Relaxed) {
            return Err(self.error());
        }
        let n = self.ticks.fetch_add(1, Ordering::Relaxed);
        if n % self.every == self.every - 1 {
            return self.check();
        }
        Ok(())
    }

    /// Reads the RSS now.
    pub fn check(&self) -> Result<(), OverLimit> {
        if let Err(e) = check_with(self.limit, self.read) {
            self.used.store(e.used, Ordering::Relaxed);
            self.tripped.store(true, Ordering::Relaxed);
            return Err(e);
        }
        Ok(())
    }

    /// For `bytes` about to be allocated at once (a size known in advance, such as the output of a
    /// bulk step): `Err`, and tripped like a tick that read the RSS, when what is resident now plus
    /// `bytes` would pass the limit. A periodic tick cannot catch such a jump in time.
    pub fn reserve(&self, bytes: u64) -> Result<(), OverLimit> {
        if self.tripped() {
            return Err(self.error());
        }
        let Some(limit) = self.limit else {
            return Ok(());
        };
        let used = (self.read)().unwrap_or(0).saturating_add(bytes);
        if used > limit {
            self.used.store(used, Ordering::Relaxed);
            self.tripped.store(true, Ordering::Relaxed);
            return Err(OverLimit { used, limit });
        }
        Ok(())
    }

    /// Whether the limit was found exceeded.
    #[inline]
    pub fn tripped(&self) -> bool {
        self.tripped.load(Ordering::Relaxed)
    }

    /// The error of a tripped accountant.
    pub fn error(&self) -> OverLimit {
        OverLimit {
            used: self.used.load(Ordering::Relaxed),
            limit: self.limit.unwrap_or(u64::MAX),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("2G").unwrap(), Some(2 << 30));
        assert_eq!(parse_size("512M").unwrap(), Some(512 << 20));
        assert_eq!(parse_size("1.5GiB").unwrap(), Some(3 << 29));
        assert_eq!(parse_size("1e9").unwrap(), Some(1_000_000_000));
        assert_eq!(parse_size("none").unwrap(), None);
        assert!(parse_size("1M").is_err(), "below the minimum");
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0%").is_err());
    }

    #[test]
    fn accountant_reads_every_nth_tick_and_stays_tripped() {
        use std::sync::atomic::AtomicU64;
        static READS: AtomicU64 = AtomicU64::new(0);
        // A process that grows by 1 MiB per reading, against a 3 MiB limit.
        fn growing() -> Option<u64> {
            Some((READS.fetch_add(1, Ordering::Relaxed) + 1) << 20)
        }
        let a = Accountant::with_reader(2, Some(3 << 20), growing);
        let oks = (0..5).take_while(|_| a.tick().is_ok()).count();
        // Ticks 2 and 4 read 1 MiB and 2 MiB; tick 6 reads 3 MiB (not above); tick 8 reads 4 MiB.
        assert_eq!(oks, 5);
        assert!(a.tick().is_ok());
        assert!(!a.tripped());
        assert!(a.tick().is_ok());
        let e = a.tick().unwrap_err();
        assert_eq!(
            e,
            OverLimit {
                used: 4 << 20,
                limit: 3 << 20
            }
        );
        assert!(a.tripped());
        // Tripped: every worker stops at its next tick without reading again.
        assert_eq!(a.tick().unwrap_err(), e);
        assert_eq!(READS.load(Ordering::Relaxed), 4);
        assert!(
            e.to_string().contains("4.0 MiB") && e.to_string().contains("--max-memory 3.0 MiB")
        );
        // No limit: never trips.
        let free = Accountant::with_reader(1, None, growing);
        assert!((0..10).all(|_| free.tick().is_ok()));
    }

    #[test]
    fn reserve_counts_what_is_about_to_be_allocated() {
        fn two_mib() -> Option<u64> {
            Some(2 << 20)
        }
        let a = Accountant::with_reader(1_000_000, Some(3 << 20), two_mib);
        assert!(a.reserve(1 << 20).is_ok());
        assert!(!a.tripped());
        let e = a.reserve((1 << 20) + 1).unwrap_err();
        assert_eq!(
            e,
            OverLimit {
                used: (3 << 20) + 1,
                limit: 3 << 20
            }
        );
        // Tripped for every worker, like a tick over the limit.
        assert!(a.tripped());
        assert!(a.tick().is_err());
        assert!(Accountant::with_reader(1, None, two_mib)
            .reserve(u64::MAX)
            .is_ok());
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(3 << 20), "3.0 MiB");
        assert_eq!(human(3 << 29), "1.5 GiB");
        assert_eq!(human(3 << 40), "3.0 TiB");
    }

    #[test]
    fn rss_is_readable_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(resident_bytes().unwrap() > 0);
            assert!(physical_memory().unwrap() > 0);
        }
    }
}

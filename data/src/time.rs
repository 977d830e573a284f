//! Durations (`30m`, `1h`, `90d`, `500ms`) and dates (`2017-11-30`, `2017-11-30T12:00:00`, `12/1/2010 8:26`)
//! parsed into milliseconds, without a calendar dependency: dates are proleptic Gregorian in UTC (a
//! trailing `Z` or `±HH:MM` offset is honoured), converted with Howard Hinnant's `days_from_civil`.
//! Every parser is allocation-free and runs in time linear in its input.

use crate::event::Timestamp;

/// Milliseconds per second, minute, hour, day.
const MS: [(&str, i64); 6] = [
    ("ms", 1),
    ("s", 1_000),
    ("m", 60_000),
    ("h", 3_600_000),
    ("d", 86_400_000),
    ("w", 7 * 86_400_000),
];

/// Parses a duration: a non-negative integer followed by a unit `ms`, `s`, `m`, `h`, `d` or `w`
/// (`30m`, `1h`, `90d`, `500ms`); several parts may be chained (`1h30m`). A bare number is seconds.
/// Returns milliseconds, or a message saying what was expected.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("a duration such as 30m, 1h, 1d or 500ms, found an empty value".into());
    }
    if let Ok(secs) = t.parse::<i64>() {
        if secs < 0 {
            return Err(format!("a non-negative duration, found {s:?}"));
        }
        return secs
            .checked_mul(1000)
            .ok_or_else(|| format!("a duration below 292 million years, found {s:?}"));
    }
    let b = t.as_bytes();
    let mut i = 0;
    let mut total: i64 = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return Err(format!(
                "a duration such as 30m, 1h, 1d or 500ms (number then unit), found {s:?}"
            ));
        }
        let n: i64 = t[start..i]
            .parse()
            .map_err(|_| format!("a duration with a smaller number, found {s:?}"))?;
        let ustart = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit = &t[ustart..i];
        let Some(&(_, mult)) = MS.iter().find(|(u, _)| *u == unit) else {
            return Err(format!(
                "a duration unit ms, s, m, h, d or w, found {unit:?} in {s:?}"
            ));
        };
        total = n
            .checked_mul(mult)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("a duration below 292 million years, found {s:?}"))?;
    }
    Ok(total)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let d = i64::from(d);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The calendar date `(year, month, day)` of a day count since 1970-01-01 (inverse of
/// [`days_from_civil`]).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// A cursor over ASCII digits and separators.
struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    /// A cursor at the start of `s` (trimmed).
    fn new(s: &'a str) -> Self {
        Cur {
            b: s.trim().as_bytes(),
            i: 0,
        }
    }
    /// Reads between `min` and `max` digits.
    fn num(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        let mut v: u32 = 0;
        while self.i < self.b.len() && self.i - start < max && self.b[self.i].is_ascii_digit() {
            v = v * 10 + u32::from(self.b[self.i] - b'0');
            self.i += 1;
        }
        (self.i - start >= min).then_some(v)
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn done(&self) -> bool {
        self.i >= self.b.len()
    }
}

fn checked_ymd(y: i64, m: u32, d: u32) -> Option<i64> {
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// Parses the time of day after a date: `HH[:MM[:SS[.fff]]]` then an optional `Z` or `±HH[:MM]` offset.
/// Returns milliseconds since midnight UTC.
fn time_of_day(c: &mut Cur<'_>) -> Option<i64> {
    let h = c.num(1, 2)?;
    let mut mi = 0;
    let mut s = 0;
    let mut ms: i64 = 0;
    if c.eat(b':') {
        mi = c.num(2, 2)?;
        if c.eat(b':') {
            s = c.num(2, 2)?;
            if c.eat(b'.') || c.eat(b',') {
                let start = c.i;
                let mut frac: i64 = 0;
                while let Some(d) = c.peek().filter(u8::is_ascii_digit) {
                    if c.i - start < 3 {
                        frac = frac * 10 + i64::from(d - b'0');
                    }
                    c.i += 1;
                }
                let n = c.i - start;
                if n == 0 {
                    return None;
                }
                for _ in n..3 {
                    frac *= 10;
                }
                ms = frac;
            }
        }
    }
    if h > 24 || mi > 59 || s > 60 || (h == 24 && (mi > 0 || s > 0)) {
        return None;
    }
    let mut off: i64 = 0;
    match c.peek() {
        Some(b'Z') | Some(b'z') => c.i += 1,
        Some(sign @ (b'+' | b'-')) => {
            c.i += 1;
            let oh = c.num(2, 2)?;
            c.eat(b':');
            let om = if c.done() { 0 } else { c.num(2, 2)? };
            off = (i64::from(oh) * 60 + i64::from(om)) * 60_000;
            if sign == b'-' {
                off = -off;
            }
        }
        _ => {}
    }
    Some((i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s)) * 1000 + ms - off)
}

/// Parses an ISO-8601-like date or date-time into milliseconds since the epoch (UTC):
/// `2017-11-30`, `2017-11-30 12`, `2017-11-30T12:00`, `2017-11-30 12:00:00.123`, `2014-04-07T10:51:09.277Z`,
/// `2017-11-30T12:00:00+08:00`. `None` if it is not one.
pub fn parse_iso(s: &str) -> Option<i64> {
    use DatePart::{Day, Month, Year};
    parse_date_layout(s, [Year, Month, Day], b'-', b"Tt ")
}

/// Parses a US-style date `M/D/YYYY[ H:MM[:SS]]` (UCI Online Retail) into milliseconds (UTC).
pub fn parse_mdy(s: &str) -> Option<i64> {
    use DatePart::{Day, Month, Year};
    parse_date_layout(s, [Month, Day, Year], b'/', b" ")
}

/// One number of a date.
#[derive(Clone, Copy)]
enum DatePart {
    /// Four digits.
    Year,
    /// One or two digits.
    Month,
    /// One or two digits.
    Day,
}

/// A date of three numbers in the order `order`, separated by `sep`, then optionally one of
/// `time_seps` and a time of day ([`time_of_day`]), as milliseconds since the epoch (UTC); `None`
/// unless that is the whole (trimmed) input.
fn parse_date_layout(s: &str, order: [DatePart; 3], sep: u8, time_seps: &[u8]) -> Option<i64> {
    let mut c = Cur::new(s);
    let (mut y, mut m, mut d) = (0, 0, 0);
    for (k, part) in order.into_iter().enumerate() {
        if k > 0 && !c.eat(sep) {
            return None;
        }
        match part {
            DatePart::Year => y = c.num(4, 4)?,
            DatePart::Month => m = c.num(1, 2)?,
            DatePart::Day => d = c.num(1, 2)?,
        }
    }
    let mut ms = checked_ymd(i64::from(y), m, d)? * 86_400_000;
    if !c.done() {
        if !time_seps.iter().any(|&t| c.eat(t)) {
            return None;
        }
        ms += time_of_day(&mut c)?;
    }
    c.done().then_some(ms)
}

/// Parses a decimal number of seconds (`1396437466.94`) into milliseconds, exactly (no float rounding).
pub fn parse_secs_frac(s: &str) -> Option<i64> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    let neg = int.starts_with('-');
    let secs: i64 = int.parse().ok()?;
    if !frac.bytes().all(|b| b.is_ascii_digit()) || (int.is_empty() || int == "-") {
        return None;
    }
    let mut ms: i64 = 0;
    for (k, b) in frac.bytes().take(3).enumerate() {
        ms += i64::from(b - b'0') * [100, 10, 1][k];
    }
    let base = secs.checked_mul(1000)?;
    Some(if neg { base - ms } else { base + ms })
}

/// Parses a user-given date bound for `--from`/`--to`: a date (`2017-11-30`), a date-time, or an integer
/// of Unix seconds.
pub fn parse_date(s: &str) -> Result<Timestamp, String> {
    if let Some(ms) = parse_iso(s) {
        return Ok(Timestamp(ms));
    }
    if let Ok(secs) = s.trim().parse::<i64>() {
        return Ok(Timestamp::from_secs(secs));
    }
    Err(format!(
        "a date such as 2017-11-30 or 2017-11-30T12:00:00 (UTC) or Unix seconds, found {s:?}"
    ))
}

/// A time format of a log column.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum TimeFormat {
    /// Guess per value: an integer is Unix seconds (milliseconds if it has 13 or more digits), a decimal is
    /// fractional seconds, otherwise ISO-8601 or `M/D/YYYY H:MM`.
    #[default]
    Auto,
    /// Integer Unix seconds.
    Secs,
    /// Integer Unix milliseconds.
    Millis,
    /// ISO-8601 date or date-time.
    Iso,
    /// A `strftime`-like pattern using `%Y %m %d %H %M %S %f %%` (numbers may have fewer digits than
    /// their width, so `%m/%d/%Y %H:%M` reads `12/1/2010 8:26`).
    Pattern(String),
}

impl std::str::FromStr for TimeFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "auto" => TimeFormat::Auto,
            "secs" | "s" | "unix" => TimeFormat::Secs,
            "ms" | "millis" | "unix-ms" => TimeFormat::Millis,
            "iso" => TimeFormat::Iso,
            p if p.contains('%') => TimeFormat::Pattern(p.to_owned()),
            _ => {
                return Err(format!(
                    "expected a time format (auto, secs, ms, iso or a pattern like %Y-%m-%d %H:%M:%S), found {s:?}"
                ))
            }
        })
    }
}

impl TimeFormat {
    /// Parses `s` into milliseconds since the epoch.
    pub fn parse(&self, s: &str) -> Option<i64> {
        match self {
            TimeFormat::Auto => parse_auto(s),
            TimeFormat::Secs => s.parse::<i64>().ok()?.checked_mul(1000),
            TimeFormat::Millis => s.parse::<i64>().ok(),
            TimeFormat::Iso => parse_iso(s),
            TimeFormat::Pattern(p) => parse_pattern(p, s),
        }
    }

    /// What this format expects, for error messages.
    pub fn describe(&self) -> String {
        match self {
            TimeFormat::Auto => "a timestamp (Unix seconds or ms, or a date)".into(),
            TimeFormat::Secs => "integer Unix seconds".into(),
            TimeFormat::Millis => "integer Unix milliseconds".into(),
            TimeFormat::Iso => "an ISO-8601 date such as 2017-11-30T12:00:00".into(),
            TimeFormat::Pattern(p) => format!("a date in the format {p:?}"),
        }
    }
}

/// [`TimeFormat::Auto`].
pub fn parse_auto(s: &str) -> Option<i64> {
    let t = s.trim();
    let b = t.as_bytes();
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    let int_like = !b.is_empty() && (digits == b.len() || (b[0] == b'-' && digits == b.len() - 1));
    if int_like {
        let v: i64 = t.parse().ok()?;
        return if digits >= 13 {
            Some(v)
        } else {
            v.checked_mul(1000)
        };
    }
    if memchr::memchr(b'.', b).is_some() && !t.contains(['-', '/', ':']) {
        return parse_secs_frac(t);
    }
    parse_iso(t).or_else(|| parse_mdy(t))
}

/// Parses `s` against a `strftime`-like pattern (see [`TimeFormat::Pattern`]).
pub fn parse_pattern(pattern: &str, s: &str) -> Option<i64> {
    let mut c = Cur::new(s);
    let (mut y, mut mo, mut d, mut h, mut mi, mut sec, mut ms) =
        (1970i64, 1u32, 1u32, 0u32, 0u32, 0u32, 0i64);
    let p = pattern.as_bytes();
    let mut k = 0;
    while k < p.len() {
        if p[k] == b'%' && k + 1 < p.len() {
            match p[k + 1] {
                b'Y' => y = i64::from(c.num(4, 4)?),
                b'm' => mo = c.num(1, 2)?,
                b'd' => d = c.num(1, 2)?,
                b'H' => h = c.num(1, 2)?,
                b'M' => mi = c.num(1, 2)?,
                b'S' => sec = c.num(1, 2)?,
                b'f' => {
                    let start = c.i;
                    let v = c.num(1, 9)?;
                    let n = c.i - start;
                    let mut v = i64::from(v);
                    for _ in n..3 {
                        v *= 10;
                    }
                    for _ in 3..n {
                        v /= 10;
                    }
                    ms = v;
                }
                b'%' => {
                    if !c.eat(b'%') {
                        return None;
                    }
                }
                _ => return None,
            }
            k += 2;
        } else {
            if !c.eat(p[k]) {
                return None;
            }
            k += 1;
        }
    }
    if !c.done() || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let days = checked_ymd(y, mo, d)?;
    Some(
        days * 86_400_000 + (i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(sec)) * 1000 + ms,
    )
}

/// Formats milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (UTC), for reports.
pub fn format_iso(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000) / 1000;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30m"), Ok(1_800_000));
        assert_eq!(parse_duration("1h"), Ok(3_600_000));
        assert_eq!(parse_duration("1d"), Ok(86_400_000));
        assert_eq!(parse_duration("90d"), Ok(90 * 86_400_000));
        assert_eq!(parse_duration("500ms"), Ok(500));
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration("45"), Ok(45_000));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("3x").is_err());
        assert!(parse_duration("-3").is_err());
    }

    #[test]
    fn dates() {
        assert_eq!(parse_iso("1970-01-01"), Some(0));
        assert_eq!(parse_iso("2017-11-25"), Some(1_511_568_000_000));
        assert_eq!(parse_iso("2017-11-30T12:00:00"), Some(1_512_043_200_000));
        assert_eq!(parse_iso("2017-11-30 12"), Some(1_512_043_200_000));
        assert_eq!(
            parse_iso("2014-04-07T10:51:09.277Z"),
            Some(1_396_867_869_277)
        );
        assert_eq!(
            parse_iso("2017-11-30T20:00:00+08:00"),
            Some(1_512_043_200_000)
        );
        assert_eq!(parse_iso("2017-02-29"), None);
        assert_eq!(parse_iso("2017-13-01"), None);
        assert_eq!(parse_iso("2017-11-30x"), None);
        assert_eq!(
            parse_mdy("12/1/2010 8:26"),
            parse_iso("2010-12-01T08:26:00")
        );
        assert_eq!(parse_secs_frac("1396437466.94"), Some(1_396_437_466_940));
        assert_eq!(parse_secs_frac("1396437466"), Some(1_396_437_466_000));
        assert_eq!(parse_secs_frac("1.2.3"), None);
        assert_eq!(parse_date("2017-11-30").map(|t| t.0), Ok(1_512_000_000_000));
        assert_eq!(format_iso(1_512_043_200_000), "2017-11-30T12:00:00Z");
    }

    #[test]
    fn civil_round_trip() {
        for z in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }

    #[test]
    fn patterns_and_auto() {
        let f: TimeFormat = "%m/%d/%Y %H:%M".parse().unwrap();
        assert_eq!(f.parse("12/1/2010 8:26"), parse_iso("2010-12-01T08:26"));
        assert_eq!(f.parse("12/1/2010"), None);
        assert_eq!(parse_auto("1511544070"), Some(1_511_544_070_000));
        assert_eq!(parse_auto("1433221332117"), Some(1_433_221_332_117));
        assert_eq!(
            parse_auto("2010-12-01 08:26:00"),
            parse_iso("2010-12-01T08:26")
        );
        assert_eq!(parse_auto("pv"), None);
    }
}

//! INTERNALDATE (RFC 9051 `date-time`): `"dd-Mon-yyyy hh:mm:ss +zzzz"`, the time the server
//! received a message.
//!
//! The text is kept as sent (a program may show it or write it back in APPEND) and read into
//! a [`DateTime`] where it follows the grammar. Servers are read leniently: a day of one
//! digit, with or without its leading space, month names in any case, missing seconds or a
//! missing zone (taken as UTC) are accepted; impossible values (31 February, hour 25, a zone
//! past 24 hours) are not, and leave only the text.

use std::fmt;

/// An INTERNALDATE: the text as the server sent it and, when it parsed, its value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InternalDate {
    raw: String,
    parsed: Option<DateTime>,
}

/// A calendar date and time of day with its offset from UTC, as IMAP writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTime {
    /// The year (1 to 9999).
    pub year: u16,
    /// The month, 1 (January) to 12.
    pub month: u8,
    /// The day of the month, from 1.
    pub day: u8,
    /// Hours, 0 to 23.
    pub hour: u8,
    /// Minutes, 0 to 59.
    pub minute: u8,
    /// Seconds, 0 to 60 (a leap second).
    pub second: u8,
    /// The zone: minutes east of UTC (`-0700` is -420).
    pub offset_minutes: i16,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl InternalDate {
    /// Reads `raw` (without the quotes); the text is kept whether or not it parses.
    pub fn parse(raw: &str) -> Self {
        InternalDate {
            raw: raw.to_owned(),
            parsed: DateTime::parse(raw),
        }
    }

    /// The text as the server sent it.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The value, when the text followed the grammar.
    pub fn date_time(&self) -> Option<DateTime> {
        self.parsed
    }

    /// Seconds since 1970-01-01 00:00:00 UTC, when the text parsed.
    pub fn unix_timestamp(&self) -> Option<i64> {
        self.parsed.map(|d| d.unix_timestamp())
    }
}

impl From<&str> for InternalDate {
    fn from(raw: &str) -> Self {
        InternalDate::parse(raw)
    }
}

impl fmt::Display for InternalDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl DateTime {
    /// Reads `date-time` without its quotes: `d[d]-Mon-yyyy hh:mm[:ss] [(+|-)zzzz]`.
    pub fn parse(text: &str) -> Option<DateTime> {
        let text = text.trim();
        let (date, rest) = text.split_once(' ')?;
        let rest = rest.trim_start();
        let (time, zone) = match rest.split_once(' ') {
            Some((t, z)) => (t, z.trim()),
            None => (rest, ""),
        };
        let mut date = date.split('-');
        let day = digits(date.next()?, 1, 2)?;
        let month_name = date.next()?;
        let month = MONTHS
            .iter()
            .position(|m| m.eq_ignore_ascii_case(month_name))?;
        let year = digits(date.next()?, 4, 4)?;
        if date.next().is_some() {
            return None;
        }
        let mut time = time.split(':');
        let hour = digits(time.next()?, 2, 2)?;
        let minute = digits(time.next()?, 2, 2)?;
        let second = match time.next() {
            Some(s) => digits(s, 2, 2)?,
            None => 0,
        };
        if time.next().is_some() {
            return None;
        }
        let offset_minutes = match zone.as_bytes() {
            [] => 0,
            [sign @ (b'+' | b'-'), ..] => {
                let hhmm = digits(zone.get(1..)?, 4, 4)?;
                let (h, m) = (hhmm / 100, hhmm % 100);
                if h > 24 || m > 59 {
                    return None;
                }
                // At most 24 * 60 + 59: fits i16.
                let minutes = i16::try_from(h.saturating_mul(60).saturating_add(m)).ok()?;
                if *sign == b'-' {
                    minutes.saturating_neg()
                } else {
                    minutes
                }
            }
            _ => return None,
        };
        let month = u8::try_from(month.checked_add(1)?).ok()?;
        let year = u16::try_from(year).ok()?;
        let day = u8::try_from(day).ok()?;
        if year == 0
            || day == 0
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return None;
        }
        Some(DateTime {
            year,
            month,
            day,
            hour: u8::try_from(hour).ok()?,
            minute: u8::try_from(minute).ok()?,
            second: u8::try_from(second).ok()?,
            offset_minutes,
        })
    }

    /// Seconds since 1970-01-01 00:00:00 UTC.
    pub fn unix_timestamp(&self) -> i64 {
        // Every field is bounded by its type, so nothing here comes near i64's range
        // (|result| < 10^13); the saturating operations only spell that out.
        let days = days_from_civil(
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        );
        days.saturating_mul(86_400)
            .saturating_add(i64::from(self.hour).saturating_mul(3_600))
            .saturating_add(i64::from(self.minute).saturating_mul(60))
            .saturating_add(i64::from(self.second))
            .saturating_sub(i64::from(self.offset_minutes).saturating_mul(60))
    }
}

impl fmt::Display for DateTime {
    /// Writes the IMAP form, `dd-Mon-yyyy hh:mm:ss +zzzz` (what APPEND takes).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let month = MONTHS
            .get(usize::from(self.month).saturating_sub(1))
            .unwrap_or(&"Jan");
        let sign = if self.offset_minutes < 0 { '-' } else { '+' };
        let off = self.offset_minutes.unsigned_abs();
        write!(
            f,
            "{:02}-{month}-{:04} {:02}:{:02}:{:02} {sign}{:02}{:02}",
            self.day,
            self.year,
            self.hour,
            self.minute,
            self.second,
            off / 60,
            off % 60
        )
    }
}

/// `min..=max` ASCII digits (a leading space allowed for a one-digit day).
fn digits(s: &str, min: usize, max: usize) -> Option<u32> {
    let s = s.trim_start();
    if s.len() < min || s.len() > max || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`). The caller passes a checked year (1 to 9999), month and day.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 {
        year.saturating_sub(1)
    } else {
        year
    };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = month.saturating_add(9).rem_euclid(12);
    let doy = mp
        .saturating_mul(153)
        .saturating_add(2)
        .div_euclid(5)
        .saturating_add(day)
        .saturating_sub(1);
    let doe = yoe
        .saturating_mul(365)
        .saturating_add(yoe.div_euclid(4))
        .saturating_sub(yoe.div_euclid(100))
        .saturating_add(doy);
    era.saturating_mul(146_097)
        .saturating_add(doe)
        .saturating_sub(719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_example_and_epoch() {
        let d = InternalDate::parse("17-Jul-1996 02:44:25 -0700");
        assert_eq!(d.as_str(), "17-Jul-1996 02:44:25 -0700");
        let t = d.date_time().unwrap_or_else(|| unreachable!("parses"));
        assert_eq!((t.year, t.month, t.day), (1996, 7, 17));
        assert_eq!(
            (t.hour, t.minute, t.second, t.offset_minutes),
            (2, 44, 25, -420)
        );
        // 1996-07-17T09:44:25Z
        assert_eq!(d.unix_timestamp(), Some(837_596_665));
        assert_eq!(t.to_string(), "17-Jul-1996 02:44:25 -0700");
        assert_eq!(
            InternalDate::parse("01-Jan-1970 00:00:00 +0000").unix_timestamp(),
            Some(0)
        );
        assert_eq!(
            InternalDate::parse("29-Feb-2000 23:59:60 +0100").unix_timestamp(),
            Some(951_865_200)
        );
    }

    #[test]
    fn lenient_forms() {
        for (text, stamp) in [
            (" 7-Feb-1994 21:52:25 -0800", 760_686_745),
            ("7-feb-1994 21:52:25 -0800", 760_686_745),
            ("07-FEB-1994 21:52 -0800", 760_686_720),
            ("07-Feb-1994 21:52:25", 760_657_945),
            ("07-Feb-1994  21:52:25  -0800 ", 760_686_745),
        ] {
            assert_eq!(
                InternalDate::parse(text).unix_timestamp(),
                Some(stamp),
                "{text:?}"
            );
        }
    }

    #[test]
    fn impossible_values_keep_only_the_text() {
        for text in [
            "",
            "garbage",
            "31-Feb-2001 00:00:00 +0000",
            "29-Feb-1900 00:00:00 +0000",
            "01-Foo-2001 00:00:00 +0000",
            "01-Jan-2001 24:00:00 +0000",
            "01-Jan-2001 23:60:00 +0000",
            "01-Jan-2001 23:00:00 +2500",
            "01-Jan-2001 23:00:00 0000",
            "01-Jan-0000 23:00:00 +0000",
            "001-Jan-2001 23:00:00 +0000",
            "01-Jan-2001-5 23:00:00 +0000",
            "01-Jan-2001 23:00:00:00 +0000",
            "01-Jan-2001 +3:00:00 +0000",
            "01-Jan-99999 23:00:00 +0000",
            "١-Jan-2001 23:00:00 +0000",
        ] {
            let d = InternalDate::parse(text);
            assert_eq!(d.date_time(), None, "{text:?}");
            assert_eq!(d.as_str(), text);
        }
    }
}

//! Vietnamese display conventions: dates dd/mm/yyyy, thousands separated by a dot.

use time::{Date, Month, OffsetDateTime, UtcOffset};

/// Vietnam has kept UTC+7 without daylight saving since 1975.
pub const VIETNAM_OFFSET: UtcOffset = match UtcOffset::from_hms(7, 0, 0) {
    Ok(offset) => offset,
    Err(_) => panic!("UTC+7 is a valid offset"),
};

pub fn date(day: Date) -> String {
    format!(
        "{:02}/{:02}/{:04}",
        day.day(),
        day.month() as u8,
        day.year()
    )
}

/// An instant as Vietnamese local time, "dd/mm/yyyy HH:MM".
pub fn instant(at: OffsetDateTime) -> String {
    let local = at.to_offset(VIETNAM_OFFSET);
    format!(
        "{} {:02}:{:02}",
        date(local.date()),
        local.hour(),
        local.minute()
    )
}

/// Today in Vietnam.
pub fn local_date(now: OffsetDateTime) -> Date {
    now.to_offset(VIETNAM_OFFSET).date()
}

/// The first instant of a Vietnamese calendar day.
pub fn start_of_day(day: Date) -> OffsetDateTime {
    day.with_time(time::Time::MIDNIGHT)
        .assume_offset(VIETNAM_OFFSET)
}

/// Parses dd/mm/yyyy (as typed by users) or yyyy-mm-dd (as sent by browsers and APIs).
pub fn parse_date(text: &str) -> Option<Date> {
    let text = text.trim();
    let (y, m, d) = if let Some((d, rest)) = text.split_once('/') {
        let (m, y) = rest.split_once('/')?;
        (y, m, d)
    } else {
        let mut parts = text.splitn(3, '-');
        (parts.next()?, parts.next()?, parts.next()?)
    };
    if y.len() != 4 {
        return None;
    }
    let month = Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

/// A whole number with the thousands separator of the language: 1.052 (vi), 1,052 (en).
pub fn number(value: i64, separator: char) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::new();
    if value < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn dates() {
        assert_eq!(date(date!(2018 - 01 - 24)), "24/01/2018");
        let cases = [
            ("24/01/2018", Some(date!(2018 - 01 - 24))),
            ("2018-01-24", Some(date!(2018 - 01 - 24))),
            ("5/3/2019", Some(date!(2019 - 03 - 05))),
            ("31/02/2019", None),
            ("24/01/18", None),
            ("hôm qua", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_date(text), expected, "{text:?}");
        }
    }

    #[test]
    fn instants_show_in_vietnam_time() {
        assert_eq!(instant(datetime!(2020-07-02 20:30 UTC)), "03/07/2020 03:30");
    }

    #[test]
    fn numbers() {
        let cases = [
            (0, "0"),
            (97, "97"),
            (1052, "1.052"),
            (5558, "5.558"),
            (-1234567, "-1.234.567"),
        ];
        for (value, expected) in cases {
            assert_eq!(number(value, '.'), expected);
        }
        assert_eq!(number(1052, ','), "1,052");
    }
}

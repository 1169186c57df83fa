//! Go `time.ParseDuration` syntax: `"300ms"`, `"1.5h"`, `"2h45m30s"`, `"0"`.
//!
//! A duration is an optional `+` sign followed by one or more `<decimal><unit>` parts, units
//! `ns`, `us` (`µs`, `μs`), `ms`, `s`, `m`, `h`. Negative values (`-5m`) are refused because
//! no setting can use them; `-0` is accepted as zero, like Go. The largest value accepted is
//! Go's, `i64::MAX` nanoseconds (about 292 years).

use std::time::Duration;

/// Why a string is not a Go duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DurationError {
    /// The string is empty.
    #[error("empty duration")]
    Empty,
    /// A number is not followed by a unit (only a bare `0` may omit it).
    #[error("missing unit")]
    MissingUnit,
    /// The unit is not one of `ns`, `us`, `µs`, `ms`, `s`, `m`, `h`.
    #[error("unknown unit {0:?} (use ns, us, ms, s, m or h)")]
    UnknownUnit(String),
    /// A character that cannot start a number, or a number without digits.
    #[error("malformed number")]
    Malformed,
    /// The value is below zero.
    #[error("negative durations are not allowed")]
    Negative,
    /// The value exceeds Go's maximum duration.
    #[error("duration is too large")]
    Overflow,
}

const NANOS_MAX: u128 = i64::MAX as u128;
/// Fraction digits kept; later digits are below a nanosecond for every unit.
const FRACTION_DIGITS: u32 = 18;

/// Parses a Go duration string such as `"15m"`, `"168h"`, `"1h30m"` or `"500ms"`.
pub fn duration(input: &str) -> Result<Duration, DurationError> {
    let (negative, mut rest) = match input.as_bytes().first() {
        Some(b'-') => (true, &input[1..]),
        Some(b'+') => (false, &input[1..]),
        _ => (false, input),
    };
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(DurationError::Empty);
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let (nanos, tail) = component(rest)?;
        total = total.checked_add(nanos).ok_or(DurationError::Overflow)?;
        if total > NANOS_MAX {
            return Err(DurationError::Overflow);
        }
        rest = tail;
    }
    if negative && total > 0 {
        return Err(DurationError::Negative);
    }
    let nanos = u64::try_from(total).map_err(|_| DurationError::Overflow)?;
    Ok(Duration::from_nanos(nanos))
}

/// Parses one `<decimal><unit>` part; returns its nanoseconds and the unparsed tail.
fn component(s: &str) -> Result<(u128, &str), DurationError> {
    let bytes = s.as_bytes();
    let int_len = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    let mut whole: u128 = 0;
    for b in &bytes[..int_len] {
        whole = whole * 10 + u128::from(b - b'0');
        if whole > NANOS_MAX {
            return Err(DurationError::Overflow);
        }
    }
    let mut pos = int_len;
    let (mut fraction, mut scale, mut frac_len) = (0u128, 1u128, 0usize);
    if bytes.get(pos) == Some(&b'.') {
        pos += 1;
        frac_len = bytes[pos..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        for (i, b) in bytes[pos..pos + frac_len].iter().enumerate() {
            if i < FRACTION_DIGITS as usize {
                fraction = fraction * 10 + u128::from(b - b'0');
                scale *= 10;
            }
        }
        pos += frac_len;
    }
    if int_len == 0 && frac_len == 0 {
        return Err(DurationError::Malformed);
    }
    let unit_len = bytes[pos..]
        .iter()
        .take_while(|b| **b != b'.' && !b.is_ascii_digit())
        .count();
    if unit_len == 0 {
        return Err(DurationError::MissingUnit);
    }
    let unit_str = &s[pos..pos + unit_len];
    let unit = unit_nanos(unit_str).ok_or_else(|| DurationError::UnknownUnit(unit_str.into()))?;
    let nanos = whole
        .checked_mul(unit)
        .and_then(|n| n.checked_add(fraction * unit / scale))
        .ok_or(DurationError::Overflow)?;
    Ok((nanos, &s[pos + unit_len..]))
}

fn unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60 * 1_000_000_000,
        "h" => 3_600 * 1_000_000_000,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;

    use super::{DurationError, duration};

    #[test]
    fn parses_go_examples() {
        let cases = [
            ("0", Duration::ZERO),
            ("-0", Duration::ZERO),
            ("+5s", Duration::from_secs(5)),
            ("15m", Duration::from_secs(900)),
            ("168h", Duration::from_secs(168 * 3600)),
            ("1h30m", Duration::from_secs(5400)),
            ("500ms", Duration::from_millis(500)),
            ("2h45m30s", Duration::from_secs(2 * 3600 + 45 * 60 + 30)),
            ("1.5h", Duration::from_secs(5400)),
            (".5s", Duration::from_millis(500)),
            ("1.s", Duration::from_secs(1)),
            ("10us", Duration::from_micros(10)),
            ("10µs", Duration::from_micros(10)),
            ("7ns", Duration::from_nanos(7)),
            ("1s1h", Duration::from_secs(3601)),
            ("0.000000001s", Duration::from_nanos(1)),
            (
                "2562047h47m16.854775807s",
                Duration::from_nanos(i64::MAX as u64),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(duration(input), Ok(want), "{input}");
        }
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(duration(""), Err(DurationError::Empty));
        assert_eq!(duration("+"), Err(DurationError::Empty));
        assert_eq!(duration("15"), Err(DurationError::MissingUnit));
        assert_eq!(duration("1h30"), Err(DurationError::MissingUnit));
        assert_eq!(duration("3d"), Err(DurationError::UnknownUnit("d".into())));
        assert_eq!(
            duration("1 h"),
            Err(DurationError::UnknownUnit(" h".into()))
        );
        assert_eq!(duration(".s"), Err(DurationError::Malformed));
        assert_eq!(duration("h"), Err(DurationError::Malformed));
        assert_eq!(duration("-5m"), Err(DurationError::Negative));
        assert_eq!(duration("2562048h"), Err(DurationError::Overflow));
        assert_eq!(
            duration("99999999999999999999999999999999h"),
            Err(DurationError::Overflow)
        );
    }

    proptest! {
        #[test]
        fn round_trips_h_m_s_ms(
            h in proptest::option::of(0u64..100_000),
            m in proptest::option::of(0u64..1_000),
            s in proptest::option::of(0u64..100_000),
            ms in proptest::option::of(0u64..10_000),
        ) {
            prop_assume!(h.is_some() || m.is_some() || s.is_some() || ms.is_some());
            let mut text = String::new();
            let mut want = Duration::ZERO;
            for (part, unit, secs_per) in [(h, "h", 3600), (m, "m", 60), (s, "s", 1)] {
                if let Some(n) = part {
                    text.push_str(&format!("{n}{unit}"));
                    want += Duration::from_secs(n * secs_per);
                }
            }
            if let Some(n) = ms {
                text.push_str(&format!("{n}ms"));
                want += Duration::from_millis(n);
            }
            prop_assert_eq!(duration(&text), Ok(want));
        }

        #[test]
        fn never_panics(input in any::<String>()) {
            let _ = duration(&input);
        }

        #[test]
        fn never_panics_on_duration_like_text(input in "[-+]?[0-9.]{0,30}(h|m|s|ms|us|µs|ns|x)?[0-9.a-z]{0,10}") {
            let _ = duration(&input);
        }
    }
}

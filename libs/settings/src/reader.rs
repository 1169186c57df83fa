//! [`Env`]: typed reads of the variable map, collecting a [`Problem`] per bad value.
//!
//! An empty (or whitespace-only) value counts as unset and yields the default, like the
//! original's `getEnv` helpers. Typed values are trimmed; secrets are taken verbatim.

use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;
use std::time::Duration;

use crate::Secret;
use crate::duration::duration;
use crate::error::Problem;

/// The variables being read plus the problems found so far.
pub(crate) struct Env {
    vars: HashMap<String, String>,
    pub(crate) problems: Vec<Problem>,
}

impl Env {
    pub(crate) fn new(vars: HashMap<String, String>) -> Self {
        Self {
            vars,
            problems: Vec::new(),
        }
    }

    /// Records a problem with `var`.
    pub(crate) fn problem(&mut self, var: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            var: var.to_owned(),
            message: message.into(),
        });
    }

    /// The trimmed value, or `None` when unset or blank.
    pub(crate) fn get(&self, var: &str) -> Option<&str> {
        self.vars
            .get(var)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// A string with a default.
    pub(crate) fn string(&self, var: &str, default: &str) -> String {
        self.get(var).unwrap_or(default).to_owned()
    }

    /// An optional string.
    pub(crate) fn opt_string(&self, var: &str) -> Option<String> {
        self.get(var).map(str::to_owned)
    }

    /// An optional secret, untrimmed (only a blank value counts as unset).
    pub(crate) fn secret(&self, var: &str) -> Option<Secret> {
        self.vars
            .get(var)
            .filter(|v| !v.trim().is_empty())
            .map(|v| Secret::new(v.as_str()))
    }

    /// A comma-separated list; items are trimmed and blanks dropped.
    pub(crate) fn list(&self, var: &str, default: &[&str]) -> Vec<String> {
        match self.get(var) {
            Some(raw) => split_list(raw),
            None => default.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// A boolean in Go `strconv.ParseBool` style: true/false/t/f/1/0, any case.
    pub(crate) fn flag(&mut self, var: &str, default: bool) -> bool {
        let Some(raw) = self.get(var) else {
            return default;
        };
        match raw.to_ascii_lowercase().as_str() {
            "1" | "t" | "true" => true,
            "0" | "f" | "false" => false,
            _ => {
                let msg = format!("must be a boolean (true/false/1/0), got {raw:?}");
                self.problem(var, msg);
                default
            }
        }
    }

    /// An integer within `min..=max`.
    pub(crate) fn int<T>(&mut self, var: &str, default: T, min: T, max: T) -> T
    where
        T: FromStr + Display + PartialOrd + Copy,
    {
        let Some(raw) = self.get(var) else {
            return default;
        };
        match raw.parse::<T>() {
            Ok(v) if v >= min && v <= max => v,
            _ => {
                let msg = format!("must be an integer between {min} and {max}, got {raw:?}");
                self.problem(var, msg);
                default
            }
        }
    }

    /// A Go duration (`"15m"`, `"1h30m"`); zero allowed.
    pub(crate) fn duration(&mut self, var: &str, default: Duration) -> Duration {
        let Some(raw) = self.get(var) else {
            return default;
        };
        match duration(raw) {
            Ok(d) => d,
            Err(e) => {
                let msg = format!(
                    "must be a Go duration such as \"15m\", \"168h\" or \"1h30m\", got {raw:?} ({e})"
                );
                self.problem(var, msg);
                default
            }
        }
    }

    /// A Go duration that must be above zero.
    pub(crate) fn positive_duration(&mut self, var: &str, default: Duration) -> Duration {
        let d = self.duration(var, default);
        if d.is_zero() {
            self.problem(var, "must be greater than zero");
            return default;
        }
        d
    }

    /// An optional `http://` or `https://` URL.
    pub(crate) fn http_url(&mut self, var: &str) -> Option<String> {
        let raw = self.opt_string(var)?;
        if !is_http_url(&raw) {
            let msg = format!("must be an http:// or https:// URL, got {raw:?}");
            self.problem(var, msg);
        }
        Some(raw)
    }
}

/// Splits a comma list, trimming items and dropping blanks.
pub(crate) fn split_list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// True for `http://x...` or `https://x...` (any case), with no whitespace.
pub(crate) fn is_http_url(raw: &str) -> bool {
    let lower = raw.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    matches!(rest, Some(r) if !r.is_empty()) && !raw.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::new(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn bool_accepts_parse_bool_forms() {
        let mut e = env(&[
            ("A", "TRUE"),
            ("B", "0"),
            ("C", "F"),
            ("D", "yes"),
            ("E", " "),
        ]);
        assert!(e.flag("A", false));
        assert!(!e.flag("B", true));
        assert!(!e.flag("C", true));
        assert!(e.flag("D", true));
        assert!(e.flag("E", true));
        assert_eq!(e.problems.len(), 1);
        assert_eq!(e.problems[0].var, "D");
    }

    #[test]
    fn int_reports_range_and_raw_value() {
        let mut e = env(&[("BCRYPT_COST", "9")]);
        assert_eq!(e.int("BCRYPT_COST", 12u32, 10, 14), 12);
        assert_eq!(
            e.problems[0].to_string(),
            "BCRYPT_COST must be an integer between 10 and 14, got \"9\""
        );
    }

    #[test]
    fn list_trims_and_drops_blanks() {
        let e = env(&[("L", " a, ,b ,")]);
        assert_eq!(e.list("L", &[]), ["a", "b"]);
        assert_eq!(e.list("MISSING", &["*"]), ["*"]);
    }

    #[test]
    fn urls() {
        assert!(is_http_url("https://app.example.com/x"));
        assert!(is_http_url("HTTP://localhost:3000"));
        assert!(!is_http_url("ftp://x"));
        assert!(!is_http_url("https://"));
        assert!(!is_http_url("https://a b"));
    }
}

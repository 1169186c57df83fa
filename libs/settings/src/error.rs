//! [`SettingsError`] and the [`Problem`]s it carries.

use std::fmt;

/// One missing or invalid variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The environment variable at fault, e.g. `BCRYPT_COST`.
    pub var: String,
    /// What is wrong, as a sentence fragment following the variable name.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.var, self.message)
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// One or more variables are missing or invalid; every problem found is listed.
    #[error("invalid configuration: {}", join(.0))]
    Invalid(Vec<Problem>),
}

impl SettingsError {
    /// Every problem found, in the order the variables were read.
    pub fn problems(&self) -> &[Problem] {
        match self {
            Self::Invalid(problems) => problems,
        }
    }

    /// True when some problem concerns the variable `var`.
    pub fn names(&self, var: &str) -> bool {
        self.problems().iter().any(|p| p.var == var)
    }
}

fn join(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

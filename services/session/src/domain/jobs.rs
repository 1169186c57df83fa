//! The cleanup jobs of contract §2.11: their names and what each removes.

/// One of the four hourly cleanup jobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobName {
    /// Expired refresh tokens, revoked ones of dead families, expired revoked access tokens.
    RefreshTokens,
    /// Expired sessions and terminated ones whose refresh token is dead.
    Sessions,
    /// Used or expired password-reset tokens.
    PasswordResetTokens,
    /// Used or expired email-verification tokens.
    EmailVerificationTokens,
}

impl JobName {
    /// Every job, in listing order.
    pub const ALL: [JobName; 4] = [
        JobName::RefreshTokens,
        JobName::Sessions,
        JobName::PasswordResetTokens,
        JobName::EmailVerificationTokens,
    ];

    /// The contract's name (`cleanup.refresh_tokens`, ...).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RefreshTokens => "cleanup.refresh_tokens",
            Self::Sessions => "cleanup.sessions",
            Self::PasswordResetTokens => "cleanup.password_reset_tokens",
            Self::EmailVerificationTokens => "cleanup.email_verification_tokens",
        }
    }

    /// The job called `name`, if any (exact match).
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|j| j.as_str() == name)
    }

    /// Every name, for `name = any($n)` filters.
    #[must_use]
    pub fn all_names() -> Vec<String> {
        Self::ALL.iter().map(|j| j.as_str().to_owned()).collect()
    }
}

impl std::fmt::Display for JobName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for job in JobName::ALL {
            assert_eq!(JobName::parse(job.as_str()), Some(job));
        }
        for bad in [
            "",
            "cleanup",
            "cleanup.Sessions",
            "cleanup.sessions ",
            "sessions",
        ] {
            assert_eq!(JobName::parse(bad), None, "{bad:?}");
        }
    }
}

//! The password policy of contract §7.1 and the 72-byte bcrypt rule of decision §9.16.

use auth_settings::PasswordPolicy;

/// bcrypt reads only this many bytes; longer passwords are refused, never truncated.
pub const BCRYPT_MAX_BYTES: usize = 72;

/// Why a new password is refused (400 `VALIDATION_ERROR` with this text).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordProblem {
    /// Fewer characters than `AUTH_PASSWORD_MIN_LENGTH`.
    #[error("password must be at least {0} characters long")]
    TooShort(u32),
    /// More characters than `AUTH_PASSWORD_MAX_LENGTH`.
    #[error("password must be at most {0} characters long")]
    TooLong(u32),
    /// More than 72 bytes of UTF-8 (bcrypt would silently ignore the rest).
    #[error(
        "password must be at most 72 bytes (UTF-8); longer passwords would be truncated by bcrypt"
    )]
    OverBcryptLimit,
    /// No upper-case letter while `AUTH_PASSWORD_REQUIRE_UPPER` is on.
    #[error("password must contain an upper-case letter")]
    NeedsUpper,
    /// No lower-case letter while `AUTH_PASSWORD_REQUIRE_LOWER` is on.
    #[error("password must contain a lower-case letter")]
    NeedsLower,
    /// No digit while `AUTH_PASSWORD_REQUIRE_DIGIT` is on.
    #[error("password must contain a digit")]
    NeedsDigit,
    /// No special character while `AUTH_PASSWORD_REQUIRE_SPECIAL` is on.
    #[error("password must contain a special character")]
    NeedsSpecial,
}

/// Checks a new password against the policy; the first problem found is returned.
pub fn check_policy(password: &str, policy: &PasswordPolicy) -> Result<(), PasswordProblem> {
    let chars = u32::try_from(password.chars().count()).unwrap_or(u32::MAX);
    if chars < policy.min_length {
        return Err(PasswordProblem::TooShort(policy.min_length));
    }
    if password.len() > BCRYPT_MAX_BYTES {
        return Err(PasswordProblem::OverBcryptLimit);
    }
    if chars > policy.max_length {
        return Err(PasswordProblem::TooLong(policy.max_length));
    }
    if policy.require_upper && !password.chars().any(char::is_uppercase) {
        return Err(PasswordProblem::NeedsUpper);
    }
    if policy.require_lower && !password.chars().any(char::is_lowercase) {
        return Err(PasswordProblem::NeedsLower);
    }
    if policy.require_digit && !password.chars().any(|c| c.is_ascii_digit()) {
        return Err(PasswordProblem::NeedsDigit);
    }
    if policy.require_special && password.chars().all(char::is_alphanumeric) {
        return Err(PasswordProblem::NeedsSpecial);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> PasswordPolicy {
        auth_settings::Settings::from_vars([
            (
                "JWT_ACCESS_SECRET",
                "a-very-long-access-secret-for-unit-tests-01",
            ),
            (
                "JWT_REFRESH_SECRET",
                "a-very-long-refresh-secret-for-unit-tests-02",
            ),
        ])
        .map(|s| s.auth.password)
        .expect("settings")
    }

    #[test]
    fn policy_defaults_of_the_contract() {
        let p = policy();
        assert_eq!(
            check_policy("Abcdef1", &p),
            Err(PasswordProblem::TooShort(8))
        );
        assert_eq!(
            check_policy("abcdefg1", &p),
            Err(PasswordProblem::NeedsUpper)
        );
        assert_eq!(
            check_policy("ABCDEFG1", &p),
            Err(PasswordProblem::NeedsLower)
        );
        assert_eq!(
            check_policy("Abcdefgh", &p),
            Err(PasswordProblem::NeedsDigit)
        );
        assert_eq!(check_policy("Abcdefg1", &p), Ok(()));
    }

    #[test]
    fn pw_02_more_than_72_bytes_is_refused_not_truncated() {
        let p = policy();
        let at_limit = format!("Aa1{}", "x".repeat(69));
        assert_eq!(at_limit.len(), 72);
        assert_eq!(check_policy(&at_limit, &p), Ok(()));
        let over = format!("{at_limit}y");
        assert_eq!(
            check_policy(&over, &p),
            Err(PasswordProblem::OverBcryptLimit)
        );
        // 30 characters of 3-byte text: few characters, too many bytes
        let wide = format!("Aa1{}", "€".repeat(27));
        assert_eq!(
            check_policy(&wide, &p),
            Err(PasswordProblem::OverBcryptLimit)
        );
    }
}

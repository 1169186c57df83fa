//! [`AuthSettings`] (lockout, password policy, bcrypt, token lifetimes) and
//! [`RateLimitSettings`].

use std::time::Duration;

use crate::Secret;
use crate::reader::Env;

const SECOND: Duration = Duration::from_secs(1);
const HOUR: Duration = Duration::from_secs(3600);

/// Password policy (`AUTH_PASSWORD_*`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PasswordPolicy {
    /// `AUTH_PASSWORD_MIN_LENGTH`.
    pub min_length: u32,
    /// `AUTH_PASSWORD_MAX_LENGTH`.
    pub max_length: u32,
    /// `AUTH_PASSWORD_REQUIRE_UPPER`.
    pub require_upper: bool,
    /// `AUTH_PASSWORD_REQUIRE_LOWER`.
    pub require_lower: bool,
    /// `AUTH_PASSWORD_REQUIRE_DIGIT`.
    pub require_digit: bool,
    /// `AUTH_PASSWORD_REQUIRE_SPECIAL`.
    pub require_special: bool,
}

/// Login protection, hashing and purpose-token lifetimes.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuthSettings {
    /// `AUTH_MAX_LOGIN_ATTEMPTS`: failures before the account locks (5, contract §9.2).
    pub max_login_attempts: u32,
    /// `AUTH_LOCKOUT_DURATION`: how long the lock lasts (15m, contract §9.2).
    pub lockout_duration: Duration,
    /// `AUTH_ACCOUNT_ATTEMPTS_LIMIT`: login attempts per account per window.
    pub account_attempts_limit: u32,
    /// `AUTH_ACCOUNT_ATTEMPTS_WINDOW`.
    pub account_attempts_window: Duration,
    /// Password rules.
    pub password: PasswordPolicy,
    /// `BCRYPT_COST`: 10–14.
    pub bcrypt_cost: u32,
    /// `AUTH_PASSWORD_RESET_EXPIRY`.
    pub password_reset_expiry: Duration,
    /// `AUTH_EMAIL_VERIFICATION_EXPIRY` (alias `EMAIL_VERIFICATION_EXPIRY`).
    pub email_verification_expiry: Duration,
    /// `AUTH_INVITATION_EXPIRY`.
    pub invitation_expiry: Duration,
    /// `AUTH_SESSION_TIMEOUT`.
    pub session_timeout: Duration,
    /// `AUTH_REFRESH_IDLE_TIMEOUT`: refresh refused after this long unused; `None` = off.
    pub refresh_idle_timeout: Option<Duration>,
    /// `AUTH_ALLOW_BASE_USER_LOGIN`: allow login without an app context.
    pub allow_base_user_login: bool,
    /// `AUTH_DEFAULT_APP_CODE`: app assumed when a request names none.
    pub default_app_code: Option<String>,
    /// `TOTP_ENCRYPTION_KEY`: master of the key that encrypts TOTP seeds at rest; when
    /// unset, a key is derived from `JWT_ACCESS_SECRET` (under a label of its own).
    pub totp_encryption_key: Option<Secret>,
    /// `TOTP_ENCRYPTION_KEY_PREVIOUS`: still opens seeds sealed before a key rotation.
    pub totp_encryption_key_previous: Option<Secret>,
}

impl AuthSettings {
    pub(crate) fn load(env: &mut Env) -> Self {
        let min_length = env.int("AUTH_PASSWORD_MIN_LENGTH", 8, 1, 1024);
        let max_length = env.int("AUTH_PASSWORD_MAX_LENGTH", 128, 1, 1024);
        if max_length < min_length {
            let msg =
                format!("({max_length}) must not be below AUTH_PASSWORD_MIN_LENGTH ({min_length})");
            env.problem("AUTH_PASSWORD_MAX_LENGTH", msg);
        }
        let password = PasswordPolicy {
            min_length,
            max_length,
            require_upper: env.flag("AUTH_PASSWORD_REQUIRE_UPPER", true),
            require_lower: env.flag("AUTH_PASSWORD_REQUIRE_LOWER", true),
            require_digit: env.flag("AUTH_PASSWORD_REQUIRE_DIGIT", true),
            require_special: env.flag("AUTH_PASSWORD_REQUIRE_SPECIAL", false),
        };
        let verification_var = if env.get("AUTH_EMAIL_VERIFICATION_EXPIRY").is_none()
            && env.get("EMAIL_VERIFICATION_EXPIRY").is_some()
        {
            "EMAIL_VERIFICATION_EXPIRY"
        } else {
            "AUTH_EMAIL_VERIFICATION_EXPIRY"
        };
        let idle = env.duration("AUTH_REFRESH_IDLE_TIMEOUT", Duration::ZERO);
        Self {
            max_login_attempts: env.int("AUTH_MAX_LOGIN_ATTEMPTS", 5, 1, 1_000_000),
            lockout_duration: env.positive_duration("AUTH_LOCKOUT_DURATION", 15 * 60 * SECOND),
            account_attempts_limit: env.int("AUTH_ACCOUNT_ATTEMPTS_LIMIT", 20, 1, 1_000_000),
            account_attempts_window: env.positive_duration("AUTH_ACCOUNT_ATTEMPTS_WINDOW", HOUR),
            password,
            bcrypt_cost: env.int("BCRYPT_COST", 12, 10, 14),
            password_reset_expiry: env.positive_duration("AUTH_PASSWORD_RESET_EXPIRY", HOUR),
            email_verification_expiry: env.positive_duration(verification_var, 24 * HOUR),
            invitation_expiry: env.positive_duration("AUTH_INVITATION_EXPIRY", 168 * HOUR),
            session_timeout: env.positive_duration("AUTH_SESSION_TIMEOUT", 24 * HOUR),
            refresh_idle_timeout: (!idle.is_zero()).then_some(idle),
            allow_base_user_login: env.flag("AUTH_ALLOW_BASE_USER_LOGIN", false),
            default_app_code: env.opt_string("AUTH_DEFAULT_APP_CODE"),
            totp_encryption_key: strong_secret(env, "TOTP_ENCRYPTION_KEY"),
            totp_encryption_key_previous: strong_secret(env, "TOTP_ENCRYPTION_KEY_PREVIOUS"),
        }
    }
}

/// An optional secret that, when set, must pass the JWT secret checks (contract §5.7).
fn strong_secret(env: &mut Env, var: &str) -> Option<Secret> {
    let secret = env.secret(var)?;
    if let Some(why) = crate::secret_weakness(secret.expose()) {
        env.problem(var, why);
    }
    Some(secret)
}

/// Per-IP request limiter.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RateLimitSettings {
    /// `RATE_LIMIT_REQUESTS`: requests allowed per window (≥ 1).
    pub requests: u32,
    /// `RATE_LIMIT_WINDOW`.
    pub window: Duration,
}

impl RateLimitSettings {
    pub(crate) fn load(env: &mut Env) -> Self {
        Self {
            requests: env.int("RATE_LIMIT_REQUESTS", 100, 1, u32::MAX),
            window: env.positive_duration("RATE_LIMIT_WINDOW", 60 * SECOND),
        }
    }
}

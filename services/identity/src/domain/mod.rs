//! Pure rules: email normalisation, password policy, TOTP checks, slugs. No I/O.

pub mod email;
pub mod password;
pub mod pools;
pub mod slug;
pub mod totp;

pub use email::Email;
pub use password::{PasswordProblem, check_policy};

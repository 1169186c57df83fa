//! Pure rules: email normalisation, password policy, TOTP checks and seed sealing, slugs, pool names and the
//! admin list's query rules. No I/O.

pub mod email;
pub mod listing;
pub mod namespace;
pub mod password;
pub mod pools;
pub mod slug;
pub mod totp;
pub mod totp_seal;

pub use email::Email;
pub use namespace::Namespace;
pub use password::{PasswordProblem, check_policy};

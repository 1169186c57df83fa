//! Token issuance and claims assembly shared by every login path and by refresh
//! (ARCHITECTURE §3 "shared library code that crosses ownership", contract §3 and §5.1-5.2).
//!
//! A login runs [`load_app`] / [`has_active_grant`] / [`grant_app`], then [`assemble`] for
//! the (user, app, org) grants, then [`issue_pair`] with [`Family::New`] inside its
//! transaction. A refresh verifies the refresh JWT (`jwt-verify`), re-reads user and grants,
//! and calls [`issue_pair`] with [`Family::Existing`]: one conditional statement consumes the
//! old row, inserts the child and moves the family's single session row ([`rotate`]).
//! No HTTP types here; repository functions take `&mut PgConnection` (or a transaction).
//!
//! # Layout
//! - [`apps`]: [`AppScope`], [`load_app`], [`has_active_grant`], [`grant_app`].
//! - [`grants`]: [`Grants`], [`OrgContext`], [`assemble`] (§5.1 steps 8-9, §9.3, §9.4).
//! - [`config`]: [`SignerConfig`] and its boot checks.
//! - [`signer`]: [`TokenSigner`]: access/refresh claims and HS256 signing, service and
//!   purpose tokens.
//! - [`subject`]: [`UserIdentity`], [`Impersonator`], [`DeviceInfo`].
//! - [`secret`]: refresh-row `token_hash` from 256 CSPRNG bits (SES-05).
//! - [`store`]: [`open_family`], [`rotate`], [`revoke_family`] on `refresh_tokens` and
//!   `sessions`.
//! - [`issue`]: [`IssueRequest`], [`issue_pair`], [`TokenPair`].
//! - [`refresh`]: [`load_refresh_context`] (everything a refresh reads, one statement) and
//!   [`rotate_at_version`] (rotation guarded by the user's token version, SES-09).
//! - [`error`]: [`ClaimsError`], [`SignError`], [`IssueError`].
//! - `time`: clock readings and the contract's RFC 3339 format ([`rfc3339_secs`]).
//!
//! The clock is `jwt-verify`'s [`Clock`] ([`SystemClock`] in services, [`ManualClock`] in
//! tests), so issuer and verifier share one notion of time.

pub mod apps;
pub mod config;
pub mod error;
pub mod grants;
pub mod issue;
pub mod refresh;
pub mod secret;
pub mod signer;
pub mod store;
pub mod subject;
mod time;

pub use apps::{AppScope, CORE_SERVICE, app_frontend_url, grant_app, has_active_grant, load_app};
pub use config::{SignerConfig, SignerConfigError};
pub use error::{ClaimsError, IssueError, RandomError, SignError};
pub use grants::{Grants, ORG_MEMBER_ROLE, OrgContext, SYSTEM_ADMIN_ROLE, assemble};
pub use issue::{Family, IssueRequest, IssuedPair, TokenPair, issue_pair};
pub use jwt_verify::{Clock, ManualClock, SystemClock};
pub use refresh::{
    RefreshContext, RefreshRowState, RefreshUser, RotationGuard, load_refresh_context,
    rotate_at_version,
};
pub use secret::{hash_value, new_token_hash};
pub use signer::{AccessSpec, RefreshSpec, ServiceToken, TokenSigner};
pub use store::{NewRefreshRow, RotatedRow, open_family, revoke_family, rotate};
pub use subject::{DeviceInfo, Impersonator, UserIdentity};
pub use time::rfc3339_secs;

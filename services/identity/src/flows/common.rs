//! Pieces several flows share: the request's client, app resolution, audit writes,
//! app provisioning and token issuance.

use auth_bus::{AuditAction, AuditEvent};
use auth_edge::{ApiError, ClientIp};
use auth_host::Platform;
use auth_tokens::{AppScope, DeviceInfo, Family, Grants, Impersonator, IssueRequest, IssuedPair};
use poem::Request;
use poem::http::header;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::{app_inactive, internal};
use crate::repo::orgs;
use crate::repo::users::UserRow;

/// Who is calling: address and user agent, for audit rows and session rows.
#[derive(Clone, Debug, Default)]
pub struct Client {
    /// Resolved client IP.
    pub ip: Option<String>,
    /// `User-Agent`.
    pub user_agent: Option<String>,
}

impl Client {
    /// From the request (the edge stored the resolved [`ClientIp`]).
    #[must_use]
    pub fn of(req: &Request) -> Self {
        let ip = req
            .extensions()
            .get::<ClientIp>()
            .map(|ip| ip.0.to_string());
        let user_agent = req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(512).collect());
        Self { ip, user_agent }
    }

    /// As token issuance stores it.
    #[must_use]
    pub fn device(&self) -> DeviceInfo {
        DeviceInfo {
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
        }
    }

    /// An audit event with this client filled in.
    #[must_use]
    pub fn event(&self, action: AuditAction) -> AuditEvent {
        AuditEvent::new(action).client(self.ip.clone(), self.user_agent.clone())
    }
}

/// A non-empty header value (e.g. `X-App-Code`).
#[must_use]
pub fn header_value(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// A trimmed, non-empty optional string.
#[must_use]
pub fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// Writes `event` to the outbox in the caller's transaction.
pub async fn audit(conn: &mut PgConnection, event: &AuditEvent) -> Result<(), ApiError> {
    auth_bus::enqueue_audit(conn, event).await.map_err(internal)
}

/// Writes `event` in a transaction of its own (for failures whose request rolls back).
pub async fn audit_alone(platform: &Platform, event: &AuditEvent) -> Result<(), ApiError> {
    let mut tx = platform.db.begin().await.map_err(internal)?;
    audit(&mut tx, event).await?;
    tx.commit().await.map_err(internal)
}

/// The app a request speaks for (§5.1 step 2): `code` (if given), else
/// `AUTH_DEFAULT_APP_CODE`, else none when `allow_none` (base-user mode), else 400.
/// Unknown: 404 `NOT_FOUND`; inactive: 403 `VALIDATION_ERROR`.
pub async fn resolve_app(
    platform: &Platform,
    code: Option<&str>,
    allow_none: bool,
) -> Result<Option<AppScope>, ApiError> {
    let code = present(code)
        .map(str::to_owned)
        .or_else(|| platform.settings.auth.default_app_code.clone());
    let Some(code) = code else {
        if allow_none {
            return Ok(None);
        }
        return Err(ApiError::invalid_input("app_code", "app_code is required"));
    };
    let mut conn = platform.db.acquire().await.map_err(internal)?;
    let app = auth_tokens::load_app(&mut conn, &code)
        .await
        .map_err(internal)?
        .ok_or_else(|| ApiError::not_found("app not found"))?;
    if !app.is_active() {
        return Err(app_inactive());
    }
    Ok(Some(app))
}

/// Per-request overrides of an app's provisioning (§5.9).
#[derive(Clone, Debug, Default)]
pub struct Provisioning {
    /// Role in the app's default organisation instead of `default_role_code`.
    pub role_code: Option<String>,
    /// Apps granted with this one instead of `linked_app_codes`.
    pub linked_app_codes: Option<Vec<String>>,
}

/// Grants `app` to the user and provisions what the app asks for: membership of its
/// default organisation (with the override role, the app's default role, or `org_member`)
/// and grants of its linked apps. Audits `user.app_provisioned`.
pub async fn provision(
    conn: &mut PgConnection,
    user: Uuid,
    app: &AppScope,
    overrides: &Provisioning,
    client: &Client,
) -> Result<(), ApiError> {
    auth_tokens::grant_app(conn, user, app.id, None)
        .await
        .map_err(internal)?;
    if let Some(org) = app.default_organization_id {
        let role = match present(overrides.role_code.as_deref()) {
            Some(code) => {
                if !orgs::is_org_role(conn, org, code).await.map_err(internal)? {
                    return Err(ApiError::invalid_input(
                        "role_code",
                        "role_code is not an organization role",
                    ));
                }
                code.to_owned()
            }
            None => app
                .default_role_code
                .clone()
                .filter(|c| !c.trim().is_empty())
                .unwrap_or_else(|| auth_tokens::ORG_MEMBER_ROLE.to_owned()),
        };
        orgs::add_member(conn, org, user, &[role], &[], None)
            .await
            .map_err(internal)?;
    }
    let linked = overrides
        .linked_app_codes
        .clone()
        .unwrap_or_else(|| app.linked_app_codes.clone());
    for code in linked.iter().filter(|c| c.as_str() != app.code) {
        match auth_tokens::load_app(conn, code).await.map_err(internal)? {
            Some(linked) if linked.is_active() => {
                auth_tokens::grant_app(conn, user, linked.id, None)
                    .await
                    .map_err(internal)?;
            }
            _ => tracing::warn!(app = %app.code, linked = %code, "linked app missing or inactive"),
        }
    }
    let event = client
        .event(AuditAction::USER_APP_PROVISIONED)
        .actor(user)
        .resource("app", Some(app.id))
        .details(serde_json::json!({ "app_code": app.code, "linked_app_codes": linked }));
    audit(conn, &event).await
}

/// Issues a pair for a new family (a login) in the caller's transaction.
pub async fn issue(
    conn: &mut PgConnection,
    platform: &Platform,
    user: &UserRow,
    grants: Grants,
    app: Option<AppScope>,
    options: IssueOptions,
) -> Result<IssuedPair, ApiError> {
    let req = IssueRequest {
        user: user.identity(),
        grants,
        app,
        remember_me: options.remember_me,
        device: options.device,
        impersonator: options.impersonator,
        family: Family::New,
    };
    auth_tokens::issue_pair(conn, &platform.signer, &req)
        .await
        .map_err(internal)
}

/// The per-login choices of [`issue`].
#[derive(Clone, Debug, Default)]
pub struct IssueOptions {
    /// Longer refresh lifetime.
    pub remember_me: bool,
    /// The client, stored on the session.
    pub device: DeviceInfo,
    /// The acting admin under impersonation.
    pub impersonator: Option<Impersonator>,
}

/// The caller's user id from a verified access token (`uid`, else `sub`).
pub fn caller_id(claims: &jwt_verify::AccessClaims) -> Result<Uuid, ApiError> {
    let raw = if claims.uid.is_empty() {
        &claims.sub
    } else {
        &claims.uid
    };
    Uuid::parse_str(raw).map_err(|_| ApiError::unauthorized("Invalid token subject"))
}

/// 403 `FORBIDDEN` under impersonation: an acting admin never changes the target's
/// credentials or deletes the account.
pub fn refuse_impersonation(claims: &jwt_verify::AccessClaims) -> Result<(), ApiError> {
    if claims.is_impersonation() {
        return Err(ApiError::forbidden(
            "Not allowed while impersonating a user",
        ));
    }
    Ok(())
}

/// `n` bytes from the operating system's CSPRNG.
pub fn random_bytes(n: usize) -> Result<Vec<u8>, ApiError> {
    use rand::TryRngCore;
    let mut out = vec![0_u8; n];
    rand::rngs::OsRng
        .try_fill_bytes(&mut out)
        .map_err(|_| internal("operating system random source failed"))?;
    Ok(out)
}

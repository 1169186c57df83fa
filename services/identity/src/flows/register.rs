//! `POST /auth/register` in its three modes with the app's registration policy (§5.9).

use auth_edge::{ApiError, ErrorCode};
use auth_host::Platform;
use chrono::Utc;
use sqlx::PgConnection;
use uuid::Uuid;

use super::common::{Client, Provisioning, present, provision, resolve_app};
use super::email::{VerificationMail, create_verification};
use super::login::{LoginInput, LoginOutcome, LoginSuccess, login};
use crate::domain::{Email, check_policy, email::domain_allowed, pools, slug::slugify};
use crate::error::{hashing, internal, unique_violation};
use crate::repo::orgs::{self, OrgRow};
use crate::repo::users::{self, NewUser, UserRow};
use crate::state::Services;
use crate::webhooks::{self, Registered};

/// The three registration modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Collision is 409.
    Register,
    /// Collision with the right password logs in.
    RegisterOrLogin,
    /// Collision returns the existing user (system_admin callers only).
    RegisterOrReturn,
}

impl Mode {
    /// Parses the `mode` field (absent or blank = `register`).
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        match present(raw) {
            None | Some("register") => Ok(Self::Register),
            Some("register_or_login") => Ok(Self::RegisterOrLogin),
            Some("register_or_return") => Ok(Self::RegisterOrReturn),
            Some(_) => Err(ApiError::invalid_input(
                "mode",
                "mode must be register, register_or_login or register_or_return",
            )),
        }
    }
}

/// A registration request, parsed.
#[derive(Clone, Debug, Default)]
pub struct RegisterInput {
    /// Email as typed.
    pub email: String,
    /// Password as typed.
    pub password: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Phone.
    pub phone: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Creates an organisation owned by the new user.
    pub organization_name: Option<String>,
    /// Invitation code (6 characters).
    pub invite_code: Option<String>,
    /// Invitation token (from the invitation link).
    pub invite_token: Option<String>,
    /// App whose policy applies.
    pub app_code: Option<String>,
    /// Provisioning overrides.
    pub provisioning: Provisioning,
    /// The caller is a system_admin (checked by the handler from an optional bearer).
    pub caller_is_system_admin: bool,
    /// The request body minus `password`, unknown fields kept: `registration` of the app's
    /// `user.registered` webhooks (§5.9).
    pub webhook_body: serde_json::Map<String, serde_json::Value>,
    /// The host the request was addressed to (`context.server` of the webhooks).
    pub server: Option<String>,
}

/// What a registration ended in.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // built once per request, never stored
pub enum RegisterOutcome {
    /// A new user (201).
    Created {
        /// The user.
        user: Box<UserRow>,
        /// The organisation created or joined.
        organization: Option<OrgRow>,
        /// Whether a verification mail went out.
        verification_email_sent: bool,
    },
    /// `register_or_login` on an existing account with the right password (200).
    LoggedIn(Box<LoginSuccess>),
    /// `register_or_return` on an existing account (200).
    Existing(Box<UserRow>),
}

/// Field lengths of the `users` columns.
const NAME_MAX: usize = 100;

fn required_name(field: &str, value: &str) -> Result<String, ApiError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ApiError::invalid_input(
            field,
            format!("{field} is required"),
        ));
    }
    if v.chars().count() > NAME_MAX || v.chars().any(char::is_control) {
        return Err(ApiError::invalid_input(
            field,
            format!("{field} is invalid"),
        ));
    }
    Ok(v.to_owned())
}

fn optional_text(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, ApiError> {
    match present(value) {
        None => Ok(None),
        Some(v) if v.chars().count() > max || v.chars().any(char::is_control) => Err(
            ApiError::invalid_input(field, format!("{field} is invalid")),
        ),
        Some(v) => Ok(Some(v.to_owned())),
    }
}

/// Runs a registration.
pub async fn register(
    platform: &Platform,
    services: &Services,
    mode: Mode,
    input: RegisterInput,
    client: &Client,
) -> Result<RegisterOutcome, ApiError> {
    let email = Email::parse(&input.email)
        .ok_or_else(|| ApiError::invalid_input("email", "invalid email address"))?;
    let first_name = required_name("first_name", &input.first_name)?;
    let last_name = required_name("last_name", &input.last_name)?;
    let display_name = optional_text("display_name", input.display_name.as_deref(), 200)?;
    let phone = optional_text("phone", input.phone.as_deref(), 50)?;
    let org_name = optional_text("organization_name", input.organization_name.as_deref(), 255)?;
    if mode == Mode::RegisterOrReturn && !input.caller_is_system_admin {
        return Err(ApiError::forbidden(
            "register_or_return requires a system_admin caller",
        ));
    }
    let app = resolve_app(platform, input.app_code.as_deref(), true).await?;
    if let Some(app) = &app {
        if !domain_allowed(&email, &app.allowed_email_domains) {
            return Err(ApiError::invalid_input(
                "email",
                "email domain is not allowed for this app",
            ));
        }
        if !app.allowed_auth_methods.is_empty()
            && !app.allowed_auth_methods.iter().any(|m| m == "password")
        {
            return Err(ApiError::invalid_input(
                "password",
                "password sign-up is not allowed for this app",
            ));
        }
    }
    let home = pools::home_pool(app.as_ref());
    let existing = {
        let mut conn = platform.db.acquire().await.map_err(internal)?;
        users::find_live_by_email(&mut conn, email.as_str(), Some(std::slice::from_ref(&home)))
            .await
            .map_err(internal)?
    };
    if let Some(existing) = existing {
        return collision(platform, services, mode, existing, &input, client).await;
    }
    check_policy(&input.password, &platform.settings.auth.password)
        .map_err(|p| ApiError::validation(p.to_string()))?;
    let hash = services
        .hasher
        .hash(&input.password)
        .await
        .map_err(hashing)?;

    let mut tx = platform.db.begin().await.map_err(internal)?;
    let new = NewUser {
        email: email.as_str(),
        password_hash: &hash,
        first_name: &first_name,
        last_name: &last_name,
        display_name: display_name.as_deref(),
        phone: phone.as_deref(),
        namespace: &home,
    };
    let user = users::insert(&mut tx, &new).await.map_err(|e| {
        if unique_violation(&e).is_some() {
            already_exists()
        } else {
            internal(e)
        }
    })?;
    if let Some(app) = &app {
        users::tag_pools(&mut tx, user.id, &app.read_namespaces)
            .await
            .map_err(internal)?;
    }
    let mut organization = match &org_name {
        Some(name) => Some(create_org(&mut tx, name, user.id).await?),
        None => None,
    };
    if let Some(joined) = join_invitation(
        &mut tx,
        input.invite_code.as_deref(),
        input.invite_token.as_deref(),
        user.id,
    )
    .await?
    {
        organization = organization.or(Some(joined));
    }
    if let Some(app) = &app {
        provision(&mut tx, user.id, app, &input.provisioning, client).await?;
        // queued with the user: delivered after the commit, never before the reply
        let event = Registered {
            at: Utc::now(),
            app,
            user: &user,
            namespace: &home,
            pools: pools_of(&home, app),
            organization: organization.as_ref(),
            registration: &input.webhook_body,
            ip: client.ip.as_deref(),
            user_agent: client.user_agent.as_deref(),
            server: input.server.as_deref(),
        };
        webhooks::enqueue_user_registered(&mut tx, &event)
            .await
            .map_err(internal)?;
    }
    let mail = create_verification(
        &mut tx,
        platform,
        &user,
        app.as_ref().map(|a| a.code.as_str()),
    )
    .await?;
    tx.commit().await.map_err(internal)?;
    let sent = send_after_commit(services, mail);
    Ok(RegisterOutcome::Created {
        user: Box::new(user),
        organization,
        verification_email_sent: sent,
    })
}

/// The new user's pools: home first, then the app's read pools it was tagged into.
fn pools_of(home: &str, app: &auth_tokens::AppScope) -> Vec<String> {
    let mut pools = vec![home.to_owned()];
    for p in &app.read_namespaces {
        if !p.trim().is_empty() && !pools.contains(p) {
            pools.push(p.clone());
        }
    }
    pools
}

fn already_exists() -> ApiError {
    ApiError::new(
        ErrorCode::UserAlreadyExists,
        "A user with this email already exists",
    )
}

/// Sends the verification mail in the background; `true` when it goes to a real transport.
fn send_after_commit(services: &Services, mail: VerificationMail) -> bool {
    let mailer = services.mailer.clone();
    let sent = mailer.is_smtp();
    tokio::spawn(async move {
        if let Err(e) = mailer.send(&mail.0).await {
            tracing::warn!(error = %e, "verification mail not delivered");
        }
    });
    sent
}

async fn collision(
    platform: &Platform,
    services: &Services,
    mode: Mode,
    existing: UserRow,
    input: &RegisterInput,
    client: &Client,
) -> Result<RegisterOutcome, ApiError> {
    match mode {
        Mode::Register => Err(already_exists()),
        Mode::RegisterOrReturn => Ok(RegisterOutcome::Existing(Box::new(existing))),
        Mode::RegisterOrLogin => {
            let login_input = LoginInput {
                email: existing.email.clone(),
                password: input.password.clone(),
                app_code: input.app_code.clone(),
                provisioning: input.provisioning.clone(),
                ..LoginInput::default()
            };
            match login(platform, services, login_input, client).await? {
                LoginOutcome::Success(s) => Ok(RegisterOutcome::LoggedIn(s)),
                // a second factor cannot be given here: the caller logs in properly
                LoginOutcome::TwoFactorRequired => Err(already_exists()),
            }
        }
    }
}

/// Creates the organisation (slug from the name) with the user as owner and `org_admin`.
async fn create_org(conn: &mut PgConnection, name: &str, owner: Uuid) -> Result<OrgRow, ApiError> {
    let slug = slugify(name).ok_or_else(|| {
        ApiError::invalid_input(
            "organization_name",
            "organization_name has no usable characters",
        )
    })?;
    let org = orgs::create(conn, name, &slug, owner).await.map_err(|e| {
        if unique_violation(&e).is_some() {
            ApiError::new(
                ErrorCode::OrganizationAlreadyExists,
                "An organization with this name already exists",
            )
        } else {
            internal(e)
        }
    })?;
    orgs::add_member(conn, org.id, owner, &["org_admin".to_owned()], &[], None)
        .await
        .map_err(internal)?;
    Ok(org)
}

/// Joins the inviting organisation when an invitation code or token was given (registration,
/// and SSO at callback time, contract §5.5); the invitation is consumed in `conn`'s
/// transaction.
pub(crate) async fn join_invitation(
    conn: &mut PgConnection,
    invite_code: Option<&str>,
    invite_token: Option<&str>,
    user: Uuid,
) -> Result<Option<OrgRow>, ApiError> {
    let code = present(invite_code);
    let token = present(invite_token);
    if code.is_none() && token.is_none() {
        return Ok(None);
    }
    let invitation = orgs::lock_invitation(conn, code, token)
        .await
        .map_err(internal)?
        .ok_or_else(|| ApiError::new(ErrorCode::InviteNotFound, "Invitation not found"))?;
    if invitation.status != "pending" {
        return Err(ApiError::new(
            ErrorCode::InviteAlreadyUsed,
            "Invitation has already been used",
        ));
    }
    if invitation.expires_at <= Utc::now() {
        return Err(ApiError::new(
            ErrorCode::InviteExpired,
            "Invitation has expired",
        ));
    }
    let mut role_ids = orgs::invitation_role_ids(conn, invitation.id)
        .await
        .map_err(internal)?;
    let codes = if role_ids.is_empty() {
        vec![auth_tokens::ORG_MEMBER_ROLE.to_owned()]
    } else {
        Vec::new()
    };
    role_ids.dedup();
    orgs::add_member(
        conn,
        invitation.organization_id,
        user,
        &codes,
        &role_ids,
        invitation.invited_by,
    )
    .await
    .map_err(internal)?;
    if !orgs::accept_invitation(conn, invitation.id, user)
        .await
        .map_err(internal)?
    {
        return Err(ApiError::new(
            ErrorCode::InviteAlreadyUsed,
            "Invitation has already been used",
        ));
    }
    orgs::find(conn, invitation.organization_id)
        .await
        .map_err(internal)
}

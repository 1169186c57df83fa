//! SQL over `invitations` and `invitation_roles`. The secret `token` column is written
//! here and never read back.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::orgs::Page;

/// An invitation row without its secret token. `status` is the effective status: a pending
/// invitation past `expires_at` reads as `expired`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvitationRow {
    /// Row id.
    pub id: Uuid,
    /// Inviting organisation.
    pub organization_id: Uuid,
    /// Invitee address (lower-case).
    pub email: String,
    /// The 6-character code.
    pub code: String,
    /// Inviter.
    pub invited_by: Option<Uuid>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// Effective status.
    pub status: String,
    /// Acceptance time.
    pub accepted_at: Option<DateTime<Utc>>,
    /// Who accepted.
    pub accepted_by: Option<Uuid>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "i.id, i.organization_id, i.email, i.code, i.invited_by, i.expires_at, \
     case when i.status = 'pending' and i.expires_at <= now() then 'expired' else i.status end \
       as status, \
     i.accepted_at, i.accepted_by, i.created_at, i.updated_at";

/// A new invitation.
#[derive(Debug, Clone)]
pub struct NewInvitation<'a> {
    /// Inviting organisation.
    pub organization_id: Uuid,
    /// Invitee address (normalised).
    pub email: &'a str,
    /// 6-character code.
    pub code: &'a str,
    /// 64-character token (emailed, never shown by the API).
    pub token: &'a str,
    /// Inviter (when their user row exists).
    pub invited_by: Option<Uuid>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
}

/// Inserts a pending invitation; `None` when its code or token is taken (draw again).
pub async fn insert(
    conn: &mut PgConnection,
    n: &NewInvitation<'_>,
) -> Result<Option<InvitationRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "with i as (
           insert into invitations (organization_id, email, code, token, invited_by, expires_at)
           values ($1, $2, $3, $4, $5, $6) on conflict do nothing returning *)
         select {COLUMNS} from i"
    ))
    .bind(n.organization_id)
    .bind(n.email)
    .bind(n.code)
    .bind(n.token)
    .bind(n.invited_by)
    .bind(n.expires_at)
    .fetch_optional(conn)
    .await
}

/// Records the roles an invitation grants.
pub async fn add_roles(
    conn: &mut PgConnection,
    invitation: Uuid,
    roles: &[Uuid],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into invitation_roles (invitation_id, role_id)
         select $1, r from unnest($2::uuid[]) r on conflict do nothing",
    )
    .bind(invitation)
    .bind(roles)
    .execute(conn)
    .await
    .map(|_| ())
}

/// `(invitation_id, role_id)` of each of `invitations` (live roles only).
pub async fn role_ids(
    conn: &mut PgConnection,
    invitations: &[Uuid],
) -> Result<Vec<(Uuid, Uuid)>, sqlx::Error> {
    sqlx::query_as(
        "select ir.invitation_id, ir.role_id from invitation_roles ir
           join roles r on r.id = ir.role_id and r.deleted_at is null
          where ir.invitation_id = any($1) order by ir.invitation_id, r.level nulls last, r.code",
    )
    .bind(invitations)
    .fetch_all(conn)
    .await
}

/// Whether `org` has a pending, unexpired invitation for `email`.
pub async fn pending_exists(
    conn: &mut PgConnection,
    org: Uuid,
    email: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from invitations
                         where organization_id = $1 and lower(email) = $2
                           and status = 'pending' and expires_at > now())",
    )
    .bind(org)
    .bind(email)
    .fetch_one(conn)
    .await
}

/// One page of an organisation's invitations, newest first (optionally of one effective
/// status), and the total count.
pub async fn list_for_org(
    conn: &mut PgConnection,
    org: Uuid,
    status: Option<&str>,
    page: Page,
) -> Result<(Vec<InvitationRow>, i64), sqlx::Error> {
    let filter = "i.organization_id = $1 and ($2::text is null or
          (case when i.status = 'pending' and i.expires_at <= now() then 'expired'
                else i.status end) = $2)";
    let total: i64 = sqlx::query_scalar(&format!(
        "select count(*) from invitations i where {filter}"
    ))
    .bind(org)
    .bind(status)
    .fetch_one(&mut *conn)
    .await?;
    let rows = sqlx::query_as(&format!(
        "select {COLUMNS} from invitations i where {filter}
          order by i.created_at desc, i.id limit $3 offset $4"
    ))
    .bind(org)
    .bind(status)
    .bind(page.page_size)
    .bind(page.offset())
    .fetch_all(conn)
    .await?;
    Ok((rows, total))
}

/// Pending, unexpired invitations addressed to `email`, from live organisations.
pub async fn pending_for_email(
    conn: &mut PgConnection,
    email: &str,
) -> Result<Vec<InvitationRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from invitations i
           join organizations o on o.id = i.organization_id and o.deleted_at is null
          where lower(i.email) = lower($1) and i.status = 'pending' and i.expires_at > now()
          order by i.created_at desc, i.id"
    ))
    .bind(email)
    .fetch_all(conn)
    .await
}

/// An invitation by id; `lock` locks it for the transaction.
pub async fn get(
    conn: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> Result<Option<InvitationRow>, sqlx::Error> {
    let suffix = if lock { " for update" } else { "" };
    sqlx::query_as(&format!(
        "select {COLUMNS} from invitations i where i.id = $1{suffix}"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Moves a pending invitation to `status` (`accepted` records `by`); returns whether it
/// was still pending.
pub async fn finish(
    conn: &mut PgConnection,
    id: Uuid,
    status: &str,
    by: Option<Uuid>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update invitations
            set status = $2, updated_at = now(),
                accepted_at = case when $2 = 'accepted' then now() else accepted_at end,
                accepted_by = case when $2 = 'accepted' then $3 else accepted_by end
          where id = $1 and status = 'pending'",
    )
    .bind(id)
    .bind(status)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether a live member of `org` has this email (in any pool).
pub async fn member_with_email(
    conn: &mut PgConnection,
    org: Uuid,
    email: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from organization_members m
                          join users u on u.id = m.user_id and u.deleted_at is null
                         where m.organization_id = $1 and m.deleted_at is null
                           and lower(u.email) = $2)",
    )
    .bind(org)
    .bind(email)
    .fetch_one(conn)
    .await
}

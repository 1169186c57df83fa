//! The invitation mail (contract §2.9 "emails the invitee", link format §2.3
//! `{base}/auth/accept-invite?code=…&token=…`).
//!
//! The link base is the inviter's app `frontend_url` (the token's `app_code`), else
//! `CLIENT_URL`, else empty (the link is then a path); never a request header (ML-04). The mail
//! is sent after the commit in the background: the API answer never waits for, or depends on,
//! delivery. A failed delivery is logged (secrets redacted by `auth_mail`) and recorded as an
//! `invitation.email_failed` audit row; the inviter can revoke and invite again.

use auth_bus::AuditEvent;
use auth_edge::ApiError;
use auth_host::Platform;
use auth_mail::{Mail, Mailer};
use sqlx::PgConnection;

use super::common::internal;

/// What the mail says.
#[derive(Debug)]
pub struct InvitationText<'a> {
    /// Invitee address.
    pub to: &'a str,
    /// Organisation name.
    pub organization: &'a str,
    /// Who invites (display name; may be empty).
    pub inviter: &'a str,
    /// The 6-character code.
    pub code: &'a str,
    /// The 64-character secret token.
    pub token: &'a str,
    /// Lifetime in hours.
    pub hours: u64,
}

/// Base of mailed links: the app's `frontend_url`, else `CLIENT_URL`, else empty.
pub async fn link_base(
    conn: &mut PgConnection,
    platform: &Platform,
    app_code: &str,
) -> Result<String, ApiError> {
    let from_app = if app_code.trim().is_empty() {
        None
    } else {
        auth_tokens::app_frontend_url(conn, app_code.trim())
            .await
            .map_err(internal)?
    };
    let base = from_app
        .or_else(|| platform.settings.email.client_url.clone())
        .unwrap_or_default();
    Ok(base.trim_end_matches('/').to_owned())
}

/// The message for `t` with links under `base`.
pub fn compose(base: &str, t: &InvitationText<'_>) -> Mail {
    let by = if t.inviter.trim().is_empty() {
        String::new()
    } else {
        format!("{} has invited you", t.inviter.trim())
    };
    let opening = if by.is_empty() {
        format!(
            "You have been invited to join {} on our platform.",
            t.organization
        )
    } else {
        format!("{by} to join {} on our platform.", t.organization)
    };
    Mail {
        to: t.to.to_owned(),
        subject: format!("You are invited to join {}", t.organization),
        text: format!(
            "Hello,\n\n{opening}\n\nAccept the invitation by opening this link:\n\n\
             {base}/auth/accept-invite?code={code}&token={token}\n\n\
             or enter the invitation code {code} when you sign up. The invitation expires in \
             {hours} hours. If you did not expect it, ignore this message.\n",
            code = t.code,
            token = t.token,
            hours = t.hours,
        ),
    }
}

/// Sends `mail` in the background; on failure writes `failed` to the audit outbox.
pub fn send_later(platform: &Platform, mailer: Mailer, mail: Mail, failed: AuditEvent) {
    let db = platform.db.clone();
    tokio::spawn(async move {
        let Err(e) = mailer.send(&mail).await else {
            return;
        };
        tracing::warn!(error = %e, "invitation mail not delivered");
        let event = failed.details(serde_json::json!({"error": e.to_string()}));
        let write = async {
            let mut conn = db.acquire().await?;
            auth_bus::enqueue_audit(&mut conn, &event).await?;
            anyhow::Ok(())
        };
        if let Err(e) = write.await {
            tracing::warn!(error = %e, "could not record invitation.email_failed");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_carries_code_and_token_under_the_base() {
        let mail = compose(
            "https://app.example",
            &InvitationText {
                to: "a@example.com",
                organization: "Acme",
                inviter: "Ada Admin",
                code: "ABC234",
                token: "t0k",
                hours: 168,
            },
        );
        assert!(
            mail.text
                .contains("https://app.example/auth/accept-invite?code=ABC234&token=t0k")
        );
        assert!(mail.text.contains("Ada Admin has invited you to join Acme"));
        assert_eq!(mail.to, "a@example.com");
    }
}

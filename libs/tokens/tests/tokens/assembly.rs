//! Claims assembly (contract §5.1 steps 8-9, decisions §9.3 and §9.4).

use auth_tokens::{ClaimsError, assemble};
use uuid::Uuid;

use crate::fixtures::*;

fn codes(v: &[&str]) -> Vec<String> {
    v.iter().map(|c| (*c).to_owned()).collect()
}

#[tokio::test]
async fn base_roles_without_org_carry_their_permissions_sorted() {
    let ctx = Ctx::new().await;
    let mut c = ctx.conn().await;
    let user = create_user(&mut c, "base@example.com").await;
    add_base_role(&mut c, user, "base_user").await;

    let g = assemble(&mut c, user, None, None).await.expect("grants");
    assert_eq!(g.roles, codes(&["base_user"]));
    assert_eq!(
        g.permissions,
        codes(&["auctions:list", "auctions:read", "items:list", "items:read"])
    );
    assert_eq!(g.organization, None);
}

#[tokio::test]
async fn org_scope_adds_the_membership_roles_to_the_base_roles() {
    let ctx = Ctx::new().await;
    let mut c = ctx.conn().await;
    let user = create_user(&mut c, "seller@example.com").await;
    add_base_role(&mut c, user, "base_user").await;
    let org = create_org(&mut c, user, "active").await;
    let m = add_member(&mut c, user, org, "active").await;
    add_member_role(&mut c, m, "seller").await;

    let g = assemble(&mut c, user, None, Some(org))
        .await
        .expect("grants");
    // §9.3: base roles plus membership roles, most privileged first
    assert_eq!(g.roles, codes(&["seller", "base_user"]));
    assert!(
        g.permissions.contains(&"auctions:create".to_owned()),
        "from seller"
    );
    assert!(
        g.permissions.contains(&"items:read".to_owned()),
        "from both"
    );
    assert!(
        !g.permissions.contains(&"org:read".to_owned()),
        "no fallback role"
    );
    let mut sorted = g.permissions.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(g.permissions, sorted);
    let o = g.organization.expect("org context");
    assert_eq!(o.id, org);
    assert!(o.slug.starts_with("org_"));
    assert_eq!(o.name, format!("Org {}", o.slug));

    // without the org the same user carries only the base roles
    let base = assemble(&mut c, user, None, None).await.expect("grants");
    assert_eq!(base.roles, codes(&["base_user"]));
}

#[tokio::test]
async fn a_membership_without_roles_falls_back_to_org_member() {
    let ctx = Ctx::new().await;
    let mut c = ctx.conn().await;
    let user = create_user(&mut c, "member@example.com").await;
    add_base_role(&mut c, user, "base_user").await;
    let org = create_org(&mut c, user, "active").await;
    add_member(&mut c, user, org, "active").await;

    let g = assemble(&mut c, user, None, Some(org))
        .await
        .expect("grants");
    assert_eq!(g.roles, codes(&["org_member", "base_user"]));
    for p in ["org:read", "org:members:read", "items:read"] {
        assert!(g.permissions.contains(&p.to_owned()), "{p}");
    }
}

#[tokio::test]
async fn org_gates_refuse_missing_suspended_and_non_member() {
    let ctx = Ctx::new().await;
    let mut c = ctx.conn().await;
    let user = create_user(&mut c, "gate@example.com").await;
    add_base_role(&mut c, user, "base_user").await;

    let missing = assemble(&mut c, user, None, Some(Uuid::new_v4())).await;
    assert!(matches!(missing, Err(ClaimsError::OrganizationNotFound)));

    let deleted = create_org(&mut c, user, "active").await;
    add_member(&mut c, user, deleted, "active").await;
    sqlx::query("update organizations set deleted_at = now() where id = $1")
        .bind(deleted)
        .execute(&mut *c)
        .await
        .expect("soft-delete org");
    let r = assemble(&mut c, user, None, Some(deleted)).await;
    assert!(matches!(r, Err(ClaimsError::OrganizationNotFound)));

    let suspended = create_org(&mut c, user, "suspended").await;
    add_member(&mut c, user, suspended, "active").await;
    let r = assemble(&mut c, user, None, Some(suspended)).await;
    assert!(matches!(r, Err(ClaimsError::OrganizationSuspended)));
    assert_eq!(
        r.err().and_then(|e| e.code()),
        Some("ORGANIZATION_SUSPENDED")
    );

    let other = create_org(&mut c, user, "active").await;
    let r = assemble(&mut c, user, None, Some(other)).await;
    assert!(matches!(r, Err(ClaimsError::NotOrganizationMember)));

    let inactive = create_org(&mut c, user, "active").await;
    let m = add_member(&mut c, user, inactive, "suspended").await;
    add_member_role(&mut c, m, "org_admin").await;
    let r = assemble(&mut c, user, None, Some(inactive)).await;
    assert!(matches!(r, Err(ClaimsError::NotOrganizationMember)));
}

#[tokio::test]
async fn system_admin_passes_the_membership_gate_but_not_a_suspended_org() {
    let ctx = Ctx::new().await;
    let mut c = ctx.conn().await;
    let owner = create_user(&mut c, "owner@example.com").await;
    let admin = create_user(&mut c, "root@example.com").await;
    add_base_role(&mut c, admin, "system_admin").await;
    let org = create_org(&mut c, owner, "active").await;

    // §9.3: no membership, yet the org-scoped token is issued
    let g = assemble(&mut c, admin, None, Some(org))
        .await
        .expect("bypass");
    assert_eq!(
        g.roles,
        codes(&["system_admin"]),
        "no invented membership role"
    );
    assert_eq!(g.organization.map(|o| o.id), Some(org));
    assert!(g.permissions.contains(&"org:members:remove".to_owned()));

    let suspended = create_org(&mut c, owner, "suspended").await;
    let r = assemble(&mut c, admin, None, Some(suspended)).await;
    assert!(matches!(r, Err(ClaimsError::OrganizationSuspended)));
}

#[tokio::test]
async fn app_scope_keeps_only_the_apps_services_and_core() {
    let ctx = Ctx::new().await;
    let mut c = ctx.conn().await;
    let tag = testkit::unique_prefix("svc");
    let services: Vec<String> = ["alpha", "beta", "gamma"]
        .iter()
        .map(|s| format!("{tag}_{s}"))
        .collect();
    // 300 permissions, 100 per service, all granted to one role
    sqlx::query(
        "insert into permissions (code, name, resource, action, service)
         select s.svc || ':res' || n || ':read', 'P', 'res' || n, 'read', s.svc
           from unnest($1::text[]) as s (svc), generate_series(1, 100) as n",
    )
    .bind(&services)
    .execute(&mut *c)
    .await
    .expect("register permissions");
    let role_code = format!("{tag}_holder");
    sqlx::query(
        "with r as (insert into roles (code, name, type, level) values ($1, 'Holder', 'custom', 90)
                    returning id)
         insert into role_permissions (role_id, permission_id)
         select r.id, p.id from r, permissions p where p.service = any($2::text[])",
    )
    .bind(&role_code)
    .bind(&services)
    .execute(&mut *c)
    .await
    .expect("grant role");
    let user = create_user(&mut c, "apps@example.com").await;
    add_base_role(&mut c, user, "base_user").await;
    add_base_role(&mut c, user, &role_code).await;
    let app = create_app(&mut c, &[services[0].as_str()], false).await;

    let all = assemble(&mut c, user, None, None).await.expect("unscoped");
    assert_eq!(
        all.permissions.len(),
        300 + 4,
        "unscoped tokens carry everything"
    );

    let scoped = assemble(&mut c, user, Some(&app), None)
        .await
        .expect("scoped");
    let alpha = format!("{}:", services[0]);
    let (mine, core): (Vec<&String>, Vec<&String>) = scoped
        .permissions
        .iter()
        .partition(|p| p.starts_with(&alpha));
    assert_eq!(mine.len(), 100, "the app's slice");
    assert_eq!(
        core,
        ["auctions:list", "auctions:read", "items:list", "items:read"]
            .iter()
            .collect::<Vec<_>>(),
        "plus core, nothing of beta or gamma"
    );
    assert_eq!(scoped.roles, all.roles, "roles are not filtered");
}

//! Seeded roles, permissions and grants.

use sqlx::PgPool;
use testkit::TestDb;

/// Permission codes granted to the system role `role`, sorted.
pub async fn role_permission_codes(pool: &PgPool, role: &str) -> Vec<String> {
    sqlx::query_scalar(
        "select p.code::text from role_permissions rp \
         join roles r on r.id = rp.role_id join permissions p on p.id = rp.permission_id \
         where r.code = $1 and r.organization_id is null order by p.code",
    )
    .bind(role)
    .fetch_all(pool)
    .await
    .expect("role permissions")
}

#[tokio::test]
async fn system_roles_are_seeded_with_levels_and_org_flags() {
    let db = TestDb::new().await;
    let roles: Vec<(String, i32, bool, String)> = sqlx::query_as(
        "select code::text, level, is_org_role, type::text from roles \
         where organization_id is null order by level",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let expected = [
        ("system_admin", 0, false),
        ("super_admin", 5, false),
        ("org_admin", 10, true),
        ("org_manager", 20, true),
        ("seller", 50, true),
        ("buyer", 60, true),
        ("org_member", 80, true),
        ("base_user", 100, false),
    ];
    assert_eq!(roles.len(), expected.len());
    for ((code, level, org, kind), (e_code, e_level, e_org)) in roles.iter().zip(expected) {
        assert_eq!(
            (code.as_str(), *level, *org, kind.as_str()),
            (e_code, e_level, e_org, "system")
        );
    }
    db.cleanup().await;
}

#[tokio::test]
async fn core_permission_catalogue_is_complete() {
    let db = TestDb::new().await;
    let (total, core, assignable): (i64, i64, Vec<String>) = sqlx::query_as(
        "select count(*), count(*) filter (where service = 'core'), \
                coalesce(array_agg(code::text order by code) filter (where org_assignable), '{}') \
         from permissions",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!((total, core), (54, 54));
    assert_eq!(
        assignable,
        [
            "org:members:invite",
            "org:members:read",
            "org:members:remove",
            "org:members:update",
            "org:read",
            "org:update"
        ]
    );
    db.cleanup().await;
}

#[tokio::test]
async fn role_grants_match_the_documented_mapping() {
    let db = TestDb::new().await;
    let pool = db.pool();
    assert_eq!(
        role_permission_codes(pool, "org_member").await,
        ["org:members:read", "org:read"]
    );
    assert_eq!(role_permission_codes(pool, "system_admin").await.len(), 54);

    let org_admin = role_permission_codes(pool, "org_admin").await;
    assert_eq!(org_admin.len(), 46);
    assert_eq!(
        org_admin.iter().filter(|c| c.starts_with("org:")).count(),
        10
    );

    let manager = role_permission_codes(pool, "org_manager").await;
    for code in [
        "org:read",
        "org:members:read",
        "org:members:invite",
        "org:roles:read",
    ] {
        assert!(
            manager.iter().any(|c| c == code),
            "org_manager lacks {code}"
        );
    }
    assert!(
        !manager
            .iter()
            .any(|c| c == "org:roles:create" || c == "org:update")
    );

    assert_eq!(role_permission_codes(pool, "super_admin").await.len(), 32);
    assert_eq!(role_permission_codes(pool, "seller").await.len(), 11);
    assert_eq!(
        role_permission_codes(pool, "buyer").await,
        [
            "auctions:list",
            "auctions:read",
            "bids:create",
            "bids:list",
            "bids:read",
            "items:list",
            "items:read"
        ]
    );
    assert_eq!(
        role_permission_codes(pool, "base_user").await,
        ["auctions:list", "auctions:read", "items:list", "items:read"]
    );
    let total: i64 = sqlx::query_scalar("select count(*) from role_permissions")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(
        total, 184,
        "168 original grants + 10 system_admin org:* + 6 org_manager"
    );
    db.cleanup().await;
}

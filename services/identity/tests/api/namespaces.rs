//! Pools (§2.11, system_admin only): overview, a user's pools, moving and tagging.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::*;

#[tokio::test]
async fn pools_overview_move_and_tags() {
    let app = start(&[]).await;
    let (_, token) = admin(&app, "root@example.com", "system_admin").await;
    let ada = user(&app, "ada@example.com").await;
    user_in(&app, "ada@example.com", "shop", "active").await;
    app_row(&app, "shop", false, "active").await;
    exec(&app, "update apps set registration_namespace = 'shop', read_namespaces = array['shop', 'partners'] where code = 'shop'").await;

    let (status, reply) = send(
        &app,
        Method::POST,
        &format!("/admin/users/{ada}/namespaces"),
        Some(&json!({"namespace": "partners"})),
        Some(&token),
    )
    .await;
    assert_eq!((status, reply), (StatusCode::NO_CONTENT, Value::Null));
    let (status, _) = send(
        &app,
        Method::POST,
        &format!("/admin/users/{ada}/namespaces"),
        Some(&json!({"namespace": "partners"})),
        Some(&token),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "idempotent");

    let (status, reply) = send(&app, Method::GET, "/admin/namespaces", None, Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let pools = reply["namespaces"].as_array().expect("namespaces");
    let find = |name: &str| {
        pools
            .iter()
            .find(|p| p["namespace"] == name)
            .cloned()
            .expect(name)
    };
    assert_eq!(
        find("default"),
        json!({"namespace": "default", "home_users": 2, "tagged_users": 0, "total_users": 2, "app_codes": []})
    );
    assert_eq!(
        find("shop"),
        json!({"namespace": "shop", "home_users": 1, "tagged_users": 0, "total_users": 1, "app_codes": ["shop"]})
    );
    assert_eq!(
        find("partners"),
        json!({"namespace": "partners", "home_users": 0, "tagged_users": 1, "total_users": 1, "app_codes": ["shop"]})
    );

    let (status, reply) = send(
        &app,
        Method::GET,
        &format!("/admin/users/{ada}/namespaces"),
        None,
        Some(&token),
    )
    .await;
    assert_eq!(
        (status, reply),
        (
            StatusCode::OK,
            json!({"namespace": "default", "namespaces": ["partners"]})
        )
    );

    // moving into a pool where the address is taken: 409, nothing changes
    let (status, reply) = send(
        &app,
        Method::PUT,
        &format!("/admin/users/{ada}/namespace"),
        Some(&json!({"namespace": "shop"})),
        Some(&token),
    )
    .await;
    assert_error(status, &reply, StatusCode::CONFLICT, "USER_ALREADY_EXISTS");
    let access = access_token(&app, "ada@example.com").await;
    let (status, reply) = send(
        &app,
        Method::PUT,
        &format!("/admin/users/{ada}/namespace"),
        Some(&json!({"namespace": "partners"})),
        Some(&token),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{reply}");
    let (status, reply) = send(
        &app,
        Method::GET,
        &format!("/admin/users/{ada}/namespaces"),
        None,
        Some(&token),
    )
    .await;
    assert_eq!(
        (status, reply),
        (
            StatusCode::OK,
            json!({"namespace": "partners", "namespaces": []})
        ),
        "the new home is no tag"
    );
    // the namespace claim changed: old access tokens die
    let (status, reply) = send(&app, Method::GET, "/auth/me", None, Some(&access)).await;
    assert_error(status, &reply, StatusCode::UNAUTHORIZED, "TOKEN_REVOKED");

    let (status, reply) = send(
        &app,
        Method::DELETE,
        &format!("/admin/users/{ada}/namespaces/partners"),
        None,
        Some(&token),
    )
    .await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let (status, _) = send(
        &app,
        Method::POST,
        &format!("/admin/users/{ada}/namespaces"),
        Some(&json!({"namespace": "vip"})),
        Some(&token),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(
        &app,
        Method::DELETE,
        &format!("/admin/users/{ada}/namespaces/vip"),
        None,
        Some(&token),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(
        &app,
        Method::DELETE,
        &format!("/admin/users/{ada}/namespaces/vip"),
        None,
        Some(&token),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "idempotent");
    assert_eq!(count(&app, "select count(*) from user_namespaces").await, 0);
    let actions = audit_actions(&app).await;
    for a in [
        "user.namespace_tagged",
        "user.namespace_untagged",
        "user.namespace_changed",
    ] {
        assert!(actions.contains(&a.to_owned()), "{a}: {actions:?}");
    }
}

#[tokio::test]
async fn pools_refuse_bad_names_unknown_users_and_non_system_admins() {
    let app = start(&[]).await;
    let (_, token) = admin(&app, "root@example.com", "system_admin").await;
    let (_, sup) = admin(&app, "sup@example.com", "super_admin").await;
    let ada = user(&app, "ada@example.com").await;
    for bad in [
        json!({"namespace": "a b"}),
        json!({"namespace": ""}),
        json!({"namespace": "x".repeat(101)}),
        json!({"namespace": ["x"]}),
        json!({}),
    ] {
        for method in [Method::PUT, Method::POST] {
            let path = if method == Method::PUT {
                format!("/admin/users/{ada}/namespace")
            } else {
                format!("/admin/users/{ada}/namespaces")
            };
            let (status, reply) = send(&app, method, &path, Some(&bad), Some(&token)).await;
            assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
        }
    }
    let (status, reply) = send(
        &app,
        Method::DELETE,
        &format!("/admin/users/{ada}/namespaces/a%20b"),
        None,
        Some(&token),
    )
    .await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    let ghost = Uuid::new_v4();
    let (status, reply) = send(
        &app,
        Method::GET,
        &format!("/admin/users/{ghost}/namespaces"),
        None,
        Some(&token),
    )
    .await;
    assert_error(status, &reply, StatusCode::NOT_FOUND, "USER_NOT_FOUND");
    let (status, reply) = send(
        &app,
        Method::PUT,
        &format!("/admin/users/{ghost}/namespace"),
        Some(&json!({"namespace": "x"})),
        Some(&token),
    )
    .await;
    assert_error(status, &reply, StatusCode::NOT_FOUND, "USER_NOT_FOUND");
    let (status, reply) = send(
        &app,
        Method::GET,
        "/admin/users/nope/namespaces",
        None,
        Some(&token),
    )
    .await;
    assert_error(status, &reply, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    // pools stay with system_admin (§9.8)
    for (method, path, body) in [
        (Method::GET, "/admin/namespaces".to_owned(), None),
        (Method::GET, format!("/admin/users/{ada}/namespaces"), None),
        (
            Method::PUT,
            format!("/admin/users/{ada}/namespace"),
            Some(json!({"namespace": "x"})),
        ),
        (
            Method::POST,
            format!("/admin/users/{ada}/namespaces"),
            Some(json!({"namespace": "x"})),
        ),
        (
            Method::DELETE,
            format!("/admin/users/{ada}/namespaces/x"),
            None,
        ),
    ] {
        let (status, reply) = send(&app, method, &path, body.as_ref(), Some(&sup)).await;
        assert_error(
            status,
            &reply,
            StatusCode::FORBIDDEN,
            "INSUFFICIENT_PERMISSIONS",
        );
    }
    assert_eq!(count(&app, "select count(*) from user_namespaces").await, 0);
}

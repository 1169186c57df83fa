//! AZ-01: a walk over the generated OpenAPI document: every operation is called with no
//! token, an expired token and a valid token holding no roles (and no org scope). A new
//! route without a gate fails this test; the allow-lists below are the only exceptions.

use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};
use testkit::TestClaims;
use uuid::Uuid;

use crate::helpers::{app, user};

/// Operations anyone may call.
const PUBLIC: [&str; 2] = ["GET /apps/{code}/registration-policy", "POST /oauth/token"];

/// A value satisfying `schema` (required properties only), `$ref`s resolved.
fn sample(doc: &Value, schema: &Value) -> Value {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap_or_default();
        return sample(doc, &doc["components"]["schemas"][name]);
    }
    if let Some(all) = schema["allOf"].as_array() {
        return all.first().map_or(Value::Null, |s| sample(doc, s));
    }
    match schema["type"].as_str() {
        Some("object") => {
            let mut out = Map::new();
            for req in schema["required"].as_array().into_iter().flatten() {
                let key = req.as_str().unwrap_or_default();
                out.insert(key.to_owned(), sample(doc, &schema["properties"][key]));
            }
            Value::Object(out)
        }
        Some("array") => json!([]),
        Some("integer") | Some("number") => json!(1),
        Some("boolean") => json!(false),
        _ => json!("x"),
    }
}

fn operations(doc: &Value) -> Vec<(Method, String, String, Option<Value>)> {
    let mut out = Vec::new();
    for (path, ops) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in ops.as_object().into_iter().flatten() {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let label = format!("{} {path}", method.to_uppercase());
            let mut url = path.clone();
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["in"] == "path" {
                    let name = p["name"].as_str().unwrap_or_default();
                    url = url.replace(&format!("{{{name}}}"), &Uuid::new_v4().to_string());
                }
            }
            let body = op["requestBody"]["content"]
                .as_object()
                .and_then(|c| c.values().next())
                .map(|c| sample(doc, &c["schema"]));
            out.push((m, label, url, body));
        }
    }
    out
}

#[tokio::test]
async fn every_operation_is_gated_az_01() {
    let app = app().await;
    let doc: Value = serde_json::from_str(&authz::openapi().spec()).expect("the document is JSON");
    let nobody = user(&app, "nobody@example.com", &[]).await;
    let no_roles = TestClaims::user(nobody, &[]).sign();
    let mut expired = TestClaims::user(nobody, &["system_admin"]);
    expired.expires_in = -3600;
    let expired = expired.sign();
    let client = reqwest::Client::new();
    let ops = operations(&doc);
    assert!(ops.len() >= 49, "{} operations", ops.len());
    for (method, label, url, body) in ops {
        if PUBLIC.contains(&label.as_str()) {
            continue;
        }
        for (token, want) in [
            (None, StatusCode::UNAUTHORIZED),
            (Some(expired.as_str()), StatusCode::UNAUTHORIZED),
            (Some(no_roles.as_str()), StatusCode::FORBIDDEN),
        ] {
            let mut req = client.request(method.clone(), app.api(&url));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            if let Some(b) = &body {
                req = req.json(b);
            }
            let status = req.send().await.expect("send").status();
            let self_service = label.contains(" /me/");
            if want == StatusCode::FORBIDDEN && self_service {
                // the caller's own data: any answer but an auth failure or a crash
                assert!(
                    status != StatusCode::UNAUTHORIZED && !status.is_server_error(),
                    "{label}: {status}"
                );
                continue;
            }
            assert_eq!(status, want, "{label} with {token:?}");
        }
    }
}

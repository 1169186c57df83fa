//! Pure rules of the bridge: Cognito groups → role codes (contract §7.5), the groups claim
//! of a Cognito access token, and names from Cognito attributes.

use base64::Engine as _;

use super::client::LegacyUser;

/// Role codes for Cognito groups, case-insensitively, per §7.5: `SELLER`→seller;
/// `SELLERADMIN`→seller+org_admin; `ADMIN`→org_admin; `SUPER_ADMIN`→super_admin;
/// `CUSTOMER`/`BUYER`→customer; `LISTER`/`MANAGER`/`SELLERTESTER`/`BUYERTESTER`→ the
/// same-named code; `SYSTEM_ADMIN` and unknown groups are dropped. Sorted, no duplicates.
#[must_use]
pub fn roles_for_groups(groups: &[String]) -> Vec<&'static str> {
    let mut roles: Vec<&'static str> = groups
        .iter()
        .flat_map(|g| match g.trim().to_ascii_uppercase().as_str() {
            "SELLER" => &["seller"][..],
            "SELLERADMIN" => &["seller", "org_admin"][..],
            "ADMIN" => &["org_admin"][..],
            "SUPER_ADMIN" => &["super_admin"][..],
            "CUSTOMER" | "BUYER" => &["customer"][..],
            "LISTER" => &["lister"][..],
            "MANAGER" => &["manager"][..],
            "SELLERTESTER" => &["sellertester"][..],
            "BUYERTESTER" => &["buyertester"][..],
            // SYSTEM_ADMIN is never granted from a legacy store (§6.1)
            _ => &[][..],
        })
        .copied()
        .collect();
    roles.sort_unstable();
    roles.dedup();
    roles
}

/// The `cognito:groups` claim of a Cognito access token (read, not verified: the token
/// comes straight from Cognito's answer over our own connection). Empty when absent.
#[must_use]
pub fn groups_in_token(access_token: &str) -> Vec<String> {
    let Some(payload) = access_token.split('.').nth(1) else {
        return Vec::new();
    };
    let Ok(bytes) =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('='))
    else {
        return Vec::new();
    };
    let Ok(claims) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Vec::new();
    };
    claims
        .get("cognito:groups")
        .and_then(serde_json::Value::as_array)
        .map(|groups| {
            groups
                .iter()
                .filter_map(serde_json::Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// `(first, last)` from `given_name`/`family_name`, else from splitting `name` at the first
/// space; missing parts are empty. Cut to the column widths (100 characters).
#[must_use]
pub fn names(user: &LegacyUser) -> (String, String) {
    let cut = |s: &str| s.trim().chars().take(100).collect::<String>();
    let given = user.attribute("given_name").map(cut).unwrap_or_default();
    let family = user.attribute("family_name").map(cut).unwrap_or_default();
    if !given.is_empty() || !family.is_empty() {
        return (given, family);
    }
    let full = user.attribute("name").unwrap_or_default().trim();
    match full.split_once(' ') {
        Some((first, last)) => (cut(first), cut(last)),
        None => (cut(full), String::new()),
    }
}

/// Whether a Cognito boolean attribute is `"true"`.
#[must_use]
pub fn is_true(value: Option<&str>) -> bool {
    value.is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn groups_map_to_roles_per_contract() {
        assert_eq!(roles_for_groups(&groups(&["seller"])), ["seller"]);
        assert_eq!(
            roles_for_groups(&groups(&["SellerAdmin", "SELLER"])),
            ["org_admin", "seller"]
        );
        assert_eq!(roles_for_groups(&groups(&["ADMIN"])), ["org_admin"]);
        assert_eq!(roles_for_groups(&groups(&["super_admin"])), ["super_admin"]);
        assert_eq!(
            roles_for_groups(&groups(&["BUYER", "customer"])),
            ["customer"]
        );
        assert_eq!(
            roles_for_groups(&groups(&[
                "LISTER",
                "manager",
                "SellerTester",
                "BUYERTESTER"
            ])),
            ["buyertester", "lister", "manager", "sellertester"]
        );
        assert!(roles_for_groups(&groups(&["SYSTEM_ADMIN", "Everyone"])).is_empty());
    }

    #[test]
    fn groups_claim_is_read_from_the_token_payload() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"sub":"x","cognito:groups":["SELLER","ADMIN"]}"#);
        let token = format!("h.{payload}.s");
        assert_eq!(groups_in_token(&token), ["SELLER", "ADMIN"]);
        assert!(groups_in_token("not-a-jwt").is_empty());
        assert!(groups_in_token("a.!!!.c").is_empty());
    }

    #[test]
    fn names_come_from_given_family_or_name() {
        let user = |attrs: &[(&str, &str)]| LegacyUser {
            username: "u".into(),
            attributes: attrs
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
        };
        assert_eq!(
            names(&user(&[("given_name", "Ann"), ("family_name", "Lee")])),
            ("Ann".into(), "Lee".into())
        );
        assert_eq!(
            names(&user(&[("name", "Ann Marie Lee")])),
            ("Ann".into(), "Marie Lee".into())
        );
        assert_eq!(names(&user(&[])), (String::new(), String::new()));
        assert!(is_true(Some("TRUE")) && !is_true(Some("false")) && !is_true(None));
    }
}

//! Property tests of decoding: whatever the body, decoding ends in `Ok` or a decode error.
//!
//! Bodies are arbitrary bytes, or spec-shaped bodies with fields removed, retyped, set to
//! `null`, nested deeply or given numbers beyond any integer type. The response types are
//! decoded directly (fast, so hundreds of cases), and a smaller number of cases goes through a
//! real call to the stand-in, so the client's own classification of statuses, content types
//! and error lists is covered too.
//!
//! `PROPTEST_CASES` raises the number of cases for a longer run; `fuzz/` has a cargo-fuzz
//! target for runs of hours.

// The full user sample is one large `json!` literal.
#![recursion_limit = "256"]

use clerk_management::ClerkError;
use clerk_management::create_application::{
    CreateApplicationRequest, ManagementApplicationResponse,
};
use clerk_management::create_organization::{CreateOrganizationRequest, Organization};
use clerk_management::testing::{Fault, StandIn};
use clerk_management::upsert_user::{UpsertUserRequest, User};
use clerk_management::{Error, ManagementClient};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn config(default_cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_cases);
    // No regression files in the tree: a failure prints its minimal case instead.
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// Clerk's error list with the acceptance of the client's private one: `meta` and
/// `clerk_trace_id` may be any JSON value, within serde_json's nesting limit (which
/// `IgnoredAny` would not apply).
#[derive(Deserialize)]
#[allow(dead_code)]
struct ErrorList {
    errors: Vec<ClerkError>,
    #[serde(default)]
    meta: Value,
    #[serde(default)]
    clerk_trace_id: Value,
}

fn verification() -> Value {
    json!({
        "status": "verified", "strategy": "admin", "attempts": null, "expire_at": null,
        "verified_at_client": null, "nonce": null, "message": null,
        "external_verification_redirect_url": null,
        "error": {"code": "oauth_failed", "message": "m", "long_message": "l", "meta": {}}
    })
}

/// A user with every field the specification lists, nested objects included.
fn user_body() -> Value {
    json!({
        "id": "user_1", "object": "user", "external_id": "ext_1",
        "primary_email_address_id": "idn_1", "primary_phone_number_id": null,
        "primary_web3_wallet_id": null, "username": "ada", "first_name": "Ada",
        "last_name": "Lovelace", "profile_image_url": "https://img/1", "image_url": "https://img/2",
        "has_image": true, "public_metadata": {"a": [1, 2, {"b": null}]},
        "private_metadata": {"p": 1}, "unsafe_metadata": {},
        "email_addresses": [{
            "id": "idn_1", "object": "email_address", "email_address": "ada@example.com",
            "reserved": false, "verification": verification(),
            "linked_to": [{"type": "oauth_google", "id": "idn_9"}],
            "matches_sso_connection": false, "created_at": 1, "updated_at": 2
        }],
        "phone_numbers": [{
            "id": "idn_2", "object": "phone_number", "phone_number": "+15555550100",
            "reserved_for_second_factor": false, "default_second_factor": false,
            "reserved": false, "verification": verification(), "linked_to": [],
            "backup_codes": ["a", "b"], "created_at": 1, "updated_at": 2
        }],
        "web3_wallets": [{
            "id": "idn_3", "object": "web3_wallet", "web3_wallet": "0x0",
            "verification": verification(), "created_at": 1, "updated_at": 2
        }],
        "passkeys": [{
            "id": "idn_4", "object": "passkey", "name": "key", "last_used_at": 3,
            "verification": verification()
        }],
        "password_enabled": true, "two_factor_enabled": false, "totp_enabled": false,
        "backup_code_enabled": false, "mfa_enabled_at": null, "mfa_disabled_at": null,
        "external_accounts": [{
            "object": "external_account", "id": "eac_1", "provider": "oauth_google",
            "identification_id": "idn_5", "provider_user_id": "g1", "approved_scopes": "email",
            "email_address": "ada@example.com", "first_name": "Ada", "last_name": "L",
            "avatar_url": null, "image_url": null, "username": null, "phone_number": null,
            "public_metadata": {}, "label": null, "created_at": 1, "updated_at": 2,
            "verification": verification()
        }],
        "saml_accounts": [{
            "id": "samlacc_1", "object": "saml_account", "provider": "saml_okta",
            "active": true, "email_address": "ada@example.com", "first_name": null,
            "last_name": null, "provider_user_id": null, "public_metadata": {},
            "verification": verification(),
            "saml_connection": {
                "id": "samlc_1", "name": "Okta", "domain": "example.com",
                "domains": ["example.com"], "active": true, "provider": "saml_okta",
                "sync_user_attributes": true, "allow_subdomains": false,
                "allow_idp_initiated": false, "disable_additional_identifications": false,
                "created_at": 1, "updated_at": 2
            }
        }],
        "last_sign_in_at": 1_712_781_461_925_i64, "banned": false, "locked": false,
        "lockout_expires_in_seconds": null, "verification_attempts_remaining": 5,
        "updated_at": 1_712_781_461_925_i64, "created_at": 1_712_781_461_925_i64,
        "delete_self_enabled": true, "create_organization_enabled": true,
        "create_organizations_limit": null, "last_active_at": null, "legal_accepted_at": null
    })
}

fn organization_body() -> Value {
    json!({
        "object": "organization", "id": "org_1", "name": "Acme", "slug": "acme",
        "image_url": null, "has_image": false, "members_count": 1,
        "missing_member_with_elevated_permissions": false, "pending_invitations_count": 0,
        "max_allowed_memberships": 5, "admin_delete_enabled": true,
        "public_metadata": {"x": 1}, "private_metadata": {}, "created_by": "user_1",
        "created_at": 1, "updated_at": 2
    })
}

fn application_body() -> Value {
    json!({
        "application_id": "app_1",
        "subscription": {"id": "sub_1", "stripe_subscription_id": "si_1"},
        "instances": [
            {"instance_id": "ins_1", "environment_type": "development",
             "secret_key": "sk_test_1", "publishable_key": "pk_test_1"},
            {"instance_id": "ins_2", "environment_type": "production",
             "secret_key": "sk_live_1", "publishable_key": "pk_live_1"}
        ]
    })
}

fn error_body() -> Value {
    json!({
        "errors": [{
            "code": "form_param_missing", "message": "missing", "long_message": "longer",
            "meta": {"param_name": "email_address"}, "clerk_trace_id": "trace_1"
        }],
        "meta": {}, "clerk_trace_id": "trace_1"
    })
}

fn samples() -> [Value; 4] {
    [
        user_body(),
        organization_body(),
        application_body(),
        error_body(),
    ]
}

/// Decodes `body` as `T` and checks the outcome is a value or a plain decode failure.
fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, serde_json::Error> {
    let result = serde_json::from_slice::<T>(body);
    if let Err(e) = &result {
        assert!(!e.is_io(), "{e}");
        assert!(!e.to_string().is_empty());
    }
    result
}

/// Decodes `body` as every response type and the error list.
fn decode_all(body: &[u8]) {
    let _ = decode::<User>(body);
    let _ = decode::<Organization>(body);
    let _ = decode::<ManagementApplicationResponse>(body);
    let _ = decode::<ErrorList>(body);
    let _ = decode::<ClerkError>(body);
}

/// Text that replaces a marker string once the mutated body is serialized: values that a
/// `serde_json::Value` cannot hold.
const RAW_VALUES: [&str; 10] = [
    "1e400",
    "-1e400",
    "18446744073709551616",
    "-9223372036854775809",
    "123456789012345678901234567890",
    "1.7976931348623157e308",
    "-0",
    "0.5",
    "1E2",
    "9007199254740993",
];

#[derive(Debug, Clone)]
enum Mutation {
    Remove,
    Null,
    Retype(Value),
    Raw(usize),
    Nest(usize),
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-z_]{0,8}".prop_map(Value::String),
        any::<String>().prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        Just(Mutation::Remove),
        Just(Mutation::Null),
        json_value().prop_map(Mutation::Retype),
        (0..RAW_VALUES.len()).prop_map(Mutation::Raw),
        // Around serde_json's recursion limit of 128.
        (100usize..200).prop_map(Mutation::Nest),
    ]
}

/// Every path in `value`: object keys and array indices, from the root down.
fn paths(value: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                prefix.push(Step::Key(key.clone()));
                out.push(prefix.clone());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (at, child) in items.iter().enumerate() {
                prefix.push(Step::At(at));
                out.push(prefix.clone());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    At(usize),
}

fn marker(kind: &str, n: usize) -> Value {
    Value::String(format!("@@{kind}{n}@@"))
}

/// Applies `mutation` at `path`; raw values and nesting leave a marker for [`render`].
fn apply(root: &mut Value, path: &[Step], mutation: &Mutation) {
    let Some((last, parent_path)) = path.split_last() else {
        return;
    };
    let mut parent = root;
    for step in parent_path {
        parent = match (step, parent) {
            (Step::Key(k), Value::Object(map)) => match map.get_mut(k) {
                Some(child) => child,
                None => return,
            },
            (Step::At(i), Value::Array(items)) => match items.get_mut(*i) {
                Some(child) => child,
                None => return,
            },
            _ => return,
        };
    }
    let replacement = match mutation {
        Mutation::Remove => None,
        Mutation::Null => Some(Value::Null),
        Mutation::Retype(value) => Some(value.clone()),
        Mutation::Raw(n) => Some(marker("RAW", *n)),
        Mutation::Nest(depth) => Some(marker("NEST", *depth)),
    };
    match (last, parent, replacement) {
        (Step::Key(k), Value::Object(map), None) => {
            map.remove(k);
        }
        (Step::Key(k), Value::Object(map), Some(v)) => {
            map.insert(k.clone(), v);
        }
        (Step::At(i), Value::Array(items), None) if *i < items.len() => {
            items.remove(*i);
        }
        (Step::At(i), Value::Array(items), Some(v)) if *i < items.len() => items[*i] = v,
        _ => {}
    }
}

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// Serializes `value`, putting the raw text in place of each marker.
fn render(value: &Value) -> String {
    let mut text = value.to_string();
    for (n, raw) in RAW_VALUES.iter().enumerate() {
        text = text.replace(&format!("\"@@RAW{n}@@\""), raw);
    }
    while let Some(start) = text.find("\"@@NEST") {
        let end = start + text[start + 1..].find('"').unwrap() + 2;
        let depth: usize = text[start + 7..end - 3].parse().unwrap();
        text.replace_range(start..end, &nested(depth));
    }
    text
}

fn mutated_sample() -> impl Strategy<Value = (usize, String)> {
    (
        0..4usize,
        prop::collection::vec((any::<Index>(), mutation()), 1..5),
    )
        .prop_map(|(which, mutations)| {
            let mut body = samples()[which].clone();
            for (index, mutation) in &mutations {
                let mut all = Vec::new();
                paths(&body, &mut Vec::new(), &mut all);
                if all.is_empty() {
                    break;
                }
                apply(&mut body, &all[index.index(all.len())], mutation);
            }
            (which, render(&body))
        })
}

#[test]
fn the_samples_decode() {
    let [user, organization, application, error] = samples();
    let user: User = serde_json::from_value(user).unwrap();
    assert_eq!(user.email_addresses[0].email_address, "ada@example.com");
    assert_eq!(
        user.saml_accounts[0].saml_connection.as_ref().unwrap().id,
        "samlc_1"
    );
    let organization: Organization = serde_json::from_value(organization).unwrap();
    assert_eq!(organization.max_allowed_memberships, 5);
    let application: ManagementApplicationResponse = serde_json::from_value(application).unwrap();
    assert_eq!(
        application.instances[1].secret_key.expose_secret(),
        "sk_live_1"
    );
    let error: ErrorList = serde_json::from_value(error).unwrap();
    assert_eq!(error.errors[0].code, "form_param_missing");
}

#[test]
fn the_mutator_changes_what_it_is_told_to() {
    let mut body = json!({"a": {"b": [1, 2]}, "c": true});
    apply(
        &mut body,
        &[Step::Key("a".into()), Step::Key("b".into()), Step::At(0)],
        &Mutation::Raw(0),
    );
    apply(&mut body, &[Step::Key("c".into())], &Mutation::Nest(3));
    assert_eq!(render(&body), r#"{"a":{"b":[1e400,2]},"c":[[[]]]}"#);
    apply(&mut body, &[Step::Key("a".into())], &Mutation::Remove);
    assert_eq!(render(&body), r#"{"c":[[[]]]}"#);
}

#[test]
fn arbitrary_bytes_decode_or_fail_cleanly() {
    let bytes = prop::collection::vec(any::<u8>(), 0..512);
    TestRunner::new(config(256))
        .run(&bytes, |body| {
            decode_all(&body);
            Ok(())
        })
        .unwrap();
}

#[test]
fn arbitrary_json_decodes_or_fails_cleanly() {
    TestRunner::new(config(256))
        .run(&json_value(), |value| {
            decode_all(value.to_string().as_bytes());
            Ok(())
        })
        .unwrap();
}

#[test]
fn mutated_spec_bodies_decode_or_fail_cleanly() {
    TestRunner::new(config(256))
        .run(&mutated_sample(), |(_, body)| {
            decode_all(body.as_bytes());
            // The same body cut anywhere is an error, never a panic.
            let cut = body.len() / 2;
            decode_all(&body.as_bytes()[..cut]);
            Ok(())
        })
        .unwrap();
}

/// The fields without which a body is not that type; every other field may be absent or
/// `null`, at any depth.
fn required(which: usize) -> &'static [&'static str] {
    match which {
        0 => &["id"],
        1 => &["id"],
        2 => &["application_id"],
        _ => &["errors"],
    }
}

fn decodes_as(which: usize, body: &[u8]) -> Result<(), serde_json::Error> {
    match which {
        0 => decode::<User>(body).map(drop),
        1 => decode::<Organization>(body).map(drop),
        2 => decode::<ManagementApplicationResponse>(body).map(drop),
        _ => decode::<ErrorList>(body).map(drop),
    }
}

#[test]
fn every_optional_field_may_be_null_or_absent() {
    for (which, sample) in samples().iter().enumerate() {
        let mut all = Vec::new();
        paths(sample, &mut Vec::new(), &mut all);
        for path in all {
            if let [Step::Key(top)] = path.as_slice() {
                if required(which).contains(&top.as_str()) {
                    continue;
                }
            }
            // An array element set to null is no longer an object: only fields are checked.
            if !matches!(path.last(), Some(Step::Key(_))) {
                continue;
            }
            for mutation in [Mutation::Remove, Mutation::Null] {
                let mut body = sample.clone();
                apply(&mut body, &path, &mutation);
                let text = render(&body);
                if let Err(e) = decodes_as(which, text.as_bytes()) {
                    panic!("{mutation:?} at {path:?} of sample {which}: {e}");
                }
            }
        }
    }
}

#[test]
fn the_required_fields_are_required() {
    for (which, sample) in samples().iter().enumerate() {
        for field in required(which) {
            for mutation in [Mutation::Remove, Mutation::Null] {
                let mut body = sample.clone();
                apply(&mut body, &[Step::Key((*field).into())], &mutation);
                let err = decodes_as(which, render(&body).as_bytes()).unwrap_err();
                assert!(err.is_data(), "{err}");
            }
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep_array = nested(10_000);
    let deep_object = format!("{}null{}", r#"{"a":"#.repeat(10_000), "}".repeat(10_000));
    for deep in [&deep_array, &deep_object] {
        decode_all(deep.as_bytes());
        // Deep values in fields each type reads, and in fields it skips.
        let bodies = [
            format!(r#"{{"id":"user_1","public_metadata":{{"k":{deep}}}}}"#),
            format!(r#"{{"id":"org_1","private_metadata":{{"k":{deep}}}}}"#),
            format!(r#"{{"application_id":"app_1","subscription":{deep}}}"#),
            format!(r#"{{"errors":[{{"code":"c","meta":{deep}}}]}}"#),
            format!(r#"{{"errors":[],"meta":{deep}}}"#),
            format!(r#"{{"id":"x","application_id":"y","errors":[],"unknown":{deep}}}"#),
        ];
        for body in &bodies {
            decode_all(body.as_bytes());
        }
        let limit = |result: Result<(), serde_json::Error>| {
            let message = result.unwrap_err().to_string();
            assert!(message.starts_with("recursion limit exceeded"), "{message}");
        };
        limit(decodes_as(0, bodies[0].as_bytes()));
        limit(decodes_as(1, bodies[1].as_bytes()));
        limit(decodes_as(2, bodies[2].as_bytes()));
        limit(decodes_as(3, bodies[3].as_bytes()));
        limit(decodes_as(3, bodies[4].as_bytes()));
    }
    // A struct also decodes from an array of its fields, so the first `[` asks for a string.
    let err = decode::<User>(deep_array.as_bytes()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid type: sequence, expected a string at line 1 column 1"
    );
    // An unknown field is skipped without recursion (serde_json keeps that stack on the heap),
    // so the whole depth is read before `id` is found missing.
    let err = decode::<User>(deep_object.as_bytes()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("missing field `id` at line 1 column {}", deep_object.len())
    );
}

#[test]
fn numbers_that_are_not_i64_are_decode_errors() {
    for raw in RAW_VALUES {
        let body = format!(r#"{{"id":"user_1","created_at":{raw}}}"#);
        let result = decode::<User>(body.as_bytes());
        match raw {
            // Also `-0`, `0.5` and `1E2`: serde_json reads them as floats.
            "9007199254740993" => assert_eq!(result.unwrap().created_at, 9_007_199_254_740_993),
            _ => assert!(result.is_err(), "{raw}"),
        }
    }
}

// ---- through a real call ----

const STATUSES: [u16; 9] = [200, 201, 202, 400, 401, 422, 429, 500, 502];
const CONTENT_TYPES: [Option<&str>; 5] = [
    Some("application/json"),
    Some("application/json; charset=utf-8"),
    Some("application/problem+json"),
    Some("text/html"),
    None,
];

fn body_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => mutated_sample().prop_map(|(_, body)| body.into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => Just(error_body().to_string().into_bytes()),
    ]
}

fn is_json(content_type: Option<&str>) -> bool {
    content_type.is_none_or(|t| {
        let essence = t.split(';').next().unwrap().trim();
        essence == "application/json" || essence.ends_with("+json")
    })
}

/// Checks the outcome of one call against the classification rules, computed independently.
fn check_outcome<T: DeserializeOwned + PartialEq + std::fmt::Debug>(
    outcome: Result<T, Error>,
    target: &str,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) {
    let success = (200..300).contains(&status);
    let list = serde_json::from_slice::<ErrorList>(body).ok();
    let direct = serde_json::from_slice::<T>(body);
    match outcome {
        Ok(value) => {
            assert!(
                success && is_json(content_type),
                "{status} {content_type:?}"
            );
            assert_eq!(Ok(value), direct.map_err(|e| e.to_string()));
        }
        Err(Error::Decode(decode)) => {
            assert!(success && is_json(content_type));
            let direct = direct.expect_err("a body that decodes is not a decode error");
            assert!(list.is_none_or(|l| l.errors.is_empty()));
            assert_eq!(decode.status, status);
            assert_eq!(decode.target, target);
            assert_eq!(
                (decode.line, decode.column),
                (direct.line(), direct.column())
            );
        }
        Err(Error::Api(api)) => {
            let list = list.expect("an api error comes from an error list");
            assert!(!success || !list.errors.is_empty());
            assert_eq!(api.status, status);
            assert_eq!(api.errors.len(), list.errors.len());
        }
        Err(Error::UnexpectedResponse(unexpected)) => {
            assert!(!success || !is_json(content_type));
            // An empty list on a success is not an error list.
            assert!(list.is_none_or(|l| success && l.errors.is_empty()));
            assert_eq!(unexpected.status, status);
            assert_eq!(unexpected.content_type.as_deref(), content_type);
        }
        Err(other) => panic!("{status} {content_type:?}: {other:?}"),
    }
}

#[test]
fn calls_classify_every_body() {
    let stand_in = StandIn::start().unwrap();
    let client: ManagementClient = stand_in.client().unwrap();
    let strategy = (
        0..3usize,
        prop::sample::select(&STATUSES[..]),
        prop::sample::select(&CONTENT_TYPES[..]),
        body_strategy(),
    );
    TestRunner::new(config(64))
        .run(&strategy, |(operation, status, content_type, body)| {
            let headers = content_type
                .map(|t| vec![("Content-Type".to_owned(), t.to_owned())])
                .unwrap_or_default();
            stand_in.push_fault(Fault::Respond {
                status,
                headers,
                body: body.clone(),
            });
            match operation {
                0 => {
                    let request = UpsertUserRequest::new("ada@example.com", "Ada", "L");
                    let outcome = client.upsert_user(&request);
                    check_outcome(outcome, "User", status, content_type, &body);
                }
                1 => {
                    let request = CreateOrganizationRequest::new("Acme", "acme");
                    let outcome = client.create_organization(&request);
                    check_outcome(outcome, "Organization", status, content_type, &body);
                }
                _ => {
                    let request = CreateApplicationRequest::new("Acme", "user_1", "plan_1");
                    let outcome = client.create_application(&request);
                    let target = "ManagementApplicationResponse";
                    check_outcome(outcome, target, status, content_type, &body);
                }
            }
            Ok(())
        })
        .unwrap();
}

//! The stand-in's own rules: authentication, validation as the specification says, upserts by
//! email, unique slugs, instances per environment, complete bodies, faults, and an HTTP server
//! that survives any input.
//!
//! Raw requests (plain ureq or a TCP socket) check the exact wire answers; the client checks
//! that the same answers come out as the typed results and errors users see.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clerk_management::create_application::{CreateApplicationRequest, EnvironmentType};
use clerk_management::create_organization::CreateOrganizationRequest;
use clerk_management::testing::{Fault, STAND_IN_TOKEN, StandIn};
use clerk_management::upsert_user::UpsertUserRequest;
use clerk_management::{Error, RetryConfig, TimeoutPhase, TransportKind};
use serde_json::{Value, json};

const SPEC: &str = include_str!("data/clerk-management.openapi.yml");

/// The property names of a schema in the specification, in order.
///
/// A line-based reading is enough for this file: schemas sit at four spaces, their
/// `properties:` at six, and property names at eight.
fn spec_properties(schema: &str) -> Vec<String> {
    let header = format!("    {schema}:");
    let mut lines = SPEC.lines().skip_while(|line| *line != header).skip(1);
    let mut names = Vec::new();
    let mut in_properties = false;
    for line in lines.by_ref() {
        let indent = line.len() - line.trim_start().len();
        if indent <= 4 && !line.trim().is_empty() {
            break;
        }
        if indent == 6 {
            in_properties = line.trim() == "properties:";
        } else if in_properties && indent == 8 {
            names.push(line.trim().trim_end_matches(':').to_owned());
        }
    }
    assert!(!names.is_empty(), "no schema {schema} in the specification");
    names
}

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .cloned()
        .collect()
}

fn set(names: Vec<String>) -> BTreeSet<String> {
    names.into_iter().collect()
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A raw answer: status, headers (names lowercased) and body as JSON.
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    json: Value,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `(code, meta.param_name)` of every error, in order.
    fn errors(&self) -> Vec<(String, Option<String>)> {
        self.json["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("no error list: {}", self.json))
            .iter()
            .map(|e| {
                let param = e["meta"]["param_name"].as_str().map(str::to_owned);
                (e["code"].as_str().unwrap().to_owned(), param)
            })
            .collect()
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .new_agent()
}

fn raw(stand_in: &StandIn, path: &str, authorization: Option<&str>, body: &[u8]) -> Raw {
    let mut request = agent()
        .post(format!("{}{path}", stand_in.base_url()))
        .header("content-type", "application/json");
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let mut response = request.send(body).expect("raw request");
    read_raw(&mut response)
}

fn read_raw(response: &mut ureq::http::Response<ureq::Body>) -> Raw {
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().expect("raw body");
    let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Raw {
        status,
        headers,
        json,
    }
}

fn post(stand_in: &StandIn, path: &str, body: &Value) -> Raw {
    let bearer = format!("Bearer {STAND_IN_TOKEN}");
    raw(stand_in, path, Some(&bearer), body.to_string().as_bytes())
}

const USERS: &str = "/management/users";
const ORGANIZATIONS: &str = "/management/organizations";
const APPLICATIONS: &str = "/management/applications";

fn user_body() -> Value {
    json!({"email_address": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"})
}

fn organization_body() -> Value {
    json!({"name": "Acme", "slug": "acme"})
}

fn application_body() -> Value {
    json!({"name": "Acme", "owner_id": "user_1", "plan_id": "plan_pro"})
}

fn error(code: &str, param: &str) -> (String, Option<String>) {
    (code.to_owned(), Some(param.to_owned()))
}

/// Every error answer carries Clerk's trace id: 32 lower-case hex digits.
fn assert_trace_id(raw: &Raw) {
    let trace = raw.json["clerk_trace_id"].as_str().expect("clerk_trace_id");
    assert_eq!(trace.len(), 32, "{trace}");
    assert!(
        trace
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
}

/// Counts panics on the stand-in's own threads, whatever test caused them.
fn stand_in_panics() -> &'static AtomicUsize {
    static PANICS: AtomicUsize = AtomicUsize::new(0);
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let name = thread::current().name().map(str::to_owned);
            if name.is_some_and(|n| n.starts_with("clerk-stand-in")) {
                PANICS.fetch_add(1, Ordering::SeqCst);
            }
            previous(info);
        }));
    });
    &PANICS
}

// ---------------------------------------------------------------------------------------------
// Authentication and routing

#[test]
fn the_server_listens_on_loopback_only() {
    let stand_in = StandIn::start().unwrap();
    let rest = stand_in
        .base_url()
        .strip_prefix("http://127.0.0.1:")
        .unwrap();
    assert!(rest.parse::<u16>().unwrap() > 0);
    assert_eq!(stand_in.token(), STAND_IN_TOKEN);
}

#[test]
fn a_missing_or_malformed_authorization_header_is_a_401() {
    let stand_in = StandIn::start().unwrap();
    let body = user_body().to_string();
    for authorization in [
        None,
        Some("mt_stand_in_token"),
        Some("Basic abc"),
        Some("Bearer"),
    ] {
        let answer = raw(&stand_in, USERS, authorization, body.as_bytes());
        assert_eq!(answer.status, 401, "{authorization:?}");
        assert_eq!(
            answer.errors(),
            [("authorization_header_format_invalid".to_owned(), None)]
        );
        assert_eq!(
            answer.json["errors"][0]["message"],
            "Invalid Authorization header format"
        );
        assert_trace_id(&answer);
    }
}

#[test]
fn a_wrong_token_is_a_401_that_the_client_reports_typed() {
    let stand_in = StandIn::with_token("mt_right").unwrap();
    let answer = raw(&stand_in, USERS, Some("Bearer mt_wrong"), b"{}");
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.errors(),
        [("authentication_invalid".to_owned(), None)]
    );
    assert_eq!(
        answer.json["errors"][0],
        json!({
            "code": "authentication_invalid",
            "message": "Invalid authentication",
            "long_message": "The management token is not valid.",
        })
    );

    // The scheme is case-insensitive, as HTTP says.
    let body = user_body().to_string();
    let lower = raw(&stand_in, USERS, Some("bearer mt_right"), body.as_bytes());
    assert_eq!(lower.status, 200);

    let client = stand_in
        .client_builder()
        .management_token("mt_wrong")
        .build()
        .unwrap();
    let error = client
        .upsert_user(&UpsertUserRequest::new("a@example.com", "A", "B"))
        .unwrap_err();
    let Error::Api(api) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(api.status, 401);
    assert_eq!(error.code(), Some("authentication_invalid"));
    assert_eq!(error.clerk_trace_id().map(str::len), Some(32));
    assert_eq!(stand_in.requests().len(), 3);
}

#[test]
fn unknown_paths_are_404_other_methods_405_and_v1_is_accepted() {
    let stand_in = StandIn::start().unwrap();
    let missing = post(&stand_in, "/management/widgets", &json!({}));
    assert_eq!(missing.status, 404);
    assert_eq!(missing.errors(), [("resource_not_found".to_owned(), None)]);

    let mut response = agent()
        .get(format!("{}{USERS}", stand_in.base_url()))
        .header("authorization", format!("Bearer {STAND_IN_TOKEN}"))
        .call()
        .unwrap();
    let get = read_raw(&mut response);
    assert_eq!(get.status, 405);
    assert_eq!(get.header("allow"), Some("POST"));
    assert_eq!(get.errors(), [("method_not_allowed".to_owned(), None)]);

    // Clerk's base URL ends in /v1: a client configured with it works here too.
    assert_eq!(
        post(&stand_in, "/v1/management/users", &user_body()).status,
        200
    );
    let client = stand_in
        .client_builder()
        .base_url(format!("{}/v1", stand_in.base_url()))
        .build()
        .unwrap();
    let user = client
        .upsert_user(&UpsertUserRequest::new("ada@example.com", "Ada", "L"))
        .unwrap();
    assert!(user.id.starts_with("user_"));
    assert_eq!(stand_in.requests()[3].path, "/v1/management/users");
}

// ---------------------------------------------------------------------------------------------
// Validation

#[test]
fn a_body_that_is_not_a_json_object_is_a_400() {
    let stand_in = StandIn::start().unwrap();
    let bearer = format!("Bearer {STAND_IN_TOKEN}");
    for path in [USERS, ORGANIZATIONS, APPLICATIONS] {
        for body in [
            &b""[..],
            b"{",
            b"[]",
            b"null",
            b"\"x\"",
            b"{\"a\":1}x",
            b"\xff",
        ] {
            let answer = raw(&stand_in, path, Some(&bearer), body);
            assert_eq!(answer.status, 400, "{path} {body:?}");
            assert_eq!(answer.errors(), [("request_body_invalid".to_owned(), None)]);
            assert_eq!(
                answer.json["errors"][0]["long_message"],
                "The request body must be a JSON object."
            );
            assert_trace_id(&answer);
        }
    }
}

#[test]
fn missing_required_fields_are_listed_in_specification_order() {
    let stand_in = StandIn::start().unwrap();
    let cases = [
        (USERS, vec!["email_address", "first_name", "last_name"]),
        (ORGANIZATIONS, vec!["name", "slug"]),
        (APPLICATIONS, vec!["name", "owner_id", "plan_id"]),
    ];
    for (path, required) in cases {
        let raw = post(&stand_in, path, &json!({}));
        assert_eq!(raw.status, 422, "{path}");
        let expected: Vec<_> = required
            .iter()
            .map(|p| error("form_param_missing", p))
            .collect();
        assert_eq!(raw.errors(), expected, "{path}");
        assert_eq!(
            raw.json["errors"][0],
            json!({
                "code": "form_param_missing",
                "message": "is missing",
                "long_message": format!("{} is required.", required[0]),
                "meta": {"param_name": required[0]},
            })
        );
        assert_trace_id(&raw);
    }

    let mut body = user_body();
    body.as_object_mut().unwrap().remove("last_name");
    let raw = post(&stand_in, USERS, &body);
    assert_eq!(raw.errors(), [error("form_param_missing", "last_name")]);
}

#[test]
fn unknown_fields_are_refused_after_the_others_sorted() {
    let stand_in = StandIn::start().unwrap();
    let mut body = user_body();
    body["zeta"] = json!(1);
    body["alpha"] = json!("x");
    body["username"] = json!("ada");
    let raw = post(&stand_in, USERS, &body);
    assert_eq!(raw.status, 422);
    assert_eq!(
        raw.errors(),
        [
            error("form_param_unknown", "alpha"),
            error("form_param_unknown", "username"),
            error("form_param_unknown", "zeta"),
        ]
    );
    assert_eq!(
        raw.json["errors"][0]["long_message"],
        "alpha is not a parameter of this request."
    );

    // Unknown and missing together: the missing field first.
    let raw = post(
        &stand_in,
        ORGANIZATIONS,
        &json!({"name": "A", "domain": "a.com"}),
    );
    assert_eq!(
        raw.errors(),
        [
            error("form_param_missing", "slug"),
            error("form_param_unknown", "domain"),
        ]
    );
}

#[test]
fn null_is_refused_for_every_field_required_or_not() {
    let stand_in = StandIn::start().unwrap();
    let fields = [
        (
            USERS,
            user_body(),
            spec_properties("ManagementUpsertUserRequest"),
        ),
        (
            ORGANIZATIONS,
            organization_body(),
            spec_properties("ManagementCreateOrganizationRequest"),
        ),
        (
            APPLICATIONS,
            application_body(),
            spec_properties("ManagementCreateApplicationRequest"),
        ),
    ];
    for (path, valid, names) in fields {
        for name in names {
            let mut body = valid.clone();
            body[name.as_str()] = Value::Null;
            let raw = post(&stand_in, path, &body);
            assert_eq!(raw.status, 422, "{path} {name}");
            assert_eq!(raw.errors(), [error("form_param_nil", &name)], "{path}");
        }
    }
}

#[test]
fn values_of_the_wrong_type_are_refused_naming_the_type() {
    let stand_in = StandIn::start().unwrap();
    let cases = [
        (USERS, user_body(), "first_name", json!(5), "a string"),
        (
            USERS,
            user_body(),
            "email_address",
            json!(["a@b.c"]),
            "a string",
        ),
        (
            ORGANIZATIONS,
            organization_body(),
            "slug",
            json!(true),
            "a string",
        ),
        (
            ORGANIZATIONS,
            organization_body(),
            "created_by",
            json!(1),
            "a string",
        ),
        (
            ORGANIZATIONS,
            organization_body(),
            "max_allowed_memberships",
            json!(1.5),
            "an integer",
        ),
        (
            ORGANIZATIONS,
            organization_body(),
            "max_allowed_memberships",
            json!("5"),
            "an integer",
        ),
        (
            ORGANIZATIONS,
            organization_body(),
            "public_metadata",
            json!([]),
            "an object",
        ),
        (
            ORGANIZATIONS,
            organization_body(),
            "private_metadata",
            json!("{}"),
            "an object",
        ),
        (
            ORGANIZATIONS,
            organization_body(),
            "created_at",
            json!(1712781461925_i64),
            "a string",
        ),
        (
            APPLICATIONS,
            application_body(),
            "plan_id",
            json!({}),
            "a string",
        ),
        (
            APPLICATIONS,
            application_body(),
            "addon_ids",
            json!("a"),
            "an array of strings",
        ),
        (
            APPLICATIONS,
            application_body(),
            "addon_ids",
            json!(["a", 1]),
            "an array of strings",
        ),
        (
            APPLICATIONS,
            application_body(),
            "paid_externally",
            json!("true"),
            "a boolean",
        ),
        (
            APPLICATIONS,
            application_body(),
            "test_mode",
            json!(1),
            "a boolean",
        ),
        (
            APPLICATIONS,
            application_body(),
            "max_allowed_users",
            json!(-0.5),
            "an integer",
        ),
        (
            APPLICATIONS,
            application_body(),
            "max_allowed_organizations",
            json!([]),
            "an integer",
        ),
        (
            APPLICATIONS,
            application_body(),
            "subscription_metadata",
            json!([]),
            "an object",
        ),
        (
            APPLICATIONS,
            application_body(),
            "environment_types",
            json!("development"),
            "an array of strings",
        ),
        (
            APPLICATIONS,
            application_body(),
            "environment_types",
            json!([null]),
            "an array of strings",
        ),
    ];
    for (path, mut body, field, value, expected) in cases {
        body[field] = value.clone();
        let raw = post(&stand_in, path, &body);
        assert_eq!(raw.status, 422, "{field} = {value}");
        assert_eq!(
            raw.errors(),
            [error("form_param_type_invalid", field)],
            "{value}"
        );
        assert_eq!(
            raw.json["errors"][0]["long_message"],
            format!("{field} must be {expected}."),
        );
    }
}

#[test]
fn integers_may_be_any_json_integer() {
    let stand_in = StandIn::start().unwrap();
    for (slug, value) in [("a", json!(0)), ("b", json!(u64::MAX)), ("c", json!(-1))] {
        let mut body = organization_body();
        body["slug"] = json!(slug);
        body["max_allowed_memberships"] = value.clone();
        let raw = post(&stand_in, ORGANIZATIONS, &body);
        assert_eq!(raw.status, 200, "{value}");
        assert_eq!(raw.json["max_allowed_memberships"], value);
    }
}

#[test]
fn created_at_must_be_rfc_3339_with_a_zone() {
    let stand_in = StandIn::start().unwrap();
    for (i, bad) in [
        "2024-04-10T20:37:41",
        "2024-04-10 20:37:41Z",
        "2024-04-10",
        "2024-13-10T20:37:41Z",
        "1712781461925",
        "",
    ]
    .into_iter()
    .enumerate()
    {
        let body = json!({"name": "A", "slug": format!("bad-{i}"), "created_at": bad});
        let raw = post(&stand_in, ORGANIZATIONS, &body);
        assert_eq!(raw.status, 422, "{bad}");
        assert_eq!(
            raw.errors(),
            [error("form_param_format_invalid", "created_at")]
        );
        assert_eq!(
            raw.json["errors"][0]["long_message"],
            "created_at must be an RFC 3339 date-time with a time zone, such as \
             2024-04-10T20:37:41.925Z."
        );
    }

    for (slug, good) in [
        ("utc", "2024-04-10T20:37:41.925Z"),
        ("india", "2024-04-11T02:07:41.925+05:30"),
        ("nanos", "2024-04-10T20:37:41.925999999Z"),
    ] {
        let body = json!({"name": "A", "slug": slug, "created_at": good});
        let raw = post(&stand_in, ORGANIZATIONS, &body);
        assert_eq!(raw.status, 200, "{good}");
        assert_eq!(raw.json["created_at"], 1_712_781_461_925_i64, "{good}");
    }
}

#[test]
fn environment_types_and_subscription_metadata_values_are_checked() {
    let stand_in = StandIn::start().unwrap();
    let mut body = application_body();
    body["environment_types"] = json!(["development", "qa"]);
    let raw = post(&stand_in, APPLICATIONS, &body);
    assert_eq!(raw.status, 422);
    assert_eq!(
        raw.errors(),
        [error("form_param_value_invalid", "environment_types")]
    );
    assert_eq!(
        raw.json["errors"][0]["long_message"],
        "\"qa\" is not an environment type; use development, staging or production."
    );

    // Case matters, as in the specification's enum.
    body["environment_types"] = json!(["Production"]);
    let raw = post(&stand_in, APPLICATIONS, &body);
    assert_eq!(
        raw.errors(),
        [error("form_param_value_invalid", "environment_types")]
    );

    let mut body = application_body();
    body["subscription_metadata"] = json!({"source": "portal", "seats": 5});
    let raw = post(&stand_in, APPLICATIONS, &body);
    assert_eq!(raw.status, 422);
    assert_eq!(
        raw.errors(),
        [error("form_param_value_invalid", "subscription_metadata")]
    );
    assert_eq!(
        raw.json["errors"][0]["long_message"],
        "subscription_metadata values must be strings; the value of \"seats\" is not."
    );

    body["subscription_metadata"] = json!({"source": "portal"});
    assert_eq!(post(&stand_in, APPLICATIONS, &body).status, 200);
}

#[test]
fn email_addresses_must_look_like_one() {
    let stand_in = StandIn::start().unwrap();
    for bad in [
        "",
        "ada",
        "@example.com",
        "ada@",
        "ada@@example.com",
        "a da@example.com",
    ] {
        let mut body = user_body();
        body["email_address"] = json!(bad);
        let raw = post(&stand_in, USERS, &body);
        assert_eq!(raw.status, 422, "{bad:?}");
        assert_eq!(
            raw.errors(),
            [error("form_param_format_invalid", "email_address")]
        );
    }
}

#[test]
fn every_problem_of_a_body_is_listed_at_once() {
    let stand_in = StandIn::start().unwrap();
    let body = json!({
        "name": 1,
        "plan_id": null,
        "environment_types": ["prod"],
        "subscription_metadata": {"a": false},
        "extra": true,
    });
    let raw = post(&stand_in, APPLICATIONS, &body);
    assert_eq!(
        raw.errors(),
        [
            error("form_param_type_invalid", "name"),
            error("form_param_missing", "owner_id"),
            error("form_param_nil", "plan_id"),
            error("form_param_value_invalid", "subscription_metadata"),
            error("form_param_value_invalid", "environment_types"),
            error("form_param_unknown", "extra"),
        ]
    );
    assert!(stand_in.requests().len() == 1);
}

#[test]
fn the_client_reports_validation_errors_with_code_param_and_trace_id() {
    let stand_in = StandIn::start().unwrap();
    let client = stand_in.client().unwrap();
    let error = client
        .upsert_user(&UpsertUserRequest::new("not-an-email", "A", "B"))
        .unwrap_err();
    let Error::Api(api) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(api.status, 422);
    assert_eq!(api.errors.len(), 1);
    assert_eq!(api.errors[0].code, "form_param_format_invalid");
    assert_eq!(api.errors[0].message, "is invalid");
    assert_eq!(
        api.errors[0].long_message.as_deref(),
        Some("email_address must be a valid email address.")
    );
    assert_eq!(
        api.errors[0].meta.as_ref().unwrap()["param_name"],
        "email_address"
    );
    let trace = error.clerk_trace_id().unwrap();
    assert_eq!(trace.len(), 32);
    assert!(error.to_string().contains(trace), "{error}");
}

// ---------------------------------------------------------------------------------------------
// Upserts, organizations, applications

#[test]
fn upserting_the_same_email_keeps_the_user_and_updates_the_names() {
    let stand_in = StandIn::start().unwrap();
    let client = stand_in.client().unwrap();
    let before = now_millis();
    let first = client
        .upsert_user(&UpsertUserRequest::new("ada@example.com", "Ada", "Byron"))
        .unwrap();
    thread::sleep(Duration::from_millis(5));
    let second = client
        .upsert_user(&UpsertUserRequest::new(
            "ada@example.com",
            "Ada",
            "Lovelace",
        ))
        .unwrap();
    let after = now_millis();

    assert_eq!(first.id, second.id);
    assert_eq!(first.last_name.as_deref(), Some("Byron"));
    assert_eq!(second.last_name.as_deref(), Some("Lovelace"));
    assert_eq!(second.first_name.as_deref(), Some("Ada"));
    assert_eq!(first.created_at, second.created_at);
    assert!(before <= first.created_at && first.created_at <= first.updated_at);
    assert!(second.updated_at > first.updated_at && second.updated_at <= after);
    assert_eq!(first.email_addresses, second.email_addresses);
    assert_eq!(
        second.primary_email_address().unwrap().email_address,
        "ada@example.com"
    );

    // The address is matched without regard to ASCII case, and kept as first given.
    let shouted = client
        .upsert_user(&UpsertUserRequest::new("ADA@Example.COM", "Ada", "King"))
        .unwrap();
    assert_eq!(shouted.id, first.id);
    assert_eq!(shouted.email_addresses[0].email_address, "ada@example.com");

    let other = client
        .upsert_user(&UpsertUserRequest::new(
            "grace@example.com",
            "Grace",
            "Hopper",
        ))
        .unwrap();
    assert_ne!(other.id, first.id);
    assert_ne!(
        other.primary_email_address_id,
        first.primary_email_address_id
    );
}

#[test]
fn users_have_every_field_of_the_specification() {
    let stand_in = StandIn::start().unwrap();
    let raw = post(&stand_in, USERS, &user_body());
    assert_eq!(raw.status, 200);
    assert_eq!(raw.header("content-type"), Some("application/json"));
    let user = &raw.json;
    assert_eq!(keys(user), set(spec_properties("User")));
    assert_eq!(
        keys(&user["email_addresses"][0]),
        set(spec_properties("EmailAddress"))
    );
    assert_eq!(
        keys(&user["email_addresses"][0]["verification"]),
        set(spec_properties("Admin"))
    );

    let id = user["id"].as_str().unwrap();
    assert!(id.starts_with("user_") && id.len() == 32, "{id}");
    let email_id = user["primary_email_address_id"].as_str().unwrap();
    assert!(email_id.starts_with("idn_"), "{email_id}");
    assert_eq!(user["email_addresses"][0]["id"], email_id);
    assert_eq!(user["object"], "user");
    assert_eq!(user["first_name"], "Ada");
    assert_eq!(user["last_name"], "Lovelace");
    assert_eq!(
        user["email_addresses"][0]["verification"]["status"],
        "verified"
    );
    let created = user["created_at"].as_i64().unwrap();
    assert!(
        (now_millis() - created).abs() < 60_000,
        "{created} is not milliseconds"
    );
}

#[test]
fn a_second_organization_with_a_taken_slug_is_refused() {
    let stand_in = StandIn::start().unwrap();
    let client = stand_in.client().unwrap();
    let first = client
        .create_organization(&CreateOrganizationRequest::new("Acme", "acme"))
        .unwrap();
    assert!(first.id.starts_with("org_"));

    let raw = post(
        &stand_in,
        ORGANIZATIONS,
        &json!({"name": "Other", "slug": "acme"}),
    );
    assert_eq!(raw.status, 422);
    assert_eq!(raw.errors(), [error("form_identifier_exists", "slug")]);
    assert_eq!(
        raw.json["errors"][0]["message"],
        "That slug is taken. Please try another."
    );
    assert_trace_id(&raw);

    let error = client
        .create_organization(&CreateOrganizationRequest::new("Third", "acme"))
        .unwrap_err();
    assert_eq!(error.status(), Some(422));
    assert_eq!(error.code(), Some("form_identifier_exists"));
    let Error::Api(api) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(api.errors[0].meta.as_ref().unwrap()["param_name"], "slug");

    // Slugs are compared exactly; a refused request reserves nothing.
    let bad = json!({"name": "A", "slug": "fresh", "created_at": "yesterday"});
    assert_eq!(post(&stand_in, ORGANIZATIONS, &bad).status, 422);
    for slug in ["fresh", "acme-2", "Acme"] {
        let ok = client.create_organization(&CreateOrganizationRequest::new("A", slug));
        assert_eq!(ok.unwrap().slug, slug);
    }
}

#[test]
fn organizations_have_every_field_and_echo_what_was_sent() {
    let stand_in = StandIn::start().unwrap();
    let body = json!({
        "name": "Acme Inc.",
        "slug": "acme",
        "created_by": "user_123",
        "max_allowed_memberships": 25,
        "public_metadata": {"plan": {"seats": 9_007_199_254_740_993_u64}, "tags": ["a"]},
        "private_metadata": {"crm_id": "C-17", "none": null},
    });
    let raw = post(&stand_in, ORGANIZATIONS, &body);
    assert_eq!(raw.status, 200);
    let organization = &raw.json;
    assert_eq!(keys(organization), set(spec_properties("Organization")));
    assert_eq!(organization["object"], "organization");
    assert_eq!(organization["name"], "Acme Inc.");
    assert_eq!(organization["slug"], "acme");
    assert_eq!(organization["created_by"], "user_123");
    assert_eq!(organization["members_count"], 1);
    assert_eq!(organization["max_allowed_memberships"], 25);
    assert_eq!(organization["public_metadata"], body["public_metadata"]);
    assert_eq!(organization["private_metadata"], body["private_metadata"]);
    assert_eq!(organization["created_at"], organization["updated_at"]);

    // Without a creator: no member, no `created_by`, empty metadata, no limit (0).
    let raw = post(&stand_in, ORGANIZATIONS, &json!({"name": "B", "slug": "b"}));
    let mut expected = set(spec_properties("Organization"));
    expected.remove("created_by");
    assert_eq!(keys(&raw.json), expected);
    assert_eq!(raw.json["members_count"], 0);
    assert_eq!(raw.json["missing_member_with_elevated_permissions"], true);
    assert_eq!(raw.json["public_metadata"], json!({}));
    assert_eq!(raw.json["max_allowed_memberships"], 0);
}

#[test]
fn applications_get_one_instance_per_environment_with_keys() {
    let stand_in = StandIn::start().unwrap();
    let client = stand_in.client().unwrap();

    let default = client
        .create_application(&CreateApplicationRequest::new("Acme", "user_1", "plan_pro"))
        .unwrap();
    assert!(default.application_id.starts_with("app_"));
    assert_eq!(default.instances.len(), 1);
    assert_eq!(default.instances[0].environment_type, "development");

    let both = client
        .create_application(
            &CreateApplicationRequest::new("Acme", "user_1", "plan_pro")
                .environment_types([EnvironmentType::Development, EnvironmentType::Production]),
        )
        .unwrap();
    assert_ne!(both.application_id, default.application_id);
    let environments: Vec<_> = both
        .instances
        .iter()
        .map(|i| i.environment_type.as_str())
        .collect();
    assert_eq!(environments, ["development", "production"]);

    let (development, production) = (&both.instances[0], &both.instances[1]);
    assert!(development.instance_id.starts_with("ins_"));
    assert_ne!(development.instance_id, production.instance_id);
    assert!(
        development
            .secret_key
            .expose_secret()
            .starts_with("sk_test_")
    );
    assert!(development.publishable_key.starts_with("pk_test_"));
    assert!(
        production
            .secret_key
            .expose_secret()
            .starts_with("sk_live_")
    );
    assert!(production.publishable_key.starts_with("pk_live_"));
    assert_ne!(
        development.secret_key.expose_secret(),
        default.instances[0].secret_key.expose_secret()
    );
    for instance in &both.instances {
        let debug = format!("{both:?}");
        assert!(
            !debug.contains(instance.secret_key.expose_secret()),
            "{debug}"
        );
        let host = decode_publishable(&instance.publishable_key);
        assert!(host.ends_with(".clerk.accounts.dev") || host.ends_with(".example.com"));
    }
}

/// The frontend host a publishable key names: base64 of `host$` after `pk_test_`/`pk_live_`.
fn decode_publishable(key: &str) -> String {
    let encoded = &key[8..];
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bits: Vec<u32> = encoded
        .chars()
        .map(|c| alphabet.find(c).unwrap_or_else(|| panic!("{c} in {key}")) as u32)
        .collect();
    assert_eq!(bits.len() % 4, 0, "{key}");
    let mut bytes = Vec::new();
    for chunk in bits.chunks(4) {
        let n = chunk.iter().fold(0, |n, b| (n << 6) | b);
        bytes.extend([(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    let text = String::from_utf8(bytes).unwrap();
    text.strip_suffix('$')
        .unwrap_or_else(|| panic!("{text}"))
        .to_owned()
}

#[test]
fn application_bodies_have_every_field_of_the_specification() {
    let stand_in = StandIn::start().unwrap();
    let mut body = application_body();
    body["environment_types"] = json!(["staging", "production", "staging"]);
    let raw = post(&stand_in, APPLICATIONS, &body);
    assert_eq!(raw.status, 200);
    let response = &raw.json;
    assert_eq!(
        keys(response),
        set(spec_properties("ManagementApplicationResponse"))
    );
    assert_eq!(
        keys(&response["subscription"]),
        set(spec_properties("ManagementApplicationSubscription"))
    );
    // A repeated environment gets one instance.
    let instances = response["instances"].as_array().unwrap();
    assert_eq!(instances.len(), 2);
    assert_eq!(instances[0]["environment_type"], "staging");
    assert_eq!(instances[1]["environment_type"], "production");
    for instance in instances {
        assert_eq!(
            keys(instance),
            set(spec_properties("ManagementApplicationInstance"))
        );
        let secret = instance["secret_key"].as_str().unwrap();
        assert_eq!(secret.len(), "sk_live_".len() + 42, "{secret}");
    }
}

// ---------------------------------------------------------------------------------------------
// Faults, end to end through the client

fn retrying(stand_in: &StandIn, attempts: u32) -> clerk_management::ManagementClient {
    let retry = RetryConfig::default()
        .initial_interval(Duration::from_millis(1))
        .jitter(0.0)
        .max_attempts(attempts);
    stand_in.client_builder().retry(retry).build().unwrap()
}

fn ada() -> UpsertUserRequest {
    UpsertUserRequest::new("ada@example.com", "Ada", "Lovelace")
}

#[test]
fn a_status_fault_carries_retry_after() {
    let stand_in = StandIn::start().unwrap();
    stand_in.push_fault(Fault::Status {
        status: 429,
        retry_after: Some("7".into()),
    });
    let error = stand_in.client().unwrap().upsert_user(&ada()).unwrap_err();
    assert_eq!(error.status(), Some(429));
    assert_eq!(error.code(), Some("stand_in_fault"));
    assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
    assert_eq!(error.clerk_trace_id().map(str::len), Some(32));

    // One fault answers one request.
    assert!(stand_in.client().unwrap().upsert_user(&ada()).is_ok());
}

#[test]
fn queued_faults_are_used_in_order_then_the_always_fault() {
    let stand_in = StandIn::start().unwrap();
    let client = stand_in.client().unwrap();
    stand_in.push_fault(Fault::Html502);
    stand_in.push_faults(2, Fault::json(418, &json!({"errors": []})));
    stand_in.fail_always(Fault::Status {
        status: 503,
        retry_after: None,
    });
    let statuses: Vec<_> = (0..5)
        .map(|_| client.upsert_user(&ada()).unwrap_err().status())
        .collect();
    assert_eq!(
        statuses,
        [Some(502), Some(418), Some(418), Some(503), Some(503)]
    );

    stand_in.clear_faults();
    assert!(client.upsert_user(&ada()).is_ok());
    assert_eq!(stand_in.requests().len(), 6);
}

#[test]
fn the_client_retries_through_queued_faults_and_gives_up_on_a_permanent_one() {
    let stand_in = StandIn::start().unwrap();
    stand_in.push_faults(
        2,
        Fault::Status {
            status: 503,
            retry_after: Some("0".into()),
        },
    );
    let user = retrying(&stand_in, 5).upsert_user(&ada()).unwrap();
    assert!(user.id.starts_with("user_"));
    assert_eq!(stand_in.requests().len(), 3);

    stand_in.fail_always(Fault::Status {
        status: 500,
        retry_after: None,
    });
    let error = retrying(&stand_in, 3).upsert_user(&ada()).unwrap_err();
    assert_eq!(error.status(), Some(500));
    assert_eq!(error.attempts(), 3);
    assert_eq!(stand_in.requests().len(), 6);
}

#[test]
fn an_html_502_is_an_unexpected_response() {
    let stand_in = StandIn::start().unwrap();
    stand_in.push_fault(Fault::Html502);
    let error = stand_in.client().unwrap().upsert_user(&ada()).unwrap_err();
    let Error::UnexpectedResponse(unexpected) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(unexpected.status, 502);
    assert_eq!(unexpected.content_type.as_deref(), Some("text/html"));
    assert_eq!(
        unexpected.body_excerpt,
        "<html><body><h1>502 Bad Gateway</h1></body></html>"
    );
}

#[test]
fn a_dropped_connection_breaks_the_response_at_once() {
    let stand_in = StandIn::start().unwrap();
    let client = stand_in.client().unwrap();
    // A pooled connection first, so that the fault breaks a reused one.
    client.upsert_user(&ada()).unwrap();
    for fault in [Fault::DropConnection, Fault::CloseWithoutResponse] {
        stand_in.push_fault(fault.clone());
        let start = Instant::now();
        let error = client.upsert_user(&ada()).unwrap_err();
        let Error::Transport(transport) = &error else {
            panic!("{fault:?}: {error:?}")
        };
        assert_eq!(transport.kind, TransportKind::ConnectionClosed, "{fault:?}");
        assert!(error.may_have_been_applied());
        // Not a wait for the client's 30 s timeout.
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
    }
    // ureq does not resend on its own: one request per call.
    assert_eq!(stand_in.requests().len(), 3);
    assert!(client.upsert_user(&ada()).is_ok());
}

#[test]
fn creates_are_not_resent_after_a_dropped_connection_upserts_are() {
    let stand_in = StandIn::start().unwrap();
    let client = retrying(&stand_in, 5);
    stand_in.push_fault(Fault::DropConnection);
    let error = client
        .create_organization(&CreateOrganizationRequest::new("Acme", "acme"))
        .unwrap_err();
    assert!(error.may_have_been_applied(), "{error:?}");
    assert_eq!(error.attempts(), 1);
    assert_eq!(stand_in.requests().len(), 1);

    stand_in.push_fault(Fault::CloseWithoutResponse);
    assert!(client.upsert_user(&ada()).is_ok());
    assert_eq!(stand_in.requests().len(), 3);
}

#[test]
fn a_delay_answers_normally_late_and_takes_effect_after_a_client_timeout() {
    let stand_in = StandIn::start().unwrap();
    stand_in.push_fault(Fault::Delay(Duration::from_millis(200)));
    let start = Instant::now();
    let user = stand_in.client().unwrap().upsert_user(&ada()).unwrap();
    assert!(start.elapsed() >= Duration::from_millis(200));
    assert!(user.id.starts_with("user_"));

    let impatient = stand_in
        .client_builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let late = UpsertUserRequest::new("late@example.com", "Late", "Comer");
    stand_in.push_fault(Fault::Delay(Duration::from_millis(400)));
    let (start, sent_at) = (Instant::now(), now_millis());
    let error = impatient.upsert_user(&late).unwrap_err();
    let Error::Timeout(timeout) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(timeout.phase, TimeoutPhase::Response);
    let waited = start.elapsed();
    assert!(waited < Duration::from_millis(350), "{waited:?}");

    // The stand-in went on after the wait and created the user then.
    thread::sleep(Duration::from_millis(600).saturating_sub(waited));
    let asked_again_at = now_millis();
    let again = stand_in.client().unwrap().upsert_user(&late).unwrap();
    assert!(
        again.created_at >= sent_at + 400,
        "{} {sent_at}",
        again.created_at
    );
    assert!(
        again.created_at < asked_again_at,
        "{} {asked_again_at}",
        again.created_at
    );
}

#[test]
fn a_respond_fault_sends_exactly_what_it_says() {
    let stand_in = StandIn::start().unwrap();
    stand_in.push_fault(Fault::Respond {
        status: 200,
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("X-Bad".into(), "a\r\nInjected: yes".into()),
        ],
        body: br#"{"id":"user_fixed","object":"user"}"#.to_vec(),
    });
    let mut response = agent()
        .post(format!("{}{USERS}", stand_in.base_url()))
        .send(b"{}")
        .unwrap();
    let raw = read_raw(&mut response);
    assert_eq!(raw.status, 200);
    assert_eq!(raw.json, json!({"id": "user_fixed", "object": "user"}));
    assert_eq!(raw.header("injected"), None);
    assert_eq!(raw.header("x-bad"), None);

    // A body that lies about its length: the client sees the cut, and the next call works.
    stand_in.push_fault(Fault::Respond {
        status: 200,
        headers: vec![("Content-Length".into(), "100".into())],
        body: b"{}".to_vec(),
    });
    let client = stand_in.client().unwrap();
    let error = client.upsert_user(&ada()).unwrap_err();
    assert!(matches!(&error, Error::Transport(t) if t.kind == TransportKind::ConnectionClosed));
    assert!(client.upsert_user(&ada()).is_ok());
}

// ---------------------------------------------------------------------------------------------
// Recording

#[test]
fn requests_are_recorded_exactly_and_debug_hides_the_token() {
    let stand_in = StandIn::start().unwrap();
    stand_in
        .client()
        .unwrap()
        .upsert_user(&UpsertUserRequest::new(
            "ada@example.com",
            "Ada",
            "Lovelace",
        ))
        .unwrap();
    let requests = stand_in.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/management/users");
    assert_eq!(
        request.body_text(),
        r#"{"email_address":"ada@example.com","first_name":"Ada","last_name":"Lovelace"}"#
    );
    assert_eq!(
        request.header("Authorization"),
        Some("Bearer mt_stand_in_token")
    );
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert!(
        request
            .headers
            .iter()
            .all(|(n, _)| *n == n.to_ascii_lowercase())
    );

    let debug = format!("{request:?}");
    assert!(!debug.contains(STAND_IN_TOKEN), "{debug}");
    assert!(
        debug.contains(r#"("authorization", "[redacted]")"#),
        "{debug}"
    );
    assert!(
        debug.contains(r#"body: "{\"email_address\":\"ada@example.com\""#),
        "{debug}"
    );
    assert!(!format!("{stand_in:?}").contains(STAND_IN_TOKEN));
}

// ---------------------------------------------------------------------------------------------
// The HTTP server itself

/// Sends raw bytes, closes the sending side, and reads until the server closes.
fn exchange(stand_in: &StandIn, bytes: &[u8]) -> String {
    let address = stand_in.base_url().trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // The server may close before everything is written (a bad head): that is fine.
    let _ = stream.write_all(bytes);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

fn request_bytes(extra_headers: &str, body: &str) -> Vec<u8> {
    format!(
        "POST /management/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {STAND_IN_TOKEN}\r\n\
         Connection: close\r\n{extra_headers}\r\n{body}"
    )
    .into_bytes()
}

#[test]
fn chunked_bodies_and_expect_continue_are_understood() {
    let stand_in = StandIn::start().unwrap();
    let body = user_body().to_string();
    let (a, b) = body.split_at(10);
    let chunked = format!(
        "{:x};ext=1\r\n{a}\r\n{:X}\r\n{b}\r\n0\r\nTrailer: t\r\n\r\n",
        a.len(),
        b.len()
    );
    let answer = exchange(
        &stand_in,
        &request_bytes("Transfer-Encoding: chunked\r\n", &chunked),
    );
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.contains("Connection: close\r\n"), "{answer}");
    assert_eq!(stand_in.requests()[0].body_text(), body);

    let headers = format!("Content-Length: {}\r\nExpect: 100-continue\r\n", body.len());
    let answer = exchange(&stand_in, &request_bytes(&headers, &body));
    assert!(
        answer.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"),
        "{answer}"
    );
}

#[test]
fn connections_are_kept_alive_between_requests() {
    let stand_in = StandIn::start().unwrap();
    let body = user_body().to_string();
    let one = format!(
        "POST /management/users HTTP/1.1\r\nAuthorization: Bearer {STAND_IN_TOKEN}\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let answer = exchange(&stand_in, format!("{one}{one}").as_bytes());
    assert_eq!(answer.matches("HTTP/1.1 200 OK\r\n").count(), 2, "{answer}");
    assert_eq!(stand_in.requests().len(), 2);

    // HTTP/1.0 closes after one answer unless asked otherwise.
    let old = one.replacen("HTTP/1.1", "HTTP/1.0", 1);
    let answer = exchange(&stand_in, format!("{old}{old}").as_bytes());
    assert_eq!(answer.matches("HTTP/1.1 200 OK\r\n").count(), 1, "{answer}");
    assert!(answer.contains("Connection: close\r\n"));
}

#[test]
fn malformed_http_gets_a_4xx_and_a_closed_connection() {
    let stand_in = StandIn::start().unwrap();
    let cases: [(&[u8], &str); 7] = [
        (b"GARBAGE\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"),
        (
            b"POST / HTTP/2.0\r\n\r\n",
            "HTTP/1.1 505 HTTP Version Not Supported\r\n",
        ),
        (
            b"POST /x HTTP/1.1\r\nNo colon here\r\n\r\n",
            "HTTP/1.1 400 Bad Request\r\n",
        ),
        (
            b"POST /x HTTP/1.1\r\nBad Name: v\r\n\r\n",
            "HTTP/1.1 400 Bad Request\r\n",
        ),
        (
            b"POST /x HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
            "HTTP/1.1 413 Content Too Large\r\n",
        ),
        (
            b"POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "HTTP/1.1 400 Bad Request\r\n",
        ),
        (
            b"POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
            "HTTP/1.1 400 Bad Request\r\n",
        ),
    ];
    for (bytes, status_line) in cases {
        let answer = exchange(&stand_in, bytes);
        assert!(answer.starts_with(status_line), "{bytes:?}: {answer}");
        assert!(answer.contains("Connection: close\r\n"), "{answer}");
        assert!(answer.contains(r#""code":"malformed_request""#), "{answer}");
    }

    let mut huge = b"POST /x HTTP/1.1\r\nX: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 70 * 1024));
    huge.extend(b"\r\n\r\n");
    let answer = exchange(&stand_in, &huge);
    assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");

    // Nothing there became a request, and the server still answers.
    assert!(stand_in.requests().is_empty());
    assert_eq!(post(&stand_in, USERS, &user_body()).status, 200);
}

/// A small deterministic generator, so that a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn value(&mut self, depth: u32) -> Value {
        match self.below(if depth > 2 { 5 } else { 7 }) {
            0 => Value::Null,
            1 => json!(self.below(2) == 0),
            2 => json!(self.next() as i64 - (1 << 30)),
            3 => json!(self.next() as f64 / 7.0),
            4 => json!(
                ["development", "staging", "production", "x", "", "a@b.c"][self.below(6) as usize]
            ),
            5 => Value::Array((0..self.below(3)).map(|_| self.value(depth + 1)).collect()),
            _ => Value::Object(
                (0..self.below(4))
                    .map(|_| (self.key(), self.value(depth + 1)))
                    .collect(),
            ),
        }
    }

    fn key(&mut self) -> String {
        let names = [
            "email_address",
            "first_name",
            "last_name",
            "name",
            "slug",
            "created_by",
            "max_allowed_memberships",
            "public_metadata",
            "private_metadata",
            "created_at",
            "owner_id",
            "plan_id",
            "addon_ids",
            "paid_externally",
            "test_mode",
            "max_allowed_users",
            "max_allowed_organizations",
            "subscription_metadata",
            "environment_types",
            "other",
        ];
        names[self.below(names.len() as u64) as usize].to_owned()
    }
}

#[test]
fn arbitrary_bodies_and_bytes_never_break_the_stand_in() {
    let panics = stand_in_panics();
    let stand_in = Arc::new(StandIn::start().unwrap());
    let mut random = Lcg(0x5eed);

    for _ in 0..300 {
        let body = Value::Object(
            (0..random.below(6))
                .map(|_| (random.key(), random.value(0)))
                .collect(),
        );
        let path = [USERS, ORGANIZATIONS, APPLICATIONS][random.below(3) as usize];
        let raw = post(&stand_in, path, &body);
        assert!(
            [200, 422].contains(&raw.status),
            "{path} {body}: {}",
            raw.status
        );
        if raw.status == 422 {
            assert!(!raw.errors().is_empty());
            assert_trace_id(&raw);
        }
    }

    let prefix =
        format!("POST /management/users HTTP/1.1\r\nAuthorization: Bearer {STAND_IN_TOKEN}\r\n");
    for round in 0..200 {
        let mut bytes = if round % 2 == 0 {
            prefix.clone().into_bytes()
        } else {
            Vec::new()
        };
        let length = random.below(200);
        bytes.extend((0..length).map(|_| match random.below(6) {
            0 => b'\r',
            1 => b'\n',
            2 => b':',
            _ => random.below(256) as u8,
        }));
        let answer = exchange(&stand_in, &bytes);
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 "),
            "{bytes:?}: {answer}"
        );
    }

    assert_eq!(post(&stand_in, USERS, &user_body()).status, 200);
    assert_eq!(
        panics.load(Ordering::SeqCst),
        0,
        "a stand-in thread panicked"
    );
}

#[test]
fn dropping_the_stand_in_closes_the_port_and_its_connections() {
    let stand_in = StandIn::start().unwrap();
    let address = stand_in.base_url().trim_start_matches("http://").to_owned();
    let client = stand_in.client().unwrap();
    client.upsert_user(&ada()).unwrap();

    let mut idle = TcpStream::connect(&address).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    drop(stand_in);

    let mut buffer = [0u8; 16];
    assert_eq!(
        idle.read(&mut buffer).unwrap(),
        0,
        "the idle connection was closed"
    );
    let refused = TcpStream::connect(&address).unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    let error = client.upsert_user(&ada()).unwrap_err();
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
}

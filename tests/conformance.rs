//! Conformance with Clerk's OpenAPI specification, judged by Prism rather than by us.
//!
//! Prism (`scripts/prism.sh`) serves `tests/data/clerk-management.openapi.yml` with `--errors
//! --dynamic`: a request that does not match the specification gets a 422 naming the violation
//! in the `sl-violations` response header, and a valid one gets a random body that matches the
//! response schema. Run with
//!
//! ```text
//! bash scripts/prism.sh run -- cargo test --test conformance
//! ```
//!
//! Without `PRISM_URL` each test says that it did not run and passes, unless `CI` is set: then a
//! missing Prism fails every test, so a CI run cannot pass without these checks. `.ci/run`
//! always starts Prism.
//!
//! Dynamic bodies differ on every run on purpose (no fixed seed): variety is what finds decode
//! bugs. A failure therefore prints the body that failed, so it can be turned into a unit test.

use std::fmt::Debug;
use std::io::Write;
use std::time::Duration;

use clerk_management::create_application::{
    CreateApplicationRequest, EnvironmentType, ManagementApplicationResponse,
};
use clerk_management::create_organization::{CreateOrganizationRequest, Organization};
use clerk_management::testing::{RecordedRequest, StandIn};
use clerk_management::upsert_user::{UpsertUserRequest, User};
use clerk_management::{Error, ManagementClient, RequestOptions, RetryConfig};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use time::{Date, Month, Time, UtcOffset};

const PRISM_ENV: &str = "PRISM_URL";
/// Prism accepts any bearer token; this one is recognisable in its log.
const TOKEN: &str = "conformance-token";
/// Dynamic responses decoded per operation.
const DYNAMIC_RUNS: usize = 200;
/// Raw bodies fetched, after a failed decode, to find one that shows the failure in full.
const HUNT_RUNS: usize = 1000;
/// Calls per forced error status.
const ERROR_RUNS: usize = 10;
/// Statuses Prism is asked for with `Prefer: code=…`: every error the specification lists.
const ERROR_STATUSES: [u16; 4] = [400, 401, 403, 422];

const USERS: &str = "/management/users";
const ORGANIZATIONS: &str = "/management/organizations";
const APPLICATIONS: &str = "/management/applications";

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

/// Writes to the process's stderr directly: libtest captures `eprintln!` of passing tests, and
/// the skip notices and decode counts must show in a normal `cargo test` run.
fn note(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// Prism's base URL, or `None` (after saying so) when the test cannot run here.
fn prism(test: &str) -> Option<String> {
    let url = std::env::var(PRISM_ENV).unwrap_or_default();
    let url = url.trim().trim_end_matches('/');
    if url.is_empty() {
        assert!(
            !in_ci(),
            "conformance::{test}: {PRISM_ENV} is not set, but CI is: the conformance tests must \
             run in CI; run them with `bash scripts/prism.sh run -- cargo test` (as .ci/run does)"
        );
        note(&format!(
            "conformance::{test}: NOT RUN: {PRISM_ENV} is unset (run under \
             `bash scripts/prism.sh run -- cargo test --test conformance`)"
        ));
        return None;
    }
    // Raw requests go straight to this address: keep them on this machine.
    let loopback = ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"];
    assert!(
        loopback.iter().any(|prefix| url.starts_with(prefix)),
        "{PRISM_ENV} must be a loopback http URL such as http://127.0.0.1:4010, got {url:?}"
    );
    Some(url.to_owned())
}

fn client(url: &str) -> ManagementClient {
    ManagementClient::builder()
        .base_url(url)
        .management_token(TOKEN)
        .retry(RetryConfig::none())
        .build()
        .expect("client for Prism")
}

/// What the client puts on the wire for `call`, recorded by a local stand-in: the exact bytes
/// and headers, so that they can be sent to Prism again to read its response headers, which
/// the client's result does not carry.
fn wire<T>(call: impl FnOnce(&ManagementClient) -> T) -> RecordedRequest {
    let stand_in = StandIn::start().expect("stand-in");
    let _ = call(&stand_in.client().expect("stand-in client"));
    let mut requests = stand_in.requests();
    assert_eq!(
        requests.len(),
        1,
        "the client sent {} requests",
        requests.len()
    );
    requests.remove(0)
}

/// A response read without the client.
#[derive(Debug)]
struct Raw {
    status: u16,
    /// The `sl-violations` header, verbatim.
    violations: Option<String>,
    body: String,
}

impl Raw {
    fn violations(&self) -> Vec<Value> {
        let text = self.violations.as_deref().unwrap_or("[]");
        serde_json::from_str(text).unwrap_or_else(|e| panic!("sl-violations {text:?}: {e}"))
    }
}

fn raw_post(url: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Raw {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build();
    let agent = ureq::Agent::new_with_config(config);
    let mut request = agent.post(format!("{url}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = request.send(body).expect("raw request to Prism");
    let violations = response
        .headers()
        .get("sl-violations")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    Raw {
        status: response.status().as_u16(),
        violations,
        body: response.body_mut().read_to_string().expect("raw body"),
    }
}

/// A JSON body sent with a valid token, as a hand-written client would.
fn raw_json(url: &str, path: &str, body: &Value) -> Raw {
    let headers = [
        ("content-type", "application/json"),
        ("authorization", "Bearer raw-token"),
    ];
    raw_post(url, path, &headers, body.to_string().as_bytes())
}

/// Sends a recorded request to Prism again, byte for byte, with the client's headers.
fn replay(url: &str, request: &RecordedRequest) -> Raw {
    // The transport sets these itself.
    let own = [
        "host",
        "content-length",
        "accept-encoding",
        "connection",
        "transfer-encoding",
    ];
    let headers: Vec<(&str, &str)> = request
        .headers
        .iter()
        .filter(|(name, _)| !own.contains(&name.as_str()))
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    raw_post(url, &request.path, &headers, &request.body)
}

fn body_text(request: &RecordedRequest) -> String {
    String::from_utf8_lossy(&request.body).into_owned()
}

/// Asserts that Prism accepted the client's request (`sent`, the client's own result) and that
/// the same bytes draw no violation at all, not even a warning.
fn assert_accepted<T: Debug>(
    url: &str,
    what: &str,
    sent: Result<T, Error>,
    wire: &RecordedRequest,
) -> T {
    let again = replay(url, wire);
    let response = match sent {
        Ok(response) => response,
        Err(error) => panic!(
            "{what}: the client's request was not accepted: {error}\n\
             sl-violations (same bytes sent again: status {}): {}\nbody sent: {}",
            again.status,
            again.violations.as_deref().unwrap_or("none"),
            body_text(wire)
        ),
    };
    assert!(
        again.status == 200 && again.violations.is_none(),
        "{what}: the client's call succeeded, but its bytes sent again got status {} with \
         sl-violations: {}\nbody sent: {}",
        again.status,
        again.violations.as_deref().unwrap_or("none"),
        body_text(wire)
    );
    response
}

/// Shows where in `body` serde's (line, column) points.
fn around(body: &str, line: usize, column: usize) -> String {
    let Some(text) = body.lines().nth(line.saturating_sub(1)) else {
        return String::new();
    };
    let chars: Vec<char> = text.chars().collect();
    let at = column.saturating_sub(1).min(chars.len());
    let start = at.saturating_sub(200);
    let end = (at + 120).min(chars.len());
    let before: String = chars[start..at].iter().collect();
    let after: String = chars[at..end].iter().collect();
    format!("…{before}<<HERE>>{after}…")
}

/// Calls the client `DYNAMIC_RUNS` times and asserts that every dynamic response decodes.
///
/// When one does not, Prism is asked for raw bodies until one fails to decode into `T` in the
/// same way the client decodes (`serde_json::from_slice`), and that body is printed in full:
/// the client's own error carries only the first 512 characters.
fn assert_decodes<T: Debug + DeserializeOwned>(
    url: &str,
    target: &str,
    wire: &RecordedRequest,
    call: impl Fn(&ManagementClient) -> Result<T, Error>,
) {
    let client = client(url);
    let mut failures = Vec::new();
    for run in 0..DYNAMIC_RUNS {
        if let Err(error) = call(&client) {
            let detail = match &error {
                Error::Decode(d) => format!(
                    "run {run}: {error}\n  at line {}, column {}; body starts: {}",
                    d.line, d.column, d.body_excerpt
                ),
                _ => format!("run {run}: {error}"),
            };
            failures.push(detail);
        }
    }
    let decoded = DYNAMIC_RUNS - failures.len();
    note(&format!(
        "conformance: decoded {decoded}/{DYNAMIC_RUNS} dynamic {target} bodies from Prism"
    ));
    if failures.is_empty() {
        return;
    }

    let mut report = format!(
        "{} of {DYNAMIC_RUNS} dynamic {target} responses failed:\n{}\n",
        failures.len(),
        failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    match hunt::<T>(url, wire) {
        Some((error, body)) => report.push_str(&format!(
            "\na raw body that fails the same decoding: {error}\nthere: {}\nfull body:\n{body}\n",
            around(&body, error.line(), error.column())
        )),
        None => report.push_str(&format!(
            "\nno failing raw body found in {HUNT_RUNS} more responses\n"
        )),
    }
    panic!("{report}");
}

fn hunt<T: DeserializeOwned>(
    url: &str,
    wire: &RecordedRequest,
) -> Option<(serde_json::Error, String)> {
    (0..HUNT_RUNS).find_map(|_| {
        let raw = replay(url, wire);
        if raw.status != 200 {
            return None;
        }
        serde_json::from_slice::<T>(raw.body.as_bytes())
            .err()
            .map(|error| (error, raw.body))
    })
}

/// Asks Prism for each error status the specification lists, with a per-call header, and
/// asserts that the client returns Clerk's error list, decoded, with that status.
fn assert_typed_errors<T: Debug>(
    url: &str,
    what: &str,
    call: impl Fn(&ManagementClient, &RequestOptions) -> Result<T, Error>,
) {
    let client = client(url);
    for status in ERROR_STATUSES {
        let options = RequestOptions::new().header("Prefer", format!("code={status}"));
        let mut entries = 0;
        for _ in 0..ERROR_RUNS {
            let error = match call(&client, &options) {
                Err(error) => error,
                Ok(response) => panic!("{what} with Prefer code={status}: success {response:?}"),
            };
            assert_eq!(error.status(), Some(status), "{what}: {error}");
            assert_eq!(error.attempts(), 1, "{what}: {error}");
            match &error {
                Error::Api(api) => {
                    assert_eq!(api.status, status);
                    assert_eq!(error.code(), api.errors.first().map(|e| e.code.as_str()));
                    entries += api.errors.len();
                }
                other => panic!(
                    "{what} with Prefer code={status}: Clerk's error list did not decode: {other}"
                ),
            }
        }
        note(&format!(
            "conformance: {what}: Prefer code={status}: {ERROR_RUNS}/{ERROR_RUNS} typed API \
             errors, {entries} error entries decoded"
        ));
    }
}

/// Asserts that Prism refuses `body` without a token, and with a token of another scheme,
/// while it accepts it with a bearer token: Prism does check authentication.
fn assert_auth_checked(url: &str, path: &str, body: &Value) {
    let bytes = body.to_string();
    let accepted = raw_json(url, path, body);
    assert_eq!(accepted.status, 200, "{path} with a token: {accepted:?}");

    let refusals = [
        ("no Authorization header", None),
        ("a Basic token", Some("Basic dXNlcjpwYXNz")),
    ];
    for (case, authorization) in refusals {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(value) = authorization {
            headers.push(("authorization", value));
        }
        let raw = raw_post(url, path, &headers, bytes.as_bytes());
        assert_eq!(raw.status, 401, "{path} with {case}: {raw:?}");
        let violations = raw.violations();
        assert!(
            violations.iter().any(|v| v["code"] == json!(401)),
            "{path} with {case}: sl-violations {violations:?}"
        );
    }
}

/// Asserts that Prism accepts `valid` and rejects each mutation of it with a 422 whose
/// `sl-violations` names the expected location and code: the suite would catch a client that
/// sent such a body.
fn assert_rejected(url: &str, path: &str, valid: &Value, cases: &[(&str, Value, Value, Value)]) {
    let control = raw_json(url, path, valid);
    assert!(
        control.status == 200 && control.violations.is_none(),
        "{path}: the unmutated body {valid} is not accepted: {control:?}"
    );
    for (case, body, location, code) in cases {
        let raw = raw_json(url, path, body);
        assert_eq!(raw.status, 422, "{path} with {case} ({body}): {raw:?}");
        let violations = raw.violations();
        let found = violations
            .iter()
            .any(|v| v["location"] == *location && v["code"] == *code && v["severity"] == "Error");
        assert!(
            found,
            "{path} with {case} ({body}): expected a violation {code} at {location}, got \
             sl-violations {:?}",
            raw.violations
        );
    }
}

/// `valid` with `key` set to `value`.
fn with(valid: &Value, key: &str, value: Value) -> Value {
    let mut body = valid.clone();
    body[key] = value;
    body
}

fn at(path: &[&str]) -> Value {
    json!(path)
}

// ---------------------------------------------------------------------------------------------
// POST /management/users
// ---------------------------------------------------------------------------------------------

/// Every field of the request is required, so the minimal body is also the full one.
fn upsert_request() -> UpsertUserRequest {
    UpsertUserRequest::new("zoë+conformance@example.com", "Zoë", "O'Brien-Ünal")
}

#[test]
fn upsert_user_request_is_accepted() {
    let Some(url) = prism("upsert_user_request_is_accepted") else {
        return;
    };
    let request = upsert_request();
    let wire = wire(|c| c.upsert_user(&request));
    assert_eq!(wire.path, USERS);
    assert_accepted(
        &url,
        "upsert_user",
        client(&url).upsert_user(&request),
        &wire,
    );
}

#[test]
fn upsert_user_decodes_dynamic_responses() {
    let Some(url) = prism("upsert_user_decodes_dynamic_responses") else {
        return;
    };
    let request = upsert_request();
    let wire = wire(|c| c.upsert_user(&request));
    assert_decodes::<User>(&url, "User", &wire, |c| c.upsert_user(&request));
}

#[test]
fn upsert_user_error_statuses_are_typed() {
    let Some(url) = prism("upsert_user_error_statuses_are_typed") else {
        return;
    };
    let request = upsert_request();
    assert_typed_errors(&url, "upsert_user", |c, o| {
        c.upsert_user_with_options(&request, o)
    });
}

#[test]
fn upsert_user_without_token_is_refused() {
    let Some(url) = prism("upsert_user_without_token_is_refused") else {
        return;
    };
    let wire = wire(|c| c.upsert_user(&upsert_request()));
    let body: Value = serde_json::from_slice(&wire.body).expect("client body is JSON");
    assert_auth_checked(&url, USERS, &body);
}

#[test]
fn upsert_user_invalid_bodies_are_rejected() {
    let Some(url) = prism("upsert_user_invalid_bodies_are_rejected") else {
        return;
    };
    let valid = json!({"email_address": "a@example.com", "first_name": "A", "last_name": "B"});
    let mut missing = valid.clone();
    missing.as_object_mut().map(|o| o.remove("last_name"));
    let cases = [
        (
            "an unknown field",
            with(&valid, "username", json!("ada")),
            at(&["request", "body"]),
            json!("additionalProperties"),
        ),
        (
            "null for a string",
            with(&valid, "first_name", Value::Null),
            at(&["request", "body", "first_name"]),
            json!("type"),
        ),
        (
            "a required field left out",
            missing,
            at(&["request", "body"]),
            json!("required"),
        ),
    ];
    assert_rejected(&url, USERS, &valid, &cases);
}

// ---------------------------------------------------------------------------------------------
// POST /management/organizations
// ---------------------------------------------------------------------------------------------

fn organization_requests() -> Vec<(&'static str, CreateOrganizationRequest)> {
    let offset = UtcOffset::from_hms(5, 30, 0).expect("offset");
    let local = Date::from_calendar_date(2024, Month::April, 10)
        .expect("date")
        .with_time(Time::from_hms_milli(20, 37, 41, 925).expect("time"))
        .assume_offset(offset);
    let utc = Date::from_calendar_date(1999, Month::December, 31)
        .expect("date")
        .with_hms(23, 59, 59)
        .expect("time")
        .assume_utc();
    vec![
        ("minimal", CreateOrganizationRequest::new("Acme", "acme")),
        (
            "every field set",
            CreateOrganizationRequest::new("Ærø Øst & Söhne", "aero-ost")
                .created_by("user_2abcdefghijklmnopqrstuvwxyz")
                .max_allowed_memberships(25)
                .public_metadata(json!({
                    "plan": {"seats": 9_007_199_254_740_993_u64, "tags": ["a", "ü"]},
                    "quote": "say \"hi\"\n",
                }))
                .private_metadata(json!({"crm_id": "C-17", "score": -1.5, "flag": null}))
                .created_at(local),
        ),
        (
            "every field set, at the edges",
            CreateOrganizationRequest::new("x", "x")
                .created_by("")
                .max_allowed_memberships(0)
                .public_metadata(json!({}))
                .private_metadata(serde_json::Map::new())
                .created_at(utc),
        ),
    ]
}

#[test]
fn create_organization_requests_are_accepted() {
    let Some(url) = prism("create_organization_requests_are_accepted") else {
        return;
    };
    let client = client(&url);
    for (case, request) in organization_requests() {
        let wire = wire(|c| c.create_organization(&request));
        assert_eq!(wire.path, ORGANIZATIONS);
        let what = format!("create_organization ({case})");
        let sent = client.create_organization(&request);
        assert_accepted(&url, &what, sent, &wire);
    }
}

#[test]
fn create_organization_decodes_dynamic_responses() {
    let Some(url) = prism("create_organization_decodes_dynamic_responses") else {
        return;
    };
    let (_, request) = organization_requests().remove(1);
    let wire = wire(|c| c.create_organization(&request));
    assert_decodes::<Organization>(&url, "Organization", &wire, |c| {
        c.create_organization(&request)
    });
}

#[test]
fn create_organization_error_statuses_are_typed() {
    let Some(url) = prism("create_organization_error_statuses_are_typed") else {
        return;
    };
    let request = CreateOrganizationRequest::new("Acme", "acme");
    assert_typed_errors(&url, "create_organization", |c, o| {
        c.create_organization_with_options(&request, o)
    });
}

#[test]
fn create_organization_without_token_is_refused() {
    let Some(url) = prism("create_organization_without_token_is_refused") else {
        return;
    };
    let (_, request) = organization_requests().remove(1);
    let wire = wire(|c| c.create_organization(&request));
    let body: Value = serde_json::from_slice(&wire.body).expect("client body is JSON");
    assert_auth_checked(&url, ORGANIZATIONS, &body);
}

#[test]
fn create_organization_invalid_bodies_are_rejected() {
    let Some(url) = prism("create_organization_invalid_bodies_are_rejected") else {
        return;
    };
    let valid = json!({"name": "Acme", "slug": "acme", "created_at": "2024-04-10T20:37:41Z"});
    let cases = [
        (
            "an unknown field",
            with(&valid, "members_count", json!(3)),
            at(&["request", "body"]),
            json!("additionalProperties"),
        ),
        (
            "null for an optional field",
            with(&valid, "created_by", Value::Null),
            at(&["request", "body", "created_by"]),
            json!("type"),
        ),
        (
            "null for optional metadata",
            with(&valid, "public_metadata", Value::Null),
            at(&["request", "body", "public_metadata"]),
            json!("type"),
        ),
        (
            "a created_at without a time zone",
            with(&valid, "created_at", json!("2024-04-10T20:37:41")),
            at(&["request", "body", "created_at"]),
            json!("format"),
        ),
        (
            "a created_at in Unix milliseconds",
            with(&valid, "created_at", json!(1_712_781_461_925_i64)),
            at(&["request", "body", "created_at"]),
            json!("type"),
        ),
    ];
    assert_rejected(&url, ORGANIZATIONS, &valid, &cases);
}

// ---------------------------------------------------------------------------------------------
// POST /management/applications
// ---------------------------------------------------------------------------------------------

fn application_requests() -> Vec<(&'static str, CreateApplicationRequest)> {
    vec![
        (
            "minimal",
            CreateApplicationRequest::new("Acme", "user_1", "plan_pro"),
        ),
        (
            "every field set",
            CreateApplicationRequest::new("Acme Ünïcode ✓", "user_2abc", "plan_enterprise")
                .addon_ids(["addon_sso", "addon_audit"])
                .paid_externally(true)
                .test_mode(true)
                .max_allowed_users(10_000)
                .max_allowed_organizations(u32::MAX)
                .subscription_metadata([("source", "partner-portal"), ("ключ", "значение")])
                .environment_types([
                    EnvironmentType::Development,
                    EnvironmentType::Staging,
                    EnvironmentType::Production,
                ]),
        ),
        (
            "every field set, at the edges",
            CreateApplicationRequest::new("", "", "")
                .addon_ids(Vec::<String>::new())
                .paid_externally(false)
                .test_mode(false)
                .max_allowed_users(0)
                .max_allowed_organizations(0)
                .subscription_metadata(Vec::<(String, String)>::new())
                .environment_types([]),
        ),
    ]
}

#[test]
fn create_application_requests_are_accepted() {
    let Some(url) = prism("create_application_requests_are_accepted") else {
        return;
    };
    let client = client(&url);
    for (case, request) in application_requests() {
        let wire = wire(|c| c.create_application(&request));
        assert_eq!(wire.path, APPLICATIONS);
        let what = format!("create_application ({case})");
        let sent = client.create_application(&request);
        assert_accepted(&url, &what, sent, &wire);
    }
}

#[test]
fn create_application_decodes_dynamic_responses() {
    let Some(url) = prism("create_application_decodes_dynamic_responses") else {
        return;
    };
    let (_, request) = application_requests().remove(1);
    let wire = wire(|c| c.create_application(&request));
    assert_decodes::<ManagementApplicationResponse>(
        &url,
        "ManagementApplicationResponse",
        &wire,
        |c| c.create_application(&request),
    );
}

#[test]
fn create_application_error_statuses_are_typed() {
    let Some(url) = prism("create_application_error_statuses_are_typed") else {
        return;
    };
    let request = CreateApplicationRequest::new("Acme", "user_1", "plan_pro");
    assert_typed_errors(&url, "create_application", |c, o| {
        c.create_application_with_options(&request, o)
    });
}

#[test]
fn create_application_without_token_is_refused() {
    let Some(url) = prism("create_application_without_token_is_refused") else {
        return;
    };
    let (_, request) = application_requests().remove(1);
    let wire = wire(|c| c.create_application(&request));
    let body: Value = serde_json::from_slice(&wire.body).expect("client body is JSON");
    assert_auth_checked(&url, APPLICATIONS, &body);
}

#[test]
fn create_application_invalid_bodies_are_rejected() {
    let Some(url) = prism("create_application_invalid_bodies_are_rejected") else {
        return;
    };
    let valid = json!({"name": "App", "owner_id": "user_1", "plan_id": "plan_1"});
    let cases = [
        (
            "an unknown field",
            with(&valid, "environment_type", json!("production")),
            at(&["request", "body"]),
            json!("additionalProperties"),
        ),
        (
            "null for an optional field",
            with(&valid, "test_mode", Value::Null),
            at(&["request", "body", "test_mode"]),
            json!("type"),
        ),
        (
            "an environment type outside the enum",
            with(&valid, "environment_types", json!(["Production"])),
            at(&["request", "body", "environment_types", "0"]),
            json!("enum"),
        ),
        (
            "a non-string subscription metadata value",
            with(&valid, "subscription_metadata", json!({"seats": 3})),
            at(&["request", "body", "subscription_metadata", "seats"]),
            json!("type"),
        ),
    ];
    assert_rejected(&url, APPLICATIONS, &valid, &cases);
}

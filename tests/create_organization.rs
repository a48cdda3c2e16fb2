//! `create_organization` against the loopback stand-in: the exact body sent, and decoding.
//!
//! Every call queues its response as a fault, so these tests do not depend on the stand-in
//! implementing the endpoint.

use std::collections::HashMap;
use std::time::Duration;

use clerk_management::create_organization::{CreateOrganizationRequest, Organization};
use clerk_management::testing::{Fault, RecordedRequest, StandIn};
use clerk_management::{Error, RequestOptions, RetryConfig, TransportKind};
use serde::Serialize;
use serde_json::{Map, Value, json};
use time::{Date, Month, OffsetDateTime, Time, UtcOffset};

const PATH: &str = "/management/organizations";

/// Decomposed "é" (e + combining acute, no normalization wanted), a ZWJ family, a flag
/// sequence, right-to-left text with points and a right-to-left mark, quotes, backslashes, a
/// newline, a tab and a slash.
const TEXT: &str = concat!(
    "Cafe\u{301} ",
    "\u{1f469}\u{200d}\u{1f469}\u{200d}\u{1f467} ",
    "\u{1f3f3}\u{fe0f}\u{200d}\u{1f308} ",
    "שָׁלוֹם \u{200f}مرحبا ",
    "\"q\" a\\b\n\t/",
);
/// [`TEXT`] as serde_json writes it inside a JSON string: only `"`, `\` and controls escaped.
const ESCAPED: &str = concat!(
    "Cafe\u{301} ",
    "\u{1f469}\u{200d}\u{1f469}\u{200d}\u{1f467} ",
    "\u{1f3f3}\u{fe0f}\u{200d}\u{1f308} ",
    "שָׁלוֹם \u{200f}مرحبا ",
    "\\\"q\\\" a\\\\b\\n\\t/",
);

/// A spec-shaped organization, every key present.
fn spec_organization() -> Value {
    json!({
        "object": "organization",
        "id": "org_2ZR8mDpA5MLLsfUE7hJ5dYrRjCS",
        "name": "Acme Inc.",
        "slug": "acme-inc",
        "image_url": "https://img.clerk.com/org.png",
        "has_image": true,
        "members_count": 3,
        "missing_member_with_elevated_permissions": false,
        "pending_invitations_count": 2,
        "max_allowed_memberships": 337266,
        "admin_delete_enabled": true,
        "public_metadata": {"tier": "gold"},
        "private_metadata": {"crm_id": "C-17"},
        "created_by": "user_2ZR8mDpA5MLLsfUE7hJ5dYrRjCS",
        "created_at": 1_712_781_461_925_i64,
        "updated_at": 1_712_781_461_926_i64,
    })
}

/// Sends `request` with `response` queued as the answer; returns the result and what arrived.
fn send_with(
    request: &CreateOrganizationRequest,
    response: &Value,
) -> (Result<Organization, Error>, Vec<RecordedRequest>) {
    let stand_in = StandIn::start().unwrap();
    stand_in.push_fault(Fault::json(200, response));
    let result = stand_in.client().unwrap().create_organization(request);
    (result, stand_in.requests())
}

/// Sends `request` and returns the one request the stand-in received, body as text.
fn body_of(request: &CreateOrganizationRequest) -> String {
    let (result, requests) = send_with(request, &spec_organization());
    result.unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].path, PATH);
    String::from_utf8(requests[0].body.clone()).unwrap()
}

fn at(date: (i32, Month, u8), time: Time, offset: UtcOffset) -> OffsetDateTime {
    let (year, month, day) = date;
    Date::from_calendar_date(year, month, day)
        .unwrap()
        .with_time(time)
        .assume_offset(offset)
}

fn seed_created_at() -> OffsetDateTime {
    at(
        (2024, Month::April, 10),
        Time::from_hms_milli(20, 37, 41, 925).unwrap(),
        UtcOffset::UTC,
    )
}

fn invalid_request_field(error: Error) -> (String, String) {
    match error {
        Error::InvalidRequest { field, message, .. } => (field, message),
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

#[test]
fn minimal_request_sends_name_and_slug_only() {
    let stand_in = StandIn::start().unwrap();
    stand_in.push_fault(Fault::json(200, &spec_organization()));
    let request = CreateOrganizationRequest::new("Acme Inc.", "acme-inc");
    stand_in
        .client()
        .unwrap()
        .create_organization(&request)
        .unwrap();

    let requests = stand_in.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path, PATH);
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {}", stand_in.token()).as_str())
    );
    assert_eq!(sent.body, br#"{"name":"Acme Inc.","slug":"acme-inc"}"#);
}

#[test]
fn fully_populated_request_sends_every_field_in_spec_order() {
    let request = CreateOrganizationRequest::new("Acme Inc.", "acme-inc")
        .created_by("user_2ZR8mDpA5MLLsfUE7hJ5dYrRjCS")
        .max_allowed_memberships(337266)
        .public_metadata(json!({"plan": "pro", "region": "eu"}))
        .private_metadata(json!({"crm_id": "C-17"}))
        .created_at(seed_created_at());
    assert_eq!(
        body_of(&request),
        concat!(
            r#"{"name":"Acme Inc.","slug":"acme-inc","#,
            r#""created_by":"user_2ZR8mDpA5MLLsfUE7hJ5dYrRjCS","#,
            r#""max_allowed_memberships":337266,"#,
            r#""public_metadata":{"plan":"pro","region":"eu"},"#,
            r#""private_metadata":{"crm_id":"C-17"},"#,
            r#""created_at":"2024-04-10T20:37:41.925Z"}"#,
        )
    );
}

#[test]
fn zero_memberships_is_sent_as_zero() {
    let request = CreateOrganizationRequest::new("Acme", "acme").max_allowed_memberships(0);
    assert_eq!(
        body_of(&request),
        r#"{"name":"Acme","slug":"acme","max_allowed_memberships":0}"#
    );
}

#[test]
fn empty_metadata_objects_are_sent_as_empty_objects() {
    let request = CreateOrganizationRequest::new("Acme", "acme")
        .public_metadata(Map::new())
        .private_metadata(json!({}));
    assert_eq!(
        body_of(&request),
        r#"{"name":"Acme","slug":"acme","public_metadata":{},"private_metadata":{}}"#
    );
}

#[test]
fn strings_are_sent_byte_for_byte() {
    let request = CreateOrganizationRequest::new(TEXT, "slug-\u{1f680}")
        .created_by(TEXT)
        .public_metadata(json!({ "k\u{e9}y\u{301}": TEXT }));

    let body = body_of(&request);
    assert_eq!(
        body,
        format!(
            "{{\"name\":\"{ESCAPED}\",\"slug\":\"slug-\u{1f680}\",\"created_by\":\"{ESCAPED}\",\
             \"public_metadata\":{{\"k\u{e9}y\u{301}\":\"{ESCAPED}\"}}}}"
        )
    );
    // No normalization: the decomposed "é" did not become the composed one.
    assert!(!body.contains("Caf\u{e9}"));
}

#[test]
fn nested_metadata_round_trips_unchanged() {
    let metadata = json!({
        "nested": {
            "list": [1, "two", null, true, {"deep": [[], {}]}, -0.5],
            "big": 9_007_199_254_740_993_u64,
            "u64_max": u64::MAX,
            "i64_min": i64::MIN,
            "float": 1.5e300,
        },
        "ключ": "значение",
        "emoji 🔑": "✓",
        "escapes": "a\"b\\c\n\t\u{1}\u{7f}\u{2028}",
        "empty": "",
    });
    let mut organization = spec_organization();
    organization["public_metadata"] = metadata.clone();
    organization["private_metadata"] = metadata.clone();

    let request = CreateOrganizationRequest::new("Acme", "acme")
        .public_metadata(&metadata)
        .private_metadata(metadata.as_object().unwrap().clone());
    let (result, requests) = send_with(&request, &organization);

    let sent = requests[0].json();
    assert_eq!(sent["public_metadata"], metadata);
    assert_eq!(sent["private_metadata"], metadata);
    // The integers travel as integers, not as (rounded) floats.
    let body = String::from_utf8(requests[0].body.clone()).unwrap();
    assert!(body.contains(r#""big":9007199254740993,"#), "{body}");
    assert!(body.contains(r#""u64_max":18446744073709551615"#), "{body}");
    assert!(body.contains(r#""i64_min":-9223372036854775808"#), "{body}");
    assert!(body.contains(r#""escapes":"a\"b\\c\n\t\u0001"#), "{body}");

    let organization = result.unwrap();
    assert_eq!(Value::Object(organization.public_metadata), metadata);
    assert_eq!(
        organization.private_metadata.map(Value::Object),
        Some(metadata)
    );
}

#[test]
fn metadata_accepts_anything_that_serializes_to_an_object() {
    #[derive(Serialize)]
    struct Plan {
        seats: u32,
        features: Vec<&'static str>,
    }
    let mut map = HashMap::new();
    map.insert("only", vec![1_u8, 2]);

    let request = CreateOrganizationRequest::new("Acme", "acme")
        .public_metadata(Plan {
            seats: 5,
            features: vec!["sso"],
        })
        .private_metadata(map);
    assert_eq!(
        body_of(&request),
        concat!(
            r#"{"name":"Acme","slug":"acme","public_metadata":{"features":["sso"],"seats":5},"#,
            r#""private_metadata":{"only":[1,2]}}"#,
        )
    );
}

#[test]
fn non_object_metadata_is_rejected_before_sending() {
    let cases = [
        (json!("gold"), "a string"),
        (json!([1, 2]), "an array"),
        (json!(null), "null"),
        (json!(7), "a number"),
        (json!(true), "a boolean"),
    ];
    for (value, kind) in cases {
        let stand_in = StandIn::start().unwrap();
        let client = stand_in.client().unwrap();

        let request = CreateOrganizationRequest::new("Acme", "acme").public_metadata(&value);
        let error = client.create_organization(&request).unwrap_err();
        assert_eq!(error.attempts(), 0);
        assert_eq!(
            invalid_request_field(error),
            (
                "public_metadata".to_owned(),
                format!("must be a JSON object, not {kind}")
            )
        );

        let request = CreateOrganizationRequest::new("Acme", "acme").private_metadata(&value);
        let error = client.create_organization(&request).unwrap_err();
        assert_eq!(
            invalid_request_field(error),
            (
                "private_metadata".to_owned(),
                format!("must be a JSON object, not {kind}")
            )
        );
        assert_eq!(stand_in.requests().len(), 0, "{value}");
    }
}

#[test]
fn metadata_that_does_not_serialize_is_rejected_before_sending() {
    let stand_in = StandIn::start().unwrap();
    let mut map = HashMap::new();
    map.insert(vec![1_u8], "JSON keys must be strings");
    let request = CreateOrganizationRequest::new("Acme", "acme").public_metadata(map);

    let error = stand_in
        .client()
        .unwrap()
        .create_organization(&request)
        .unwrap_err();
    let (field, message) = invalid_request_field(error);
    assert_eq!(field, "public_metadata");
    assert_eq!(message, "does not serialize to JSON: key must be a string");
    assert_eq!(stand_in.requests().len(), 0);
}

#[test]
fn created_at_keeps_its_offset_and_fraction() {
    let ist = UtcOffset::from_hms(5, 30, 0).unwrap();
    let cases = [
        (seed_created_at(), "2024-04-10T20:37:41.925Z"),
        (
            seed_created_at().to_offset(ist),
            "2024-04-11T02:07:41.925+05:30",
        ),
        (
            at(
                (2024, Month::April, 10),
                Time::from_hms_nano(20, 37, 41, 123_456_789).unwrap(),
                UtcOffset::UTC,
            ),
            "2024-04-10T20:37:41.123456789Z",
        ),
        (
            at(
                (2024, Month::April, 10),
                Time::from_hms_nano(20, 37, 41, 1_000).unwrap(),
                ist,
            ),
            "2024-04-10T20:37:41.000001+05:30",
        ),
        (
            at(
                (1999, Month::December, 31),
                Time::from_hms(23, 59, 59).unwrap(),
                UtcOffset::from_hms(-3, 0, 0).unwrap(),
            ),
            "1999-12-31T23:59:59-03:00",
        ),
    ];
    for (created_at, expected) in cases {
        let request = CreateOrganizationRequest::new("Acme", "acme").created_at(created_at);
        assert_eq!(
            body_of(&request),
            format!(r#"{{"name":"Acme","slug":"acme","created_at":"{expected}"}}"#)
        );
    }
}

#[test]
fn created_at_without_an_rfc3339_form_is_rejected_before_sending() {
    let stand_in = StandIn::start().unwrap();
    let client = stand_in.client().unwrap();
    let noon = Time::from_hms(12, 0, 0).unwrap();
    let cases = [
        at((-1, Month::January, 1), noon, UtcOffset::UTC),
        at(
            (2024, Month::April, 10),
            noon,
            UtcOffset::from_hms(1, 0, 30).unwrap(),
        ),
    ];
    for created_at in cases {
        let request = CreateOrganizationRequest::new("Acme", "acme").created_at(created_at);
        let (field, message) =
            invalid_request_field(client.create_organization(&request).unwrap_err());
        assert_eq!(field, "created_at");
        assert_eq!(
            message,
            "has no RFC 3339 form (a year outside 0 to 9999, or an offset with seconds)"
        );
    }
    assert_eq!(stand_in.requests().len(), 0);
}

#[test]
fn the_first_bad_field_in_body_order_is_reported() {
    let stand_in = StandIn::start().unwrap();
    let request = CreateOrganizationRequest::new("Acme", "acme")
        .created_at(at((-1, Month::January, 1), Time::MIDNIGHT, UtcOffset::UTC))
        .private_metadata("no")
        .public_metadata(json!({"fine": true}));
    let error = stand_in
        .client()
        .unwrap()
        .create_organization(&request)
        .unwrap_err();
    assert_eq!(invalid_request_field(error).0, "private_metadata");

    // Setting a good value again replaces the bad one.
    let request = request
        .private_metadata(json!({}))
        .created_at(seed_created_at());
    stand_in.push_fault(Fault::json(200, &spec_organization()));
    stand_in
        .client()
        .unwrap()
        .create_organization(&request)
        .unwrap();
    assert_eq!(stand_in.requests().len(), 1);
}

#[test]
fn requests_compare_by_what_they_send() {
    let request = CreateOrganizationRequest::new("Acme", "acme").created_at(seed_created_at());
    assert_eq!(request.clone(), request);
    assert_eq!(request.name(), "Acme");
    assert_eq!(request.slug(), "acme");

    // The same instant at another offset is sent differently, so it is another request.
    let ist = UtcOffset::from_hms(5, 30, 0).unwrap();
    let shifted =
        CreateOrganizationRequest::new("Acme", "acme").created_at(seed_created_at().to_offset(ist));
    assert_ne!(shifted, request);
    assert!(format!("{request:?}").contains("2024-04-10T20:37:41.925Z"));
}

#[test]
fn a_spec_shaped_organization_decodes_field_by_field() {
    let request = CreateOrganizationRequest::new("Acme Inc.", "acme-inc");
    let organization = send_with(&request, &spec_organization()).0.unwrap();

    assert_eq!(organization.object, "organization");
    assert_eq!(organization.id, "org_2ZR8mDpA5MLLsfUE7hJ5dYrRjCS");
    assert_eq!(organization.name, "Acme Inc.");
    assert_eq!(organization.slug, "acme-inc");
    assert_eq!(
        organization.image_url.as_deref(),
        Some("https://img.clerk.com/org.png")
    );
    assert!(organization.has_image);
    assert_eq!(organization.members_count, Some(3));
    assert_eq!(
        organization.missing_member_with_elevated_permissions,
        Some(false)
    );
    assert_eq!(organization.pending_invitations_count, Some(2));
    assert_eq!(organization.max_allowed_memberships, 337266);
    assert!(organization.admin_delete_enabled);
    assert_eq!(
        Value::Object(organization.public_metadata.clone()),
        json!({"tier": "gold"})
    );
    assert_eq!(
        organization.private_metadata.clone().map(Value::Object),
        Some(json!({"crm_id": "C-17"}))
    );
    assert_eq!(
        organization.created_by.as_deref(),
        Some("user_2ZR8mDpA5MLLsfUE7hJ5dYrRjCS")
    );
    assert_eq!(organization.created_at, 1_712_781_461_925);
    assert_eq!(organization.updated_at, 1_712_781_461_926);
    assert_eq!(organization.created_at_datetime(), Some(seed_created_at()));
    assert_eq!(
        organization.updated_at_datetime(),
        Some(seed_created_at() + time::Duration::milliseconds(1))
    );
}

#[test]
fn missing_and_null_optional_fields_decode_as_none_or_empty() {
    let request = CreateOrganizationRequest::new("Acme", "acme");

    let only_id = json!({"id": "org_1"});
    let organization = send_with(&request, &only_id).0.unwrap();
    let nulls = json!({
        "id": "org_1", "object": null, "name": null, "slug": null, "image_url": null,
        "has_image": null, "members_count": null,
        "missing_member_with_elevated_permissions": null, "pending_invitations_count": null,
        "max_allowed_memberships": null, "admin_delete_enabled": null, "public_metadata": null,
        "private_metadata": null, "created_by": null, "created_at": null, "updated_at": null,
    });
    assert_eq!(send_with(&request, &nulls).0.unwrap(), organization);

    assert_eq!(organization.id, "org_1");
    assert_eq!(organization.object, "");
    assert_eq!(organization.name, "");
    assert_eq!(organization.image_url, None);
    assert!(!organization.has_image);
    assert_eq!(organization.members_count, None);
    assert_eq!(organization.missing_member_with_elevated_permissions, None);
    assert_eq!(organization.pending_invitations_count, None);
    assert_eq!(organization.max_allowed_memberships, 0);
    assert!(organization.public_metadata.is_empty());
    assert_eq!(organization.private_metadata, None);
    assert_eq!(organization.created_by, None);
    assert_eq!(organization.created_at, 0);
    assert_eq!(
        organization.created_at_datetime(),
        Some(OffsetDateTime::UNIX_EPOCH)
    );
}

#[test]
fn unknown_fields_are_ignored() {
    let mut body = spec_organization();
    body["role_set_key"] = json!("role_set:default");
    body["future"] = json!({"nested": [1, 2, {"x": null}]});
    let request = CreateOrganizationRequest::new("Acme Inc.", "acme-inc");
    let with_extras = send_with(&request, &body).0.unwrap();
    let plain = send_with(&request, &spec_organization()).0.unwrap();
    assert_eq!(with_extras, plain);
}

#[test]
fn an_organization_without_id_is_a_decode_error() {
    let mut body = spec_organization();
    body.as_object_mut().unwrap().remove("id");
    let request = CreateOrganizationRequest::new("Acme", "acme");
    match send_with(&request, &body).0.unwrap_err() {
        Error::Decode(decode) => {
            assert_eq!(decode.status, 200);
            assert_eq!(decode.target, "Organization");
            assert!(
                decode.message.contains("missing field `id`"),
                "{}",
                decode.message
            );
        }
        other => panic!("expected Decode, got {other:?}"),
    }
}

#[test]
fn options_apply_per_call() {
    let stand_in = StandIn::start().unwrap();
    stand_in.push_fault(Fault::json(200, &spec_organization()));
    let options = RequestOptions::new().header("X-Request-Id", "org-42");
    let request = CreateOrganizationRequest::new("Acme", "acme");
    stand_in
        .client()
        .unwrap()
        .create_organization_with_options(&request, &options)
        .unwrap();
    assert_eq!(
        stand_in.requests()[0].header("x-request-id"),
        Some("org-42")
    );
}

#[test]
fn a_broken_response_is_not_retried() {
    let stand_in = StandIn::start().unwrap();
    stand_in.push_fault(Fault::DropConnection);
    stand_in.push_fault(Fault::json(200, &spec_organization()));
    let client = stand_in
        .client_builder()
        .retry(RetryConfig::default().max_attempts(3))
        // Bounds the test should the connection linger instead of closing.
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();

    let error = client
        .create_organization(&CreateOrganizationRequest::new("Acme", "acme"))
        .unwrap_err();
    assert!(
        matches!(&error, Error::Transport(e) if e.kind == TransportKind::ConnectionClosed),
        "{error:?}"
    );
    assert!(error.may_have_been_applied());
    assert_eq!(error.attempts(), 1);
    assert_eq!(stand_in.requests().len(), 1);
}

//! `create_application` against the loopback stand-in: the exact body sent, and decoding.
//!
//! Every call queues its response as a fault, so these tests do not depend on the stand-in
//! implementing the endpoint.

use std::time::Duration;

use clerk_management::create_application::{
    CreateApplicationRequest, EnvironmentType, ManagementApplicationResponse,
};
use clerk_management::testing::{Fault, RecordedRequest, StandIn};
use clerk_management::{Error, RequestOptions, RetryConfig, SecretString, TransportKind};
use serde_json::{Value, json};

const PATH: &str = "/management/applications";

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
const DEV_SECRET: &str = "sk_test_4bZq1vR8kP2mN7xW9yT3";
const PROD_SECRET: &str = "sk_live_H6jK0lQ5sD8fG2hJ4kL7";

/// A spec-shaped response, every key present.
fn spec_application() -> Value {
    json!({
        "application_id": "app_2ZR8mDpA5MLLsfUE7hJ5dYrRjCS",
        "subscription": {
            "id": "sub_2ZR8mDpA5MLLsfUE7hJ5dYrRjCS",
            "stripe_subscription_id": "sub_1PfQ2sEXAMPLE",
        },
        "instances": [
            {
                "instance_id": "ins_dev",
                "environment_type": "development",
                "secret_key": DEV_SECRET,
                "publishable_key": "pk_test_ZGV2LmNsZXJrLmFjY291bnRzLmRldiQ",
            },
            {
                "instance_id": "ins_prod",
                "environment_type": "production",
                "secret_key": PROD_SECRET,
                "publishable_key": "pk_live_Y2xlcmsuYWNtZS5jb20k",
            },
        ],
    })
}

/// Sends `request` with `response` queued as the answer; returns the result and what arrived.
fn send_with(
    request: &CreateApplicationRequest,
    response: &Value,
) -> (
    Result<ManagementApplicationResponse, Error>,
    Vec<RecordedRequest>,
) {
    let stand_in = StandIn::start().unwrap();
    stand_in.push_fault(Fault::json(200, response));
    let result = stand_in.client().unwrap().create_application(request);
    (result, stand_in.requests())
}

/// Sends `request` and returns the body of the one request the stand-in received, as text.
fn body_of(request: &CreateApplicationRequest) -> String {
    let (result, requests) = send_with(request, &spec_application());
    result.unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].path, PATH);
    String::from_utf8(requests[0].body.clone()).unwrap()
}

/// Decodes `response` as the answer to a minimal request.
fn decode(response: &Value) -> Result<ManagementApplicationResponse, Error> {
    send_with(&minimal(), response).0
}

fn minimal() -> CreateApplicationRequest {
    CreateApplicationRequest::new("Acme", "user_2ZR8mDpA5MLLsfUE7hJ5dYrRjCS", "plan_pro")
}

#[test]
fn minimal_request_sends_the_three_required_fields_only() {
    let stand_in = StandIn::start().unwrap();
    stand_in.push_fault(Fault::json(200, &spec_application()));
    stand_in
        .client()
        .unwrap()
        .create_application(&minimal())
        .unwrap();

    let requests = stand_in.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path, PATH);
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(
        sent.body,
        br#"{"name":"Acme","owner_id":"user_2ZR8mDpA5MLLsfUE7hJ5dYrRjCS","plan_id":"plan_pro"}"#
    );
}

#[test]
fn fully_populated_request_sends_every_field_in_spec_order() {
    let request = minimal()
        .addon_ids(["addon_sso"])
        .paid_externally(false)
        .test_mode(true)
        .max_allowed_users(623638)
        .max_allowed_organizations(122319)
        .subscription_metadata([("source", "partner-portal")])
        .environment_types([EnvironmentType::Development]);
    assert_eq!(
        body_of(&request),
        concat!(
            r#"{"name":"Acme","owner_id":"user_2ZR8mDpA5MLLsfUE7hJ5dYrRjCS","plan_id":"plan_pro","#,
            r#""addon_ids":["addon_sso"],"paid_externally":false,"test_mode":true,"#,
            r#""max_allowed_users":623638,"max_allowed_organizations":122319,"#,
            r#""subscription_metadata":{"source":"partner-portal"},"#,
            r#""environment_types":["development"]}"#,
        )
    );
}

#[test]
fn zeros_falses_and_empty_collections_are_sent_not_dropped() {
    let request = CreateApplicationRequest::new("A", "o", "p")
        .addon_ids(Vec::<String>::new())
        .paid_externally(false)
        .test_mode(false)
        .max_allowed_users(0)
        .max_allowed_organizations(0)
        .subscription_metadata(Vec::<(String, String)>::new())
        .environment_types([]);
    assert_eq!(
        body_of(&request),
        concat!(
            r#"{"name":"A","owner_id":"o","plan_id":"p","addon_ids":[],"paid_externally":false,"#,
            r#""test_mode":false,"max_allowed_users":0,"max_allowed_organizations":0,"#,
            r#""subscription_metadata":{},"environment_types":[]}"#,
        )
    );
}

#[test]
fn setters_replace_and_collections_keep_their_order() {
    let request = CreateApplicationRequest::new("A", "o", "p")
        .addon_ids(["first"])
        .addon_ids(vec!["b".to_owned(), "a".to_owned(), "b".to_owned()])
        .subscription_metadata([("z", "1"), ("a", "2"), ("z", "3")])
        .environment_types([
            EnvironmentType::Production,
            EnvironmentType::Staging,
            EnvironmentType::Development,
        ]);
    assert_eq!(
        body_of(&request),
        concat!(
            r#"{"name":"A","owner_id":"o","plan_id":"p","addon_ids":["b","a","b"],"#,
            r#""subscription_metadata":{"a":"2","z":"3"},"#,
            r#""environment_types":["production","staging","development"]}"#,
        )
    );
}

#[test]
fn strings_are_sent_byte_for_byte() {
    let request = CreateApplicationRequest::new(TEXT, TEXT, TEXT)
        .addon_ids([TEXT])
        .subscription_metadata([(TEXT, TEXT)]);
    assert_eq!(
        body_of(&request),
        format!(
            "{{\"name\":\"{ESCAPED}\",\"owner_id\":\"{ESCAPED}\",\"plan_id\":\"{ESCAPED}\",\
             \"addon_ids\":[\"{ESCAPED}\"],\
             \"subscription_metadata\":{{\"{ESCAPED}\":\"{ESCAPED}\"}}}}"
        )
    );
    assert_eq!(request.name(), TEXT);
    assert_eq!(request.owner_id(), TEXT);
    assert_eq!(request.plan_id(), TEXT);
}

#[test]
fn environment_types_have_their_wire_names() {
    let all = [
        (EnvironmentType::Development, "development"),
        (EnvironmentType::Staging, "staging"),
        (EnvironmentType::Production, "production"),
    ];
    for (kind, name) in all {
        assert_eq!(kind.as_str(), name);
        assert_eq!(kind.to_string(), name);
        assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{name}\""));
    }
}

#[test]
fn requests_are_clone_and_compare_by_content() {
    let request = minimal().test_mode(true);
    assert_eq!(request.clone(), request);
    assert_ne!(minimal().test_mode(false), request);
    assert_ne!(minimal(), request);
}

#[test]
fn a_spec_shaped_response_decodes_field_by_field() {
    let application = decode(&spec_application()).unwrap();

    assert_eq!(
        application.application_id,
        "app_2ZR8mDpA5MLLsfUE7hJ5dYrRjCS"
    );
    let subscription = application.subscription.as_ref().unwrap();
    assert_eq!(subscription.id, "sub_2ZR8mDpA5MLLsfUE7hJ5dYrRjCS");
    assert_eq!(
        subscription.stripe_subscription_id.as_deref(),
        Some("sub_1PfQ2sEXAMPLE")
    );

    assert_eq!(application.instances.len(), 2);
    let dev = &application.instances[0];
    assert_eq!(dev.instance_id, "ins_dev");
    assert_eq!(dev.environment_type, "development");
    assert_eq!(dev.environment(), Some(EnvironmentType::Development));
    assert_eq!(dev.secret_key.expose_secret(), DEV_SECRET);
    assert_eq!(
        dev.publishable_key,
        "pk_test_ZGV2LmNsZXJrLmFjY291bnRzLmRldiQ"
    );
    let prod = &application.instances[1];
    assert_eq!(prod.instance_id, "ins_prod");
    assert_eq!(prod.environment(), Some(EnvironmentType::Production));
    assert_eq!(prod.secret_key, SecretString::new(PROD_SECRET));
    assert_eq!(prod.publishable_key, "pk_live_Y2xlcmsuYWNtZS5jb20k");
}

#[test]
fn missing_or_null_subscription_decodes_as_none() {
    let mut body = spec_application();
    body.as_object_mut().unwrap().remove("subscription");
    assert_eq!(decode(&body).unwrap().subscription, None);

    body["subscription"] = Value::Null;
    assert_eq!(decode(&body).unwrap().subscription, None);

    // A shape not recognised is also `None`: the application exists, its keys must not be lost.
    body["subscription"] = json!("sub_as_a_string");
    let application = decode(&body).unwrap();
    assert_eq!(application.subscription, None);
    assert_eq!(application.instances.len(), 2);
}

#[test]
fn null_or_missing_subscription_ids_decode_leniently() {
    let cases = [
        (
            json!({"id": "sub_1", "stripe_subscription_id": null}),
            "sub_1",
            None,
        ),
        (json!({"id": "sub_1"}), "sub_1", None),
        (
            json!({"id": null, "stripe_subscription_id": "sub_s"}),
            "",
            Some("sub_s"),
        ),
        (json!({}), "", None),
    ];
    for (subscription, id, stripe) in cases {
        let mut body = spec_application();
        body["subscription"] = subscription.clone();
        let decoded = decode(&body).unwrap().subscription;
        let decoded = decoded.unwrap_or_else(|| panic!("{subscription}"));
        assert_eq!(decoded.id, id, "{subscription}");
        assert_eq!(
            decoded.stripe_subscription_id.as_deref(),
            stripe,
            "{subscription}"
        );
    }
}

#[test]
fn an_unknown_environment_type_is_kept_verbatim() {
    let mut body = spec_application();
    body["instances"][0]["environment_type"] = json!("preview");
    body["instances"][1]["environment_type"] = json!("Production");
    let application = decode(&body).unwrap();
    assert_eq!(application.instances[0].environment_type, "preview");
    assert_eq!(application.instances[0].environment(), None);
    // Matching is exact: the request side would never send this spelling.
    assert_eq!(application.instances[1].environment_type, "Production");
    assert_eq!(application.instances[1].environment(), None);
}

#[test]
fn unknown_fields_are_ignored_at_every_level() {
    let mut body = spec_application();
    body["object"] = json!("application");
    body["future"] = json!([{"nested": null}]);
    body["subscription"]["status"] = json!("active");
    body["instances"][0]["frontend_api"] = json!("clerk.acme.dev");
    body["instances"][1]["extra"] = json!({"a": 1});
    assert_eq!(decode(&body).unwrap(), decode(&spec_application()).unwrap());
}

#[test]
fn missing_and_null_instance_fields_decode_as_empty() {
    let only_id = decode(&json!({"application_id": "app_1"})).unwrap();
    assert_eq!(only_id.application_id, "app_1");
    assert_eq!(only_id.subscription, None);
    assert!(only_id.instances.is_empty());

    let null_list = decode(&json!({"application_id": "app_1", "instances": null})).unwrap();
    assert_eq!(null_list, only_id);

    let body = json!({
        "application_id": "app_1",
        "instances": [
            {},
            {"instance_id": null, "environment_type": null, "secret_key": null,
             "publishable_key": null},
        ],
    });
    let application = decode(&body).unwrap();
    assert_eq!(application.instances.len(), 2);
    for instance in &application.instances {
        assert_eq!(instance.instance_id, "");
        assert_eq!(instance.environment_type, "");
        assert_eq!(instance.environment(), None);
        assert_eq!(instance.secret_key.expose_secret(), "");
        assert_eq!(instance.publishable_key, "");
    }
    assert_eq!(application.instances[0], application.instances[1]);
}

#[test]
fn a_response_without_application_id_is_a_decode_error_that_hides_secrets() {
    let mut body = spec_application();
    body.as_object_mut().unwrap().remove("application_id");
    let error = decode(&body).unwrap_err();
    let shown = format!("{error} {error:?}");
    match &error {
        Error::Decode(decode) => {
            assert_eq!(decode.status, 200);
            assert_eq!(decode.target, "ManagementApplicationResponse");
            assert!(
                decode.message.contains("missing field `application_id`"),
                "{}",
                decode.message
            );
            assert!(
                decode.body_excerpt.contains("[redacted]"),
                "{}",
                decode.body_excerpt
            );
        }
        other => panic!("expected Decode, got {other:?}"),
    }
    for secret in [DEV_SECRET, PROD_SECRET] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

#[test]
fn secret_keys_never_show_in_debug_or_display() {
    let application = decode(&spec_application()).unwrap();

    let debug = format!("{application:?}");
    let pretty = format!("{application:#?}");
    let instance = &application.instances[0];
    let display = format!(
        "{} {}",
        instance.secret_key, application.instances[1].secret_key
    );
    for text in [&debug, &pretty, &display] {
        for secret in [DEV_SECRET, PROD_SECRET] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(!text.contains("sk_"), "{text}");
    }
    assert_eq!(display, "[redacted] [redacted]");
    assert!(debug.contains("secret_key: [redacted]"), "{debug}");
    // What is not secret is still visible, so the Debug output stays useful.
    assert!(
        debug.contains("pk_test_ZGV2LmNsZXJrLmFjY291bnRzLmRldiQ"),
        "{debug}"
    );
    assert_eq!(instance.secret_key.expose_secret(), DEV_SECRET);
    assert_eq!(
        application.instances[1].secret_key.expose_secret(),
        PROD_SECRET
    );
}

#[test]
fn options_apply_per_call() {
    let stand_in = StandIn::start().unwrap();
    stand_in.push_fault(Fault::json(200, &spec_application()));
    let options = RequestOptions::new().header("X-Request-Id", "app-42");
    stand_in
        .client()
        .unwrap()
        .create_application_with_options(&minimal(), &options)
        .unwrap();
    assert_eq!(
        stand_in.requests()[0].header("x-request-id"),
        Some("app-42")
    );
}

#[test]
fn a_broken_response_is_not_retried() {
    let stand_in = StandIn::start().unwrap();
    stand_in.push_fault(Fault::DropConnection);
    stand_in.push_fault(Fault::json(200, &spec_application()));
    let client = stand_in
        .client_builder()
        .retry(RetryConfig::default().max_attempts(3))
        // Bounds the test should the connection linger instead of closing.
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();

    let error = client.create_application(&minimal()).unwrap_err();
    assert!(
        matches!(&error, Error::Transport(e) if e.kind == TransportKind::ConnectionClosed),
        "{error:?}"
    );
    assert!(error.may_have_been_applied());
    assert_eq!(error.attempts(), 1);
    assert_eq!(stand_in.requests().len(), 1);
}

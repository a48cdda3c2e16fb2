//! Sends arbitrary responses through a real call, so the client's classification (status,
//! content type, error list, decode, secret masking) sees them: every input must end in `Ok`
//! or a response error (`Api`, `Decode`, `UnexpectedResponse`), never a panic.
//!
//! The first byte picks the operation, the status and the content type; the rest is the body.
//! Much slower than `decode` (one loopback call per input).

#![no_main]

use std::sync::OnceLock;

use clerk_management::create_application::CreateApplicationRequest;
use clerk_management::create_organization::CreateOrganizationRequest;
use clerk_management::testing::{Fault, StandIn};
use clerk_management::upsert_user::UpsertUserRequest;
use clerk_management::{Error, ManagementClient};
use libfuzzer_sys::fuzz_target;

const STATUSES: [u16; 8] = [200, 201, 400, 401, 422, 429, 500, 502];
const CONTENT_TYPES: [Option<&str>; 4] = [
    Some("application/json"),
    Some("application/problem+json; charset=utf-8"),
    Some("text/html"),
    None,
];

fn stand_in() -> &'static (StandIn, ManagementClient) {
    static STAND_IN: OnceLock<(StandIn, ManagementClient)> = OnceLock::new();
    STAND_IN.get_or_init(|| {
        let stand_in = StandIn::start().expect("stand-in starts");
        let client = stand_in.client().expect("client builds");
        (stand_in, client)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let status = STATUSES[usize::from(selector & 0x07)];
    let content_type = CONTENT_TYPES[usize::from((selector >> 3) & 0x03)];
    let (stand_in, client) = stand_in();
    stand_in.push_fault(Fault::Respond {
        status,
        headers: content_type
            .map(|t| vec![("Content-Type".to_owned(), t.to_owned())])
            .unwrap_or_default(),
        body: body.to_vec(),
    });
    let outcome = match selector >> 5 {
        0..=2 => client
            .upsert_user(&UpsertUserRequest::new("ada@example.com", "Ada", "L"))
            .map(|v| format!("{v:?}")),
        3..=5 => client
            .create_organization(&CreateOrganizationRequest::new("Acme", "acme"))
            .map(|v| format!("{v:?}")),
        _ => client
            .create_application(&CreateApplicationRequest::new("Acme", "user_1", "plan_1"))
            .map(|v| format!("{v:?}")),
    };
    match outcome {
        Ok(_) => assert!((200..300).contains(&status)),
        Err(e @ (Error::Api(_) | Error::Decode(_) | Error::UnexpectedResponse(_))) => {
            assert_eq!(e.status(), Some(status));
            let shown = format!("{e} {e:?}");
            assert!(!shown.contains(stand_in.token()), "{shown}");
        }
        Err(other) => panic!("{status} {content_type:?}: {other:?}"),
    }
});

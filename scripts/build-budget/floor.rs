//! The floor of the build budget: one upsert done by hand with the SDK's runtime dependencies
//! (ureq, serde, serde_json, thiserror, time) and nothing else. `scripts/build-budget.sh` builds
//! it next to `sdk.rs`, which does the same through clerk-management.

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
enum Error {
    #[error("environment variable {0} is not set")]
    Env(&'static str),
    #[error(transparent)]
    Http(#[from] ureq::Error),
    #[error("unexpected status {0}")]
    Status(u16),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

#[derive(Serialize)]
struct Upsert<'a> {
    email_address: &'a str,
    first_name: &'a str,
    last_name: &'a str,
}

#[derive(Deserialize)]
struct User {
    id: String,
    #[serde(default)]
    created_at: i64,
}

fn main() -> Result<(), Error> {
    let token = std::env::var("CLERK_MANAGEMENT_TOKEN")
        .map_err(|_| Error::Env("CLERK_MANAGEMENT_TOKEN"))?;
    let base = std::env::var("CLERK_API_URL").unwrap_or_else(|_| "https://api.clerk.com/v1".into());
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .timeout_connect(Some(Duration::from_secs(10)))
        .build()
        .new_agent();

    let body = serde_json::to_vec(&Upsert {
        email_address: "ada@example.com",
        first_name: "Ada",
        last_name: "Lovelace",
    })?;
    let mut response = agent
        .post(format!("{base}/management/users"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .send(&body[..])?;
    let status = response.status().as_u16();
    let bytes = response
        .body_mut()
        .with_config()
        .limit(2 << 20)
        .read_to_vec()?;
    if !(200..300).contains(&status) {
        return Err(Error::Status(status));
    }

    let user: User = serde_json::from_slice(&bytes)?;
    let nanos = i128::from(user.created_at) * 1_000_000;
    let created = time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok();
    println!("{} created {:?}", user.id, created);
    Ok(())
}

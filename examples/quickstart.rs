//! The SDK's three operations, end to end, in a few readable lines.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! With `CLERK_MANAGEMENT_TOKEN` set (and, optionally, `CLERK_API_URL`), it runs against that
//! server and creates real resources with names unique to the run; set
//! `CLERK_QUICKSTART_PLAN_ID` to a plan your account offers (default `free`). Without a token it
//! starts the crate's local stand-in of the API (the `testing` feature) and says so.
//!
//! It upserts a user twice (same id), creates an organization owned by that user, creates an
//! application with a development and a production instance, and shows the typed error for a
//! second organization with the same slug. Secret keys are printed redacted.

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clerk_management::create_application::{CreateApplicationRequest, EnvironmentType};
use clerk_management::create_organization::CreateOrganizationRequest;
use clerk_management::testing::StandIn;
use clerk_management::upsert_user::UpsertUserRequest;
use clerk_management::{Error, ManagementClient, TOKEN_ENV};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("quickstart: error: {error}");
            let mut source = error.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    // The stand-in lives as long as this binding: it stops when dropped.
    let (client, stand_in) = if std::env::var_os(TOKEN_ENV).is_some() {
        let client = ManagementClient::from_env()?;
        println!(
            "Using the server at {} ({TOKEN_ENV} is set).",
            client.base_url()
        );
        (client, None)
    } else {
        let stand_in = StandIn::start()?;
        println!(
            "{TOKEN_ENV} is not set: using a local stand-in of the Clerk API at {}.",
            stand_in.base_url()
        );
        println!("Set {TOKEN_ENV} (and optionally CLERK_API_URL) to run against Clerk.");
        (stand_in.client()?, Some(stand_in))
    };
    println!();

    // Unique per run, so that a real server never sees a slug or an address twice.
    let run_id = run_id();
    let email = format!("ada+{run_id}@example.com");
    let slug = format!("quickstart-{run_id}");

    // 1. Upsert a user, then again with the same email: the same user, updated.
    let user = client.upsert_user(&UpsertUserRequest::new(&email, "Ada", "Byron"))?;
    println!(
        "1. Upserted user {} <{email}>: {}",
        user.id,
        full_name(&user)
    );
    let again = client.upsert_user(&UpsertUserRequest::new(&email, "Ada", "Lovelace"))?;
    let same = if again.id == user.id {
        "the same user"
    } else {
        "a DIFFERENT user (?)"
    };
    println!(
        "2. Upserted the same email again: {same} {}, now {}",
        again.id,
        full_name(&again)
    );

    // 2. An organization owned by that user.
    let request = CreateOrganizationRequest::new("Analytical Engines", &slug)
        .created_by(&user.id)
        .public_metadata(serde_json::json!({"source": "quickstart"}));
    let organization = client.create_organization(&request)?;
    println!(
        "3. Created organization {} \"{}\" (slug {}), created by {}",
        organization.id,
        organization.name,
        organization.slug,
        organization.created_by.as_deref().unwrap_or("nobody"),
    );

    // 3. An application with a development and a production instance.
    let plan = std::env::var("CLERK_QUICKSTART_PLAN_ID").unwrap_or_else(|_| "free".into());
    let request = CreateApplicationRequest::new("Difference Engine", &user.id, plan)
        .environment_types([EnvironmentType::Development, EnvironmentType::Production]);
    let application = client.create_application(&request)?;
    println!(
        "4. Created application {} with {} instances:",
        application.application_id,
        application.instances.len()
    );
    for instance in &application.instances {
        // A `SecretString` prints as `[redacted]`; `expose_secret()` is the way to the key.
        println!(
            "     {:<11} {}  publishable key {}  secret key {}",
            instance.environment_type,
            instance.instance_id,
            instance.publishable_key,
            instance.secret_key,
        );
    }

    // 4. The same slug again: Clerk refuses it, and the error says why, typed.
    let duplicate = CreateOrganizationRequest::new("Analytical Engines II", &slug);
    match client.create_organization(&duplicate) {
        Err(Error::Api(api)) => {
            println!(
                "5. A second organization with slug {slug} is refused: status {}, code {}, \
                 message \"{}\", trace id {}",
                api.status,
                api.code().unwrap_or("-"),
                api.message().unwrap_or("-"),
                api.clerk_trace_id.as_deref().unwrap_or("-"),
            );
        }
        Err(other) => return Err(other.into()),
        Ok(organization) => {
            return Err(format!("the duplicate slug was accepted: {}", organization.id).into());
        }
    }

    println!();
    match &stand_in {
        Some(stand_in) => println!(
            "Done: {} requests, all answered by the stand-in; nothing left this machine.",
            stand_in.requests().len()
        ),
        None => println!(
            "Done: user {}, organization {} and application {} exist on the server.",
            user.id, organization.id, application.application_id
        ),
    }
    Ok(())
}

fn full_name(user: &clerk_management::upsert_user::User) -> String {
    let first = user.first_name.as_deref().unwrap_or("");
    let last = user.last_name.as_deref().unwrap_or("");
    format!("{first} {last}").trim().to_owned()
}

/// A short id that differs from one run to the next: the time in milliseconds and the
/// process id, in base 36.
fn run_id() -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let mut n = millis * 100_000 + u128::from(std::process::id() % 100_000);
    let mut digits = Vec::new();
    while n > 0 {
        digits.push(b"0123456789abcdefghijklmnopqrstuvwxyz"[(n % 36) as usize]);
        n /= 36;
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

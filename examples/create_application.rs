//! Creates an application with its instances, and prints their keys.
//!
//! ```text
//! cargo run --example create_application -- --name Acme --owner-id user_123 \
//!     --plan-id plan_pro --env development --env production
//! ```
//!
//! Needs `CLERK_MANAGEMENT_TOKEN` (and optionally `CLERK_API_URL`), or `--stand-in` to run
//! against a local stand-in of the API. Secret keys print as `[redacted]` unless
//! `--reveal-secret-keys` is given.

mod common;

use std::process::ExitCode;

use clerk_management::create_application::{CreateApplicationRequest, EnvironmentType};
use common::{Failure, Lines};

const HELP: &str = "\
Creates a Clerk application, with one instance per environment, and prints their keys.

Usage: create_application --name NAME --owner-id ID --plan-id ID [options] [--stand-in]

Options:
  --name NAME                        the application's name (required)
  --owner-id ID                      its owner (required)
  --plan-id ID                       its plan (required)
  --env ENVIRONMENT                  development, staging or production; repeatable
                                     (Clerk's default: development only)
  --addon-id ID                      an add-on to subscribe to; repeatable
  --paid-externally true|false       whether the subscription is paid outside Clerk
  --test-mode true|false             whether the application is in test mode
  --max-allowed-users N              the most users it may have
  --max-allowed-organizations N      the most organizations it may have
  --subscription-metadata KEY=VALUE  a subscription metadata entry; repeatable
  --reveal-secret-keys               print secret keys instead of [redacted]
  --stand-in                         run against a fresh local stand-in instead of Clerk
  -h, --help                         print this help

Environment:
  CLERK_MANAGEMENT_TOKEN   the management token (required without --stand-in)
  CLERK_API_URL            the server, default https://api.clerk.com/v1

Prints the application and then each instance as `name: value` lines. Exits with 2 for bad
arguments, 1 if the call fails.
";

const FLAGS: &[&str] = &[
    "name",
    "owner-id",
    "plan-id",
    "env",
    "addon-id",
    "paid-externally",
    "test-mode",
    "max-allowed-users",
    "max-allowed-organizations",
    "subscription-metadata",
];

fn main() -> ExitCode {
    common::main(
        "create_application",
        HELP,
        FLAGS,
        &["reveal-secret-keys"],
        run,
    )
}

fn environment(value: &str) -> Result<EnvironmentType, Failure> {
    match value {
        "development" => Ok(EnvironmentType::Development),
        "staging" => Ok(EnvironmentType::Staging),
        "production" => Ok(EnvironmentType::Production),
        _ => Err(Failure::Usage(format!(
            "--env {value:?} must be development, staging or production"
        ))),
    }
}

fn run(args: &common::Args) -> Result<(), Failure> {
    let mut request = CreateApplicationRequest::new(
        args.required("name")?,
        args.required("owner-id")?,
        args.required("plan-id")?,
    );
    let environments = args.all("env");
    if !environments.is_empty() {
        let types = environments
            .iter()
            .map(|value| environment(value))
            .collect::<Result<Vec<_>, _>>()?;
        request = request.environment_types(types);
    }
    let addons = args.all("addon-id");
    if !addons.is_empty() {
        request = request.addon_ids(addons);
    }
    if let Some(paid) = args.parsed("paid-externally", common::boolean)? {
        request = request.paid_externally(paid);
    }
    if let Some(test_mode) = args.parsed("test-mode", common::boolean)? {
        request = request.test_mode(test_mode);
    }
    if let Some(limit) = args.parsed("max-allowed-users", common::unsigned)? {
        request = request.max_allowed_users(limit);
    }
    if let Some(limit) = args.parsed("max-allowed-organizations", common::unsigned)? {
        request = request.max_allowed_organizations(limit);
    }
    let entries = args.all("subscription-metadata");
    if !entries.is_empty() {
        let mut metadata = Vec::new();
        for entry in &entries {
            let (key, value) = entry.split_once('=').ok_or_else(|| {
                Failure::Usage(format!(
                    "--subscription-metadata {entry:?} must be KEY=VALUE"
                ))
            })?;
            metadata.push((key.to_owned(), value.to_owned()));
        }
        request = request.subscription_metadata(metadata);
    }
    let reveal = args.switch("reveal-secret-keys");

    let (client, _stand_in) = common::client(args)?;
    let application = client.create_application(&request)?;

    let subscription = application.subscription.as_ref().map(|s| s.id.as_str());
    print!(
        "{}",
        Lines::new()
            .add("application_id", &application.application_id)
            .add("subscription_id", subscription.unwrap_or("-"))
            .add("instances", application.instances.len())
    );
    for instance in &application.instances {
        let secret = match reveal {
            true => instance.secret_key.expose_secret().to_owned(),
            false => instance.secret_key.to_string(),
        };
        print!(
            "\n{}",
            Lines::new()
                .add("instance_id", &instance.instance_id)
                .add("environment_type", &instance.environment_type)
                .add("publishable_key", &instance.publishable_key)
                .add("secret_key", secret)
        );
    }
    Ok(())
}

//! Creates an organization.
//!
//! ```text
//! cargo run --example create_organization -- --name "Acme Inc." --slug acme \
//!     --created-by user_123 --public-metadata '{"plan":"pro"}'
//! ```
//!
//! Needs `CLERK_MANAGEMENT_TOKEN` (and optionally `CLERK_API_URL`), or `--stand-in` to run
//! against a local stand-in of the API.

mod common;

use std::process::ExitCode;

use clerk_management::create_organization::CreateOrganizationRequest;
use common::{Failure, Lines};

const HELP: &str = "\
Creates a Clerk organization.

Usage: create_organization --name NAME --slug SLUG [options] [--stand-in]

Options:
  --name NAME                     the organization's name (required)
  --slug SLUG                     its URL-friendly slug, unique (required)
  --created-by USER_ID            the user who creates it, and becomes its first admin
  --max-allowed-memberships N     the most members it may have
  --public-metadata JSON          a JSON object, readable from the frontend
  --private-metadata JSON         a JSON object, readable from the backend only
  --created-at DATE_TIME          when it was created, RFC 3339 (2024-04-10T20:37:41Z)
  --stand-in                      run against a fresh local stand-in instead of Clerk
  -h, --help                      print this help

Environment:
  CLERK_MANAGEMENT_TOKEN   the management token (required without --stand-in)
  CLERK_API_URL            the server, default https://api.clerk.com/v1

Prints the organization as `name: value` lines. Exits with 2 for bad arguments, 1 if the
call fails (a slug already taken, for one).
";

const FLAGS: &[&str] = &[
    "name",
    "slug",
    "created-by",
    "max-allowed-memberships",
    "public-metadata",
    "private-metadata",
    "created-at",
];

fn main() -> ExitCode {
    common::main("create_organization", HELP, FLAGS, &[], run)
}

fn run(args: &common::Args) -> Result<(), Failure> {
    let mut request =
        CreateOrganizationRequest::new(args.required("name")?, args.required("slug")?);
    if let Some(user_id) = args.optional("created-by")? {
        request = request.created_by(user_id);
    }
    if let Some(limit) = args.parsed("max-allowed-memberships", common::unsigned)? {
        request = request.max_allowed_memberships(limit);
    }
    if let Some(metadata) = args.parsed("public-metadata", common::json_object)? {
        request = request.public_metadata(metadata);
    }
    if let Some(metadata) = args.parsed("private-metadata", common::json_object)? {
        request = request.private_metadata(metadata);
    }
    if let Some(at) = args.parsed("created-at", common::date_time)? {
        request = request.created_at(at);
    }

    let (client, _stand_in) = common::client(args)?;
    let organization = client.create_organization(&request)?;

    let json = |map: &serde_json::Map<String, serde_json::Value>| {
        serde_json::Value::Object(map.clone()).to_string()
    };
    let lines = Lines::new()
        .add("id", &organization.id)
        .add("name", &organization.name)
        .add("slug", &organization.slug)
        .add(
            "created_by",
            organization.created_by.as_deref().unwrap_or("-"),
        )
        .add(
            "max_allowed_memberships",
            organization.max_allowed_memberships,
        )
        .add("public_metadata", json(&organization.public_metadata))
        .add(
            "private_metadata",
            organization
                .private_metadata
                .as_ref()
                .map_or("-".into(), json),
        )
        .add("created_at", common::millis(organization.created_at));
    print!("{lines}");
    Ok(())
}

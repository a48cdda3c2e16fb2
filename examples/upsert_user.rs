//! Creates a user, or updates the names of the one with the same email address.
//!
//! ```text
//! cargo run --example upsert_user -- --email ada@example.com --first-name Ada --last-name Lovelace
//! ```
//!
//! Needs `CLERK_MANAGEMENT_TOKEN` (and optionally `CLERK_API_URL`), or `--stand-in` to run
//! against a local stand-in of the API.

mod common;

use std::process::ExitCode;

use clerk_management::upsert_user::UpsertUserRequest;
use common::{Failure, Lines};

const HELP: &str = "\
Creates a Clerk user, or updates the names of the user with the same email address.

Usage: upsert_user --email ADDRESS --first-name NAME --last-name NAME [--stand-in]

Options:
  --email ADDRESS      the email address that identifies the user (required)
  --first-name NAME    the first name to set (required)
  --last-name NAME     the last name to set (required)
  --stand-in           run against a fresh local stand-in instead of Clerk
  -h, --help           print this help

Environment:
  CLERK_MANAGEMENT_TOKEN   the management token (required without --stand-in)
  CLERK_API_URL            the server, default https://api.clerk.com/v1

Prints the user as `name: value` lines. Exits with 2 for bad arguments, 1 if the call fails.
";

fn main() -> ExitCode {
    common::main(
        "upsert_user",
        HELP,
        &["email", "first-name", "last-name"],
        &[],
        run,
    )
}

fn run(args: &common::Args) -> Result<(), Failure> {
    let request = UpsertUserRequest::new(
        args.required("email")?,
        args.required("first-name")?,
        args.required("last-name")?,
    );
    let (client, _stand_in) = common::client(args)?;
    let user = client.upsert_user(&request)?;

    let email = user
        .primary_email_address()
        .map(|e| e.email_address.as_str());
    let lines = Lines::new()
        .add("id", &user.id)
        .add("email_address", email.unwrap_or("-"))
        .add("first_name", user.first_name.as_deref().unwrap_or("-"))
        .add("last_name", user.last_name.as_deref().unwrap_or("-"))
        .add("created_at", common::millis(user.created_at))
        .add("updated_at", common::millis(user.updated_at));
    print!("{lines}");
    Ok(())
}

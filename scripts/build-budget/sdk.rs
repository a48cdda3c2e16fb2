//! The SDK side of the build budget: the same upsert as `floor.rs`, through clerk-management.

use clerk_management::ManagementClient;
use clerk_management::upsert_user::UpsertUserRequest;

fn main() -> Result<(), clerk_management::Error> {
    let client = ManagementClient::from_env()?;
    let user = client.upsert_user(&UpsertUserRequest::new(
        "ada@example.com",
        "Ada",
        "Lovelace",
    ))?;
    println!("{} created {:?}", user.id, user.created_at_datetime());
    Ok(())
}

//! Decodes arbitrary bytes as every response type and as Clerk's error entry: any input must
//! end in `Ok` or a serde error, never a panic, an abort or a stack overflow.

#![no_main]

use clerk_management::ClerkError;
use clerk_management::create_application::ManagementApplicationResponse;
use clerk_management::create_organization::Organization;
use clerk_management::upsert_user::User;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    check::<User>(data);
    check::<Organization>(data);
    check::<ManagementApplicationResponse>(data);
    check::<ClerkError>(data);
    check::<Vec<ClerkError>>(data);
});

fn check<T: serde::de::DeserializeOwned + std::fmt::Debug>(data: &[u8]) {
    match serde_json::from_slice::<T>(data) {
        // Formatting walks the whole value, as logging it would.
        Ok(value) => drop(format!("{value:?}")),
        Err(e) => assert!(!e.is_io(), "{e}"),
    }
}

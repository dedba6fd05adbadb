//! What a request does, apart from how it arrived: each takes `&Gatehouse`
//! and plain data (never a Rocket request, cookie jar or guard) and returns
//! plain data or an error the web layer turns into an answer.

pub mod account; // one's own account: name, sessions, sign out everywhere
pub mod admin; // administering users: one service behind the pages and the API
#[cfg(feature = "google")]
pub mod google; // the account a Google (OpenID Connect) sign-in lands on
pub(crate) mod link; // a mailed link's token, and the hash stored for it
pub mod passkey; // passkeys: registering, managing, signing in with one
pub mod password_reset; // a forgotten password, reset by mailed link
pub mod refresh; // checking a session, and rotating its refresh token
pub mod register; // registration by mailed link
pub mod session; // starting a session: the row, the audit event, the first tokens
pub mod signin; // signing in and out, changing a password
pub mod two_factor; // TOTP and recovery codes: turning them on and off, the second sign-in step

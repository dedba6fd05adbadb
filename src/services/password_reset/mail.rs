//! The mails `/password/forgot` sends: a link to choose a new password (to
//! an account, Google-only ones included), or a note (no account with this
//! address, or a disabled account).

use super::RESET_PATH;
use crate::domain::Email;
use crate::services::register::lifetime_words;
use crate::state::Gatehouse;

/// A link that sets the account's password. `google_only`: the account has
/// no password yet (it signs in with Google), and the mail says so.
pub(super) fn link_mail(app: &Gatehouse, email: &Email, token: &str, google_only: bool) -> (String, String) {
    let site = &app.config.site_name;
    let url = &app.config.public_url;
    let (subject, what) = if google_only {
        (
            format!("Set a password for your {site} account"),
            "This account signs in with Google and has no password yet. You can keep signing in \
             with Google; to set a password as well, open this link",
        )
    } else {
        (
            format!("Reset your {site} password"),
            "To choose a new password, open this link",
        )
    };
    (
        subject,
        format!(
            "Hello,\n\n\
             Someone (we hope you) asked to reset the password of the {site} account {email}.\n\
             {what} within {}:\n\n\
             {url}{RESET_PATH}?token={token}\n\n\
             Setting a password signs out every device signed in to the account.\n\
             If you did not ask for this, ignore this mail: your password stays as it is.\n",
            lifetime_words(app.config.password_reset_expires)
        ),
    )
}

/// A note to an address with no account: how to register, if one can.
pub(super) fn no_account_mail(app: &Gatehouse, email: &Email) -> (String, String) {
    let site = &app.config.site_name;
    let url = &app.config.public_url;
    let register = if app.config.registration {
        format!("To create an account with this address, go to {url}/register\n")
    } else {
        format!("Accounts on {site} are made by its administrators; ask one if you need one.\n")
    };
    (
        format!("Your {site} password reset request"),
        format!(
            "Hello,\n\n\
             Someone (we hope you) asked to reset the password of a {site} account for {email}.\n\
             There is no account with this address, so nothing was changed.\n\n\
             {register}\
             If you signed up with another address, ask again with that one.\n\
             If you did not ask for this, you can ignore this mail.\n"
        ),
    )
}

/// A note to a disabled account: a link could not sign it in.
pub(super) fn disabled_mail(app: &Gatehouse, email: &Email) -> (String, String) {
    let site = &app.config.site_name;
    (
        format!("Your {site} password reset request"),
        format!(
            "Hello,\n\n\
             Someone (we hope you) asked to reset the password of the {site} account {email}.\n\
             This account is disabled, so its password can't be reset this way and nothing was changed.\n\
             Contact an administrator of {site}.\n\n\
             If you did not ask for this, you can ignore this mail.\n"
        ),
    )
}

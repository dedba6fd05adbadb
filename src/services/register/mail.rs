//! The two mails `/register` sends: a link to finish, or a note that the
//! address already has an account.

use super::CONFIRM_PATH;
use crate::domain::Email;
use crate::state::Gatehouse;

/// "24 hours", "90 minutes".
pub fn lifetime_words(seconds: i64) -> String {
    match seconds {
        s if s % 3600 == 0 && s / 3600 == 1 => "1 hour".into(),
        s if s % 3600 == 0 => format!("{} hours", s / 3600),
        s => format!("{} minutes", s / 60),
    }
}

pub(super) fn link_mail(app: &Gatehouse, email: &Email, token: &str) -> (String, String) {
    let site = &app.config.site_name;
    let url = &app.config.public_url;
    (
        format!("Finish creating your {site} account"),
        format!(
            "Hello,\n\n\
             Someone (we hope you) asked to create a {site} account for {email}.\n\
             To choose your name and password and finish, open this link within {}:\n\n\
             {url}{CONFIRM_PATH}?token={token}\n\n\
             If you did not ask for this, ignore this mail: no account is made without the link.\n",
            lifetime_words(app.config.registration_link_expires)
        ),
    )
}

pub(super) fn account_exists_mail(app: &Gatehouse, email: &Email) -> (String, String) {
    let site = &app.config.site_name;
    let url = &app.config.public_url;
    (
        format!("Your {site} account"),
        format!(
            "Hello,\n\n\
             Someone (we hope you) asked to create a {site} account for {email}.\n\
             This address already has an account, so nothing was changed.\n\n\
             Sign in here: {url}/login\n\n\
             If you have forgotten your password, an administrator of {site} can reset it.\n\
             If you did not ask for this, you can ignore this mail.\n"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::lifetime_words;

    #[test]
    fn lifetimes_read_well() {
        assert_eq!(lifetime_words(86_400), "24 hours");
        assert_eq!(lifetime_words(3_600), "1 hour");
        assert_eq!(lifetime_words(5_400), "90 minutes");
    }
}

//! Registration: off by default (404); an email first, answered the same
//! whether it has an account or not, with a mail either way; the mailed link
//! then takes a name and a password (the usual rules) and ends in a session.
//!
//! - [`request`]: `/register`, the first step;
//! - [`confirm`]: `/register/confirm`, the mailed link;
//! - [`limits`]: rate limits, mails per address, simultaneous requests;
//! - [`mail`]: a mail that can't be sent, and SMTP.

mod confirm;
mod limits;
mod mail;
mod request;

use rocket::http::{ContentType, Status};
use serde_json::Value;

use crate::common::mailbox::{mail_files, mails, Mail};
use crate::common::{form_body, TestApp};

/// The app with registration on, mailing to files in a directory of its own.
struct Registering {
    app: TestApp,
    mail_dir: tempfile::TempDir,
    /// Mail files whose link a test has taken.
    taken: std::sync::Mutex<std::collections::HashSet<std::path::PathBuf>>,
}

impl std::ops::Deref for Registering {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

async fn with_registration(app: TestApp, extra: &[(&str, Value)]) -> Registering {
    let backend = app.backend;
    drop(app);
    let mail_dir = tempfile::tempdir().unwrap();
    let dir = mail_dir.path().display().to_string();
    let app = TestApp::spawn_with(backend, |f| {
        let f = f
            .merge(("registration", true))
            .merge(("mail.transport", "file"))
            .merge(("mail.dir", dir.clone()));
        extra.iter().fold(f, |f, (k, v)| f.merge((*k, v.clone())))
    })
    .await
    .unwrap();
    Registering {
        app,
        mail_dir,
        taken: Default::default(),
    }
}

impl Registering {
    fn mails(&self) -> Vec<Mail> {
        mails(self.mail_dir.path())
    }

    /// The link in the one mail to `email` not looked at yet. (Files are
    /// told apart by name: their times can tie.)
    fn link_for(&self, email: &str) -> String {
        let links = self.links_for(email);
        assert_eq!(links.len(), 1, "one new mail to {email}: {links:?}");
        links.into_iter().next().unwrap()
    }

    /// The links in every mail to `email` not looked at yet.
    fn links_for(&self, email: &str) -> Vec<String> {
        let mut taken = self.taken.lock().unwrap();
        mail_files(self.mail_dir.path())
            .into_iter()
            .filter(|(path, mail)| mail.to == email && taken.insert(path.clone()))
            .map(|(_, mail)| {
                mail.link()
                    .unwrap_or_else(|| panic!("no link in the mail to {email}: {mail:?}"))
            })
            .collect()
    }

    /// Step 1, as the browser sends it.
    async fn request(&self, fields: &[(&str, &str)]) -> rocket::local::asynchronous::LocalResponse<'_> {
        let csrf = self.csrf("/register").await;
        let mut all = vec![("csrf_token", csrf.as_str())];
        all.extend_from_slice(fields);
        self.client
            .post("/register")
            .header(ContentType::Form)
            .body(form_body(&all))
            .dispatch()
            .await
    }

    /// Step 2: the link's form, with a name and a password.
    async fn confirm(
        &self,
        link: &str,
        password: &str,
        confirm: &str,
    ) -> rocket::local::asynchronous::LocalResponse<'_> {
        let csrf = self.csrf(link).await;
        let token = link.split_once("token=").unwrap().1;
        self.client
            .post("/register/confirm")
            .header(ContentType::Form)
            .body(form_body(&[
                ("csrf_token", &csrf),
                ("token", token),
                ("name", "Ada Lovelace"),
                ("password", password),
                ("confirm_password", confirm),
            ]))
            .dispatch()
            .await
    }

    async fn registration_rows(&self) -> i64 {
        self.state()
            .db
            .run(|conn| {
                use diesel::prelude::*;
                Ok(gatehouse::db::schema::registrations::table
                    .count()
                    .get_result::<i64>(conn)?)
            })
            .await
            .unwrap()
    }
}

async fn refused(res: rocket::local::asynchronous::LocalResponse<'_>) {
    assert_eq!(res.status(), Status::NotFound);
    let page = res.into_string().await.unwrap();
    assert!(
        page.contains("This link has expired or has already been used."),
        "{page}"
    );
    assert!(page.contains("action=\"/register\""), "a form to ask again");
}

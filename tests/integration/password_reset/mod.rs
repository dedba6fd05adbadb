//! A forgotten password: an email first, answered the same whatever the
//! address (a link for an account, Google-only ones included; a note for an
//! unknown or disabled one); the mailed link then takes a new password (the
//! usual rules) and ends in a new session, every other one signed out.
//!
//! - [`request`]: `/password/forgot`: the same answer, the right mail, CSRF,
//!   off means 404;
//! - [`reset`]: `/password/reset`, the mailed link: single use, expiry,
//!   sessions, lockout, `must_change_password`, disabled accounts;
//! - [`limits`]: mails per address, the per-IP limit;
//! - [`api`]: `/api/v1/password/forgot` and `/api/v1/password/reset`;
//! - [`two_factor`]: an account with two-factor sign-in on is asked for a
//!   code after the reset.

mod api;
mod limits;
mod request;
mod reset;
mod two_factor;

use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::LocalResponse;
use serde_json::Value;

use crate::common::mailbox::{mail_files, mails, Mail};
use crate::common::{form_body, TestApp};

/// The app mailing to files in a directory of its own (password reset is
/// on by default in debug).
struct Resetting {
    app: TestApp,
    mail_dir: tempfile::TempDir,
    /// Mail files a test has looked at.
    taken: std::sync::Mutex<std::collections::HashSet<std::path::PathBuf>>,
}

impl std::ops::Deref for Resetting {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

async fn with_reset(app: TestApp, extra: &[(&str, Value)]) -> Resetting {
    let backend = app.backend;
    drop(app);
    let mail_dir = tempfile::tempdir().unwrap();
    let dir = mail_dir.path().display().to_string();
    let app = TestApp::spawn_with(backend, |f| {
        let f = f
            .merge(("mail.transport", "file"))
            .merge(("mail.dir", dir.clone()));
        extra.iter().fold(f, |f, (k, v)| f.merge((*k, v.clone())))
    })
    .await
    .unwrap();
    Resetting {
        app,
        mail_dir,
        taken: Default::default(),
    }
}

impl Resetting {
    fn mails(&self) -> Vec<Mail> {
        mails(self.mail_dir.path())
    }

    /// Every mail to `email` not looked at yet.
    fn new_mails(&self, email: &str) -> Vec<Mail> {
        let mut taken = self.taken.lock().unwrap();
        mail_files(self.mail_dir.path())
            .into_iter()
            .filter(|(path, mail)| mail.to == email && taken.insert(path.clone()))
            .map(|(_, mail)| mail)
            .collect()
    }

    /// The reset link in the one mail to `email` not looked at yet.
    fn link_for(&self, email: &str) -> String {
        let mails = self.new_mails(email);
        assert_eq!(mails.len(), 1, "one new mail to {email}: {mails:?}");
        mails[0]
            .reset_link()
            .unwrap_or_else(|| panic!("no link in the mail to {email}: {:?}", mails[0]))
    }

    /// Step 1, as the browser sends it.
    async fn forgot(&self, fields: &[(&str, &str)]) -> LocalResponse<'_> {
        let csrf = self.csrf("/password/forgot").await;
        let mut all = vec![("csrf_token", csrf.as_str())];
        all.extend_from_slice(fields);
        self.client
            .post("/password/forgot")
            .header(ContentType::Form)
            .body(form_body(&all))
            .dispatch()
            .await
    }

    /// Asks for a link for `email` and returns it.
    async fn mailed_link(&self, email: &str) -> String {
        let res = self.forgot(&[("email", email)]).await;
        assert_eq!(res.status(), Status::Ok);
        self.link_for(email)
    }

    /// Step 2: the link's form (the CSRF value is the browser's, whatever
    /// page it is read from).
    async fn reset(&self, link: &str, password: &str, confirm: &str) -> LocalResponse<'_> {
        let csrf = self.csrf("/password/forgot").await;
        let token = link.split_once("token=").unwrap().1;
        self.client
            .post("/password/reset")
            .header(ContentType::Form)
            .body(form_body(&[
                ("csrf_token", &csrf),
                ("token", token),
                ("password", password),
                ("confirm_password", confirm),
            ]))
            .dispatch()
            .await
    }

    async fn reset_rows(&self) -> i64 {
        self.state()
            .db
            .run(|conn| {
                use diesel::prelude::*;
                Ok(gatehouse::db::schema::password_resets::table
                    .count()
                    .get_result::<i64>(conn)?)
            })
            .await
            .unwrap()
    }

    /// The audit log's `(kind, detail)` pairs, newest first.
    async fn events(&self) -> Vec<(String, String)> {
        self.state()
            .db
            .run(|conn| gatehouse::db::audit::recent(conn, None, 100))
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.kind, e.detail))
            .collect()
    }

    /// Takes the password off an account, as if it had only ever signed in
    /// with Google.
    async fn make_google_only(&self, email: &str) {
        let email = email.to_owned();
        self.state()
            .db
            .run(move |conn| {
                use diesel::prelude::*;
                use gatehouse::db::schema::users;
                diesel::update(users::table.filter(users::email.eq(email)))
                    .set((
                        users::password_hash.eq(None::<String>),
                        users::google_sub.eq(Some("google-sub-1")),
                    ))
                    .execute(conn)?;
                Ok(())
            })
            .await
            .unwrap();
    }
}

/// A refused link: the forgot form again, saying why.
async fn link_refused(res: LocalResponse<'_>) {
    assert_eq!(res.status(), Status::NotFound);
    assert_eq!(res.headers().get_one("Referrer-Policy"), Some("no-referrer"));
    let page = res.into_string().await.unwrap();
    assert!(
        page.contains("This link has expired or has already been used."),
        "{page}"
    );
    assert!(
        page.contains("action=\"/password/forgot\""),
        "a form to ask again"
    );
}

//! Forms as a browser sends them: CSRF values, form bodies, the sign-in and
//! sign-out forms, and redirects.

use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::LocalResponse;

use super::{TestApp, PASSWORD};

impl TestApp {
    /// The CSRF value of the form on a page.
    pub async fn csrf(&self, uri: &str) -> String {
        let body = self
            .client
            .get(uri.to_owned())
            .dispatch()
            .await
            .into_string()
            .await
            .unwrap();
        csrf_in(&body).unwrap_or_else(|| panic!("no csrf_token on {uri}"))
    }

    /// Submits the sign-in form as a browser does.
    pub async fn sign_in_form(
        &self,
        email: &str,
        password: &str,
        extra: &[(&str, &str)],
    ) -> LocalResponse<'_> {
        let csrf = self.csrf("/login").await;
        let mut fields = vec![
            ("email", email),
            ("password", password),
            ("csrf_token", csrf.as_str()),
        ];
        fields.extend_from_slice(extra);
        self.client
            .post("/login")
            .header(ContentType::Form)
            .body(form_body(&fields))
            .dispatch()
            .await
    }

    /// Signs in (the user must exist with [`PASSWORD`]) and checks it worked.
    pub async fn sign_in(&self, email: &str) {
        let res = self.sign_in_form(email, PASSWORD, &[]).await;
        assert_redirect_to(&res, "/");
    }

    /// The readable CSRF cookie's value (what a page's script would send).
    pub fn csrf_cookie(&self) -> String {
        self.client
            .cookies()
            .get("csrf_access_token")
            .expect("signed in: a CSRF cookie")
            .value()
            .to_owned()
    }

    /// Signs out as the header's "Sign out" button does; returns the
    /// response (a redirect home).
    pub async fn sign_out(&self) -> LocalResponse<'_> {
        self.client
            .post("/logout")
            .header(Header::new("X-CSRF-TOKEN", self.csrf_cookie()))
            .dispatch()
            .await
    }
}

pub fn csrf_in(html: &str) -> Option<String> {
    let start = html.find("name=\"csrf_token\" value=\"")? + "name=\"csrf_token\" value=\"".len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

pub fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                k,
                percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Asserts a `303 See Other` to exactly `location`.
#[track_caller]
pub fn assert_redirect_to(res: &LocalResponse<'_>, location: &str) {
    assert_eq!(
        res.status(),
        Status::SeeOther,
        "expected a redirect to {location}"
    );
    assert_eq!(res.headers().get_one("Location"), Some(location));
}

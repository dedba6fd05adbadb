//! More browsers on the app (Rocket's local clients, keeping cookies),
//! following redirects as a browser does. (The tests in a real browser,
//! Chromium, are in `crate::browser`.)

use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::{Client, LocalResponse};

use super::{csrf_in, figment, form_body, TestApp};

impl TestApp {
    /// Another browser on the same database (a second instance of the app),
    /// with no cookies yet.
    pub async fn browser(&self) -> Browser {
        let client = Client::tracked(gatehouse::build(figment(&self.url)))
            .await
            .expect("the app ignites");
        Browser { client }
    }

    /// Follows redirects from a response, as a browser would, to the final
    /// page; returns its status, path and body.
    pub async fn follow(&self, res: LocalResponse<'_>) -> (Status, String, String) {
        follow_redirects(&self.client, res).await
    }
}

/// Follows redirects from a response with `client`, as a browser would, to
/// the final page; returns its status, path and body.
pub async fn follow_redirects(client: &Client, res: LocalResponse<'_>) -> (Status, String, String) {
    let mut status = res.status();
    let mut location = res.headers().get_one("Location").map(str::to_owned);
    let mut path = String::new();
    let mut body = res.into_string().await.unwrap_or_default();
    let mut hops = 0;
    while let Some(next) = location.take() {
        hops += 1;
        assert!(hops < 10, "redirect loop at {next}");
        let res = client.get(next.clone()).dispatch().await;
        status = res.status();
        path = next;
        location = res.headers().get_one("Location").map(str::to_owned);
        body = res.into_string().await.unwrap_or_default();
    }
    (status, path, body)
}

/// Another browser on the same database (a second instance of the app, as
/// behind a load balancer), with its own cookies.
pub struct Browser {
    pub client: Client,
}

impl Browser {
    /// Submits the sign-in form.
    pub async fn sign_in(&self, email: &str, password: &str) -> LocalResponse<'_> {
        let body = self.get("/login").await.into_string().await.unwrap();
        let csrf = csrf_in(&body).expect("a csrf_token on /login");
        self.client
            .post("/login")
            .header(ContentType::Form)
            .body(form_body(&[
                ("csrf_token", &csrf),
                ("email", email),
                ("password", password),
            ]))
            .dispatch()
            .await
    }

    pub async fn get(&self, uri: &str) -> LocalResponse<'_> {
        self.client.get(uri.to_owned()).dispatch().await
    }

    /// The CSRF value of this browser's session (its readable cookie).
    pub fn csrf(&self) -> String {
        self.client
            .cookies()
            .get("csrf_access_token")
            .map(|c| c.value().to_owned())
            .unwrap_or_default()
    }

    /// Posts a form with this session's CSRF value first.
    pub async fn post(&self, uri: &str, fields: &[(&str, &str)]) -> LocalResponse<'_> {
        let csrf = self.csrf();
        let mut all = vec![("csrf_token", csrf.as_str())];
        all.extend_from_slice(fields);
        self.client
            .post(uri.to_owned())
            .header(ContentType::Form)
            .body(form_body(&all))
            .dispatch()
            .await
    }

    /// Follows redirects to the final page: status, path and body.
    pub async fn follow(&self, res: LocalResponse<'_>) -> (Status, String, String) {
        follow_redirects(&self.client, res).await
    }
}

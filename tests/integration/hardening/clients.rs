//! See [`super`]. Slow clients: [`proxy`] runs the shipped nginx
//! configuration (`deploy/nginx.conf`) in front of the binary. The Google
//! link button: its journey is in the browser tests
//! (`browser::journeys::google_link`), its POST's answer in
//! `google::link`; here, that no page widens the CSP's `form-action`.

pub mod proxy;

#[cfg(feature = "google")]
mod form_action {
    use rocket::http::ContentType;
    use rocket::local::asynchronous::LocalResponse;

    use crate::common::{csrf_in, Backend, TestApp};
    use crate::google::provider::Provider;
    use crate::tests;

    tests!(every_page_posts_forms_to_its_own_origin_only);

    /// The response's `form-action` directive.
    fn form_action(res: &LocalResponse<'_>) -> String {
        let csp = res.headers().get_one("Content-Security-Policy").expect("a CSP");
        let directives: Vec<&str> = csp
            .split(';')
            .map(str::trim)
            .filter(|d| d.starts_with("form-action"))
            .collect();
        assert_eq!(directives.len(), 1, "one form-action in {csp}");
        directives[0].to_owned()
    }

    /// Pages with forms, the account page with the link button among them,
    /// and the page its POST answers: `form-action 'self'`, nothing more.
    async fn every_page_posts_forms_to_its_own_origin_only() {
        let provider = Provider::start();
        let app = TestApp::spawn_with(Backend::Sqlite, |f| provider.configure(f))
            .await
            .expect("the app starts");
        app.create_user("ada@example.com", "Ada", gatehouse::domain::Role::User)
            .await;
        for path in ["/login", "/"] {
            assert_eq!(form_action(&app.get(path).await), "form-action 'self'", "{path}");
        }
        app.sign_in("ada@example.com").await;
        for path in ["/", "/account", "/account/two-factor", "/no/such/page"] {
            assert_eq!(form_action(&app.get(path).await), "form-action 'self'", "{path}");
        }
        let account = app.get("/account").await.into_string().await.unwrap();
        assert!(
            account.contains("action=\"/auth/google/link\""),
            "the link button"
        );
        let res = app
            .client
            .post("/auth/google/link")
            .header(ContentType::Form)
            .body(format!("csrf_token={}", csrf_in(&account).unwrap()))
            .dispatch()
            .await;
        assert_eq!(
            form_action(&res),
            "form-action 'self'",
            "the link button's answer"
        );
    }
}

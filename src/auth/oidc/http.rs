//! Requests to the provider: https only (http on a loopback issuer), no
//! redirects, bodies read up to a cap, and oauth2's token request sent the
//! same way.

use std::time::Duration;

use oauth2::url::Url;

use super::OidcError;
use crate::config::google::is_allowed_url;

/// Documents from the provider larger than this are refused.
const MAX_BODY: usize = 512 * 1024;

/// `max-age` from a `Cache-Control` header, within sane bounds; an hour
/// when there is none.
pub(super) fn max_age(headers: &reqwest::header::HeaderMap) -> Duration {
    let value = headers
        .get(reqwest::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let directives: Vec<&str> = value.split(',').map(str::trim).collect();
    if directives
        .iter()
        .any(|d| d.eq_ignore_ascii_case("no-store") || d.eq_ignore_ascii_case("no-cache"))
    {
        return Duration::from_secs(60);
    }
    directives
        .iter()
        .find_map(|d| d.strip_prefix("max-age=").and_then(|n| n.parse::<u64>().ok()))
        .map_or(Duration::from_secs(3600), |s| {
            Duration::from_secs(s.clamp(60, 86_400))
        })
}

/// oauth2's HTTP client for the token request: ours (no redirects,
/// timeouts), reading at most [`MAX_BODY`] (oauth2's own reads it all).
pub(super) struct Capped {
    pub(super) http: reqwest::Client,
    pub(super) loopback: bool,
}

impl<'c> oauth2::AsyncHttpClient<'c> for Capped {
    type Error = OidcError;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<oauth2::HttpResponse, OidcError>> + Send + Sync + 'c>,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let url =
                Url::parse(&parts.uri.to_string()).map_err(|e| OidcError::Unreachable(e.to_string()))?;
            let request = self
                .http
                .request(parts.method, url.clone())
                .headers(parts.headers)
                .body(body);
            let res = send(request, &url, self.loopback).await?;
            let mut response = oauth2::http::Response::builder().status(res.status());
            if let Some(headers) = response.headers_mut() {
                *headers = res.headers().clone();
            }
            let body = read_capped(res).await?;
            response
                .body(body)
                .map_err(|e| OidcError::Unreachable(e.to_string()))
        })
    }
}

/// Sends a request to one of the provider's URLs (https, or http on
/// loopback when the issuer is there too).
pub(super) async fn send(
    request: reqwest::RequestBuilder,
    url: &Url,
    loopback: bool,
) -> Result<reqwest::Response, OidcError> {
    if !is_allowed_url(url, loopback) {
        return Err(OidcError::Unreachable(format!("{url} is not an https URL")));
    }
    request.send().await.map_err(request_error)
}

fn request_error(e: reqwest::Error) -> OidcError {
    if e.is_timeout() {
        OidcError::Timeout
    } else {
        OidcError::Unreachable(e.without_url().to_string())
    }
}

/// Reads a response's body, refusing more than [`MAX_BODY`].
pub(super) async fn read_capped(mut res: reqwest::Response) -> Result<Vec<u8>, OidcError> {
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(request_error)? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(OidcError::Unreachable("the provider sent too much".into()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

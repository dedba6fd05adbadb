//! The OpenAPI document at `/api/v1/openapi.json`: it validates and lists every JSON route.

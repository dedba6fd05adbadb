//! Operations: Prometheus metrics at `/metrics` and one log line per request.

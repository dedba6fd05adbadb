"""schemathesis hooks for the fuzz test (tests/integration/api/openapi/fuzz.rs).

`error_shape`: every 4xx/5xx answer in JSON has the API's error shape
(`error`, `description`, `status_code` equal to the answer's status).
"""

import schemathesis


@schemathesis.check
def error_shape(ctx, response, case):
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type") or response.headers.get("Content-Type") or ""
    if isinstance(content_type, list):
        content_type = content_type[0] if content_type else ""
    if "json" not in content_type:
        return None
    body = response.json()
    assert isinstance(body, dict), f"the error answer is not a JSON object: {body!r}"
    for key in ("error", "description"):
        assert isinstance(body.get(key), str) and body[key], f"`{key}` is missing or empty in {body!r}"
    assert body.get("status_code") == response.status_code, (
        f"`status_code` {body.get('status_code')!r} is not the answer's {response.status_code}"
    )
    return None

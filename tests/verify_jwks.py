"""Verifies Gatehouse tokens against its JWKS with an independent library
(PyJWT). Usage: verify_jwks.py JWKS_FILE AUDIENCE ISSUER TOKEN...
Exits non-zero, saying why, if any token does not verify."""
import json
import sys

import jwt

jwks_file, audience, issuer, *tokens = sys.argv[1:]
with open(jwks_file) as f:
    keys = {k.key_id: k for k in jwt.PyJWKSet.from_dict(json.load(f)).keys}
for token in tokens:
    header = jwt.get_unverified_header(token)
    key = keys[header["kid"]]
    claims = jwt.decode(
        token,
        key.key,
        algorithms=[key.algorithm_name],
        audience=audience,
        issuer=issuer,
        options={"require": ["exp", "iat", "nbf", "iss", "aud", "jti", "sub"]},
    )
    print(f"ok kid={header['kid']} alg={header['alg']} sub={claims['sub']}")

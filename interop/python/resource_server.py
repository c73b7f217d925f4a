#!/usr/bin/python3
"""A resource server's check of jwtgate's access tokens with PyJWT.

The code between the README markers is the README's "Verifying jwtgate
tokens in another service" (the Go test compares them). Reads
{"issuer": "...", "audience": "...", "tokens": ["...", ...]} on standard
input and prints one JSON array: per token {"claims": {...}} or
{"error": {"type": "...", "message": "..."}}, and "plain_error" when a
check of issuer and audience alone (no typ) refuses it too.
"""

import json
import sys

request = json.load(sys.stdin)
ISSUER, AUDIENCE = request["issuer"], request["audience"]

# README begin
import jwt

jwks = jwt.PyJWKClient(f"{ISSUER}/.well-known/jwks.json")


def verify_access_token(token):
    # RFC 9068: access tokens are typ at+jwt (refresh tokens refresh+jwt).
    typ = jwt.get_unverified_header(token).get("typ")
    if not isinstance(typ, str) or typ.lower().removeprefix("application/") != "at+jwt":
        raise jwt.InvalidTokenError(f"not an access token (typ {typ!r})")
    key = jwks.get_signing_key_from_jwt(token)
    return jwt.decode(
        token,
        key.key,
        algorithms=["ES256"],  # the service's --alg
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
        leeway=1,  # clock skew; PyJWT 2.6.0 needs it for iat's milliseconds
    )
# README end


def refusal(err):
    return {"type": type(err).__name__, "message": str(err)}


out = []
for token in request["tokens"]:
    r = {}
    try:
        r["claims"] = verify_access_token(token)
    except jwt.PyJWTError as err:
        r["error"] = refusal(err)
    # A verifier that checks issuer and audience but not typ.
    try:
        jwt.decode(token, jwks.get_signing_key_from_jwt(token).key, algorithms=["ES256"],
                   audience=AUDIENCE, issuer=ISSUER, leeway=1)
    except jwt.PyJWTError as err:
        r["plain_error"] = refusal(err)
    out.append(r)
json.dump(out, sys.stdout)
sys.stdout.write("\n")

#!/usr/bin/python3
"""Sign and verify JWTs with PyJWT, for jwtgate's differential tests.

Usage:
    pyjwt_tool.py            read requests from standard input
    pyjwt_tool.py --probe    print the library versions and exit

Standard input holds one JSON request object, or a JSON array of them; the
output is one JSON response, or an array of responses in the same order.

    {"op": "sign", "alg": "ES256", "jwk": {...private JWK...},
     "claims": {...}, "header": {"kid": "..."}}
        -> {"token": "..."}

    {"op": "verify", "alg": "ES256", "jwk": {...public JWK...},
     "token": "...", "now": 1767227400, "leeway": 0,
     "audience": "api", "issuer": "https://issuer.example"}
        -> {"claims": {...}, "header": {...}}
        or {"error": {"kind": "...", "type": "...", "message": "..."}}

"header", "leeway", "audience" and "issuer" are optional. Only "alg" is
accepted when verifying. "now" (seconds since the epoch) is the verification
time: PyJWT has no clock option, so the tool substitutes a fixed clock for
PyJWT's while it verifies. Without "audience", PyJWT refuses a token that
has an aud claim.

"kind" classifies a refusal in the vocabulary the Go tests share with
jwtgate's sentinel errors: signature, expired, not_yet_valid,
issued_in_future, audience, issuer, algorithm, malformed, missing_claim,
key, other. A refusal is a normal response; the exit status is non-zero
only when a request itself is unusable.
"""

import contextlib
import datetime as _dt
import json
import sys

import cryptography
import jwt
from jwt import api_jwt, exceptions


@contextlib.contextmanager
def fixed_clock(now):
    """Make PyJWT's claim checks see the time `now` (epoch seconds)."""
    if now is None:
        yield
        return
    fixed = _dt.datetime.fromtimestamp(now, tz=_dt.timezone.utc)

    class FixedDatetime(_dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return fixed if tz is None else fixed.astimezone(tz)

    saved = api_jwt.datetime
    api_jwt.datetime = FixedDatetime
    try:
        yield
    finally:
        api_jwt.datetime = saved


def classify(err):
    """Map a PyJWT exception to the shared refusal kinds."""
    # Order matters: InvalidSignatureError is a DecodeError.
    if isinstance(err, exceptions.InvalidSignatureError):
        return "signature"
    if isinstance(err, exceptions.ExpiredSignatureError):
        return "expired"
    if isinstance(err, exceptions.ImmatureSignatureError):
        return "issued_in_future" if "(iat)" in str(err) else "not_yet_valid"
    if isinstance(err, exceptions.InvalidAudienceError):
        return "audience"
    if isinstance(err, exceptions.InvalidIssuerError):
        return "issuer"
    if isinstance(err, exceptions.InvalidAlgorithmError):
        return "algorithm"
    if isinstance(err, exceptions.MissingRequiredClaimError):
        return "missing_claim"
    if isinstance(err, (exceptions.InvalidKeyError, exceptions.PyJWKError)):
        return "key"
    if isinstance(err, (exceptions.DecodeError, exceptions.InvalidIssuedAtError)):
        return "malformed"
    return "other"


_keys = {}


def load_key(req):
    """Return the PyJWK key of a request, loading each JWK once per run:
    loading a private key validates it, which takes long for RSA."""
    cache_key = (req["alg"], json.dumps(req["jwk"], sort_keys=True))
    if cache_key not in _keys:
        _keys[cache_key] = jwt.PyJWK(req["jwk"], req["alg"]).key
    return _keys[cache_key]


def sign(req):
    token = jwt.encode(req["claims"], load_key(req), algorithm=req["alg"], headers=req.get("header"))
    return {"token": token}


def verify(req):
    try:
        key = load_key(req)
        with fixed_clock(req.get("now")):
            decoded = api_jwt.decode_complete(
                req["token"],
                key,
                algorithms=[req["alg"]],
                audience=req.get("audience"),
                issuer=req.get("issuer"),
                leeway=req.get("leeway", 0),
            )
    except exceptions.PyJWTError as err:
        return {"error": {"kind": classify(err), "type": type(err).__name__, "message": str(err)}}
    return {"claims": decoded["payload"], "header": decoded["header"]}


OPS = {"sign": sign, "verify": verify}


def handle(req):
    if not isinstance(req, dict) or req.get("op") not in OPS:
        raise ValueError("a request must be an object whose op is sign or verify")
    return OPS[req["op"]](req)


def main(argv):
    if argv[1:] == ["--probe"]:
        print(json.dumps({"pyjwt": jwt.__version__, "cryptography": cryptography.__version__,
                          "python": sys.version.split()[0]}))
        return 0
    if len(argv) > 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        reqs = json.load(sys.stdin)
        out = [handle(r) for r in reqs] if isinstance(reqs, list) else handle(reqs)
    except Exception as err:  # a broken request, not a refused token
        print(f"pyjwt_tool: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

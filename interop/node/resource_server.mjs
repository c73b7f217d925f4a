#!/usr/bin/env node
// A resource server's check of jwtgate's access tokens with jose, the code
// of the README's "Verifying jwtgate tokens in another service" (between
// the README markers, which the Go test compares with the README).
//
// Reads {"issuer": "...", "audience": "...", "tokens": ["...", ...]} on
// standard input and prints one JSON array: per token {"claims": {...}} or
// {"error": {"code": "...", "message": "..."}}, and "plain_error" when a
// check of issuer and audience alone (no typ) refuses it too.

import { readFileSync } from "node:fs";

const { issuer: ISSUER, audience: AUDIENCE, tokens } = JSON.parse(readFileSync(0, "utf8"));

// README begin
import { createRemoteJWKSet, jwtVerify } from "jose";

const JWKS = createRemoteJWKSet(new URL(`${ISSUER}/.well-known/jwks.json`));

async function verifyAccessToken(token) {
  const { payload } = await jwtVerify(token, JWKS, {
    issuer: ISSUER,
    audience: AUDIENCE,
    typ: "at+jwt", // refresh tokens are typ refresh+jwt
    requiredClaims: ["sub", "jti", "iat"],
  });
  return payload; // payload.sub is the user
}
// README end

const refusal = (err) => ({ code: String(err?.code ?? err?.name), message: String(err?.message ?? err) });
const out = [];
for (const token of tokens) {
  const r = {};
  try {
    r.claims = await verifyAccessToken(token);
  } catch (err) {
    r.error = refusal(err);
  }
  // A verifier that checks issuer and audience but not typ.
  try {
    await jwtVerify(token, JWKS, { issuer: ISSUER, audience: AUDIENCE });
  } catch (err) {
    r.plain_error = refusal(err);
  }
  out.push(r);
}
process.stdout.write(JSON.stringify(out) + "\n");

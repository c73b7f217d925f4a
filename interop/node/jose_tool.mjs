#!/usr/bin/env node
// Sign and verify JWTs with the jose package, for jwtgate's differential
// tests.
//
// Usage:
//   node jose_tool.mjs            read requests from standard input
//   node jose_tool.mjs --probe    print the versions and exit
//
// Standard input holds one JSON request object, or a JSON array of them;
// the output is one JSON response, or an array of responses in the same
// order.
//
//   {"op": "sign", "alg": "ES256", "jwk": {...private JWK...},
//    "claims": {...}, "header": {"kid": "..."}}
//       -> {"token": "..."}
//
//   {"op": "verify", "alg": "ES256", "jwk": {...public JWK...},
//    "token": "...", "now": 1767227400, "leeway": 0,
//    "audience": "api", "issuer": "https://issuer.example", "max_age": 3600}
//       -> {"claims": {...}, "header": {...}}
//       or {"error": {"kind": "...", "type": "...", "message": "..."}}
//
// "header", "leeway", "audience", "issuer" and "max_age" are optional. Only
// "alg" is accepted when verifying; "now" (seconds since the epoch) is the
// verification time. jose checks iat only when given a maximum token age
// ("max_age", seconds, applied to tokens that have an iat), and then
// refuses an iat in the future; it does not look at aud unless "audience"
// is given.
//
// "kind" classifies a refusal in the vocabulary the Go tests share with
// jwtgate's sentinel errors: signature, expired, not_yet_valid,
// issued_in_future, audience, issuer, algorithm, malformed, missing_claim,
// key, other. A refusal is a normal response; the exit status is non-zero
// only when a request itself is unusable.

import { readFileSync } from "node:fs";
import { SignJWT, decodeJwt, importJWK, jwtVerify } from "jose";

const claimKinds = { nbf: "not_yet_valid", iat: "issued_in_future", aud: "audience", iss: "issuer" };

// classify maps a jose error to the shared refusal kinds.
function classify(err) {
  switch (err.code) {
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return "signature";
    case "ERR_JWT_EXPIRED":
      return "expired";
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      if (err.reason === "missing") return "missing_claim";
      return claimKinds[err.claim] ?? "other";
    case "ERR_JOSE_ALG_NOT_ALLOWED":
    case "ERR_JOSE_NOT_SUPPORTED":
      return "algorithm";
    case "ERR_JWS_INVALID":
    case "ERR_JWT_INVALID":
      return "malformed";
    case "ERR_JWK_INVALID":
      return "key";
  }
  return "other";
}

// importKey imports each JWK once per run (the promise is cached, so
// concurrent requests share the import).
const keys = new Map();
function importKey(req) {
  const id = JSON.stringify([req.alg, req.jwk]);
  if (!keys.has(id)) keys.set(id, importJWK(req.jwk, req.alg));
  return keys.get(id);
}

async function sign(req) {
  const key = await importKey(req);
  const token = await new SignJWT(req.claims)
    .setProtectedHeader({ alg: req.alg, typ: "JWT", ...(req.header ?? {}) })
    .sign(key);
  return { token };
}

// hasIat reports whether the (not yet verified) token carries an iat claim.
// jose requires iat whenever it is given a maximum token age, and jwtgate
// checks only the time claims that are present, so max_age applies only to
// tokens that have one.
function hasIat(token) {
  try {
    return Object.hasOwn(decodeJwt(token), "iat");
  } catch {
    return false; // jwtVerify reports the malformed token
  }
}

async function verify(req) {
  try {
    const key = await importKey(req);
    const opts = { algorithms: [req.alg], clockTolerance: req.leeway ?? 0 };
    if (req.now !== undefined) opts.currentDate = new Date(req.now * 1000);
    if (req.audience !== undefined) opts.audience = req.audience;
    if (req.issuer !== undefined) opts.issuer = req.issuer;
    if (req.max_age !== undefined && hasIat(req.token)) opts.maxTokenAge = req.max_age;
    const { payload, protectedHeader } = await jwtVerify(req.token, key, opts);
    return { claims: payload, header: protectedHeader };
  } catch (err) {
    if (!(err instanceof Error) || typeof err.code !== "string") throw err;
    return { error: { kind: classify(err), type: err.name, message: err.message } };
  }
}

const ops = { sign, verify };

async function handle(req) {
  if (req === null || typeof req !== "object" || !Object.hasOwn(ops, req.op)) {
    throw new Error("a request must be an object whose op is sign or verify");
  }
  return ops[req.op](req);
}

async function main(args) {
  if (args.length === 1 && args[0] === "--probe") {
    const url = new URL("node_modules/jose/package.json", import.meta.url);
    const { version } = JSON.parse(readFileSync(url, "utf8"));
    console.log(JSON.stringify({ jose: version, node: process.versions.node }));
    return 0;
  }
  if (args.length > 0) {
    console.error("usage: node jose_tool.mjs [--probe] < requests.json");
    return 2;
  }
  try {
    const reqs = JSON.parse(readFileSync(0, "utf8"));
    const out = Array.isArray(reqs) ? await Promise.all(reqs.map(handle)) : await handle(reqs);
    process.stdout.write(JSON.stringify(out) + "\n");
  } catch (err) {
    console.error(`jose_tool: ${err?.stack ?? err}`);
    return 1;
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));

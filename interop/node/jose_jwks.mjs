#!/usr/bin/env node
// Key distribution with the jose package, for jwtgate's JWKS interop tests.
//
// Usage:
//   node jose_jwks.mjs serve     generate one key per algorithm (RS256,
//                                PS256, ES256, EdDSA), serve their public
//                                JWKS at http://127.0.0.1:<port>/jwks.json,
//                                and sign one token with each
//   node jose_jwks.mjs verify    verify tokens against a remote JWKS with
//                                createRemoteJWKSet
//
// serve reads one JSON object from the first line of standard input,
//   {"issuer": "...", "audience": "...", "subject": "..."}
// prints one line,
//   {"jwks_url": "...", "tokens": [{"alg": "...", "kid": "...", "token": "..."}]}
// and serves until standard input ends. The kid of each key is its RFC 7638
// thumbprint as jose computes it.
//
// verify reads
//   {"jwks_url": "...", "issuer": "...", "audience": "...",
//    "tokens": [{"alg": "...", "token": "..."}]}
// and prints an array of {"claims": {...}, "header": {...}} or
// {"error": {"code": "...", "message": "..."}}, one per token.

import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import {
  SignJWT,
  calculateJwkThumbprint,
  createRemoteJWKSet,
  exportJWK,
  generateKeyPair,
  jwtVerify,
} from "jose";

const algs = ["RS256", "PS256", "ES256", "EdDSA"];

async function serve() {
  const rl = createInterface({ input: process.stdin });
  const lines = rl[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error("serve: no request on standard input");
  const req = JSON.parse(first.value);

  const jwks = { keys: [] };
  const tokens = [];
  for (const alg of algs) {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    const jwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(jwk, "sha256");
    jwks.keys.push({ ...jwk, kid, alg, use: "sig" });
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ scope: "read" })
      .setProtectedHeader({ alg, kid, typ: "JWT" })
      .setIssuer(req.issuer)
      .setAudience(req.audience)
      .setSubject(req.subject)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(privateKey);
    tokens.push({ alg, kid, token });
  }
  const body = JSON.stringify(jwks);
  const server = createServer((rq, rs) => {
    if (rq.url !== "/jwks.json") {
      rs.writeHead(404).end();
      return;
    }
    rs.writeHead(200, { "content-type": "application/jwk-set+json" }).end(body);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  process.stdout.write(JSON.stringify({ jwks_url: `http://127.0.0.1:${port}/jwks.json`, tokens }) + "\n");
  // Serve until standard input ends.
  for await (const _ of lines);
  server.close();
  server.closeAllConnections();
}

async function verify() {
  const req = JSON.parse(readFileSync(0, "utf8"));
  const keys = createRemoteJWKSet(new URL(req.jwks_url));
  const out = [];
  for (const t of req.tokens) {
    try {
      const { payload, protectedHeader } = await jwtVerify(t.token, keys, {
        algorithms: [t.alg],
        issuer: req.issuer,
        audience: req.audience,
      });
      out.push({ claims: payload, header: protectedHeader });
    } catch (err) {
      if (!(err instanceof Error) || typeof err.code !== "string") throw err;
      out.push({ error: { code: err.code, message: err.message } });
    }
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}

const modes = { serve, verify };
const mode = process.argv[2];
if (process.argv.length !== 3 || !Object.hasOwn(modes, mode)) {
  console.error("usage: node jose_jwks.mjs serve|verify");
  process.exitCode = 2;
} else {
  try {
    await modes[mode]();
  } catch (err) {
    console.error(`jose_jwks: ${err?.stack ?? err}`);
    process.exitCode = 1;
  }
}

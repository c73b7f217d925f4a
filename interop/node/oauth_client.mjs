// An OAuth 2 client of jwtgate serve with oauth4webapi: discovery from
// /.well-known/oauth-authorization-server, client_credentials with
// client_secret_basic, client_secret_post and private_key_jwt (ES256),
// then introspection and revocation.
//
// Reads on standard input
//   {"issuer": "http://127.0.0.1:PORT",
//    "secret_client": {"client_id": "...", "client_secret": "..."},
//    "key_client": {"client_id": "...", "jwk": {private EC P-256 JWK with kid}},
//    "scope": "read", "resource": "https://api.example"}
// and prints one JSON object: per step its result, or {"error": {...}}
// when oauth4webapi refused the server's answer or the request failed.
// `node oauth_client.mjs --probe` prints oauth4webapi's version.

import { readFileSync } from "node:fs";
import * as oauth from "oauth4webapi";

if (process.argv[2] === "--probe") {
  const pkg = JSON.parse(readFileSync(new URL("./node_modules/oauth4webapi/package.json", import.meta.url)));
  console.log(`oauth4webapi ${pkg.version}`);
  process.exit(0);
}

const input = JSON.parse(readFileSync(0, "utf8"));
// The service under test listens on plain HTTP on loopback.
const insecure = { [oauth.allowInsecureRequests]: true };

function refusal(err) {
  const e = { name: err?.name, message: err?.message };
  if (err?.code) e.code = err.code;
  if (err instanceof oauth.ResponseBodyError) {
    e.status = err.status;
    e.oauth_error = err.error;
    e.oauth_error_description = err.error_description;
  }
  if (err instanceof oauth.WWWAuthenticateChallengeError) {
    e.status = err.status;
    e.challenges = err.cause;
  }
  return e;
}

const out = {};
async function step(name, fn) {
  try {
    out[name] = await fn();
  } catch (err) {
    out[name] = { error: refusal(err) };
  }
  return out[name];
}

const issuer = new URL(input.issuer);
const as = await step("discovery", async () =>
  oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...insecure })),
);
if (as.error) {
  console.log(JSON.stringify(out));
  process.exit(0);
}

const secretClient = { client_id: input.secret_client.client_id };
const basic = oauth.ClientSecretBasic(input.secret_client.client_secret);
const post = oauth.ClientSecretPost(input.secret_client.client_secret);
const params = () => {
  const p = new URLSearchParams({ scope: input.scope });
  if (input.resource) p.set("resource", input.resource);
  return p;
};

async function grant(client, auth) {
  const res = await oauth.clientCredentialsGrantRequest(as, client, auth, params(), insecure);
  return oauth.processClientCredentialsResponse(as, client, res);
}
async function introspect(client, auth, token) {
  const res = await oauth.introspectionRequest(as, client, auth, token, insecure);
  return oauth.processIntrospectionResponse(as, client, res);
}
async function revoke(client, auth, token) {
  const res = await oauth.revocationRequest(as, client, auth, token, insecure);
  await oauth.processRevocationResponse(res);
  return { revoked: true };
}

const viaBasic = await step("client_secret_basic", () => grant(secretClient, basic));
await step("client_secret_post", () => grant(secretClient, post));

const jwk = input.key_client.jwk;
const privateKey = await crypto.subtle.importKey("jwk", jwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
const keyClient = { client_id: input.key_client.client_id };
const keyAuth = oauth.PrivateKeyJwt({ key: privateKey, kid: jwk.kid });
const viaKey = await step("private_key_jwt", () => grant(keyClient, keyAuth));

// A replayed assertion: the same jti twice (oauth4webapi makes a new one
// per request unless told otherwise). The second must be refused.
const replayedJTI = crypto.randomUUID();
const replayAuth = oauth.PrivateKeyJwt(
  { key: privateKey, kid: jwk.kid },
  { [oauth.modifyAssertion]: (_header, payload) => { payload.jti = replayedJTI; } },
);
await step("private_key_jwt_fixed_jti", () => grant(keyClient, replayAuth));
await step("private_key_jwt_replayed", () => grant(keyClient, replayAuth));

if (viaBasic.access_token) {
  await step("introspect_basic", () => introspect(secretClient, basic, viaBasic.access_token));
  // Another client (a resource server, as a rule) introspects it too.
  await step("introspect_by_other_client", () => introspect(keyClient, keyAuth, viaBasic.access_token));
  // Another client cannot revoke it (RFC 7009: still 200).
  await step("revoke_by_other_client", () => revoke(keyClient, keyAuth, viaBasic.access_token));
  await step("introspect_after_other_revoke", () => introspect(secretClient, basic, viaBasic.access_token));
  await step("revoke_basic", () => revoke(secretClient, basic, viaBasic.access_token));
  await step("introspect_after_revoke", () => introspect(secretClient, basic, viaBasic.access_token));
}
if (viaKey.access_token) {
  await step("introspect_private_key_jwt", () => introspect(keyClient, keyAuth, viaKey.access_token));
  await step("revoke_private_key_jwt", () => revoke(keyClient, keyAuth, viaKey.access_token));
  await step("introspect_private_key_jwt_after_revoke", () => introspect(keyClient, keyAuth, viaKey.access_token));
}
await step("revoke_unknown_token", () => revoke(secretClient, basic, "not-a-token-this-service-issued"));

console.log(JSON.stringify(out));

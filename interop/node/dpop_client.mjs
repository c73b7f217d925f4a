// A DPoP client (RFC 9449) of jwtgate serve and of a resource server
// protected by a jwtgate Gate: oauth4webapi makes the proofs of the
// token endpoint (client_credentials) and of protected resource requests,
// panva's dpop package those of /login and /refresh; both retry once
// when the server asks for a nonce (use_dpop_nonce).
//
// Reads on standard input
//   {"issuer": "http://127.0.0.1:PORT",
//    "client": {"client_id": "...", "client_secret": "..."},
//    "gate_url": "http://127.0.0.1:PORT/orders",
//    "username": "...", "password": "..."}
// and prints one JSON object: per step its result, or {"error": {...}}
// when a request failed or oauth4webapi refused the server's answer.
// `node dpop_client.mjs --probe` prints the versions of both packages.

import { readFileSync } from "node:fs";
import * as oauth from "oauth4webapi";
import { generateProof } from "dpop";

if (process.argv[2] === "--probe") {
  const v = (p) => JSON.parse(readFileSync(new URL(`./node_modules/${p}/package.json`, import.meta.url))).version;
  console.log(`oauth4webapi ${v("oauth4webapi")} dpop ${v("dpop")}`);
  process.exit(0);
}

const input = JSON.parse(readFileSync(0, "utf8"));
const insecure = { [oauth.allowInsecureRequests]: true };

function refusal(err) {
  const e = { name: err?.name, message: err?.message };
  if (err?.code) e.code = err.code;
  if (err instanceof oauth.ResponseBodyError) {
    e.status = err.status;
    e.oauth_error = err.error;
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

// once retries fn once when the server asked for a DPoP nonce.
async function once(fn) {
  try {
    return await fn();
  } catch (err) {
    if (oauth.isDPoPNonceError(err)) {
      return await fn();
    }
    throw err;
  }
}

const issuer = new URL(input.issuer);
const as = await step("discovery", async () =>
  oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...insecure })),
);
if (as.error) {
  console.log(JSON.stringify(out));
  process.exit(0);
}

const keyPair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
const client = { client_id: input.client.client_id };
const auth = oauth.ClientSecretBasic(input.client.client_secret);
const DPoP = oauth.DPoP(client, keyPair);
out.thumbprint = await DPoP.calculateThumbprint();

const cc = await step("client_credentials", () =>
  once(async () => {
    const res = await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams({ scope: "read" }), { DPoP, ...insecure });
    return oauth.processClientCredentialsResponse(as, client, res);
  }),
);

async function resource(token, method, url) {
  const res = await once(() => oauth.protectedResourceRequest(token, method, new URL(url), new Headers(), null, { DPoP, ...insecure }));
  return { status: res.status, body: await res.json() };
}

if (cc.access_token) {
  await step("gate", () => resource(cc.access_token, "GET", input.gate_url));
  await step("gate_as_bearer", async () => {
    const res = await fetch(input.gate_url, { headers: { authorization: `Bearer ${cc.access_token}` } });
    return { status: res.status, www_authenticate: res.headers.get("www-authenticate") };
  });
}

// /login and /refresh with proofs of the dpop package, by the same key.
let nonce;
async function post(path, body, token) {
  const url = new URL(path, issuer).href;
  for (let i = 0; ; i++) {
    const headers = { dpop: await generateProof(keyPair, url, "POST", nonce, token) };
    if (token) headers.authorization = `DPoP ${token}`;
    if (body) headers["content-type"] = "application/json";
    const res = await fetch(url, { method: "POST", headers, body });
    nonce = res.headers.get("dpop-nonce") ?? nonce;
    const json = await res.json();
    if (i === 0 && json.error === "use_dpop_nonce") {
      continue;
    }
    return { status: res.status, ...json };
  }
}

const login = await step("login", () => post("/login", JSON.stringify({ username: input.username, password: input.password })));
if (login.access_token) {
  await step("userinfo", () => resource(login.access_token, "GET", new URL("/userinfo", issuer).href));
  const refreshed = await step("refresh", () => post("/refresh", null, login.refresh_token));
  if (refreshed.access_token) {
    await step("userinfo_after_refresh", () => resource(refreshed.access_token, "GET", new URL("/userinfo", issuer).href));
  }
}

console.log(JSON.stringify(out));

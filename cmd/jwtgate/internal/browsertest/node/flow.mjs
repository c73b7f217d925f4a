// flow.mjs drives jwtgate's cookie + CSRF test page in headless Chromium.
//
//   node flow.mjs URL [--out DIR]
//
// URL is the page served by the Go test (internal/browsertest). The script
// clicks every step button of the page in order, and after each step reads
// what the page recorded (status, body, document.cookie), the Set-Cookie
// lines of the response as the browser received them, and the cookies of
// the browser context (with their flags), and checks what holds whatever
// the Gate's configuration (see checkCookies); it reports what fails in
// "problems". After the "echoCSRF" step it also
// submits a cross-site form (from http://localhost:PORT when URL is on
// 127.0.0.1, and the reverse) to the protected endpoint. It saves
// screenshots in DIR (a new temporary directory by default) and prints one
// JSON object on stdout; the Go test checks it.
//
// The browser is Debian's Chromium: JWTGATE_CHROMIUM, or /usr/bin/chromium.
// playwright-core never downloads a browser.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { failureScreenshot, launch, setCookieLines } from "./browser.mjs";

function usage(msg) {
  process.stderr.write(`flow.mjs: ${msg}\nusage: node flow.mjs URL [--out DIR]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  let url = null;
  let out = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--out") {
      out = argv[++i] ?? usage("--out needs a directory");
    } else if (url === null) {
      url = argv[i];
    } else {
      usage(`unexpected argument ${argv[i]}`);
    }
  }
  if (url === null) usage("no URL");
  return { url: new URL(url), out };
}

// crossSiteOrigin returns an origin of another site served by the same
// listener: localhost and 127.0.0.1 are different sites.
function crossSiteOrigin(u) {
  const c = new URL(u.origin);
  if (c.hostname === "127.0.0.1") c.hostname = "localhost";
  else if (c.hostname === "localhost") c.hostname = "127.0.0.1";
  else return null;
  return c.origin;
}

const TOKEN_COOKIES = ["access_token_cookie", "refresh_token_cookie"];
const CSRF_COOKIES = ["csrf_access_token", "csrf_refresh_token"];

// checkCookies returns what is wrong with the cookies after one step, for
// the default cookie names: the token cookies must be HttpOnly and out of
// document.cookie's reach, the CSRF cookies readable by the page; every
// cookie has a Path and a SameSite value.
function checkCookies(step, cookies, documentCookie) {
  const problems = [];
  const readable = new Map(
    (documentCookie ? documentCookie.split("; ") : []).map((p) => {
      const i = p.indexOf("=");
      return [p.slice(0, i), p.slice(i + 1)];
    }),
  );
  for (const c of cookies) {
    const where = `${step}: cookie ${c.name}`;
    if (TOKEN_COOKIES.includes(c.name)) {
      if (!c.httpOnly) problems.push(`${where} is not HttpOnly`);
      if (readable.has(c.name) || documentCookie.includes(c.value)) problems.push(`${where} is visible to document.cookie`);
    } else if (CSRF_COOKIES.includes(c.name)) {
      if (c.httpOnly) problems.push(`${where} is HttpOnly: the page cannot read the CSRF value`);
      if (readable.get(c.name) !== c.value) problems.push(`${where}: document.cookie does not show its value`);
    } else {
      problems.push(`${where}: unexpected cookie`);
    }
    if (!c.path || !c.path.startsWith("/")) problems.push(`${where}: path ${JSON.stringify(c.path)}`);
    if (!["Strict", "Lax", "None"].includes(c.sameSite)) problems.push(`${where}: sameSite ${JSON.stringify(c.sameSite)}`);
  }
  return problems;
}


async function main() {
  const { url, out: outArg } = parseArgs(process.argv.slice(2));
  const out = outArg ?? fs.mkdtempSync(path.join(os.tmpdir(), "jwtgate-browsertest-"));
  fs.mkdirSync(out, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "jwtgate-chromium-profile-"));

  const result = {
    browserVersion: null,
    url: url.href,
    steps: [],
    crossSite: null,
    screenshots: [],
    problems: [],
    pageErrors: [],
    console: [],
  };

  let context = null;
  try {
    let page;
    ({ context, page } = await launch(profile, { width: 1280, height: 720 }, result));

    const nav = await page.goto(url.href);
    if (!nav || nav.status() !== 200) throw new Error(`GET ${url.href}: status ${nav && nav.status()}`);
    await page.waitForSelector("body[data-ready]");

    const names = await page.$$eval("button[id^='step-']", (bs) => bs.map((b) => b.id.slice("step-".length)));
    if (names.length === 0) throw new Error("the page has no step buttons");

    for (const name of names) {
      const responseP = page.waitForResponse((r) => r.request().method() === "POST" && r.request().frame() === page.mainFrame());
      await page.click(`#step-${name}`);
      const response = await responseP;
      await page.waitForSelector(`#row-${name}[data-done]`, { state: "attached" });
      const recorded = await page.evaluate((n) => window.results[n], name);
      // All the cookies of the context: a URL filter would leave out the
      // ones whose Path does not cover it.
      const cookies = await context.cookies();
      result.problems.push(...checkCookies(name, cookies, recorded.documentCookie));
      result.steps.push({
        name,
        path: new URL(response.url()).pathname,
        ...recorded,
        setCookie: setCookieLines(await response.headersArray()),
        cookies,
      });
      if (name === "echoCSRF") {
        result.crossSite = await crossSite(context, url, out, result);
      }
    }

    const shot = path.join(out, "flow.png");
    await page.screenshot({ path: shot, fullPage: true });
    result.screenshots.push(shot);
  } catch (e) {
    await failureScreenshot(context, out, "flow.mjs");
    throw e;
  } finally {
    if (context) await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(result, null, 2) + "\n");
}

// crossSite opens the server's /evil page on another site and submits its
// form, a plain cross-site POST to the protected endpoint: the browser may
// attach the cookies (depending on SameSite) but the page cannot add the
// CSRF header.
async function crossSite(context, url, out, result) {
  const origin = crossSiteOrigin(url);
  if (origin === null) return { skipped: `no other site for host ${url.hostname}` };
  const evil = await context.newPage();
  evil.on("pageerror", (e) => result.pageErrors.push(`cross-site page: ${e}`));
  try {
    const nav = await evil.goto(`${origin}/evil`);
    if (!nav || nav.status() !== 200) throw new Error(`GET ${origin}/evil: status ${nav && nav.status()}`);
    const target = await evil.getAttribute("#attack", "action");
    const responseP = evil.waitForResponse((r) => r.request().method() === "POST" && r.url() === target);
    await evil.click("#attack-submit");
    const response = await responseP;
    const text = await response.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = { unparsed: text };
    }
    await evil.waitForLoadState("load");
    const shot = path.join(out, "cross-site.png");
    await evil.screenshot({ path: shot });
    result.screenshots.push(shot);
    return {
      from: origin,
      target,
      status: response.status(),
      body,
      requestHeaders: await response.request().allHeaders(),
    };
  } finally {
    await evil.close();
  }
}

main().catch((e) => {
  process.stderr.write(`flow.mjs: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});

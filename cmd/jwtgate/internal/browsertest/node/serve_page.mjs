// serve_page.mjs drives the sign-in page of "jwtgate serve" (GET / of
// package server) in headless Chromium.
//
//   node serve_page.mjs URL --username NAME --password PASSWORD [--out DIR]
//
// URL is the page served by the Go test (serve_page_test.go). The script
// records the page's response headers, then signs in through the form and
// clicks the page's buttons in this order, recording each step: userinfo,
// nocsrf (POST /logout without X-CSRF-TOKEN), refresh, userinfoAfterRefresh,
// signout, userinfoAfterSignout. Between nocsrf and refresh it also makes,
// from the page, a POST /refresh without the CSRF header (step
// refreshNoCSRF). For each step it reports the request (method, path, the
// X-CSRF-TOKEN sent), the response (status, body, Set-Cookie lines), the
// page's status text, document.cookie and the cookies of the browser
// context with their flags. It saves a screenshot in DIR (a new temporary
// directory by default) and prints one JSON object on stdout; the Go test
// checks it.
//
// The browser is Debian's Chromium: JWTGATE_CHROMIUM, or /usr/bin/chromium.
// playwright-core never downloads a browser.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { failureScreenshot, launch, setCookieLines } from "./browser.mjs";


function usage(msg) {
  process.stderr.write(`serve_page.mjs: ${msg}\nusage: node serve_page.mjs URL --username NAME --password PASSWORD [--out DIR]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { url: null, out: null, username: null, password: null };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--out" || flag === "--username" || flag === "--password") {
      opts[flag.slice(2)] = argv[++i] ?? usage(`${flag} needs a value`);
    } else if (opts.url === null) {
      opts.url = argv[i];
    } else {
      usage(`unexpected argument ${argv[i]}`);
    }
  }
  if (opts.url === null) usage("no URL");
  if (opts.username === null || opts.password === null) usage("--username and --password are required");
  opts.url = new URL(opts.url);
  return opts;
}


async function main() {
  const { url, out: outArg, username, password } = parseArgs(process.argv.slice(2));
  const out = outArg ?? fs.mkdtempSync(path.join(os.tmpdir(), "jwtgate-servepage-"));
  fs.mkdirSync(out, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "jwtgate-chromium-profile-"));

  const result = {
    browserVersion: null,
    url: url.href,
    pageHeaders: null,
    scriptHeaders: null,
    steps: [],
    screenshots: [],
    pageErrors: [],
    console: [],
  };

  let context = null;
  try {
    let page;
    ({ context, page } = await launch(profile, { width: 1000, height: 720 }, result));

    const scriptP = page.waitForResponse((r) => new URL(r.url()).pathname === "/app.js");
    const nav = await page.goto(url.href);
    if (!nav || nav.status() !== 200) throw new Error(`GET ${url.href}: status ${nav && nav.status()}`);
    result.pageHeaders = await nav.allHeaders();
    const script = await scriptP;
    result.scriptHeaders = { status: String(script.status()), ...(await script.allHeaders()) };
    // The script runs despite the CSP: it marks the body ready.
    await page.waitForSelector("body[data-ready]");

    // step performs act (which makes exactly one request from the page)
    // and records the request, the response and the browser's state.
    async function step(name, act, { viaPage = true } = {}) {
      const before = Number((await page.getAttribute("body", "data-seq")) ?? "0");
      const responseP = page.waitForResponse((r) => {
        const p = new URL(r.url()).pathname;
        return p !== "/" && p !== "/app.js" && p !== "/favicon.ico";
      });
      await act();
      const response = await responseP;
      if (viaPage) await page.waitForSelector(`body[data-seq="${before + 1}"]`, { state: "attached" });
      const req = response.request();
      const reqHeaders = await req.allHeaders();
      const text = await response.text();
      let body;
      try {
        body = JSON.parse(text);
      } catch {
        body = { unparsed: text };
      }
      const u = new URL(response.url());
      result.steps.push({
        name,
        method: req.method(),
        path: u.pathname + u.search,
        csrfSent: reqHeaders["x-csrf-token"] ?? null,
        secFetchSite: reqHeaders["sec-fetch-site"] ?? null,
        status: response.status(),
        body,
        setCookie: setCookieLines(await response.headersArray()),
        statusText: viaPage ? await page.textContent("#status") : null,
        documentCookie: await page.evaluate(() => document.cookie),
        cookies: await context.cookies(),
      });
    }

    await step("signin", async () => {
      await page.fill("#username", username);
      await page.fill("#password", password);
      await page.click("#signin-submit");
    });
    await step("userinfo", () => page.click("#userinfo"));
    await step("nocsrf", () => page.click("#nocsrf"));
    await step(
      "refreshNoCSRF",
      // The page reads the body: Playwright cannot get it otherwise.
      () => page.evaluate(() => fetch("/refresh", { method: "POST" }).then((r) => r.text())),
      { viaPage: false },
    );
    await step("refresh", () => page.click("#refresh"));
    await step("userinfoAfterRefresh", () => page.click("#userinfo"));
    const shot = path.join(out, "serve-page.png");
    await page.screenshot({ path: shot, fullPage: true });
    result.screenshots.push(shot);
    await step("signout", () => page.click("#signout"));
    await step("userinfoAfterSignout", () => page.click("#userinfo"));
    const shot2 = path.join(out, "serve-page-signed-out.png");
    await page.screenshot({ path: shot2, fullPage: true });
    result.screenshots.push(shot2);
  } catch (e) {
    await failureScreenshot(context, out, "serve_page.mjs");
    throw e;
  } finally {
    if (context) await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(result, null, 2) + "\n");
}

main().catch((e) => {
  process.stderr.write(`serve_page.mjs: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});

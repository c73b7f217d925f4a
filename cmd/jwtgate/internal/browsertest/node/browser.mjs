// Shared by the scripts of this folder (flow.mjs, admin.mjs, pages.mjs
// and their common.mjs): how the browser tests start Debian's Chromium,
// read Set-Cookie lines and keep a screenshot of a failure.
import path from "node:path";
import { chromium } from "playwright-core";

// Every Playwright action waits this long at most; nothing asserts a duration.
export const TIMEOUT_MS = Number(process.env.JWTGATE_BROWSERTEST_TIMEOUT_MS) || 180_000;

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

// launchBrowser starts headless Chromium (JWTGATE_CHROMIUM or
// /usr/bin/chromium) for several contexts, each a separate browser
// profile in memory: separate cookies, as on separate devices.
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.JWTGATE_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    timeout: TIMEOUT_MS,
    args: ARGS,
  });
}

// newContext opens a context of browser with the test's timeouts, and
// records its page errors and console lines into result under label.
export async function newContext(browser, label, options, result) {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(TIMEOUT_MS);
  context.setDefaultNavigationTimeout(TIMEOUT_MS);
  context.on("page", (p) => watch(p, label, result));
  return context;
}

function watch(page, label, result) {
  page.on("pageerror", (e) => result.pageErrors.push(`${label}: ${e && e.stack ? e.stack : e}`));
  page.on("console", (m) => result.console.push(`${label}: ${m.type()}: ${m.text()}`));
}

// launch starts headless Chromium (JWTGATE_CHROMIUM or /usr/bin/chromium)
// on a fresh profile, with the flags this closed network needs, and
// records page errors and console lines into result. It returns the
// context and its page.
export async function launch(profile, viewport, result) {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.JWTGATE_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    timeout: TIMEOUT_MS,
    viewport,
    args: ARGS,
  });
  context.setDefaultTimeout(TIMEOUT_MS);
  context.setDefaultNavigationTimeout(TIMEOUT_MS);
  result.browserVersion = context.browser()?.version() ?? null;
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (e) => result.pageErrors.push(String(e && e.stack ? e.stack : e)));
  page.on("console", (m) => result.console.push(`${m.type()}: ${m.text()}`));
  return { context, page };
}

// setCookieLines returns the Set-Cookie values of a response's headers.
export function setCookieLines(headers) {
  return headers.filter((h) => h.name.toLowerCase() === "set-cookie").map((h) => h.value);
}

// failureScreenshot saves the page of context (null before the launch) as
// out/failure.png after an error in script, and says where on stderr. It
// never throws: the screenshot is only a help, the first error is the one
// to report.
export async function failureScreenshot(context, out, script) {
  if (!context) return;
  try {
    const p = context.pages()[0];
    if (p) {
      const shot = path.join(out, "failure.png");
      await p.screenshot({ path: shot, fullPage: true });
      process.stderr.write(`${script}: failure screenshot: ${shot}\n`);
    }
  } catch {
    // Nothing to add to the first error.
  }
}

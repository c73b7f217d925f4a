// pages.mjs drives the sign-in and account pages of "jwtgate serve" in
// headless Chromium, as several devices of one user.
//
//   node pages.mjs URL --username NAME --password PASSWORD --new-password PASSWORD
//                      --markup-user NAME [--out DIR] [--shots DIR]
//
// URL is the service started by the Go test (pages_test.go), whose login
// limit lets a few failures through before it refuses, and which has a
// second user, --markup-user, whose name holds markup and whose password
// is --password. The script checks
// what a user sees and can do, and reports what fails in "problems":
// keyboard-only sign-in (focus order, visible focus), the wrong-password
// state, the account page (sessions, "this device", markup in a user
// agent shown as text), ending a session and seeing it refused on the
// other device, ending every other session, a password change, sign-out,
// every state-changing request without its CSRF value refused, a
// cross-site sign-in form refused, the pages without JavaScript, and the
// rate-limit state with its countdown. axe-core scans every page state;
// its findings are reported in "axe" for the Go test to judge. Screenshots
// go to DIR (a new temporary directory by default), and the ones meant
// for the README to --shots when given. One JSON object is printed on
// stdout.
//
// The browser is Debian's Chromium: JWTGATE_CHROMIUM, or /usr/bin/chromium.
import { newContext } from "./browser.mjs";
import { DESKTOP, PHONE, run, text, userinfo } from "./common.mjs";

// A user agent with markup in it: the account page must show it as text.
const MARKUP_AGENT = `Mozilla/5.0 (X11; Linux x86_64) <img src=x id=injected> <b>Bold</b> "quoted" & more`;

run(
  {
    script: "pages.mjs",
    usage: "URL --username NAME --password PASSWORD --new-password PASSWORD --markup-user NAME [--out DIR] [--shots DIR]",
    required: ["username", "password", "new-password", "markup-user"],
    fields: { signinCookies: [], signedOutCookies: [] },
  },
  async ({ opts, base, browser, result, expect, step, scan, shot }) => {
    const { username } = opts;

    const focused = (page) => page.evaluate(() => document.activeElement && document.activeElement.id);
    // focusVisible: the focused element draws an outline of at least 2px.
    const focusVisible = (page) =>
      page.evaluate(() => {
        const s = getComputedStyle(document.activeElement);
        return s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2;
      });
    const seq = async (page) => Number((await page.getAttribute("body", "data-seq")) ?? "0");

    // signIn signs in through the form with the mouse and waits for the
    // account page.
    async function signIn(page, password, name = username) {
      await page.goto(`${base}/signin`);
      await page.waitForSelector("body[data-ready]");
      await page.fill("#username", name);
      await page.fill("#password", password);
      await Promise.all([page.waitForURL(`${base}/account`), page.click("#signin-submit")]);
      await page.waitForSelector("body[data-ready]");
    }

    // submitAndWait submits with act and waits for the script to finish.
    async function submitAndWait(page, act) {
      const before = await seq(page);
      await act();
      await page.waitForSelector(`body[data-seq="${before + 1}"]`, { state: "attached" });
    }

    // ---- Device A: a desktop, keyboard only. ----
    const a = await newContext(browser, "A", { viewport: DESKTOP }, result);
    const pa = await a.newPage();
    step("signin page");
    const nav = await pa.goto(`${base}/`);
    expect(pa.url() === `${base}/signin`, `GET / went to ${pa.url()}, want /signin`);
    result.headers.signin = await nav.allHeaders();
    await pa.waitForSelector("body[data-ready]");
    await scan(pa, "signin");
    await shot(pa, "signin-desktop", true);

    step("keyboard focus order");
    expect((await focused(pa)) === "username", `focus starts on ${await focused(pa)}, want username`);
    const order = [];
    await pa.focus("#username");
    for (let i = 0; i < 3; i++) {
      order.push(await focused(pa));
      expect(await focusVisible(pa), `the focused ${await focused(pa)} has no visible focus ring`);
      await pa.keyboard.press("Tab");
    }
    expect(order.join(",") === "username,password,signin-submit", `tab order ${order}`);

    step("wrong password");
    await pa.focus("#username");
    await pa.keyboard.type(username);
    await pa.keyboard.press("Tab");
    await pa.keyboard.type("not the password");
    await submitAndWait(pa, () => pa.keyboard.press("Enter"));
    expect((await text(pa, "#message")) === "The username or password is not right.", `message ${await text(pa, "#message")}`);
    expect((await pa.getAttribute("#message", "class")).includes("error"), "the message is not an error");
    expect((await focused(pa)) === "password", `focus after a wrong password on ${await focused(pa)}, want password`);
    expect((await pa.inputValue("#password")) === "", "the wrong password was left in the field");
    expect((await a.cookies()).length === 0, "a refused sign-in set cookies");
    await scan(pa, "signin wrong password");
    await shot(pa, "signin-error-desktop", false);

    step("keyboard sign-in");
    await pa.keyboard.type(opts.password);
    await Promise.all([pa.waitForURL(`${base}/account`), pa.keyboard.press("Enter")]);
    await pa.waitForSelector("body[data-ready]");
    result.signinCookies = await a.cookies();
    expect(result.signinCookies.length === 4, `${result.signinCookies.length} cookies after sign-in`);
    expect((await text(pa, "#username")) === username, `account page names ${await text(pa, "#username")}`);
    result.headers.account = (await (await pa.reload()).allHeaders());
    await pa.waitForSelector("body[data-ready]");

    // ---- Device B: another browser, with markup in its user agent. ----
    step("second device");
    const b = await newContext(browser, "B", { viewport: DESKTOP, userAgent: MARKUP_AGENT }, result);
    const pb = await b.newPage();
    await signIn(pb, opts.password);
    expect((await userinfo(pb)) === 200, "device B is not signed in");

    step("account page lists both devices");
    await pa.reload();
    await pa.waitForSelector("body[data-ready]");
    const sessions = await pa.$$eval("#sessions > li", (lis) =>
      lis.map((li) => ({
        sid: li.dataset.sid,
        current: li.classList.contains("current"),
        agent: li.querySelector(".agent").textContent,
        badge: li.querySelector(".badge") ? li.querySelector(".badge").textContent : null,
        address: li.querySelector(".address").textContent,
        end: Boolean(li.querySelector("form.end-session button")),
      })),
    );
    expect(sessions.length === 2, `${sessions.length} sessions listed, want 2: ${JSON.stringify(sessions)}`);
    const mine = sessions.filter((s) => s.current);
    const other = sessions.find((s) => !s.current);
    expect(mine.length === 1 && mine[0].badge === "This device" && !mine[0].end && sessions[0].current, `this device: ${JSON.stringify(sessions)}`);
    expect(other && other.agent === MARKUP_AGENT && other.end, `the other device: ${JSON.stringify(other)}, want its user agent as text`);
    expect(other && other.address === "127.0.0.1", `the other device's address ${other && other.address}`);
    expect((await pa.$("#injected")) === null && (await pa.$("#sessions b")) === null, "markup of a user agent became elements");
    await scan(pa, "account");
    await shot(pa, "account-desktop", true);

    step("end the other device's session");
    await pa.focus(`#sessions li[data-sid="${other.sid}"] form.end-session button`);
    expect(await focusVisible(pa), "the end-session button has no visible focus ring");
    await submitAndWait(pa, () => pa.keyboard.press("Enter"));
    expect((await text(pa, "#message")) === "The session has ended.", `message ${await text(pa, "#message")}`);
    expect((await pa.$$("#sessions > li")).length === 1, "the ended session is still listed");
    expect((await userinfo(pb)) === 401, "device B's session still works after it was ended");
    // Its account page tries to resume the session, which fails.
    await pb.goto(`${base}/account`);
    await pb.waitForURL(`${base}/signin?notice=expired`);
    expect((await text(pb, "#message")) === "Your session has ended. Sign in again.", `device B shows ${await text(pb, "#message")}`);
    await pb.waitForSelector("body[data-ready]");
    await scan(pb, "signin expired");
    expect((await userinfo(pa)) === 200, "device A was signed out by ending B");

    // ---- Device C: a phone. ----
    step("phone");
    const c = await newContext(browser, "C", { viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }, result);
    const pc = await c.newPage();
    await pc.goto(`${base}/signin`);
    await pc.waitForSelector("body[data-ready]");
    await scan(pc, "signin phone");
    await shot(pc, "signin-phone", true);
    await signIn(pc, opts.password);
    await scan(pc, "account phone");
    await shot(pc, "account-phone", true);
    expect(
      await pc.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
      "the account page scrolls sideways on a phone",
    );

    step("resume an expired session");
    // The browser drops the access cookie when the token expires; the
    // refresh token resumes the session without the password.
    await c.clearCookies({ name: "access_token_cookie" });
    await pc.goto(`${base}/account`);
    await pc.waitForSelector("#sessions > li.current");
    expect(pc.url() === `${base}/account`, `resuming went to ${pc.url()}`);
    expect((await c.cookies()).length === 4, `${(await c.cookies()).length} cookies after resuming`);

    step("end every other session");
    await pa.reload();
    await pa.waitForSelector("body[data-ready]");
    await submitAndWait(pa, () => pa.click("#end-others"));
    expect((await text(pa, "#message")) === "Every other session has ended.", `message ${await text(pa, "#message")}`);
    expect((await pa.$$("#sessions > li")).length === 1, "other sessions are still listed");
    expect((await userinfo(pc)) === 401, "the phone's session still works after end-others");
    expect((await userinfo(pa)) === 200, "device A was signed out by end-others");
    // The list the script drew, and the message it showed.
    await scan(pa, "account redrawn");

    // ---- Every state-changing request needs its CSRF value. ----
    step("csrf");
    result.csrfRefusals = await pa.evaluate(async () => {
      const form = (fields) => ({ headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() });
      const json = (v) => ({ headers: { "Content-Type": "application/json" }, body: JSON.stringify(v) });
      const calls = [
        ["POST", "/logout", {}],
        ["POST", "/logout/all", {}],
        ["POST", "/refresh", {}],
        ["POST", "/account/sessions/end-others", {}],
        ["DELETE", "/account/sessions/0123456789abcdef", {}],
        ["POST", "/account/password", json({ current_password: "x", new_password: "y" })],
        ["POST", "/account", form({ action: "end-others" })],
        ["POST", "/account", form({ action: "end-others", csrf_token: "wrong" })],
        ["POST", "/signout", form({})],
      ];
      const out = [];
      for (const [method, p, init] of calls) {
        const r = await fetch(p, { method, cache: "no-store", credentials: "same-origin", ...init });
        out.push({ method, path: p, status: r.status });
      }
      return out;
    });
    expect((await userinfo(pa)) === 200, "device A was signed out by a request without CSRF");

    step("cross-site sign-in form");
    {
      const x = await newContext(browser, "X", { viewport: DESKTOP }, result);
      const px = await x.newPage();
      await px.setContent(
        `<form method="post" action="${base}/signin"><input name="username" value="${username}"><input name="password" value="${opts.password}"><button id="go">go</button></form>`,
      );
      const [resp] = await Promise.all([px.waitForResponse(`${base}/signin`), px.click("#go")]);
      expect(resp.status() === 403, `a cross-site sign-in form got ${resp.status()}, want 403`);
      expect((await x.cookies()).length === 0, "a cross-site sign-in form set cookies");
      await x.close();
    }

    // ---- A username with markup is shown as text. ----
    step("markup username");
    {
      const m = await newContext(browser, "M", { viewport: DESKTOP }, result);
      const pm = await m.newPage();
      await signIn(pm, opts.password, opts["markup-user"]);
      expect((await pm.textContent("#username")) === opts["markup-user"], `the account page names ${await pm.textContent("#username")}`);
      expect((await pm.$("#injected-name")) === null && (await pm.$$("script")).length === 1, "markup of a username became elements");
      await scan(pm, "account markup username");
      await Promise.all([pm.waitForURL(`${base}/signin?notice=signed-out`), pm.click("#signout")]);
      await m.close();
    }

    // ---- A password change ends the other sessions. ----
    step("password change");
    const d = await newContext(browser, "D", { viewport: DESKTOP }, result);
    const pd = await d.newPage();
    await signIn(pd, opts.password);
    await pa.reload();
    await pa.waitForSelector("body[data-ready]");
    await pa.fill("#current-password", "not the password");
    await pa.fill("#new-password", opts["new-password"]);
    await submitAndWait(pa, () => pa.click("#change-password"));
    expect((await pa.getAttribute("#message", "class")).includes("error"), `a wrong current password shows ${await text(pa, "#message")}`);
    expect((await userinfo(pd)) === 200, "a refused password change ended another session");
    await pa.fill("#current-password", opts.password);
    await pa.fill("#new-password", opts["new-password"]);
    await submitAndWait(pa, () => pa.click("#change-password"));
    expect(
      (await text(pa, "#message")) === "Your password has changed. Your other sessions have ended.",
      `message ${await text(pa, "#message")}`,
    );
    expect((await pa.inputValue("#current-password")) === "" && (await pa.inputValue("#new-password")) === "", "the password fields were not cleared");
    expect((await userinfo(pd)) === 401, "another session survived the password change");
    expect((await userinfo(pa)) === 200, "the session that changed the password was ended");
    await d.close();

    // ---- Sign-out. ----
    step("sign out");
    await Promise.all([pa.waitForURL(`${base}/signin?notice=signed-out`), pa.click("#signout")]);
    expect((await text(pa, "#message")) === "You have signed out.", `message ${await text(pa, "#message")}`);
    result.signedOutCookies = await a.cookies();
    expect(result.signedOutCookies.length === 0, `${result.signedOutCookies.length} cookies after sign-out`);

    // ---- Without JavaScript: the forms alone. ----
    step("without javascript");
    const n = await newContext(browser, "N", { viewport: DESKTOP, javaScriptEnabled: false }, result);
    const pn = await n.newPage();
    await pn.goto(`${base}/signin`);
    await pn.fill("#username", username);
    await pn.fill("#password", opts.password); // the old password
    await Promise.all([pn.waitForURL(`${base}/signin`), pn.click("#signin-submit")]);
    expect((await text(pn, "#message")) === "The username or password is not right.", `no-JS wrong password: ${await text(pn, "#message")}`);
    expect((await pn.inputValue("#username")) === username, "no-JS: the username was not kept");
    await pn.fill("#password", opts["new-password"]);
    await Promise.all([pn.waitForURL(`${base}/account`), pn.click("#signin-submit")]);
    expect((await text(pn, "#username")) === username, "no-JS: the account page does not name the user");
    expect((await pn.$$("#sessions > li")).length === 1, "no-JS: the account page does not list this session");
    await Promise.all([pn.waitForURL(`${base}/signin?notice=signed-out`), pn.click("#signout")]);
    expect((await n.cookies()).length === 0, "no-JS: cookies left after sign-out");

    // ---- Too many attempts: refused with when to retry. ----
    step("rate limit");
    const r = await newContext(browser, "R", { viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }, result);
    const pr = await r.newPage();
    await pr.goto(`${base}/signin`);
    await pr.waitForSelector("body[data-ready]");
    let limited = null;
    for (let i = 0; i < 20 && limited === null; i++) {
      await pr.fill("#username", username);
      await pr.fill("#password", `wrong ${i}`);
      const before = await seq(pr);
      const [resp] = await Promise.all([pr.waitForResponse(`${base}/login?cookies=1`), pr.click("#signin-submit")]);
      await pr.waitForSelector(`body[data-seq="${before + 1}"]`, { state: "attached" });
      if (resp.status() === 429) limited = Number(resp.headers()["retry-after"]);
      else expect(resp.status() === 401, `attempt ${i}: ${resp.status()}`);
    }
    if (expect(limited !== null && limited > 0, "no attempt was refused for too many attempts")) {
      const msg = await text(pr, "#message");
      expect(msg.includes("Too many attempts") && msg.includes(`Try again in ${limited} seconds.`), `rate limit message ${msg}, Retry-After ${limited}`);
      expect(await pr.isDisabled("#signin-submit"), "the button is enabled while the wait runs");
      expect(/^Wait \d+ s$/.test(await text(pr, "#signin-submit")), `the button says ${await text(pr, "#signin-submit")}`);
      await scan(pr, "signin rate limited");
      await shot(pr, "signin-rate-limited-phone", true);
      // Without JavaScript, the page says the same.
      const nr = await newContext(browser, "NR", { viewport: DESKTOP, javaScriptEnabled: false }, result);
      const pnr = await nr.newPage();
      await pnr.goto(`${base}/signin`);
      await pnr.fill("#username", username);
      await pnr.fill("#password", "wrong again");
      const [resp] = await Promise.all([pnr.waitForResponse(`${base}/signin`), pnr.click("#signin-submit")]);
      await pnr.waitForLoadState();
      expect(resp.status() === 429, `no-JS attempt past the limit: ${resp.status()}`);
      const m = await text(pnr, "#message");
      expect(m.includes(`Try again in ${resp.headers()["retry-after"]} seconds.`), `no-JS rate limit message ${m}`);
      await nr.close();
    }
  },
);

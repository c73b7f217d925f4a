// admin.mjs drives the admin page of "jwtgate serve" in headless
// Chromium, as an administrator beside other users' browsers.
//
//   node admin.mjs URL --admin NAME --password PASSWORD --user NAME
//                      --markup-user NAME [--out DIR] [--shots DIR]
//
// URL is the service started by the Go test (admin_test.go): --admin
// holds the admin role, --user does not; both have --password. The
// script signs in as the administrator, follows the account page's link
// to the admin page, adds a user, signs that user in in another browser
// context, ends their session there and sees it refused, disables them
// and sees their sign-in refused, adds a user whose name (--markup-user)
// holds markup and checks it is shown as text, deletes it through the
// confirmation step, reads the events in the audit view, sends changes
// without their CSRF value (refused), renews the session without the
// password and signs in again on the page to make a change, and checks
// that an ordinary user gets the 403 page. axe-core scans every page
// state; the findings go in "axe" for the Go test to judge. Screenshots
// go to DIR, and the README's to --shots when given. One JSON object is
// printed on stdout.
//
// The browser is Debian's Chromium: JWTGATE_CHROMIUM, or /usr/bin/chromium.
import { newContext } from "./browser.mjs";
import { DESKTOP, PHONE, run, text, userinfo } from "./common.mjs";

const NEW_USER = "carol";
const NEW_PASSWORD = "admin page test: carol's password";

run(
  {
    script: "admin.mjs",
    usage: "URL --admin NAME --password PASSWORD --user NAME --markup-user NAME [--out DIR] [--shots DIR]",
    required: ["admin", "password", "user", "markup-user"],
  },
  async ({ opts, base, browser, result, expect, step, scan, shot }) => {
    // signIn signs in with the form; it reports the status of the answer
    // to the form (303 and the account page on success).
    async function signIn(page, name, password) {
      await page.goto(`${base}/signin`);
      await page.waitForSelector("body[data-ready]");
      await page.fill("#username", name);
      await page.fill("#password", password);
      await page.click("#signin-submit");
      await Promise.race([page.waitForURL(`${base}/account`), page.waitForSelector("#message.error")]);
      return page.url() === `${base}/account`;
    }

    // submit clicks sel, a submit button of a form of the admin page, and
    // waits for the page it leads to.
    async function submit(page, sel) {
      await Promise.all([page.waitForNavigation(), page.click(sel)]);
    }

    // userItem is the selector of a user's item in the list.
    const userItem = (name) => `#users li[data-username="${name.replace(/["\\]/g, "\\$&")}"]`;

    const a = await newContext(browser, "admin", { viewport: DESKTOP }, result);
    const pa = await a.newPage();

    step("admin signs in");
    expect(await signIn(pa, opts.admin, opts.password), `the administrator's sign-in ended on ${pa.url()}`);
    expect((await pa.locator("#admin-link").count()) === 1, "the account page has no link to the admin page");
    const [nav] = await Promise.all([pa.waitForNavigation(), pa.click("#admin-link")]);
    expect(pa.url() === `${base}/admin`, `the link led to ${pa.url()}`);
    result.headers.admin = await nav.allHeaders();
    expect(nav.status() === 200, `GET /admin: ${nav.status()}`);
    expect((await pa.locator("#reauth-form").count()) === 0, "the page asks for the password right after a sign-in");
    await scan(pa, "admin");

    step("add a user");
    await pa.fill("#add-username", NEW_USER);
    await pa.fill("#add-password", NEW_PASSWORD);
    await submit(pa, "#add-submit");
    expect((await text(pa, "#message")) === "The user was added.", `message after adding: ${await text(pa, "#message")}`);
    expect((await pa.locator(userItem(NEW_USER)).count()) === 1, "the new user is not listed");
    await scan(pa, "admin user added");

    step("end a session");
    const b = await newContext(browser, "user", { viewport: DESKTOP }, result);
    const pb = await b.newPage();
    expect(await signIn(pb, NEW_USER, NEW_PASSWORD), "the new user cannot sign in");
    await Promise.all([pa.waitForNavigation(), pa.click(`${userItem(NEW_USER)} a[href^="/admin?user="]`)]);
    expect((await pa.locator("#user-sessions li[data-sid]").count()) === 1, "the new user's session is not listed");
    await scan(pa, "admin sessions");
    await submit(pa, "#user-sessions li[data-sid] button");
    expect((await text(pa, "#message")) === "The session has ended.", `message after ending: ${await text(pa, "#message")}`);
    expect((await userinfo(pb)) === 401, "the ended session still works in the other context");

    step("disable a user");
    expect(await signIn(pb, NEW_USER, NEW_PASSWORD), "the new user cannot sign in again");
    await pa.goto(`${base}/admin`);
    await submit(pa, `${userItem(NEW_USER)} .actions button`);
    expect((await text(pa, "#message")).startsWith("The user is disabled"), `message after disabling: ${await text(pa, "#message")}`);
    expect((await text(pa, `${userItem(NEW_USER)} .badge.off`)) === "Disabled", "the user is not shown disabled");
    expect((await userinfo(pb)) === 401, "the disabled user's session still works");
    expect(!(await signIn(pb, NEW_USER, NEW_PASSWORD)), "the disabled user signed in");
    expect((await text(pb, "#message")) === "The username or password is not right.", `disabled sign-in: ${await text(pb, "#message")}`);

    step("markup username");
    await pa.fill("#add-username", opts["markup-user"]);
    await pa.fill("#add-password", NEW_PASSWORD);
    await submit(pa, "#add-submit");
    const item = userItem(opts["markup-user"]);
    expect((await pa.locator(item).count()) === 1, "the user with markup in the name is not listed");
    expect((await text(pa, `${item} .device .name`)) === opts["markup-user"], `the name is shown as ${await text(pa, `${item} .device .name`)}`);
    expect((await pa.locator("#injected-name").count()) === 0, "the name's markup became an element");
    await scan(pa, "admin markup username");

    step("delete with confirmation");
    await Promise.all([pa.waitForNavigation(), pa.click(`${item} a.danger-link`)]);
    expect((await text(pa, "#confirm-heading .name")) === opts["markup-user"], "the confirmation does not name the user as text");
    await scan(pa, "admin confirm delete");
    await submit(pa, "#confirm-delete-submit");
    expect((await pa.locator(item).count()) === 0, "the deleted user is still listed");

    step("audit view");
    await pa.fill("#audit-user", NEW_USER);
    await pa.selectOption("#audit-type", "admin.");
    await submit(pa, "#audit-form button");
    const types = await pa.$$eval("#audit tbody tr td:nth-child(2)", (tds) => tds.map((td) => td.textContent.trim()));
    for (const t of ["admin.user.add", "admin.session.end", "admin.user.disable"]) {
      expect(types.includes(t), `the audit view lacks ${t}: ${types}`);
    }
    expect(!types.some((t) => !t.startsWith("admin.")), `the filtered audit view shows ${types}`);
    await scan(pa, "admin audit");
    await shot(pa, "admin-desktop", true);

    step("csrf");
    await pa.goto(`${base}/admin`);
    for (const req of [
      { method: "POST", path: "/admin", form: `action=enable&username=${NEW_USER}` },
      { method: "POST", path: "/admin", form: `action=enable&username=${NEW_USER}&csrf_token=wrong` },
      { method: "POST", path: `/admin/users/${NEW_USER}/enable` },
      { method: "DELETE", path: `/admin/users/${NEW_USER}` },
    ]) {
      const status = await pa.evaluate(
        ({ method, path, form }) =>
          fetch(path, {
            method,
            headers: form ? { "Content-Type": "application/x-www-form-urlencoded" } : {},
            body: form,
          }).then((r) => r.status),
        req,
      );
      result.csrfRefusals.push({ method: req.method, path: req.path, status });
    }
    await pa.reload();
    expect((await text(pa, `${userItem(NEW_USER)} .badge.off`)) === "Disabled", "a request without CSRF enabled the user");

    step("phone");
    const c = await newContext(browser, "phone", { viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }, result);
    const pc = await c.newPage();
    expect(await signIn(pc, opts.admin, opts.password), "the administrator cannot sign in on the phone");
    await pc.goto(`${base}/admin?user=${NEW_USER}`);
    await scan(pc, "admin phone");
    await shot(pc, "admin-phone", true);
    expect(
      await pc.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
      "the admin page scrolls sideways on a phone",
    );

    step("not fresh");
    // A refresh renews the session without the password: its access
    // token is not fresh, so the page asks for the password to change.
    const status = await pa.evaluate(() => {
      const csrf = document.cookie.split("; ").find((c) => c.startsWith("csrf_refresh_token="))?.split("=")[1] ?? "";
      return fetch("/refresh", { method: "POST", headers: { "X-CSRF-TOKEN": csrf } }).then((r) => r.status);
    });
    expect(status === 200, `refresh: ${status}`);
    await pa.goto(`${base}/admin`);
    expect((await pa.locator("#reauth-form").count()) === 1, "the page does not ask for the password after a refresh");
    await scan(pa, "admin reauth");
    await submit(pa, `${userItem(NEW_USER)} .actions button`);
    expect((await text(pa, "#message")).startsWith("Nothing was changed."), `a change that is not fresh: ${await text(pa, "#message")}`);
    await pa.fill("#reauth-password", opts.password);
    await submit(pa, "#reauth-submit");
    expect((await pa.locator("#reauth-form").count()) === 0, "the page still asks for the password");
    await submit(pa, `${userItem(NEW_USER)} .actions button`);
    expect((await text(pa, "#message")).startsWith("The user is enabled"), `enable after the password: ${await text(pa, "#message")}`);
    expect(await signIn(pb, NEW_USER, NEW_PASSWORD), "the enabled user cannot sign in");

    step("ordinary user");
    const d = await newContext(browser, "ordinary", { viewport: DESKTOP }, result);
    const pd = await d.newPage();
    expect(await signIn(pd, opts.user, opts.password), "the ordinary user cannot sign in");
    expect((await pd.locator("#admin-link").count()) === 0, "the ordinary user's account page links to the admin page");
    const forbidden = await pd.goto(`${base}/admin`);
    expect(forbidden.status() === 403, `GET /admin as an ordinary user: ${forbidden.status()}`);
    expect((await pd.locator("#users").count()) === 0, "the 403 page lists users");
    await scan(pd, "admin forbidden");
  },
);

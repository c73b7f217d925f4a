// Package browsertest holds an end-to-end test of the Gate's cookie and
// double-submit CSRF flow in a real browser: headless Chromium (Debian's
// chromium package) driven by Playwright (playwright-core, pinned in
// node/package-lock.json).
//
// The test serves a small page whose JavaScript logs in, calls a protected
// endpoint with and without the CSRF header, refreshes and logs out; the
// Node script node/flow.mjs clicks through it and reports what the browser
// saw. A second test drives the sign-in and account pages of jwtgate
// serve (package server) with node/pages.mjs, as several devices of one
// user: keyboard-only sign-in, the wrong-password and rate-limit states,
// ending a session and seeing it refused on the other device, a password
// change, sign-out, requests without their CSRF value refused, the pages
// without JavaScript, and an axe-core accessibility scan of every page
// state (no serious or critical violation). With JWTGATE_SCREENSHOTS=1 it
// writes the README's screenshots (desktop and phone widths) to
// docs/screenshots. A third test drives the admin page with
// node/admin.mjs: an administrator adds a user, ends their session and
// disables them (each seen refused in the user's browser), deletes a
// user through the confirmation step, reads the audit view, and enters
// the password again after a refresh to make a change; changes without
// their CSRF value are refused, a username with markup is shown as
// text, an ordinary user gets the 403 page, and axe-core scans every
// state. Without Chromium or node/node_modules the tests are
// skipped, or fail when JWTGATE_REQUIRE_SERVICES=1 or CI=true;
// .ci/browser-deps.sh installs both.
package browsertest

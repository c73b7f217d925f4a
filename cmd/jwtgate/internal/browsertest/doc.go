// Package browsertest holds an end-to-end test of the Gate's cookie and
// double-submit CSRF flow in a real browser: headless Chromium (Debian's
// chromium package) driven by Playwright (playwright-core, pinned in
// node/package-lock.json).
//
// The test serves a small page whose JavaScript logs in, calls a protected
// endpoint with and without the CSRF header, refreshes and logs out; the
// Node script node/flow.mjs clicks through it and reports what the browser
// saw. A second test drives the sign-in page of jwtgate serve (package
// server) with node/serve_page.mjs: sign in, a refused POST without the
// CSRF header, refresh, sign out. Without Chromium or node/node_modules the test is skipped, or fails
// when JWTGATE_REQUIRE_SERVICES=1 or CI=true; .ci/browser-deps.sh installs
// both.
package browsertest

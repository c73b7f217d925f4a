// The script of jwtgate's sign-in page (GET /): cookie mode with
// double-submit CSRF. The token cookies are HttpOnly; every POST made with
// them carries the value of the matching readable CSRF cookie
// (csrf_access_token, or csrf_refresh_token for /refresh) in X-CSRF-TOKEN.
"use strict";

(function () {
  const statusEl = document.getElementById("status");
  const detailEl = document.getElementById("detail");
  let seq = 0;

  function readCookie(name) {
    for (const part of document.cookie.split("; ")) {
      const i = part.indexOf("=");
      if (i > 0 && part.slice(0, i) === name) return decodeURIComponent(part.slice(i + 1));
    }
    return null;
  }

  // call makes one request and shows its outcome. csrfCookie names the
  // cookie whose value goes in X-CSRF-TOKEN (none when null).
  async function call(action, method, path, { body = null, csrfCookie = null } = {}) {
    const headers = {};
    if (body !== null) headers["Content-Type"] = "application/json";
    let csrf = null;
    if (csrfCookie !== null) {
      csrf = readCookie(csrfCookie);
      if (csrf !== null) headers["X-CSRF-TOKEN"] = csrf;
    }
    let status = 0;
    let data = null;
    try {
      const resp = await fetch(path, {
        method,
        headers,
        body: body === null ? undefined : JSON.stringify(body),
        credentials: "same-origin",
        cache: "no-store",
      });
      status = resp.status;
      const text = await resp.text();
      try {
        data = JSON.parse(text);
      } catch {
        data = { unparsed: text };
      }
    } catch (e) {
      data = { error: "network", error_description: String(e) };
    }
    show(action, method, path, status, data);
    return { status, data };
  }

  function show(action, method, path, status, data) {
    let text;
    if (status >= 200 && status < 300) {
      switch (action) {
        case "signin":
          text = "Signed in.";
          break;
        case "userinfo":
          text = `Signed in as ${data.username}.`;
          break;
        case "refresh":
          text = "Tokens refreshed.";
          break;
        case "signout":
          text = "Signed out.";
          break;
        default:
          text = "Accepted.";
      }
    } else {
      const why = data && data.error_description ? data.error_description : "request failed";
      text = `Refused (${status}): ${why}`;
    }
    statusEl.textContent = text;
    statusEl.dataset.action = action;
    statusEl.dataset.status = String(status);
    detailEl.textContent = `${method} ${path} -> ${status}\n${JSON.stringify(data, null, 2)}`;
    seq++;
    document.body.dataset.seq = String(seq);
  }

  document.getElementById("signin").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const username = document.getElementById("username").value;
    const password = document.getElementById("password").value;
    call("signin", "POST", "/login?cookies=1", { body: { username, password } }).then((r) => {
      if (r.status === 200) document.getElementById("password").value = "";
    });
  });
  document.getElementById("userinfo").addEventListener("click", () => {
    call("userinfo", "GET", "/userinfo");
  });
  document.getElementById("refresh").addEventListener("click", () => {
    call("refresh", "POST", "/refresh", { csrfCookie: "csrf_refresh_token" });
  });
  document.getElementById("nocsrf").addEventListener("click", () => {
    call("nocsrf", "POST", "/logout");
  });
  document.getElementById("signout").addEventListener("click", () => {
    call("signout", "POST", "/logout", { csrfCookie: "csrf_access_token" });
  });
  document.body.dataset.ready = "1";
})();

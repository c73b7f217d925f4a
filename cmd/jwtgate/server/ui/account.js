// The account page's script. Every form of the page works without it
// (POST /account, POST /signout); with it, the forms call the JSON
// endpoints (/account/sessions..., /account/password, /logout) with the
// CSRF header, the list of sessions is redrawn in place, and an expired
// access token is refreshed (POST /refresh) before a call is given up.
// Text from the server (user agents, addresses) is only ever set as text.
"use strict";

(function () {
  const message = document.getElementById("message");
  const list = document.getElementById("sessions");

  function readCookie(name) {
    for (const part of document.cookie.split("; ")) {
      const i = part.indexOf("=");
      if (i > 0 && part.slice(0, i) === name) return decodeURIComponent(part.slice(i + 1));
    }
    return "";
  }

  function show(kind, text) {
    message.className = "message " + kind;
    message.textContent = text;
  }

  function done() {
    document.body.dataset.seq = String(Number(document.body.dataset.seq || "0") + 1);
  }

  async function send(method, path, body) {
    const headers = { "X-CSRF-TOKEN": readCookie("csrf_access_token") };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  }

  // call makes a request; when the access token is refused it refreshes
  // the tokens once and tries again. A session that cannot be refreshed
  // has ended: the browser goes to the sign-in page.
  async function call(method, path, body) {
    let resp = await send(method, path, body);
    if (resp.status !== 401) return resp;
    const r = await fetch("/refresh", {
      method: "POST",
      headers: { "X-CSRF-TOKEN": readCookie("csrf_refresh_token") },
      credentials: "same-origin",
      cache: "no-store",
    });
    if (!r.ok) {
      window.location.assign("/signin?notice=expired");
      return null;
    }
    resp = await send(method, path, body);
    if (resp.status === 401) {
      window.location.assign("/signin?notice=expired");
      return null;
    }
    return resp;
  }

  async function refusal(resp) {
    try {
      const b = await resp.json();
      if (b && typeof b.error_description === "string" && b.error_description) {
        const d = b.error_description;
        // "new_password: invalid password: it must ..." names a field.
        for (const [member, field] of [
          ["new_password: ", "The new password is not accepted: "],
          ["current_password: ", "The current password is not accepted: "],
        ]) {
          if (d.startsWith(member)) {
            const rest = d.slice(member.length);
            const i = rest.indexOf(": ");
            const why = i >= 0 ? rest.slice(i + 2) : rest;
            return field + why.replace(/\.$/, "") + ".";
          }
        }
        return d.charAt(0).toUpperCase() + d.slice(1) + (d.endsWith(".") ? "" : ".");
      }
    } catch {
      // No JSON body.
    }
    return "The service cannot do this right now. Try again in a moment.";
  }

  function localTimes(root) {
    for (const t of root.querySelectorAll("time[datetime]")) {
      const d = new Date(t.dateTime);
      if (!Number.isNaN(d.getTime())) {
        t.textContent = d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
        t.title = t.dateTime;
      }
    }
  }

  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === "class") e.className = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c);
    return e;
  }

  function field(term, value, isTime, fallback) {
    let dd;
    if (!value) dd = el("dd", {}, fallback);
    else if (isTime) dd = el("dd", {}, el("time", { datetime: value }, value));
    else dd = el("dd", {}, value);
    return el("div", {}, el("dt", {}, term), dd);
  }

  // sessionItem draws one session as the server does.
  function sessionItem(s, i) {
    const device = el("p", { class: "device", id: `device-${i}` }, el("span", { class: "agent" }, s.user_agent || "Unknown device"));
    if (s.current) device.append(" ", el("span", { class: "badge" }, "This device"));
    const li = el(
      "li",
      { class: s.current ? "session current" : "session", "data-sid": s.sid },
      device,
      el(
        "dl",
        {},
        field("Signed in", s.created, true, "Unknown"),
        field("Last used", s.last_used, true, "Not yet"),
        field("Address", s.address, false, "Unknown"),
      ),
    );
    if (!s.current) {
      const form = el(
        "form",
        { class: "end-session", method: "post", action: "/account" },
        el("input", { type: "hidden", name: "csrf_token", value: "" }),
        el("input", { type: "hidden", name: "action", value: "end-session" }),
        el("input", { type: "hidden", name: "sid", value: s.sid }),
        el("button", { class: "secondary", type: "submit", "aria-describedby": `device-${i}` }, "End this session"),
      );
      li.append(form);
    }
    return li;
  }

  async function redraw() {
    const resp = await call("GET", "/account/sessions");
    if (resp === null) return;
    if (!resp.ok) {
      show("error", "Your sessions cannot be listed right now.");
      return;
    }
    const body = await resp.json();
    const sessions = (body.sessions || []).slice().sort((a, b) => Number(Boolean(b.current)) - Number(Boolean(a.current)));
    list.replaceChildren(...sessions.map(sessionItem));
    localTimes(list);
  }

  async function act(form) {
    const action = form.id === "signout-form" ? "signout" : form.elements.action.value;
    let resp;
    switch (action) {
      case "signout":
        resp = await call("POST", "/logout");
        if (resp === null) return;
        if (resp.ok || resp.status === 401) window.location.assign("/signin?notice=signed-out");
        else show("error", "The service cannot sign you out right now. Try again in a moment.");
        return;
      case "end-session":
        resp = await call("DELETE", "/account/sessions/" + encodeURIComponent(form.elements.sid.value));
        if (resp === null) return;
        if (resp.ok) show("info", "The session has ended.");
        else if (resp.status === 404) show("error", "That session has already ended.");
        else show("error", await refusal(resp));
        break;
      case "end-others":
        resp = await call("POST", "/account/sessions/end-others");
        if (resp === null) return;
        if (resp.ok) show("info", "Every other session has ended.");
        else show("error", await refusal(resp));
        break;
      case "password": {
        const current = document.getElementById("current-password");
        const next = document.getElementById("new-password");
        resp = await call("POST", "/account/password", { current_password: current.value, new_password: next.value });
        if (resp === null) return;
        if (resp.ok) {
          current.value = "";
          next.value = "";
          show("info", "Your password has changed. Your other sessions have ended.");
        } else {
          show("error", await refusal(resp));
          current.focus();
        }
        break;
      }
      default:
        return;
    }
    await redraw();
  }

  document.addEventListener("submit", (ev) => {
    const form = ev.target;
    if (!(form instanceof HTMLFormElement)) return;
    ev.preventDefault();
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    act(form)
      .catch(() => show("error", "The service cannot be reached. Check your connection and try again."))
      .finally(() => {
        if (button && button.isConnected) button.disabled = false;
        // A button that went with its session leaves the focus nowhere:
        // it goes to the message that says what happened.
        if (!button || !button.isConnected || document.activeElement === document.body) message.focus();
        done();
      });
  });

  localTimes(document);
  document.body.dataset.ready = "1";
})();

// The sign-in page's script. The form works without it (POST /signin);
// with it, the form signs in with POST /login?cookies=1 (JSON), shows
// why a sign-in is refused without reloading the page, and counts down
// the wait after too many attempts. The session's tokens arrive as
// HttpOnly cookies this script never sees.
"use strict";

(function () {
  // A session whose access token expired resumes at once: the page's
  // resume form refreshes it (POST /signin, resume=1).
  const resume = document.getElementById("resume-form");
  if (resume) {
    document.getElementById("resume-submit").disabled = true;
    resume.submit();
    return;
  }
  const form = document.getElementById("signin-form");
  const username = document.getElementById("username");
  const password = document.getElementById("password");
  const submit = document.getElementById("signin-submit");
  const message = document.getElementById("message");
  const label = submit.textContent;
  let timer = null;

  function show(kind, text) {
    message.className = "message " + kind;
    message.textContent = text;
    for (const input of [username, password]) {
      if (kind === "error") input.setAttribute("aria-describedby", "message");
      else input.removeAttribute("aria-describedby");
    }
  }

  // wait disables the button for total seconds, counting down on it, then
  // says that another attempt can be made.
  function wait(total) {
    clearInterval(timer);
    let left = Math.max(1, Math.ceil(total));
    submit.disabled = true;
    submit.textContent = `Wait ${left} s`;
    timer = setInterval(() => {
      left--;
      if (left > 0) {
        submit.textContent = `Wait ${left} s`;
        return;
      }
      clearInterval(timer);
      timer = null;
      submit.disabled = false;
      submit.textContent = label;
      show("info", "You can try again now.");
    }, 1000);
    document.body.dataset.waiting = String(left);
  }

  const seconds = (n) => (n === 1 ? "1 second" : `${n} seconds`);

  function retryAfter(resp) {
    const n = Number.parseInt(resp.headers.get("Retry-After") || "", 10);
    return Number.isFinite(n) && n > 0 ? n : 1;
  }

  async function signIn() {
    let resp;
    try {
      resp = await fetch("/login?cookies=1", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username: username.value, password: password.value }),
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch {
      show("error", "The service cannot be reached. Check your connection and try again.");
      return;
    }
    if (resp.ok) {
      show("info", "Signed in.");
      window.location.assign("/account");
      return;
    }
    let body = {};
    try {
      body = await resp.json();
    } catch {
      // Not JSON: the status says enough.
    }
    switch (resp.status) {
      case 401:
        show("error", "The username or password is not right.");
        password.value = "";
        password.focus();
        break;
      case 429: {
        const n = retryAfter(resp);
        show("error", `Too many attempts. Try again in ${seconds(n)}.`);
        wait(n);
        break;
      }
      case 503: {
        const n = retryAfter(resp);
        show("error", `The service cannot sign you in right now. Try again in ${seconds(n)}.`);
        wait(n);
        break;
      }
      case 400:
      case 413:
        show("error", `Check your username and password: ${body.error_description || "they cannot be sent"}.`);
        break;
      default:
        show("error", "Something went wrong on our side. Try again.");
    }
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (submit.disabled) return;
    if (!username.value || !password.value) {
      show("error", "Enter your username and password.");
      (username.value ? password : username).focus();
      return;
    }
    submit.disabled = true;
    signIn().finally(() => {
      if (timer === null) submit.disabled = false;
      document.body.dataset.seq = String(Number(document.body.dataset.seq || "0") + 1);
    });
  });

  // A page shown again after too many attempts counts down too.
  const after = Number.parseInt(message.dataset.retryAfter || "", 10);
  if (Number.isFinite(after) && after > 0) wait(after);
  document.body.dataset.ready = "1";
})();

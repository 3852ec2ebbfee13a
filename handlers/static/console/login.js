"use strict";
// Login: JSON to the console API; the session cookie is HttpOnly, the page never sees it.
(() => {
  const form = document.getElementById("login-form");
  const problem = document.getElementById("login-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.hidden = true;
    const body = {
      username: document.getElementById("username").value.trim(),
      password: document.getElementById("password").value,
    };
    let resp;
    try {
      resp = await fetch("/console/api/login", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    } catch (err) {
      problem.textContent = "连不上服务，请稍后再试";
      problem.hidden = false;
      return;
    }
    if (!resp.ok) {
      const data = await resp.json().catch(() => ({}));
      problem.textContent = data.message || "登录失败";
      problem.hidden = false;
      return;
    }
    const next = new URLSearchParams(location.search).get("next");
    location.assign(next && next.startsWith("/console/") ? next : "/console/agent");
  });
})();

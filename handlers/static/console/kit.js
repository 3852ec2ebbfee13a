"use strict";
// What every console page's script uses: `el` builds an element, `api` calls the console's
// JSON API with the CSRF token (a lost login goes to the login page), `me` logs the page in.
// Loaded before the page's own script: window.ConsoleKit.
window.ConsoleKit = (() => {
  let csrf = "";

  // el("button", { class: "x", onclick: f, disabled: busy }, "text", child): a false, null or
  // undefined attribute is left out, true sets it empty; null and undefined children are skipped.
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  async function api(path, { method = "GET", body } = {}) {
    const headers = { "X-CSRF-Token": csrf };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (resp.status === 401) {
      location.assign("/console/login?next=" + encodeURIComponent(location.pathname));
      throw new Error("login");
    }
    const data = resp.status === 204 ? {} : await resp.json().catch(() => ({}));
    if (!resp.ok) throw Object.assign(new Error(data.message || "出错了"), { status: resp.status, data });
    return data;
  }

  // who is logged in; from then on every call carries the session's CSRF token
  async function me() {
    const who = await api("/console/api/me");
    csrf = who.csrf;
    return who;
  }

  return { el, api, me, csrf: () => csrf };
})();

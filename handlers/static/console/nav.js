"use strict";
// The consoles' shared header: one link per page the account's role may open,
// who is logged in, and logout. A page includes <nav id="console-nav"></nav>.
(() => {
  const PAGES = [
    { path: "/console/agent", label: "坐席工作台", role: "agent" },
    { path: "/console/intents", label: "意图训练", role: "admin" },
    { path: "/console/catalog", label: "办事指南", role: "admin" },
    { path: "/console/dashboard", label: "数据看板", role: "admin" },
    { path: "/console/admin", label: "投递与评价", role: "admin" },
  ];

  async function render() {
    const nav = document.getElementById("console-nav");
    if (!nav) return;
    const resp = await fetch("/console/api/me");
    if (!resp.ok) return;
    const me = await resp.json();
    const links = PAGES.filter((p) => p.role === "agent" || me.role === "admin").map((p) => {
      const a = document.createElement("a");
      a.href = p.path;
      a.textContent = p.label;
      if (location.pathname === p.path) a.setAttribute("aria-current", "page");
      return a;
    });
    const who = document.createElement("span");
    who.className = "me";
    who.textContent = `${me.display_name}（${me.role === "admin" ? "管理员" : "坐席"}）`;
    const out = document.createElement("button");
    out.type = "button";
    out.className = "quiet";
    out.textContent = "退出登录";
    out.addEventListener("click", async () => {
      await fetch("/console/api/logout", { method: "POST", headers: { "X-CSRF-Token": me.csrf } }).catch(() => {});
      location.assign("/console/login");
    });
    nav.replaceChildren(...links, who, out);
  }

  render().catch((err) => console.error(err));
})();

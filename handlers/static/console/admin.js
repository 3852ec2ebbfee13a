"use strict";
// Admins: the dead-letter list (send one again) and the 好差评 ratings with their work orders.
(() => {
  const $ = (id) => document.getElementById(id);
  const { api } = window.ConsoleKit;

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text == null ? "" : String(text);
    return td;
  }

  async function loadDead() {
    const data = await api("/console/api/admin/dead-letters");
    $("dead-count").textContent = String(data.dead_letters.length);
    $("dead-empty").hidden = data.dead_letters.length > 0;
    const rows = data.dead_letters.map((d) => {
      const tr = document.createElement("tr");
      const what = d.notice ? [d.notice.kind, d.notice.status, d.notice.number].filter(Boolean).join(" ") : d.ref;
      const channels = Object.entries(d.channels).map(([c, o]) => `${c}: ${o}`).join("；");
      const again = document.createElement("button");
      again.type = "button";
      again.textContent = "重新投递";
      again.addEventListener("click", async () => {
        await api(`/console/api/admin/dead-letters/${d.id}/retry`, { method: "POST" });
        await loadDead();
      });
      const action = document.createElement("td");
      action.append(again);
      tr.append(cell(d.id), cell(d.kind), cell(what), cell(d.to || ""), cell(d.attempts), cell(channels),
        cell(d.last_error), action);
      return tr;
    });
    $("dead").querySelector("tbody").replaceChildren(...rows);
  }

  async function loadRatings() {
    const data = await api("/console/api/admin/ratings");
    const counts = {};
    for (const r of data.ratings) counts[r.level] = (counts[r.level] || 0) + 1;
    $("rating-summary").textContent = Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(" · ") || "还没有评价";
    const rows = data.ratings.map((r) => {
      const tr = document.createElement("tr");
      if (r.bad) tr.className = "bad";
      const order = r.work_order ? `${r.work_order.number || "报送中"} ${r.work_order.status || ""}` : "";
      const subject = r.subject === "conversation" ? "人工客服" : "办件";
      tr.append(cell(r.at.slice(0, 16).replace("T", " ")), cell(subject + (r.follow_up ? "（追评）" : "")),
        cell(r.thing_name), cell(r.level), cell(r.comment), cell(order));
      return tr;
    });
    $("ratings").querySelector("tbody").replaceChildren(...rows);
  }

  async function start() {
    await window.ConsoleKit.me();
    await Promise.all([loadDead(), loadRatings()]);
  }

  start().catch((err) => console.error(err));
})();

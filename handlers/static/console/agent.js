"use strict";
// The agents' console: the line of people waiting, one conversation live
// (WebSocket), handing back to the bot, and drafts started on the phone.
(() => {
  const $ = (id) => document.getElementById(id);
  const { el, api } = window.ConsoleKit;
  let current = null; // the open handover id
  let socket = null;

  function minutes(seconds) {
    return seconds < 60 ? `${seconds} 秒` : `${Math.floor(seconds / 60)} 分钟`;
  }

  function row(h, action) {
    const what = el("span", { class: "what" }, h.thing_name || "未选事项");
    what.append(el("span", { class: "why" }, `${h.reason_label} · ${h.channel} · 已等 ${minutes(h.waited_seconds)}`));
    return el("li", { "data-handover": h.id }, what, action);
  }

  async function refreshQueue() {
    const data = await api("/console/api/queue");
    $("waiting-count").textContent = String(data.waiting.length);
    $("queue-empty").hidden = data.waiting.length > 0;
    $("queue").replaceChildren(
      ...data.waiting.map((h) => row(h, el("button", { type: "button", class: "claim", onclick: () => claim(h.id) }, "接入")))
    );
    $("mine").replaceChildren(
      ...data.mine.map((h) => row(h, el("button", { type: "button", class: "quiet", onclick: () => open(h.id) }, "打开")))
    );
  }

  async function claim(id) {
    try {
      await api(`/console/api/handovers/${id}/claim`, { method: "POST" });
    } catch (err) {
      if (err.message !== "login") alert(err.message);
      await refreshQueue();
      return;
    }
    await refreshQueue();
    await open(id);
  }

  function addEntry(e) {
    const who = { citizen: "办事人", bot: "机器人", agent: `客服 ${e.agent || ""}`, system: "" }[e.role] || "";
    const li = el("li", { class: e.role, "data-entry": e.id });
    if (who) li.append(el("span", { class: "who" }, who));
    if (e.role === "citizen") {
      // 标注意图: its label is drawn by CSS from aria-label, so the line's text stays what the person said
      li.append(el("button", { type: "button", class: "tag-intent", "aria-label": "标注意图",
        title: "机器人没理解对？标出这句话应该是哪个意图", onclick: () => pickIntent(e, li) }));
    }
    li.append(e.text);
    $("transcript").append(li);
    $("transcript").scrollTop = $("transcript").scrollHeight;
  }

  // ---- 标注意图: the agent says which intent a line of the person's should have been ----
  let intentsLoaded = null;
  let tagging = null; // {entry, li}

  async function loadIntents() {
    const data = await api("/console/api/intents");
    const things = data.intents.filter((i) => i.intent.startsWith("thing_"));
    const other = data.intents.filter((i) => !i.intent.startsWith("thing_"));
    const opt = (i) => el("option", { value: i.intent }, i.name);
    $("intent-pick").replaceChildren(
      el("option", { value: "" }, "请选择"),
      el("optgroup", { label: "一件事" }, ...things.map(opt)),
      el("optgroup", { label: "其他" }, ...other.map(opt))
    );
  }

  async function pickIntent(e, li) {
    tagging = { entry: e.id, li };
    $("intent-said").textContent = e.text;
    $("intent-status").textContent = "";
    $("intent-form").hidden = false;
    try {
      intentsLoaded = intentsLoaded || loadIntents();
      await intentsLoaded;
    } catch (err) {
      intentsLoaded = null;
      $("intent-status").textContent = err.message;
      return;
    }
    $("intent-pick").value = "";
    $("intent-pick").focus();
  }

  $("intent-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const intent = $("intent-pick").value;
    if (!tagging || !intent || !current) return;
    try {
      const data = await api(`/console/api/handovers/${current}/corrections`, {
        method: "POST",
        body: { entry: tagging.entry, intent },
      });
      tagging.li.classList.add("tagged");
      const name = $("intent-pick").selectedOptions[0].textContent;
      tagging.li.querySelector(".tag-intent").setAttribute("aria-label", `已标注：${name}`);
      $("intent-status").textContent = data.message;
    } catch (err) {
      $("intent-status").textContent = err.message;
      return;
    }
    $("intent-form").hidden = true;
    tagging = null;
  });
  $("intent-cancel").addEventListener("click", () => {
    $("intent-form").hidden = true;
    tagging = null;
  });

  function showCase(c) {
    const box = $("case");
    box.replaceChildren();
    if (!c.drafts.length) {
      box.append(el("p", { class: "empty" }, "还没有开始填表"));
      return;
    }
    for (const d of c.drafts) {
      box.append(el("h4", {}, d.name + (d.thing === c.current ? "（正在办）" : "")));
      const table = el("table");
      for (const f of d.fields) table.append(el("tr", {}, el("td", {}, f.label), el("td", {}, f.value)));
      box.append(table);
      if (d.missing.length) box.append(el("p", { class: "missing" }, "还缺：" + d.missing.join("、")));
    }
  }

  async function open(id) {
    if (socket) socket.close();
    current = id;
    const data = await api(`/console/api/handovers/${id}`);
    $("conversation").hidden = false;
    $("conv-title").textContent = data.handover.thing_name || "未选事项";
    $("conv-meta").textContent = `${data.handover.reason_label} · ${data.handover.channel} · ${id}`;
    $("conv-status").textContent = "";
    $("transcript").replaceChildren();
    $("intent-form").hidden = true;
    $("intent-status").textContent = "";
    tagging = null;
    data.transcript.forEach(addEntry);
    showCase(data.case);
    $("guide-text").textContent = "";
    if (data.guide) {
      const guide = await fetch(`/api/things/${data.guide.thing}`).then((r) => r.json());
      $("guide-text").textContent = guide.notice;
    }
    const last = data.transcript.length ? data.transcript[data.transcript.length - 1].id : "";
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const query = new URLSearchParams({ csrf: window.ConsoleKit.csrf(), after: last || "0" });
    socket = new WebSocket(`${scheme}://${location.host}/console/ws/handovers/${id}?${query}`);
    socket.addEventListener("message", (event) => {
      const msg = JSON.parse(event.data);
      if (msg.type === "entry") addEntry(msg.entry);
      else if (msg.type === "closed") $("conv-status").textContent = "这个会话已不在您名下";
      else if (msg.type === "error") $("conv-status").textContent = msg.message;
    });
    socket.addEventListener("open", () => $("say-text").focus());
  }

  async function finish(path, body, note) {
    try {
      await api(`/console/api/handovers/${current}/${path}`, { method: "POST", body });
    } catch (err) {
      $("conv-status").textContent = err.message;
      return;
    }
    if (socket) socket.close();
    socket = null;
    $("conv-status").textContent = note;
    $("conversation").hidden = true;
    current = null;
    await refreshQueue();
  }

  $("say-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("say-text").value.trim();
    if (!text || !socket || socket.readyState !== WebSocket.OPEN) return;
    socket.send(JSON.stringify({ say: { text } }));
    $("say-text").value = "";
  });
  $("handback").addEventListener("click", () =>
    finish("handback", { point: $("handback-point").value }, "已交还机器人"));
  $("close").addEventListener("click", () => {
    const summary = $("summary").value.trim();
    if (!summary) {
      $("conv-status").textContent = "请先写服务小结";
      return;
    }
    finish("close", { summary }, "已结束");
  });
  $("release").addEventListener("click", () => finish("release", undefined, "已放回队列"));

  // ---- 电话转办: a draft from what the caller said, continued in WeChat with a code ----
  async function loadThings() {
    const data = await fetch("/api/things").then((r) => r.json());
    $("phone-thing").replaceChildren(
      el("option", { value: "" }, "请选择"),
      ...data.things.map((t) => el("option", { value: t.id }, t.name))
    );
  }

  async function loadFields() {
    const id = $("phone-thing").value;
    const box = $("phone-fields");
    box.replaceChildren();
    if (!id) return;
    const thing = await fetch(`/api/things/${id}`).then((r) => r.json());
    for (const f of thing.form.fields.filter((f) => f.type !== "attachment").slice(0, 12)) {
      box.append(el("label", {}, f.label, el("input", { "data-field": f.id, placeholder: f.example || "" })));
    }
  }

  $("phone-thing").addEventListener("change", loadFields);
  $("phone-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const answers = {};
    for (const input of $("phone-fields").querySelectorAll("input[data-field]")) {
      if (input.value.trim()) answers[input.dataset.field] = input.value.trim();
    }
    const body = { thing: $("phone-thing").value, phone: $("phone-number").value.trim(), answers };
    try {
      const data = await api("/console/api/phone-drafts", { method: "POST", body });
      $("phone-result").textContent = `办事码 ${data.code}：${data.message}`;
    } catch (err) {
      const problems = err.data && err.data.problems ? Object.values(err.data.problems).join("；") : "";
      $("phone-result").textContent = err.message + (problems ? "：" + problems : "");
    }
  });

  async function start() {
    await window.ConsoleKit.me();
    await Promise.all([refreshQueue(), loadThings()]);
    setInterval(() => refreshQueue().catch(() => {}), 3000);
  }

  start().catch((err) => console.error(err));
})();

// The demo of the mini-program: chat, guide cards, form prompts, 长辈模式 and
// “my applications”, built only on the public API (see /api/openapi.json).
(() => {
  "use strict";

  // Every word a citizen reads on this page, in one place.
  const STRINGS = Object.freeze({
    pageTitle: "辽宁“一件事一次办”助手",
    title: "一件事一次办",
    elderlyLabel: "长辈模式",
    elderlyOn: "已开启",
    elderlyOff: "已关闭",
    tabChat: "办事",
    tabApps: "我的申请",
    inputLabel: "输入您要说的话",
    inputPlaceholder: "请输入您要办的事",
    inputPlaceholderChoice: "点上面的按钮，或在这里输入",
    examplePrefix: "例如：",
    send: "发送",
    welcome: "您好！我是辽宁“一件事一次办”助手。请告诉我您要办什么事，比如“孩子刚出生要上户口”。也可以点下面的按钮。",
    quick: [
      { label: "看看能办哪些事", text: "办事清单" },
      { label: "查询办理进度", text: "查进度" },
    ],
    helpers: [
      { label: "转人工", text: "转人工" },
      { label: "再说一遍", text: "再说一遍" },
    ],
    fieldAsk: "请填写：",
    fieldOptional: "这一项可以不填。",
    skip: "跳过",
    problemPrefix: "请注意：",
    reviewNotes: "其他说明",
    guideMore: "展开全部内容",
    guideLess: "收起",
    thinking: "正在回复，请稍等…",
    agentPrefix: "人工客服",
    notSent: "（这句话没有发出去）",
    errorPrefix: "出错了：",
    errors: {
      network: "网络连接不上，您的话没有发出去。请检查网络后再试一次。",
      login: "登录没有成功，请刷新页面再试一次。",
      auth: "登录已过期，请刷新页面再试一次。",
      server: "服务暂时有点忙，您的话没有办理成功，请稍后再试一次。",
    },
    appsTitle: "我的申请",
    appsRefresh: "刷新",
    appsLoading: "正在查询，请稍等…",
    appsEmpty: "您还没有提交过申请。办好的申请会显示在这里。",
    appsNumber: "申办编号",
    appsNoNumber: "报送中，受理后会有编号",
    appsAt: "提交时间",
    appsStatus: "办理状态",
    appsItems: "各事项办理情况",
    appStatus: {
      pending: "正在报送到政务服务平台",
      accepted: "已受理",
      needs_staff: "需要工作人员人工核对",
      rejected: "未受理",
    },
    // Words the assistant understands as commands (bot/dialogue/commands.py).
    commands: { elderlyOn: "长辈模式", elderlyOff: "标准模式", skip: "跳过" },
  });

  const API = {
    login: "/api/mp/login",
    chat: "/api/chat",
    updates: "/api/chat/updates",
    applications: "/api/me/applications",
    things: "/api/things",
  };
  const STORE = { code: "lnyjs-demo-code", elderly: "lnyjs-demo-elderly" };
  const LONG_GUIDE = 280; // characters: a longer guide starts folded so the buttons stay in reach

  const $ = (id) => document.getElementById(id);
  const root = document.documentElement;

  /** A DOM element; `attrs` may hold `text`, `class`, `on<event>` and plain attributes. */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  // ---- the API -----------------------------------------------------------

  class ApiError extends Error {
    constructor(kind, status = 0) {
      super(kind);
      this.kind = kind; // network | login | auth | server
      this.status = status;
    }
  }

  let token = null;
  let tokenUntil = 0;

  function randomCode() {
    // getRandomValues works on plain http too (randomUUID needs a secure context)
    const bytes = crypto.getRandomValues(new Uint8Array(12));
    return "demo-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function http(path, { method = "GET", body, auth = true } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth) headers.Authorization = "Bearer " + (await ensureToken());
    let resp;
    try {
      resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (_) {
      throw new ApiError("network");
    }
    let data = null;
    try {
      data = await resp.json();
    } catch (_) {
      data = null;
    }
    if (!resp.ok || data === null) throw new ApiError(resp.status === 401 ? "auth" : "server", resp.status);
    return data;
  }

  /** The wx.login of the demo: a random code kept in this browser, so the same person comes back. */
  async function ensureToken() {
    if (token && Date.now() < tokenUntil) return token;
    for (let attempt = 0; attempt < 2; attempt += 1) {
      let code = localStorage.getItem(STORE.code);
      if (!code) {
        code = randomCode();
        localStorage.setItem(STORE.code, code);
      }
      try {
        const data = await http(API.login, { method: "POST", body: { code }, auth: false });
        token = data.token;
        tokenUntil = Date.now() + Math.max(60, data.expires_in - 60) * 1000;
        return token;
      } catch (err) {
        if (err.kind === "network") throw err;
        if (err.kind === "auth") {
          localStorage.removeItem(STORE.code); // a refused code: try once with a fresh one
          continue;
        }
        throw new ApiError("login", err.status);
      }
    }
    throw new ApiError("login");
  }

  /** An API call; an expired token is renewed once. */
  async function call(path, options = {}) {
    try {
      return await http(path, options);
    } catch (err) {
      if (err.kind !== "auth" || options.auth === false) throw err;
      token = null;
      return await http(path, options);
    }
  }

  // ---- notices: errors said in words ---------------------------------------

  function showNotice(err) {
    const kind = err instanceof ApiError ? err.kind : "server";
    const notice = $("notice");
    notice.replaceChildren(
      el("strong", { class: "notice-prefix", text: STRINGS.errorPrefix }),
      document.createTextNode(STRINGS.errors[kind] || STRINGS.errors.server),
    );
    notice.hidden = false;
  }

  function hideNotice() {
    $("notice").hidden = true;
  }

  // ---- the chat ------------------------------------------------------------

  let queue = Promise.resolve(); // one message at a time, in order

  /** Send one message after those before it; resolves to whether it got an answer. */
  function say(body, shown) {
    const done = queue.then(() => exchange(body, shown));
    queue = done.catch(() => false);
    return queue;
  }

  function turns() {
    return $("messages").querySelectorAll(":scope > .turn");
  }

  function setActive(turn, active) {
    if (!turn) return;
    turn.classList.toggle("active", active);
    for (const b of turn.querySelectorAll("button.answer")) b.disabled = !active;
  }

  async function exchange(body, shown) {
    hideNotice();
    const all = turns();
    const previous = all[all.length - 1];
    setActive(previous, false);
    const replies = el("div", { class: "replies" });
    const thinking = el("p", { class: "thinking", text: STRINGS.thinking });
    const turn = el(
      "li",
      { class: "turn", "data-state": "waiting" },
      el("p", { class: "bubble mine", text: shown }),
      thinking,
      replies,
    );
    $("messages").append(turn);
    root.dataset.busy = "1";
    turn.scrollIntoView({ block: "end" });
    try {
      const data = await call(API.chat, { method: "POST", body });
      thinking.remove();
      for (const reply of data.replies) {
        const node = render(reply);
        if (node) replies.append(node);
      }
      turn.dataset.state = "done";
      setActive(turn, true);
      // the assistant may have switched style on its own words ("字太小", "长辈模式"): follow it
      applyElderly(data.style !== "standard");
      localStorage.setItem(STORE.elderly, data.style !== "standard" ? "1" : "0");
      afterReplies(data.replies);
      turn.scrollIntoView({ block: "start" });
      follow(data.cursor);
      return true;
    } catch (err) {
      // the question stays on screen; what was typed comes back to send again
      turn.remove();
      setActive(previous, true);
      if (body.text !== undefined && !shownByButton(body.text)) $("input").value = body.text;
      showNotice(err);
      return false;
    } finally {
      delete root.dataset.busy;
    }
  }

  // ---- what comes outside a turn: a hotline agent's words, the bot resuming after them ----

  let cursor = null; // the conversation's log position this page has seen
  let following = false;

  /** Stream ids are "milliseconds-sequence": the later of two. */
  function later(a, b) {
    if (!a) return b;
    const [am, as] = a.split("-").map(Number);
    const [bm, bs] = b.split("-").map(Number);
    return am > bm || (am === bm && as >= bs) ? a : b;
  }

  function showUpdate(u) {
    const label = u.role === "agent" ? `${STRINGS.agentPrefix} ${u.agent}：` : "";
    const bubble = el("p", { class: `bubble ${u.role === "agent" ? "agent" : "bot"}`, "data-kind": `update-${u.role}` });
    if (label) bubble.append(el("strong", { class: "who", text: label }));
    bubble.append(document.createTextNode(u.text));
    const turn = el("li", { class: "turn pushed", "data-state": "done" }, el("div", { class: "replies" }, bubble));
    $("messages").append(turn);
    turn.scrollIntoView({ block: "end" });
  }

  /** A long poll that shows updates as they come; started once the page has a cursor. */
  async function follow(from) {
    cursor = later(cursor, from);
    if (following) return;
    following = true;
    while (true) {
      try {
        const data = await call(`${API.updates}?after=${encodeURIComponent(cursor)}`);
        data.updates.forEach(showUpdate);
        cursor = later(cursor, data.cursor);
      } catch (_) {
        await new Promise((resolve) => setTimeout(resolve, 3000)); // offline for a moment: ask again later
      }
    }
  }

  function shownByButton(text) {
    const words = [...STRINGS.quick, ...STRINGS.helpers].map((q) => q.text);
    return words.includes(text) || Object.values(STRINGS.commands).includes(text);
  }

  function afterReplies(replies) {
    const last = replies[replies.length - 1];
    const input = $("input");
    if (last && last.kind === "field" && !last.options.length) {
      input.placeholder = STRINGS.examplePrefix + last.example;
      input.focus({ preventScroll: true });
    } else if (last && (last.kind === "choices" || last.kind === "field")) {
      input.placeholder = STRINGS.inputPlaceholderChoice;
    } else {
      input.placeholder = STRINGS.inputPlaceholder;
    }
  }

  function answerButton(label, onclick) {
    return el("button", { type: "button", class: "answer", text: label, onclick });
  }

  function render(reply) {
    switch (reply.kind) {
      case "choices":
        return renderChoices(reply);
      case "field":
        return renderField(reply);
      case "guide":
        return renderGuide(reply);
      case "review":
        return renderReview(reply);
      case "link":
        return renderLink(reply);
      case "handoff":
        return el("div", { class: "card handoff", "data-kind": "handoff" }, el("p", { text: reply.text }));
      default:
        return el("p", { class: "bubble bot", "data-kind": reply.kind, text: reply.text });
    }
  }

  function renderChoices(reply) {
    const options = el("div", { class: "options" });
    for (const o of reply.options) {
      options.append(answerButton(o.label, () => say({ choice: o.payload }, o.label)));
    }
    return el(
      "div",
      { class: "question", "data-kind": "choices" },
      el("p", { class: "prompt", text: reply.prompt }),
      options,
    );
  }

  /** What was wrong with the last answer to this question, if anything. */
  function problemsOf(reply) {
    return reply.problem ? [reply.problem] : [];
  }

  function renderField(reply) {
    const card = el("div", { class: "question card field", "data-kind": "field", "data-field": reply.field_id });
    for (const problem of problemsOf(reply)) {
      card.append(
        el(
          "p",
          { class: "problem", role: "alert" },
          el("strong", { class: "problem-prefix", text: STRINGS.problemPrefix }),
          document.createTextNode(problem),
        ),
      );
    }
    card.append(el("p", { class: "prompt", text: STRINGS.fieldAsk + reply.label }));
    if (reply.help) card.append(el("p", { class: "help", text: reply.help }));
    if (reply.options.length) {
      const options = el("div", { class: "options" });
      for (const o of reply.options) {
        options.append(answerButton(o.label, () => say({ choice: o.payload }, o.label)));
      }
      card.append(options);
    } else if (reply.example) {
      card.append(el("p", { class: "example", text: STRINGS.examplePrefix + reply.example }));
    }
    if (reply.optional) {
      card.append(el("p", { class: "optional", text: STRINGS.fieldOptional }));
      card.append(
        el(
          "div",
          { class: "options" },
          answerButton(STRINGS.skip, () => say({ text: STRINGS.commands.skip }, STRINGS.skip)),
        ),
      );
    }
    return card;
  }

  function renderGuide(reply) {
    // the plain text opens with the title, which the card already shows as its heading
    const text = reply.text.startsWith(reply.title) ? reply.text.slice(reply.title.length).trimStart() : reply.text;
    const body = el("div", { class: "guide-body", text });
    const card = el(
      "article",
      { class: "card guide", "data-kind": "guide", "data-thing": reply.thing_id },
      el("h2", { class: "card-title", text: reply.title }),
      body,
    );
    if (text.length > LONG_GUIDE) {
      card.classList.add("folded");
      const toggle = el("button", { type: "button", class: "secondary fold", "aria-expanded": "false" });
      toggle.textContent = STRINGS.guideMore;
      toggle.addEventListener("click", () => {
        const folded = card.classList.toggle("folded");
        toggle.textContent = folded ? STRINGS.guideMore : STRINGS.guideLess;
        toggle.setAttribute("aria-expanded", String(!folded));
      });
      card.append(toggle);
    }
    return card;
  }

  function renderReview(reply) {
    const lines = reply.text.split("\n");
    const list = el("dl", { class: "review-lines" });
    for (const [label, value] of reply.lines) {
      list.append(el("div", { class: "review-line" }, el("dt", { text: label }), el("dd", { text: value })));
    }
    const card = el(
      "article",
      { class: "card review", "data-kind": "review" },
      el("h2", { class: "card-title", text: lines[0] }),
      list,
    );
    const notes = lines.slice(1 + reply.lines.length).filter((l) => l.trim());
    for (const note of notes) card.append(el("p", { class: "review-note", text: note }));
    return card;
  }

  function renderLink(reply) {
    const card = el("div", { class: "card link", "data-kind": "link" });
    // mini-program pages (/pages/…) do not exist on the web: only web paths become links
    if (/^(https?:\/\/|\/(?!pages\/))/.test(reply.path)) {
      card.append(el("a", { href: reply.path, class: "link-out", text: reply.title }));
    } else {
      card.append(el("p", { text: reply.text }));
    }
    return card;
  }

  function welcome() {
    const options = el("div", { class: "options" });
    for (const q of STRINGS.quick) options.append(answerButton(q.label, () => say({ text: q.text }, q.label)));
    const turn = el(
      "li",
      { class: "turn active", "data-state": "done" },
      el("div", { class: "replies" }, el("p", { class: "bubble bot", text: STRINGS.welcome }), options),
    );
    $("messages").append(turn);
  }

  // ---- 长辈模式 ---------------------------------------------------------------

  function applyElderly(on) {
    root.classList.toggle("elderly", on);
    const sw = $("elderly");
    sw.setAttribute("aria-checked", String(on));
    $("elderly-state").textContent = on ? STRINGS.elderlyOn : STRINGS.elderlyOff;
  }

  async function toggleElderly() {
    const on = !root.classList.contains("elderly");
    applyElderly(on);
    // the assistant changes its own wording too: shorter, one question at a time
    const command = on ? STRINGS.commands.elderlyOn : STRINGS.commands.elderlyOff;
    if (await say({ text: command }, command)) {
      localStorage.setItem(STORE.elderly, on ? "1" : "0");
    } else {
      applyElderly(!on); // the assistant was not told: page and assistant stay alike
    }
  }

  // ---- my applications ------------------------------------------------------

  let thingNames = null;

  async function names() {
    if (thingNames) return thingNames;
    const data = await http(API.things, { auth: false });
    thingNames = Object.fromEntries(data.things.map((t) => [t.id, t.name]));
    return thingNames;
  }

  function row(label, value, cls) {
    return el("div", { class: "app-row " + (cls || "") }, el("dt", { text: label }), el("dd", { text: value }));
  }

  function renderApplication(app, known) {
    const items = el("ul", { class: "app-items" });
    for (const item of app.items) {
      items.append(
        el(
          "li",
          { class: "app-item", "data-item": item.key },
          el("span", { class: "item-name", text: item.name }),
          el("span", { class: "item-status", text: item.status }),
        ),
      );
    }
    return el(
      "article",
      { class: "card app", "data-id": app.id, "data-thing": app.thing },
      el("h3", { class: "card-title", text: known[app.thing] || app.thing }),
      el(
        "dl",
        { class: "app-facts" },
        row(STRINGS.appsNumber, app.number || STRINGS.appsNoNumber, "app-number"),
        row(STRINGS.appsAt, app.at, "app-at"),
        row(STRINGS.appsStatus, STRINGS.appStatus[app.status] || app.status, "app-status"),
      ),
      el("h4", { class: "app-items-title", text: STRINGS.appsItems }),
      items,
    );
  }

  async function loadApplications() {
    const list = $("apps");
    list.setAttribute("aria-busy", "true");
    list.replaceChildren(el("p", { class: "loading", text: STRINGS.appsLoading }));
    hideNotice();
    try {
      const [known, data] = await Promise.all([names(), call(API.applications)]);
      list.replaceChildren(
        ...(data.applications.length
          ? data.applications.map((a) => renderApplication(a, known))
          : [el("p", { class: "empty", text: STRINGS.appsEmpty })]),
      );
    } catch (err) {
      list.replaceChildren();
      showNotice(err);
    } finally {
      list.removeAttribute("aria-busy");
    }
  }

  // ---- views ------------------------------------------------------------------

  function show(viewId) {
    for (const view of document.querySelectorAll(".view")) view.hidden = view.id !== viewId;
    for (const tab of document.querySelectorAll(".tab")) {
      if (tab.dataset.view === viewId) tab.setAttribute("aria-current", "page");
      else tab.removeAttribute("aria-current");
    }
    if (viewId === "apps-view") loadApplications();
  }

  // ---- start ----------------------------------------------------------------

  function fillWords() {
    document.title = STRINGS.pageTitle;
    $("title").textContent = STRINGS.title;
    $("elderly-label").textContent = STRINGS.elderlyLabel;
    $("send").textContent = STRINGS.send;
    $("input").placeholder = STRINGS.inputPlaceholder;
    $("input").setAttribute("aria-label", STRINGS.inputLabel);
    $("tab-chat").textContent = STRINGS.tabChat;
    $("tab-apps").textContent = STRINGS.tabApps;
    $("apps-title").textContent = STRINGS.appsTitle;
    $("apps-refresh").textContent = STRINGS.appsRefresh;
    const helpers = $("helpers");
    for (const h of STRINGS.helpers) {
      const onclick = () => say({ text: h.text }, h.label);
      helpers.append(el("button", { type: "button", class: "secondary", text: h.label, onclick }));
    }
  }

  function start() {
    fillWords();
    applyElderly(localStorage.getItem(STORE.elderly) === "1");
    welcome();
    $("elderly").addEventListener("click", toggleElderly);
    $("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      const input = $("input");
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      say({ text }, text);
    });
    for (const tab of document.querySelectorAll(".tab")) tab.addEventListener("click", () => show(tab.dataset.view));
    $("apps-refresh").addEventListener("click", loadApplications);
    // log in at once, so the first message does not wait for it; a failure is told when it matters
    ensureToken().catch(showNotice);
  }

  start();
})();

"use strict";
// Admins keep the guides current: the 35 one-things, one guide's elements (where each value
// comes from) and form, form inputs for the elements people change most, the whole YAML file,
// and the versions with their diffs (an earlier one can be published again).
(() => {
  const $ = (id) => document.getElementById(id);
  const EDITED = ["fee", "promised_limit_days", "location", "hours", "consult_phone", "supervise_phone", "conditions"];
  const INPUTS = {
    promised_limit_days: "promised", location: "location", hours: "hours",
    consult_phone: "consult-phone", supervise_phone: "supervise-phone", conditions: "conditions",
  };
  // which element a checker's path is about (items.2.guide.fee.charged → fee); handling_type
  // complaints are about the promised time limit
  const ABOUT = { handling_type: "promised_limit_days" };
  const SOURCE = { item: "本事项", defaults: "defaults", standard: "规范默认", missing: "缺少" };
  const { el, api } = window.ConsoleKit;
  let things = [];
  let current = null; // the open guide, as GET /console/api/catalog/things/{id} gave it
  let initial = {}; // the structured inputs as filled, to send only what changed

  function when(iso) {
    if (!iso) return "";
    return new Date(iso).toLocaleString("zh-CN", {
      timeZone: "Asia/Shanghai", hour12: false, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit",
    }).replaceAll("/", "-");
  }

  // an element's value in words: lists one per line (inside a value: joined with 、)
  function show(value, inner = false) {
    if (value === null || value === undefined || value === "") return "—";
    if (typeof value === "boolean") return value ? "是" : "否";
    if (Array.isArray(value)) {
      if (!value.length) return "—";
      return value.map((v) => show(v, true)).join(inner ? "、" : "\n");
    }
    if (typeof value === "object") {
      if ("charged" in value) {
        const parts = [value.charged ? "收费" : "不收费"];
        if (value.standard && value.standard !== "不收费") parts.push(value.standard);
        if (value.basis && value.basis !== "无") parts.push(`依据：${value.basis}`);
        return parts.join("；");
      }
      if ("available" in value) return value.available ? `可以：${value.note}` : "不可以";
      if ("description" in value) return `${value.name}：${value.description}${value.days != null ? `（${value.days} 个工作日）` : ""}`;
      if ("delivery" in value) {
        return `${value.name}${value.sample ? `（样本：${value.sample}）` : ""}；送达：${show(value.delivery, true)}`;
      }
      return Object.entries(value).map(([k, v]) => `${k}: ${show(v, true)}`).join("；");
    }
    return String(value);
  }

  function setStatus(id, text, kind = "") {
    const node = $(id);
    node.textContent = text;
    node.className = kind;
  }

  function problemLine(p) {
    return el("li", {}, el("code", {}, p.path || "-"), `: ${p.message}`);
  }

  // ---- the list of one-things ---------------------------------------------------

  function renderList() {
    const q = $("filter").value.trim();
    const shown = things.filter((t) => !q || t.name.includes(q) || t.id.includes(q));
    $("thing-count").textContent = `${shown.length} / ${things.length}`;
    $("things").replaceChildren(
      ...shown.map((t) => {
        const last = t.source === "console"
          ? el("span", { class: "edited" }, `${t.changed_by} ${when(t.changed_at)}`)
          : "随程序发布";
        const sub = el("span", { class: "sub" }, `${t.category} · 第 ${t.version} 版 · `, last);
        const pick = el("button", { type: "button", class: "pick", "data-thing": t.id, onclick: () => open(t.id) },
          el("span", { class: "name" }, `${t.seq}. ${t.name}`), sub);
        if (current && current.id === t.id) pick.setAttribute("aria-current", "true");
        return el("li", {}, pick);
      })
    );
  }

  async function loadList() {
    things = (await api("/console/api/catalog/things")).things;
    renderList();
  }

  // ---- one guide ------------------------------------------------------------------

  async function open(id, tab) {
    current = await api(`/console/api/catalog/things/${encodeURIComponent(id)}`);
    history.replaceState(null, "", `#${id}`);
    $("nothing").hidden = true;
    $("thing").hidden = false;
    $("thing-title").textContent = `${current.seq}. ${current.name}（${current.category}）`;
    const by = current.source === "console" ? `${current.changed_by} 于 ${when(current.changed_at)} 发布` : "随程序发布的文件";
    $("thing-meta").textContent = `${current.id} · 第 ${current.version} 版 · ${by}`;
    const broken = $("thing-problems");
    broken.hidden = !current.problems.length;
    broken.replaceChildren(
      "当前版本没有通过检查（在用的是第 " + current.live_version + " 版），请在“YAML 编辑”中改正：",
      el("ul", { class: "problems" }, ...current.problems.map(problemLine))
    );
    renderList();
    fillScopes();
    fillQuick();
    renderElements();
    renderForm();
    resetYaml();
    await loadHistory();
    if (tab) selectTab(tab);
  }

  function selectTab(name) {
    for (const b of document.querySelectorAll(".tabs [data-tab]")) {
      b.setAttribute("aria-selected", String(b.dataset.tab === name));
    }
    for (const p of document.querySelectorAll("[data-panel]")) p.hidden = p.dataset.panel !== name;
  }

  // ---- the elements people change most ----------------------------------------------

  function fillScopes() {
    const options = [el("option", { value: "defaults" }, "全部事项共用（defaults）")];
    current.items.forEach((item, n) => options.push(el("option", { value: item.key }, `事项 ${n + 1}：${item.name}`)));
    $("scope").replaceChildren(...options);
    $("element-item").replaceChildren(
      ...current.items.map((item, n) => el("option", { value: item.key }, `${n + 1}. ${item.name}`))
    );
  }

  function scopeItem() {
    const scope = $("scope").value;
    return scope === "defaults" ? null : current.items.find((i) => i.key === scope);
  }

  function inheritBox(element) {
    return document.querySelector(`[data-inherit="${element}"]`);
  }

  function write(element, value) {
    if (element === "fee") {
      const fee = value || {};
      $("fee-charged").value = String(Boolean(fee.charged));
      $("fee-standard").value = fee.standard && !(fee.standard === "不收费" && !fee.charged) ? fee.standard : "";
      $("fee-basis").value = fee.basis && fee.basis !== "无" ? fee.basis : "";
    } else if (element === "conditions") {
      $("conditions").value = (value || []).join("\n");
    } else {
      $(INPUTS[element]).value = value == null ? "" : String(value);
    }
  }

  function read(element) {
    if (element === "fee") {
      const fee = { charged: $("fee-charged").value === "true" };
      const standard = $("fee-standard").value.trim();
      const basis = $("fee-basis").value.trim();
      if (standard) fee.standard = standard;
      if (basis) fee.basis = basis;
      return fee;
    }
    if (element === "conditions") {
      const lines = $("conditions").value.split("\n").map((l) => l.trim()).filter(Boolean);
      return lines.length ? lines : null;
    }
    const raw = $(INPUTS[element]).value.trim();
    if (!raw) return null;
    if (element === "promised_limit_days") return /^\d+$/.test(raw) ? Number(raw) : raw; // the checks word a bad number
    return raw;
  }

  function setDisabled(element, disabled) {
    const ids = element === "fee" ? ["fee-charged", "fee-standard", "fee-basis"] : [INPUTS[element]];
    for (const id of ids) $(id).disabled = disabled;
  }

  function fillQuick() {
    const item = scopeItem();
    const others = current.items;
    $("scope-hint").textContent = item
      ? "只改这个事项；勾选“沿用 defaults”则去掉本事项自己的值"
      : "各事项没有单独设置的，都用这里的值";
    for (const element of EDITED) {
      const box = inheritBox(element);
      box.closest("label").hidden = !item;
      let value;
      let source;
      if (item) {
        const e = item.elements[element];
        value = e.source === "standard" ? e.effective : e.value;
        source = {
          item: "本事项单独设置", defaults: "沿用 defaults 中的值", standard: "文件未写，取规范默认值",
          missing: "未填写",
        }[e.source];
        box.checked = e.source !== "item";
        setDisabled(element, box.checked);
      } else {
        value = current.defaults[element];
        const own = others.filter((i) => i.elements[element].source === "item").map((i) => i.name);
        source = (element in current.defaults ? "defaults 中已填写" : "defaults 中未填写") +
          (own.length ? `；${own.length} 个事项单独设置了此项，以事项自己的为准：${own.join("、")}` : "");
        box.checked = false;
        setDisabled(element, false);
      }
      write(element, value);
      document.querySelector(`[data-source="${element}"]`).textContent = source;
    }
    initial = snapshot();
    clearProblems();
    setStatus("quick-status", "");
  }

  function snapshot() {
    const out = {};
    for (const element of EDITED) out[element] = JSON.stringify([inheritBox(element).checked, read(element)]);
    return out;
  }

  function clearProblems() {
    for (const ul of document.querySelectorAll("[data-problems]")) ul.replaceChildren();
    for (const f of document.querySelectorAll("fieldset[data-element]")) f.classList.remove("bad");
    $("quick-problems").replaceChildren();
  }

  function changes() {
    const now = snapshot();
    const out = {};
    for (const element of EDITED) {
      if (now[element] === initial[element]) continue;
      out[element] = scopeItem() && inheritBox(element).checked ? null : read(element);
    }
    return out;
  }

  function placeProblems(problems) {
    for (const p of problems) {
      const m = /(?:^|\.)guide\.([a-z_]+)/.exec(p.path || "");
      const element = m && (ABOUT[m[1]] || m[1]);
      const list = EDITED.includes(element) ? document.querySelector(`[data-problems="${element}"]`) : $("quick-problems");
      list.append(problemLine(p));
      if (EDITED.includes(element)) document.querySelector(`fieldset[data-element="${element}"]`).classList.add("bad");
    }
  }

  async function publishQuick(event) {
    event.preventDefault();
    clearProblems();
    const edit = changes();
    if (!Object.keys(edit).length) {
      setStatus("quick-status", "没有修改", "bad");
      return;
    }
    const body = { scope: $("scope").value, changes: edit, base_version: current.version, note: $("quick-note").value.trim() };
    $("quick-publish").disabled = true;
    try {
      const done = await api(`/console/api/catalog/things/${current.id}/elements`, { method: "POST", body });
      const scope = $("scope").value;
      $("quick-note").value = "";
      await Promise.all([open(current.id), loadList()]);
      $("scope").value = scope;
      fillQuick();
      setStatus("quick-status", `已发布第 ${done.version} 版，已在所有服务中生效`, "ok");
    } catch (err) {
      if (err.message === "login") return;
      setStatus("quick-status", err.message, "bad");
      if (err.data && err.data.problems) placeProblems(err.data.problems);
    } finally {
      $("quick-publish").disabled = false;
    }
  }

  // ---- all elements, the form ------------------------------------------------------

  function renderElements() {
    const item = current.items.find((i) => i.key === $("element-item").value) || current.items[0];
    const rows = current.elements.map((e) => {
      let value;
      let badge;
      if (e.field === "name") {
        value = item.name;
        badge = el("span", { class: "badge" }, "清单");
      } else if (e.field === "materials") {
        value = item.materials.join("\n");
        badge = el("span", { class: "badge" }, "materials");
      } else if (e.field === "faq") {
        value = current.faq.map((f) => `问：${f.q}`).join("\n");
        badge = el("span", { class: "badge" }, "faq");
      } else {
        const v = item.elements[e.field];
        value = show(v.source === "standard" ? v.effective : v.value);
        badge = el("span", { class: `badge ${v.source}` }, SOURCE[v.source]);
      }
      return el("tr", { "data-field": e.field }, el("td", {}, e.n), el("td", {}, e.label),
        el("td", { class: "field" }, e.field), el("td", { class: "value" }, value), el("td", {}, badge));
    });
    $("element-table").querySelector("tbody").replaceChildren(...rows);
  }

  function renderForm() {
    const rows = current.form.map((f, n) => el("tr", {},
      el("td", {}, String(n + 1)), el("td", { class: "field" }, f.id), el("td", {}, f.label),
      el("td", {}, f.type + (f.options ? `（${f.options.join(" / ")}）` : "")),
      el("td", {}, f.required === false ? "否" : "是"), el("td", {}, (f.items || []).join("、")),
      el("td", {}, f.prefill || ""), el("td", {}, f.when ? show(f.when) : ""),
      el("td", { class: "value" }, `${f.help}\n例如：${f.example}`)));
    $("form-table").querySelector("tbody").replaceChildren(...rows);
  }

  // ---- the whole file -----------------------------------------------------------------

  function resetYaml() {
    $("yaml-text").value = current.yaml;
    $("yaml-problems").replaceChildren();
    setStatus("yaml-status", "");
  }

  async function checkYaml() {
    $("yaml-problems").replaceChildren();
    try {
      const r = await api(`/console/api/catalog/things/${current.id}/check`, { method: "POST", body: { yaml: $("yaml-text").value } });
      $("yaml-problems").replaceChildren(...r.problems.map(problemLine));
      setStatus("yaml-status", r.ok ? "检查通过" : `${r.problems.length} 处问题`, r.ok ? "ok" : "bad");
    } catch (err) {
      if (err.message !== "login") setStatus("yaml-status", err.message, "bad");
      if (err.data && err.data.problems) $("yaml-problems").replaceChildren(...err.data.problems.map(problemLine));
    }
  }

  async function publishYaml() {
    $("yaml-problems").replaceChildren();
    const body = { yaml: $("yaml-text").value, base_version: current.version, note: $("yaml-note").value.trim() };
    $("yaml-publish").disabled = true;
    try {
      const done = await api(`/console/api/catalog/things/${current.id}/yaml`, { method: "PUT", body });
      $("yaml-note").value = "";
      await Promise.all([open(current.id, "yaml"), loadList()]);
      setStatus("yaml-status", `已发布第 ${done.version} 版，已在所有服务中生效`, "ok");
    } catch (err) {
      if (err.message === "login") return;
      setStatus("yaml-status", err.message, "bad");
      if (err.data && err.data.problems) $("yaml-problems").replaceChildren(...err.data.problems.map(problemLine));
    } finally {
      $("yaml-publish").disabled = false;
    }
  }

  // ---- versions --------------------------------------------------------------------------

  function diffView(text) {
    const lines = text.replace(/\n$/, "").split("\n").map((line) => {
      let kind = "";
      if (line.startsWith("+++") || line.startsWith("---")) kind = "file";
      else if (line.startsWith("+")) kind = "add";
      else if (line.startsWith("-")) kind = "del";
      else if (line.startsWith("@@")) kind = "hunk";
      return el("span", kind ? { class: kind } : {}, line);
    });
    return el("pre", { class: "diff" }, ...lines);
  }

  async function loadHistory() {
    const { versions } = await api(`/console/api/catalog/things/${current.id}/versions`);
    const items = versions.map((v, n) => {
      const head = el("div", { class: "what" }, el("strong", {}, `第 ${v.version} 版`));
      if (n === 0) head.append(el("span", { class: "badge now" }, "当前"));
      head.append(el("span", { class: "meta" }, v.source === "file" ? v.note : `${v.changed_by} · ${when(v.changed_at)}`));
      if (v.source !== "file" && v.note) head.append(el("span", {}, `说明：${v.note}`));
      if (n > 0) {
        const again = el("button", { type: "button", class: "quiet", "data-version": v.version }, "以此版本重新发布");
        again.addEventListener("click", () => republish(v.version, again));
        head.append(again);
      }
      const li = el("li", { "data-version": v.version }, head);
      if (v.diff) {
        const details = el("details", {}, el("summary", {}, "改动"), diffView(v.diff));
        if (n === 0) details.open = true;
        li.append(details);
      }
      return li;
    });
    $("versions").replaceChildren(...items);
  }

  async function republish(version, button) {
    // two steps instead of a pop-up: the first press asks, the second publishes
    if (button.dataset.armed !== "1") {
      button.dataset.armed = "1";
      button.textContent = `确认把第 ${version} 版发布为新版本`;
      button.className = "";
      return;
    }
    button.disabled = true;
    try {
      await api(`/console/api/catalog/things/${current.id}/versions/${version}/republish`, {
        method: "POST", body: { base_version: current.version, note: `重新发布第 ${version} 版` },
      });
      await Promise.all([open(current.id, "history"), loadList()]);
    } catch (err) {
      if (err.message === "login") return;
      button.disabled = false;
      button.textContent = err.message;
    }
  }

  // ---- wiring ------------------------------------------------------------------------------

  async function start() {
    await window.ConsoleKit.me();
    for (const b of document.querySelectorAll(".tabs [data-tab]")) b.addEventListener("click", () => selectTab(b.dataset.tab));
    $("filter").addEventListener("input", renderList);
    $("scope").addEventListener("change", fillQuick);
    $("element-item").addEventListener("change", renderElements);
    $("quick-form").addEventListener("submit", publishQuick);
    $("quick-reset").addEventListener("click", fillQuick);
    for (const element of EDITED) {
      inheritBox(element).addEventListener("change", (e) => {
        setDisabled(element, e.target.checked);
        if (e.target.checked) {
          const v = scopeItem().elements[element];
          write(element, v.source === "item" ? current.defaults[element] : v.source === "standard" ? v.effective : v.value);
        }
      });
    }
    $("yaml-check").addEventListener("click", checkYaml);
    $("yaml-publish").addEventListener("click", publishYaml);
    $("yaml-reset").addEventListener("click", resetYaml);
    await loadList();
    const wanted = decodeURIComponent(location.hash.slice(1));
    if (things.some((t) => t.id === wanted)) await open(wanted);
  }

  start().catch((err) => console.error(err));
})();

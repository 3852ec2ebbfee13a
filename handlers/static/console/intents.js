"use strict";
// Admins train the intents: examples with entity annotations (Rasa's [text](entity)),
// the inbox of utterances to label, retraining with a progress bar, the evaluation
// report of a version (per intent, heat map, misclassified), activation and roll-back.
(() => {
  const $ = (id) => document.getElementById(id);
  const API = "/api/admin/nlu";
  const STAGES = {
    preparing: "准备数据",
    training: "训练模型",
    cross_validation: "交叉验证",
    held_out: "测试集评估",
    saving: "保存版本",
    done: "完成",
  };
  const SETS = { cross_validation: "交叉验证", held_out: "测试集" };
  // [text](entity) or [text]{"entity": ...}, as bot/nlu/data.py reads them
  const ANNOTATION = /\[([^\]]+)\](?:\(([^)]+)\)|(\{[^}]*\}))/g;

  const { el, api } = window.ConsoleKit;
  let intents = []; // [{intent, name, examples, accuracy}]
  let entities = {}; // entity -> name
  let selected = null; // the intent whose examples are shown
  let editing = null; // the example being edited
  let report = null; // the report shown, and which set
  let reportSet = "cross_validation";
  let pendingForce = null; // the version whose activation was refused

  const nameOf = (intent) => (intents.find((i) => i.intent === intent) || {}).name || intent;
  const pct = (x) => (x === null || x === undefined ? "—" : `${(x * 100).toFixed(1)}%`);
  const fixed = (x) => (x === null || x === undefined ? "—" : x.toFixed(2));
  const when = (iso) => (iso ? iso.slice(0, 16).replace("T", " ") : "");

  function say(id, text, bad = false) {
    $(id).textContent = text;
    $(id).classList.toggle("error", bad);
  }

  // ---- tabs ----------------------------------------------------------------
  function showTab(name) {
    for (const t of ["examples", "inbox", "models"]) {
      $(`tab-${t}`).setAttribute("aria-selected", String(t === name));
      $(`pane-${t}`).hidden = t !== name;
    }
  }

  // ---- annotations ---------------------------------------------------------
  function spans(raw) {
    const out = [];
    for (const m of raw.matchAll(ANNOTATION)) {
      let entity = m[2] ? m[2].split(":")[0] : "";
      if (m[3]) {
        try {
          entity = JSON.parse(m[3]).entity || "";
        } catch (err) {
          entity = "";
        }
      }
      out.push({ start: m.index, end: m.index + m[0].length, text: m[1], entity });
    }
    return out;
  }

  // The example as a person reads it, each annotation highlighted with its entity's name.
  function highlighted(raw) {
    const frag = document.createDocumentFragment();
    let pos = 0;
    for (const s of spans(raw)) {
      frag.append(raw.slice(pos, s.start));
      frag.append(el("mark", { class: "ent", "data-entity": s.entity, title: s.entity },
        s.text, el("span", { class: "tag" }, entities[s.entity] || s.entity)));
      pos = s.end;
    }
    frag.append(raw.slice(pos));
    return frag;
  }

  function preview() {
    const raw = $("example-text").value;
    $("example-preview").classList.toggle("empty", !raw.trim());
    $("example-preview").replaceChildren(raw.trim() ? highlighted(raw) : "（空）");
  }

  function annotate() {
    const input = $("example-text");
    let [a, b] = [input.selectionStart, input.selectionEnd];
    const raw = input.value;
    while (a < b && raw[a] === " ") a += 1;
    while (b > a && raw[b - 1] === " ") b -= 1;
    if (a === b) {
      say("example-status", "请先在例句里选中要标注的文字", true);
      return;
    }
    const overlaps = spans(raw).some((s) => a < s.end && b > s.start);
    if (overlaps || /[[\]()]/.test(raw.slice(a, b))) {
      say("example-status", "选中的文字和已有的标注重叠，请先去掉那个标注", true);
      return;
    }
    const entity = $("entity-pick").value;
    input.value = `${raw.slice(0, a)}[${raw.slice(a, b)}](${entity})${raw.slice(b)}`;
    say("example-status", `已标注为“${entities[entity] || entity}”`);
    preview();
    input.focus();
  }

  function unannotate() {
    const input = $("example-text");
    const raw = input.value;
    const at = input.selectionStart;
    const s = spans(raw).find((x) => at >= x.start && at <= x.end);
    if (!s) {
      say("example-status", "把光标放在要去掉的标注里", true);
      return;
    }
    input.value = raw.slice(0, s.start) + s.text + raw.slice(s.end);
    say("example-status", "已去掉标注");
    preview();
  }

  // ---- intents -------------------------------------------------------------
  function accuracyLine(i) {
    if (!i.accuracy) return null;
    const cv = i.accuracy.cross_validation;
    const held = i.accuracy.held_out;
    const parts = [];
    if (cv) parts.push(`召回 ${pct(cv.recall)} · F1 ${fixed(cv.f1)}`);
    if (held) parts.push(`测试集召回 ${pct(held.recall)}`);
    const low = (cv && cv.recall < 0.8) || (held && held.recall < 0.8);
    return el("span", { class: "acc" + (low ? " low" : "") }, parts.join(" · "));
  }

  function renderIntents() {
    const q = $("intent-filter").value.trim().toLowerCase();
    const shown = intents.filter((i) => !q || i.intent.includes(q) || i.name.toLowerCase().includes(q));
    $("intents").replaceChildren(...shown.map((i) => {
      const pick = el("button", { type: "button", class: "pick", "data-intent": i.intent,
        "aria-current": i.intent === selected ? "true" : null, onclick: () => selectIntent(i.intent) },
      el("span", { class: "name" }, i.name),
      el("span", { class: "id" }, i.intent),
      el("span", { class: "n" }, `${i.examples} 句`),
      accuracyLine(i) || el("span", { class: "acc none" }, "还没有评估"));
      return el("li", {}, pick);
    }));
    $("intent-count").textContent = `${intents.length} 个`;
  }

  function intentOptions(select, chosen, blank) {
    const things = intents.filter((i) => i.intent.startsWith("thing_"));
    const other = intents.filter((i) => !i.intent.startsWith("thing_"));
    const opt = (i) => el("option", { value: i.intent, selected: i.intent === chosen }, `${i.name}（${i.intent}）`);
    select.replaceChildren(
      ...(blank ? [el("option", { value: "" }, blank)] : []),
      el("optgroup", { label: "一件事" }, ...things.map(opt)),
      el("optgroup", { label: "其他" }, ...other.map(opt)),
    );
  }

  async function loadIntents() {
    const data = await api(`${API}/intents`);
    intents = data.intents;
    $("accuracy-note").textContent = data.evaluated
      ? `准确率来自正在使用的第 ${data.evaluated.version} 版的评估（召回：该意图的话被认对的比例）`
      : data.note;
    renderIntents();
  }

  async function selectIntent(intent) {
    selected = intent;
    stopEditing();
    renderIntents();
    showTab("examples");
    await loadExamples();
  }

  // ---- examples ------------------------------------------------------------
  async function loadExamples() {
    if (!selected) return;
    const data = await api(`${API}/examples?intent=${encodeURIComponent(selected)}`);
    $("examples-title").textContent = nameOf(selected);
    $("examples-meta").textContent = `${selected} · ${data.examples.length} 句`;
    $("example-form").hidden = false;
    intentOptions($("example-intent"), editing ? editing.intent : selected);
    $("examples").replaceChildren(...data.examples.slice().reverse().map((e) => {
      const remove = el("button", { type: "button", class: "quiet", onclick: () => removeExample(e, remove) }, "删除");
      return el("li", { "data-example": e.id, class: editing && editing.id === e.id ? "editing" : null },
        el("span", { class: "what" }, highlighted(e.text)),
        el("button", { type: "button", class: "quiet", onclick: () => startEditing(e) }, "修改"),
        remove);
    }));
  }

  function startEditing(e) {
    editing = e;
    $("example-text").value = e.text;
    $("example-intent").value = e.intent;
    $("example-save").textContent = "保存修改";
    $("example-cancel").hidden = false;
    say("example-status", "正在修改一条例句");
    preview();
    $("example-text").focus();
    for (const li of $("examples").children) li.classList.toggle("editing", li.dataset.example === String(e.id));
  }

  function stopEditing() {
    editing = null;
    $("example-text").value = "";
    $("example-save").textContent = "添加例句";
    $("example-cancel").hidden = true;
    if (selected) $("example-intent").value = selected;
    preview();
    for (const li of $("examples").children) li.classList.remove("editing");
  }

  async function saveExample(event) {
    event.preventDefault();
    const text = $("example-text").value.trim();
    const intent = $("example-intent").value || selected;
    if (!text) {
      say("example-status", "例句不能为空", true);
      return;
    }
    try {
      if (editing) await api(`${API}/examples/${editing.id}`, { method: "PUT", body: { text, intent } });
      else await api(`${API}/examples`, { method: "POST", body: { text, intent } });
    } catch (err) {
      say("example-status", err.message, true);
      return;
    }
    const note = editing ? "已保存修改" : `已添加到“${nameOf(intent)}”`;
    stopEditing();
    say("example-status", `${note}；重新训练并启用后生效`);
    await Promise.all([loadExamples(), loadIntents()]);
  }

  // Two steps instead of a confirm() dialog: the first press asks, the second removes.
  async function removeExample(e, button) {
    if (!button.classList.contains("danger")) {
      button.classList.add("danger");
      button.textContent = "确认删除";
      setTimeout(() => {
        button.classList.remove("danger");
        button.textContent = "删除";
      }, 4000);
      return;
    }
    try {
      await api(`${API}/examples/${e.id}`, { method: "DELETE" });
    } catch (err) {
      say("example-status", err.message, true);
      return;
    }
    if (editing && editing.id === e.id) stopEditing();
    say("example-status", "已删除");
    await Promise.all([loadExamples(), loadIntents()]);
  }

  // ---- inbox ---------------------------------------------------------------
  async function loadInbox() {
    const data = await api(`${API}/fallbacks`);
    $("inbox-count").textContent = String(data.fallbacks.length);
    $("inbox-empty").hidden = data.fallbacks.length > 0;
    $("inbox").querySelector("tbody").replaceChildren(...data.fallbacks.map((f) => {
      const pick = el("select", { "aria-label": "意图" });
      intentOptions(pick, f.suggested_intent, "请选择意图");
      const source = f.source === "agent"
        ? el("span", { class: "badge agent" }, "坐席纠正")
        : el("span", { class: "badge" }, "没听懂");
      const label = el("button", { type: "button", onclick: () => labelEntry(f, pick.value) }, "标注");
      const dismiss = el("button", { type: "button", class: "quiet", onclick: () => dismissEntry(f) }, "忽略");
      return el("tr", { "data-fallback": f.id },
        el("td", { class: "nowrap" }, when(f.at)),
        el("td", {}, source, el("span", { class: "meta small" }, ` ${f.channel}`)),
        el("td", {}, f.text),
        el("td", { class: "pick-cell" }, pick),
        el("td", { class: "nowrap" }, label, " ", dismiss));
    }));
  }

  async function labelEntry(f, intent) {
    if (!intent) {
      say("inbox-status", "请先选择意图", true);
      return;
    }
    try {
      await api(`${API}/fallbacks/${f.id}/label`, { method: "POST", body: { intent } });
    } catch (err) {
      say("inbox-status", err.message, true);
      await loadInbox();
      return;
    }
    say("inbox-status", `“${f.text}”已成为“${nameOf(intent)}”的例句`);
    await Promise.all([loadInbox(), loadIntents(), loadExamples()]);
  }

  async function dismissEntry(f) {
    try {
      await api(`${API}/fallbacks/${f.id}/dismiss`, { method: "POST" });
    } catch (err) {
      say("inbox-status", err.message, true);
    }
    say("inbox-status", `已忽略“${f.text}”`);
    await loadInbox();
  }

  // ---- training ------------------------------------------------------------
  function showJob(job) {
    const percent = job.status === "done" ? 100 : job.percent;
    $("train-bar").setAttribute("aria-valuenow", String(percent));
    $("train-bar").querySelector(".fill").style.width = `${percent}%`;
    $("train-bar").classList.toggle("failed", job.status === "failed");
    $("train-percent").textContent = `${percent}%`;
    let stage = STAGES[job.stage] || job.stage;
    if (job.stage === "cross_validation" && job.detail && job.detail.fold) {
      stage += ` 第 ${job.detail.fold}/${job.detail.folds} 折`;
    }
    if (job.status === "running") say("train-stage", `${stage}…（${job.actor} 开始于 ${when(job.started_at)}）`);
    else if (job.status === "done") say("train-stage", `训练完成：第 ${job.version} 版，评估报告见下方`);
    else say("train-stage", job.message || "训练失败", true);
    $("train").disabled = job.status === "running";
  }

  async function follow(jobId) {
    for (;;) {
      let job;
      try {
        job = (await api(`${API}/training/${jobId}`)).job;
      } catch (err) {
        say("train-stage", err.message, true);
        $("train").disabled = false;
        return;
      }
      showJob(job);
      if (job.status !== "running") {
        await loadModels();
        if (job.status === "done") await showReport(job.version);
        return;
      }
      await new Promise((r) => setTimeout(r, 400));
    }
  }

  async function train() {
    $("train").disabled = true;
    let job;
    try {
      job = (await api(`${API}/models`, { method: "POST" })).job;
    } catch (err) {
      say("train-stage", err.message, true);
      if (err.status === 409 && err.data.job && err.data.job.id) await follow(err.data.job.id);
      else $("train").disabled = false;
      return;
    }
    showJob(job);
    await follow(job.id);
  }

  // ---- versions, activation --------------------------------------------------
  function accuracyCell(summary, baseline) {
    if (!summary) return el("td", {}, "—");
    const td = el("td", {}, pct(summary.accuracy));
    if (baseline) td.append(" ", change(summary.accuracy - baseline.accuracy, true));
    return td;
  }

  function change(delta, percent = false) {
    if (delta === null || delta === undefined) return el("span", { class: "delta none" }, "新");
    if (Math.abs(delta) < 0.0005) return el("span", { class: "delta" }, "±0");
    const text = percent ? `${(Math.abs(delta) * 100).toFixed(1)}%` : Math.abs(delta).toFixed(2);
    return el("span", { class: delta > 0 ? "delta up" : "delta down" }, `${delta > 0 ? "▲" : "▼"}${text}`);
  }

  async function loadModels() {
    const data = await api(`${API}/models`);
    $("rasa-notice").hidden = data.answering !== "rasa"; // with Rasa, what is activated here answers only as its stand-in
    const active = data.models.find((m) => m.status === "active");
    const status = { active: "使用中", retired: "已停用", trained: "未启用" };
    $("models-empty").hidden = data.models.length > 0;
    $("models").querySelector("tbody").replaceChildren(...data.models.map((m) => {
      const base = active && active.version !== m.version ? active.evaluation : null;
      const actions = el("td", { class: "nowrap" },
        el("button", { type: "button", class: "quiet", onclick: () => showReport(m.version) }, "评估报告"));
      if (m.status !== "active") {
        actions.append(" ", el("button", { type: "button", class: "activate", onclick: () => activate(m.version, false) }, "启用"));
      }
      return el("tr", { "data-version": m.version, class: m.status === "active" ? "current" : null },
        el("td", {}, `第 ${m.version} 版`),
        el("td", {}, el("span", { class: `badge ${m.status}` }, status[m.status] || m.status)),
        el("td", { class: "nowrap" }, when(m.created_at)),
        el("td", {}, m.created_by),
        el("td", {}, String(m.examples)),
        accuracyCell(m.evaluation.cross_validation, base && base.cross_validation),
        accuracyCell(m.evaluation.held_out, base && base.held_out),
        actions);
    }));
  }

  async function activate(version, force) {
    $("force").hidden = true;
    pendingForce = null;
    try {
      await api(`${API}/models/${version}/activate`, { method: "POST", body: { force } });
    } catch (err) {
      const d = err.data || {};
      const refused = err.status === 409 && d.error === "accuracy_drop";
      say("models-status", refused && typeof d.drop === "number"
        ? `第 ${version} 版的交叉验证准确率比正在使用的版本低 ${(d.drop * 100).toFixed(1)} 个百分点，` +
          `超过允许的 ${(d.margin * 100).toFixed(1)} 个百分点，没有启用。确实要用它，请点“仍然启用”。`
        : err.message, true);
      if (refused) {
        pendingForce = version;
        $("force").textContent = `仍然启用第 ${version} 版`;
        $("force").hidden = false;
      }
      return;
    }
    say("models-status", `第 ${version} 版已启用，所有服务进程会在几秒内换上它`);
    await Promise.all([loadModels(), loadIntents()]);
    if (report) await showReport(report.version.version);
  }

  async function rollback() {
    $("force").hidden = true;
    try {
      const data = await api(`${API}/models/rollback`, { method: "POST" });
      say("models-status", `已回退到第 ${data.version} 版`);
    } catch (err) {
      say("models-status", err.message, true);
      return;
    }
    await Promise.all([loadModels(), loadIntents()]);
  }

  // ---- the evaluation report ---------------------------------------------------
  async function showReport(version) {
    try {
      report = await api(`${API}/models/${version}/report`);
    } catch (err) {
      say("models-status", err.message, true);
      return;
    }
    if (!report.sets[reportSet]) reportSet = Object.keys(report.sets)[0] || "cross_validation";
    $("report").hidden = false;
    renderReport();
  }

  function figure(value, delta) {
    const td = el("td", { class: "num" }, fixed(value));
    if (delta !== undefined) td.append(" ", change(delta));
    return td;
  }

  function renderReport() {
    const v = report.version;
    const set = report.sets[reportSet];
    $("report-title").textContent = `第 ${v.version} 版的评估报告`;
    $("report-against").textContent = report.against
      ? `与第 ${report.against.version} 版（${report.against.status === "active" ? "正在使用" : "之前使用"}）相比`
      : "没有可比较的版本";
    for (const b of document.querySelectorAll("#report .sets button")) {
      b.hidden = !report.sets[b.dataset.set];
      b.setAttribute("aria-pressed", String(b.dataset.set === reportSet));
    }
    if (!set) {
      $("report-summary").textContent = "这个版本没有保存评估报告（较早训练的版本）";
      for (const id of ["report-intents", "report-errors"]) $(id).querySelector("tbody").replaceChildren();
      $("heatmap").removeAttribute("src");
      return;
    }
    const s = set.summary;
    const parts = [`${SETS[reportSet]}：准确率 ${pct(s.accuracy)}`, `宏平均 F1 ${fixed(s.macro_f1)}`,
      `不在服务范围的召回 ${pct(s.out_of_scope_recall)}`, `共 ${s.n} 句`];
    $("report-summary").replaceChildren(parts.join(" · "));
    if (set.baseline) $("report-summary").append(" · 准确率变化 ", change(s.accuracy - set.baseline.accuracy, true));

    const img = $("heatmap");
    if (img.getAttribute("src") !== set.heatmap) {
      img.classList.add("loading"); // drawn on request: the old picture must not pass for the new one
      img.src = set.heatmap;
    }
    const every = new Set(set.intents.map((r) => r.intent)).size;
    $("heatmap-caption").textContent = set.heatmap_intents.length < every
      ? `只画出有混淆的 ${set.heatmap_intents.length} 个意图（共 ${every} 个）。行：应为；列：识别为；颜色：占该意图的比例。`
      : "行：应为；列：识别为；颜色：占该意图的比例（对角线为认对的句数）。";

    const rows = set.intents.slice().sort((a, b) => a.f1 - b.f1 || a.intent.localeCompare(b.intent));
    $("report-intents").querySelector("tbody").replaceChildren(...rows.map((r) => {
      const c = r.change || {};
      const tr = el("tr", { "data-intent": r.intent, class: r.f1 < 0.8 ? "bad" : null },
        el("td", {}, r.name, el("span", { class: "id" }, r.intent)),
        figure(r.precision, r.change ? c.precision : undefined),
        figure(r.recall, r.change ? c.recall : undefined),
        figure(r.f1, r.change ? c.f1 : undefined),
        el("td", { class: "num" }, String(r.support)));
      if (!r.change && report.against) tr.children[3].append(" ", change(null));
      return tr;
    }));

    $("errors-title").textContent = set.errors_total
      ? `识别错的句子（${set.errors_total} 句${set.errors_total > set.errors.length ? `，显示置信度最高的 ${set.errors.length} 句` : ""}）`
      : "识别错的句子：没有";
    $("report-errors").querySelector("tbody").replaceChildren(...set.errors.map((e) => el("tr", {},
      el("td", {}, e.text),
      el("td", {}, e.intent_name),
      el("td", {}, e.predicted_name),
      el("td", { class: "num" }, pct(e.confidence)))));
  }

  // ---- start ---------------------------------------------------------------
  $("heatmap").addEventListener("load", () => $("heatmap").classList.remove("loading"));
  $("tab-examples").addEventListener("click", () => showTab("examples"));
  $("tab-inbox").addEventListener("click", () => {
    showTab("inbox");
    loadInbox().catch((err) => say("inbox-status", err.message, true));
  });
  $("tab-models").addEventListener("click", () => showTab("models"));
  $("intent-filter").addEventListener("input", renderIntents);
  $("example-text").addEventListener("input", preview);
  $("annotate").addEventListener("click", annotate);
  $("unannotate").addEventListener("click", unannotate);
  $("example-form").addEventListener("submit", saveExample);
  $("example-cancel").addEventListener("click", () => {
    stopEditing();
    say("example-status", "");
  });
  $("train").addEventListener("click", train);
  $("rollback").addEventListener("click", rollback);
  $("force").addEventListener("click", () => pendingForce !== null && activate(pendingForce, true));
  for (const b of document.querySelectorAll("#report .sets button")) {
    b.addEventListener("click", () => {
      reportSet = b.dataset.set;
      renderReport();
    });
  }

  async function start() {
    await window.ConsoleKit.me();
    await loadIntents(); // the inbox's pickers list the intents
    const [ents] = await Promise.all([api(`${API}/entities`), loadModels(), loadInbox()]);
    entities = Object.fromEntries(ents.entities.map((e) => [e.entity, e.name]));
    $("entity-pick").replaceChildren(...ents.entities.map((e) => el("option", { value: e.entity }, `${e.name}（${e.entity}）`)));
    const latest = (await api(`${API}/training`)).job;
    if (latest) {
      showJob(latest);
      if (latest.status === "running") follow(latest.id);
    }
    const wanted = new URLSearchParams(location.search).get("intent");
    if (wanted && intents.some((i) => i.intent === wanted)) await selectIntent(wanted);
  }

  start().catch((err) => console.error(err));
})();

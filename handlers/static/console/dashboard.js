"use strict";
// The dashboard: figures from /console/api/dashboard drawn with Chart.js (vendored, 4.6.1).
(() => {
  const $ = (id) => document.getElementById(id);
  const charts = {};
  const COLORS = ["#1f5fbf", "#2e9e5b", "#e08a00", "#c23b22", "#7a4fbf", "#5b6776"];
  let thingsLoaded = false;

  function percent(x) {
    return (x * 100).toFixed(1) + "%";
  }

  function draw(id, config) {
    if (charts[id]) charts[id].destroy();
    config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false }, config.options);
    charts[id] = new Chart($(id), config);
  }

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text == null ? "" : String(text);
    return td;
  }

  function render(f) {
    const days = f.per_day.map((d) => d.day.slice(5));
    const sum = (key) => f.per_day.reduce((n, d) => n + d[key], 0);
    $("range").textContent = `${f.from} 至 ${f.to}`;
    $("t-conversations").textContent = sum("conversations");
    $("t-submissions").textContent = sum("submissions");
    $("t-finished").textContent = sum("finished");
    $("t-fallback").textContent = percent(f.rates.fallback);
    $("t-handoff").textContent = percent(f.rates.handoff);
    $("t-dead").textContent = f.notifications.dead_letters;

    draw("c-daily", {
      type: "line",
      data: {
        labels: days,
        datasets: [
          { label: "对话人数", data: f.per_day.map((d) => d.conversations), borderColor: COLORS[0] },
          { label: "提交申请", data: f.per_day.map((d) => d.submissions), borderColor: COLORS[1] },
          { label: "办结", data: f.per_day.map((d) => d.finished), borderColor: COLORS[2] },
        ],
      },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });

    const top = f.things.slice(0, 15);
    draw("c-things", {
      type: "bar",
      data: { labels: top.map((t) => t.name), datasets: [{ label: "次数", data: top.map((t) => t.count), backgroundColor: COLORS[0] }] },
      options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { ticks: { precision: 0 } } } },
    });

    if (!thingsLoaded) {
      for (const t of f.things) {
        const o = document.createElement("option");
        o.value = t.thing;
        o.textContent = t.name;
        $("funnel-thing").append(o);
      }
      thingsLoaded = true;
    }
    const steps = f.funnel.steps;
    draw("c-funnel", {
      type: "bar",
      data: { labels: steps.map((s) => s.label), datasets: [{ label: "人次", data: steps.map((s) => s.count), backgroundColor: COLORS }] },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    const gave = f.funnel.gave_up_at;
    $("gave-up").textContent = gave ? `最多人停在“${gave.label}”这一问：${gave.left} 人没有继续` : "还没有足够的数据看出大家在哪一步放弃";
    draw("c-fields", {
      type: "bar",
      data: {
        labels: f.funnel.fields.map((x) => x.label),
        datasets: [{
          label: "到达这一问的人数",
          data: f.funnel.fields.map((x) => x.reached),
          backgroundColor: f.funnel.fields.map((x) => (gave && x.field === gave.field ? COLORS[3] : COLORS[0])),
        }],
      },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });

    draw("c-rates", {
      type: "line",
      data: {
        labels: days,
        datasets: [
          { label: "未识别率", data: f.per_day.map((d) => (d.turns ? (100 * d.fallbacks) / d.turns : 0)), borderColor: COLORS[3] },
          { label: "转人工率", data: f.per_day.map((d) => (d.conversations ? (100 * d.handoffs) / d.conversations : 0)), borderColor: COLORS[4] },
        ],
      },
      options: { scales: { y: { beginAtZero: true, ticks: { callback: (v) => v + "%" } } } },
    });

    const ch = f.notifications.channels;
    draw("c-delivery", {
      type: "bar",
      data: {
        labels: ch.map((c) => c.label),
        datasets: [
          { label: "送达", data: ch.map((c) => c.sent), backgroundColor: COLORS[1] },
          { label: "拒收（换下一渠道）", data: ch.map((c) => c.refused), backgroundColor: COLORS[2] },
          { label: "失败（重试）", data: ch.map((c) => c.failed), backgroundColor: COLORS[3] },
        ],
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
    });

    const levels = f.ratings.levels;
    draw("c-ratings", {
      type: "bar",
      data: {
        labels: levels.map((l) => l.level),
        datasets: [{ label: "条数", data: levels.map((l) => l.count), backgroundColor: ["#2e9e5b", "#6fbf73", "#b5b5b5", "#e08a00", "#c23b22"] }],
      },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    $("bad-total").textContent = f.ratings.bad_total;
    $("bad").querySelector("tbody").replaceChildren(
      ...f.ratings.bad.map((r) => {
        const tr = document.createElement("tr");
        const order = r.work_order ? `${r.work_order.number || "报送中"} ${r.work_order.status || ""} ${r.work_order.result || ""}` : "";
        tr.append(cell(r.at.slice(0, 16).replace("T", " ")), cell(r.subject === "conversation" ? "人工客服" : "办件"),
          cell(r.thing_name), cell(r.level), cell(r.comment), cell(order));
        return tr;
      })
    );
    document.body.dataset.ready = "1";
  }

  async function load() {
    const query = new URLSearchParams({ days: $("days").value });
    if ($("funnel-thing").value) query.set("thing", $("funnel-thing").value);
    const resp = await fetch(`/console/api/dashboard?${query}`);
    if (resp.status === 401) {
      location.assign("/console/login?next=/console/dashboard");
      return;
    }
    render(await resp.json());
  }

  $("days").addEventListener("change", load);
  $("funnel-thing").addEventListener("change", load);
  load().catch((err) => console.error(err));
})();

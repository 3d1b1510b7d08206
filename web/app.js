// The benchtop dashboard: experiments, a sortable and filterable runs table (optionally grouped
// by all parameters but the seed), learning curves of selected runs (uPlot), stored figures,
// and each run's full record. Read-only: it only GETs /api/... (src/benchtop/dashboard/api.h).
"use strict";

const app = document.getElementById("app");
const POLL_MS = 2000;
let pollTimer = null;
let chart = null;

// ---------- helpers ----------

async function api(path) {
  const res = await fetch(path);
  const body = await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }));
  if (!res.ok) throw new Error(body.error || `${res.status} ${res.statusText}`);
  return body;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

// Numbers as the API sends them: finite numbers, or "nan" / "inf" / "-inf".
function toNumber(v) {
  if (typeof v === "number") return v;
  if (v === "nan") return NaN;
  if (v === "inf") return Infinity;
  if (v === "-inf") return -Infinity;
  return null;
}

function fmt(v) {
  if (v === undefined || v === null) return "–";
  if (typeof v === "number") {
    if (Number.isInteger(v) && Math.abs(v) < 1e9) return String(v);
    return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5 ? String(Number(v.toPrecision(4))) : v.toExponential(3);
  }
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

function fmtTime(t) {
  return t ? new Date(t * 1000).toISOString().replace("T", " ").replace(".000Z", " UTC") : "–";
}

function showError(where, err) {
  where.replaceChildren(el("p", { class: "error" }, String(err.message || err)));
}

function stopPolling() {
  if (pollTimer) clearInterval(pollTimer);
  pollTimer = null;
  document.getElementById("live").textContent = "";
}

function poll(fn) {
  stopPolling();
  document.getElementById("live").textContent = "live";
  pollTimer = setInterval(() => fn().catch(() => {}), POLL_MS);
}

// ---------- router ----------

async function route() {
  stopPolling();
  if (chart) { chart.destroy(); chart = null; }
  const hash = decodeURIComponent(location.hash.slice(1));
  try {
    let m;
    if ((m = hash.match(/^\/e\/(.+)$/))) await experimentPage(m[1]);
    else if ((m = hash.match(/^\/r\/(\d+)$/))) await runPage(Number(m[1]));
    else await experimentsPage();
  } catch (err) {
    showError(app, err);
  }
}
window.addEventListener("hashchange", route);

// ---------- experiments ----------

const STATES = ["complete", "running", "diverged", "failed", "interrupted", "queued"];

async function experimentsPage() {
  const render = async () => {
    const data = await api("/api/experiments");
    document.getElementById("database").textContent = data.database;
    const rows = data.experiments.map((e) =>
      el("tr", { "data-experiment": e.name },
        el("td", {}, el("a", { href: `#/e/${encodeURIComponent(e.name)}` }, e.name)),
        el("td", { class: "num" }, e.runs),
        STATES.map((s) => el("td", { class: `num state-${s}` }, e.states[s] || "")),
        el("td", { class: "claim muted" }, e.claim || "")));
    app.replaceChildren(
      el("h1", {}, "Experiments"),
      data.experiments.length === 0 ? el("p", { class: "muted" }, "No runs stored yet.") :
        el("table", { id: "experiments" },
          el("thead", {}, el("tr", {}, el("th", {}, "experiment"), el("th", {}, "runs"),
            STATES.map((s) => el("th", {}, s)), el("th", {}, "claim"))),
          el("tbody", {}, rows)));
  };
  await render();
  poll(render);
}

// ---------- one experiment ----------

// Filter terms, all of which a run must match: key=value, key!=value, key>x, key<x, key>=x,
// key<=x on any parameter or summary (or state, seed, run_id), or plain text found in any cell.
function parseFilter(text) {
  return text.trim().split(/\s+/).filter(Boolean).map((term) => {
    const m = term.match(/^([A-Za-z_][\w.]*)(!=|>=|<=|=|>|<)(.*)$/);
    return m ? { key: m[1], op: m[2], value: m[3] } : { text: term.toLowerCase() };
  });
}

function cellValue(run, key) {
  if (key === "run_id" || key === "state" || key === "seed" || key === "wall_s") return run[key];
  if (key in run.summaries) return toNumber(run.summaries[key]);
  return run.config[key];
}

function matches(run, terms, columns) {
  return terms.every((t) => {
    if (t.text !== undefined)
      return columns.some((c) => String(fmt(cellValue(run, c))).toLowerCase().includes(t.text));
    const v = cellValue(run, t.key);
    if (v === undefined) return false;
    const num = Number(t.value);
    const cmp = typeof v === "number" && t.value !== "" && !Number.isNaN(num) ? v - num :
      String(v).localeCompare(t.value);
    switch (t.op) {
      case "=": return cmp === 0;
      case "!=": return cmp !== 0;
      case ">": return cmp > 0;
      case "<": return cmp < 0;
      case ">=": return cmp >= 0;
      default: return cmp <= 0;
    }
  });
}

function compare(a, b) {
  const na = typeof a === "number", nb = typeof b === "number";
  if (a === undefined || a === null) return 1;
  if (b === undefined || b === null) return -1;
  if (na && nb) {
    if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
    if (Number.isNaN(b)) return -1;
    return a - b;
  }
  return String(fmt(a)).localeCompare(String(fmt(b)), undefined, { numeric: true });
}

function meanStd(values) {
  const xs = values.filter((v) => typeof v === "number" && Number.isFinite(v));
  if (xs.length === 0) return null;
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd, n: xs.length };
}

async function experimentPage(name) {
  const enc = encodeURIComponent(name);
  const state = { sort: { key: "run_id", dir: 1 }, filter: "", group: false, allKeys: false, selected: new Set() };
  let data = await api(`/api/experiments/${enc}/runs`);
  const figures = await api(`/api/experiments/${enc}/figures`);

  const progressBox = el("div", { id: "progress" });
  const tableBox = el("div", { class: "table-wrap" });
  const countLine = el("span", { class: "muted", id: "count" });
  const filterInput = el("input", { type: "text", id: "filter", placeholder: "filter: model=mlp lr<0.01 test_acc>0.8 text…" });
  const groupBox = el("input", { type: "checkbox", id: "group" });
  const allKeysBox = el("input", { type: "checkbox", id: "all-keys" });
  const curves = curvePanel(() => [...state.selected].sort((a, b) => a - b), (id) => runLabel(id));

  function runLabel(id) {
    const r = data.runs.find((x) => x.run_id === id);
    if (!r) return `run ${id}`;
    const parts = data.varying.filter((k) => k !== "seed").map((k) => `${k}=${fmt(r.config[k])}`);
    return `run ${id} (${[...parts, `seed ${r.seed}`].join(", ")})`;
  }

  function configColumns() {
    return state.allKeys ? data.config_keys.filter((k) => k !== "seed") : data.varying.filter((k) => k !== "seed");
  }

  function renderTable() {
    const cfg = configColumns();
    const sums = data.summary_keys;
    const columns = ["run_id", "state", "seed", ...cfg, ...sums, "wall_s"];
    const terms = parseFilter(state.filter);
    let runs = data.runs.filter((r) => matches(r, terms, columns));
    const header = (key, label) => el("th", {
      class: "sortable", "data-key": key,
      onclick: () => { state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : 1 }; renderTable(); },
    }, label || key, state.sort.key === key ? (state.sort.dir > 0 ? " ▲" : " ▼") : "");
    const toggle = (ids, on) => {
      for (const id of ids) on ? state.selected.add(id) : state.selected.delete(id);
      renderTable();
      curves.update();
    };
    let table;
    if (!state.group) {
      runs.sort((a, b) => state.sort.dir * compare(cellValue(a, state.sort.key), cellValue(b, state.sort.key)));
      table = el("table", { id: "runs" },
        el("thead", {}, el("tr", {}, el("th", {}, ""), columns.map((c) => header(c)))),
        el("tbody", {}, runs.map((r) => el("tr", { "data-run-id": r.run_id, class: state.selected.has(r.run_id) ? "selected" : "" },
          el("td", {}, el("input", { type: "checkbox", class: "select", checked: state.selected.has(r.run_id),
            onchange: (ev) => toggle([r.run_id], ev.target.checked) })),
          el("td", { class: "num", "data-key": "run_id" }, el("a", { href: `#/r/${r.run_id}` }, r.run_id)),
          el("td", { class: `state-${r.state}`, "data-key": "state" }, r.state),
          el("td", { class: "num", "data-key": "seed" }, r.seed),
          cfg.map((k) => el("td", { "data-key": k, class: typeof r.config[k] === "number" ? "num" : "" }, fmt(r.config[k]))),
          sums.map((k) => el("td", { class: "num", "data-key": k, "data-value": k in r.summaries ? String(r.summaries[k]) : "" },
            fmt(toNumber(r.summaries[k]) ?? undefined))),
          el("td", { class: "num", "data-key": "wall_s" }, r.wall_s === null ? "–" : r.wall_s.toFixed(2))))));
    } else {
      // Groups: equal parameters but the seed (the store's group key).
      const groups = new Map();
      for (const r of runs) {
        if (!groups.has(r.group_key)) groups.set(r.group_key, []);
        groups.get(r.group_key).push(r);
      }
      let rows = [...groups.values()].map((rs) => {
        const g = { runs: rs, config: rs[0].config, n: rs.length, stats: {} };
        for (const k of sums) g.stats[k] = meanStd(rs.map((r) => toNumber(r.summaries[k])));
        return g;
      });
      const groupValue = (g, key) => key === "n" ? g.n : key in g.stats ? g.stats[key]?.mean : g.config[key];
      rows.sort((a, b) => state.sort.dir * compare(groupValue(a, state.sort.key), groupValue(b, state.sort.key)));
      table = el("table", { id: "runs", class: "grouped" },
        el("thead", {}, el("tr", {}, el("th", {}, ""), cfg.map((c) => header(c)), header("n", "runs"),
          sums.map((c) => header(c, `${c} (mean ± sd)`)))),
        el("tbody", {}, rows.map((g) => {
          const ids = g.runs.map((r) => r.run_id);
          const all = ids.every((id) => state.selected.has(id));
          return el("tr", { "data-group": g.runs[0].group_key, class: all ? "selected" : "" },
            el("td", {}, el("input", { type: "checkbox", class: "select", checked: all,
              onchange: (ev) => toggle(ids, ev.target.checked) })),
            cfg.map((k) => el("td", { "data-key": k }, fmt(g.config[k]))),
            el("td", { class: "num", "data-key": "n" }, g.n),
            sums.map((k) => el("td", { class: "num", "data-key": k, "data-mean": g.stats[k] ? String(g.stats[k].mean) : "" },
              g.stats[k] ? `${fmt(g.stats[k].mean)} ± ${fmt(g.stats[k].sd)}` : "–")));
        })));
    }
    tableBox.replaceChildren(table);
    countLine.textContent = `${runs.length} of ${data.runs.length} runs shown, ${state.selected.size} selected`;
  }

  async function renderProgress() {
    const p = await api(`/api/experiments/${enc}/progress`);
    const items = p.sweeps.slice(-3).reverse().map((s) => {
      const done = (s.states.complete || 0) + (s.states.diverged || 0) + (s.states.failed || 0);
      const total = s.grid || s.stored;
      const pct = total ? Math.min(100, (100 * done) / total) : 0;
      return el("div", { class: "sweep", "data-sweep": s.sweep_id },
        el("span", { class: "bar" }, el("div", { style: `width:${pct.toFixed(1)}%` })), " ",
        el("span", { class: "sweep-count" }, `${done} of ${total} runs finished`),
        s.states.running ? el("span", { class: "state-running" }, ` · ${s.states.running} running`) : null,
        s.states.interrupted ? el("span", { class: "state-interrupted" }, ` · ${s.states.interrupted} interrupted`) : null,
        el("span", { class: "muted" }, ` · last activity ${fmtTime(s.last_activity)} · `),
        el("code", {}, s.command));
    });
    progressBox.replaceChildren(...items);
    return p;
  }

  filterInput.addEventListener("input", () => { state.filter = filterInput.value; renderTable(); });
  groupBox.addEventListener("change", () => {
    state.group = groupBox.checked;
    if (state.sort.key === "run_id" || state.sort.key === "seed" || state.sort.key === "state") state.sort = { key: "n", dir: -1 };
    renderTable();
  });
  allKeysBox.addEventListener("change", () => { state.allKeys = allKeysBox.checked; renderTable(); });

  app.replaceChildren(
    el("h1", {}, name),
    el("p", { class: "claim muted" }, data.claim || ""),
    el("h2", {}, "Sweeps"), progressBox,
    el("h2", {}, "Runs"),
    el("div", { class: "controls" }, filterInput,
      el("label", {}, groupBox, " group by all parameters but the seed"),
      el("label", {}, allKeysBox, " all parameters"), countLine),
    tableBox,
    el("h2", {}, "Learning curves of the selected runs"), curves.element,
    el("h2", {}, "Figures"),
    el("div", { class: "figures", id: "figures" },
      figures.figures.length === 0 ? el("p", { class: "muted" }, "No stored figures (benchtop report draws them).") :
        figures.figures.map((f) => el("figure", {}, el("img", { src: f.url, alt: f.name }), el("figcaption", { class: "muted" }, f.name)))));
  renderTable();
  let last = JSON.stringify((await renderProgress()).states);
  poll(async () => {
    const p = await renderProgress();
    const now = JSON.stringify(p.states);
    if (now !== last) {  // runs were added or finished: re-read the table, keep sort, filter, selection
      last = now;
      data = await api(`/api/experiments/${enc}/runs`);
      renderTable();
    }
  });
}

// ---------- curves ----------

function ema(values, alpha) {
  if (alpha <= 0) return values;
  let s = null;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return v;
    s = s === null ? v : alpha * s + (1 - alpha) * v;
    return s;
  });
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

// A chart of one metric for the runs selectedIds() returns, with metric, log axes and smoothing controls.
function curvePanel(selectedIds, label) {
  const keySelect = el("select", { id: "metric" });
  const logX = el("input", { type: "checkbox", id: "logx" });
  const logY = el("input", { type: "checkbox", id: "logy" });
  const smooth = el("input", { type: "range", id: "smooth", min: "0", max: "0.99", step: "0.01", value: "0" });
  const smoothLabel = el("span", { class: "muted" }, "0");
  const box = el("div", { id: "chart" });
  const note = el("p", { class: "muted", id: "chart-note" }, "Select runs in the table to draw their curves.");
  const cache = new Map();  // run id -> metrics
  let generation = 0;

  async function metricsOf(id) {
    if (!cache.has(id)) cache.set(id, (await api(`/api/runs/${id}/metrics`)).metrics);
    return cache.get(id);
  }

  async function update() {
    const gen = ++generation;
    const ids = selectedIds();
    const all = await Promise.all(ids.map(metricsOf));
    if (gen !== generation) return;
    const keys = [...new Set(all.flatMap((m) => Object.keys(m)))].sort();
    const current = keySelect.value;
    keySelect.replaceChildren(...keys.map((k) => el("option", { value: k, selected: k === current }, k)));
    if (!keys.includes(current)) {
      const preferred = keys.find((k) => /test.*(err|acc)/.test(k)) || keys[0];
      if (preferred) keySelect.value = preferred;
    }
    draw(ids, all);
  }

  function draw(ids, all) {
    if (chart) { chart.destroy(); chart = null; }
    box.replaceChildren();
    const key = keySelect.value;
    const runs = ids.map((id, i) => ({ id, curve: all[i][key] })).filter((r) => r.curve);
    if (runs.length === 0) {
      note.textContent = ids.length ? `No curve '${key}' in the selected runs.` : "Select runs in the table to draw their curves.";
      return;
    }
    note.textContent = `${key} of ${runs.length} run${runs.length > 1 ? "s" : ""}`;
    const xs = [...new Set(runs.flatMap((r) => r.curve.steps))].sort((a, b) => a - b);
    const index = new Map(xs.map((x, i) => [x, i]));
    const alpha = Number(smooth.value);
    const series = runs.map((r) => {
      const ys = new Array(xs.length).fill(null);
      r.curve.steps.forEach((s, j) => {
        const v = toNumber(r.curve.values[j]);
        ys[index.get(s)] = Number.isFinite(v) && (!logY.checked || v > 0) ? v : null;
      });
      return ema(ys, alpha);
    });
    const plotXs = logX.checked ? xs.map((x) => Math.max(x, 1)) : xs;
    chart = new uPlot({
      width: Math.min(900, Math.max(480, window.innerWidth - 80)), height: 360,
      scales: { x: { time: false, distr: logX.checked ? 3 : 1 }, y: { distr: logY.checked ? 3 : 1 } },
      axes: [{ label: "step" }, { label: key }],
      series: [{ label: "step" }, ...runs.map((r, i) => ({ label: label(r.id), stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: true }))],
    }, [plotXs, ...series], box);
  }

  for (const c of [keySelect, logX, logY]) c.addEventListener("change", () => update());
  smooth.addEventListener("input", () => { smoothLabel.textContent = smooth.value; update(); });
  const element = el("div", {},
    el("div", { class: "controls" }, el("label", {}, "metric ", keySelect),
      el("label", {}, logX, " log x"), el("label", {}, logY, " log y"),
      el("label", {}, "smoothing ", smooth, " ", smoothLabel)),
    note, box);
  return { element, update };
}

// ---------- one run ----------

async function runPage(id) {
  const data = await api(`/api/runs/${id}`);
  const r = data.run;
  const row = (k, v) => el("tr", { "data-field": k }, el("td", {}, k), el("td", {}, v));
  const record = el("table", { class: "record", id: "record" }, el("tbody", {},
    row("run", r.run_id), row("experiment", el("a", { href: `#/e/${encodeURIComponent(r.experiment)}` }, r.experiment)),
    row("state", el("span", { class: `state-${r.state}` }, r.state)), r.error ? row("error", r.error) : null,
    row("seed", r.seed), row("run key", el("code", {}, r.run_key)), row("group key", el("code", {}, r.group_key)),
    row("benchtop version", r.version), row("worker", r.worker), row("CPU", r.cpu), row("kernel path", r.kernel_path),
    row("created", fmtTime(r.created_at)), row("started", fmtTime(r.started_at)), row("finished", fmtTime(r.finished_at)),
    row("last heartbeat", fmtTime(r.heartbeat_at)), row("wall time", r.wall_s === null ? "–" : `${r.wall_s.toFixed(3)} s`),
    row("pack", r.batch_id === null ? "–" : `${r.batch_id}, member ${r.member}`),
    data.sweep ? row("sweep", el("code", {}, data.sweep.command)) : null));
  const config = el("table", { id: "config" }, el("tbody", {},
    Object.entries(r.config).map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", { class: typeof v === "number" ? "num" : "" }, fmt(v))))));
  const summaries = el("table", { id: "summaries" }, el("tbody", {},
    Object.entries(r.summaries).map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", { class: "num", "data-value": String(v) }, fmt(toNumber(v)))))));
  const curves = curvePanel(() => [id], () => `run ${id}`);
  app.replaceChildren(
    el("h1", {}, `Run ${r.run_id} of `, el("a", { href: `#/e/${encodeURIComponent(r.experiment)}` }, r.experiment)),
    el("h2", {}, "Record"), record,
    el("h2", {}, "Configuration (resolved)"), config,
    el("h2", {}, "Summaries"), Object.keys(r.summaries).length ? summaries : el("p", { class: "muted" }, "none"),
    el("h2", {}, "Learning curves"), curves.element,
    data.artifacts.length ? el("h2", {}, "Artifacts") : null,
    data.artifacts.length ? el("ul", {}, data.artifacts.map((a) => el("li", {}, `${a.name} (${a.kind}, sha256 ${a.sha256.slice(0, 12)}…)`))) : null);
  await curves.update();
  if (r.state === "running") poll(async () => {
    const now = await api(`/api/runs/${id}`);
    if (now.run.state !== "running") route();
  });
}

route();

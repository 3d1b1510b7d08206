// `benchtop serve` in a real browser: Debian's Chromium, headless, driven by playwright-core.
// On a database made by a small sweep it checks the experiments page, the runs table against
// `benchtop export` (values, sorting, filtering, grouping by all parameters but the seed), that
// selected runs' curves are drawn, the stored figures, a run's record, live updates while a
// sweep writes the database, the API's 4xx answers, and that the database file is never
// written. Saves screenshots.
//   node tests/dashboard/dashboard_test.mjs path/to/benchtop [screenshot dir]
import { spawn, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, mkdirSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const { chromium } = await import(pathToFileURL(join(root, "web/node_modules/playwright-core/index.mjs")).href);
const bt = resolve(process.argv[2]);
const shots = resolve(process.argv[3] || "dashboard-screenshots");
const browserPath = process.env.BENCHTOP_CHROMIUM || "/usr/bin/chromium";
if (!existsSync(browserPath)) {
  console.error(`no Chromium at ${browserPath} (Debian package chromium; or set BENCHTOP_CHROMIUM)`);
  process.exit(1);
}
mkdirSync(shots, { recursive: true });
const work = mkdtempSync(join(tmpdir(), "benchtop-dashboard-"));
const db = join(work, "d.db");
const EXP = "mnist1d-baselines";

let failures = 0;
function check(what, ok, detail = "") {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}${!ok && detail ? ": " + detail : ""}`);
  if (!ok) failures++;
}

function run(args) {
  return execFileSync(bt, args, { cwd: work, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
}

// RFC 4180 CSV, as `benchtop export` writes it.
function parseCsv(text) {
  const rows = [];
  let row = [], field = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(field); field = ""; }
    else if (c === "\n") { row.push(field); rows.push(row); row = []; field = ""; }
    else field += c;
  }
  const [header, ...body] = rows;
  return body.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}

const sha = (f) => createHash("sha256").update(readFileSync(f)).digest("hex");

const SWEEP = [EXP, "model=logistic,mlp", "shuffle_features=false", "steps=200", "eval_every=20", "seed=0..2"];
run(["run", ...SWEEP, "--db", db, "--out", join(work, "figs"), "--quiet"]);
const exported = parseCsv(run(["export", EXP, "--db", db, "--format", "csv"]));
const summaryKeys = ["test_acc", "test_loss", "train_acc", "train_loss"].filter((k) => k in exported[0]);
check(`export has ${exported.length} runs with summaries ${summaryKeys.join(", ")}`, exported.length === 6 && summaryKeys.length > 0);

// The server, on any free port.
const server = spawn(bt, ["serve", "--db", db, "--port", "0"], { cwd: work, stdio: ["ignore", "pipe", "inherit"] });
const base = await new Promise((resolveUrl, reject) => {
  let out = "";
  server.stdout.on("data", (d) => {
    out += d;
    const m = out.match(/at (http:\/\/[\d.]+:\d+)\//);
    if (m) resolveUrl(m[1]);
  });
  server.on("exit", (code) => reject(new Error(`benchtop serve exited with ${code}: ${out}`)));
  setTimeout(() => reject(new Error("benchtop serve did not start in 10 s")), 10000);
});
const dbState = () => [db, db + "-wal"].map((f) => (existsSync(f) ? sha(f) : "none")).join(" ");
const dbHashBefore = dbState();

let browser;
try {
  // The API's answers to bad requests.
  for (const [method, path, status, words] of [
    ["GET", "/api/runs/99999", 404, "no run with id 99999"],
    ["GET", "/api/runs/abc", 400, "not a positive integer"],
    ["GET", "/api/experiments/no-such-exp/runs", 404, "no experiment 'no-such-exp'"],
    ["GET", "/api/runs/1/metrics?key=nope", 404, "no metric 'nope'"],
    ["GET", "/api/runs/1?limit=3", 400, "unknown query parameter 'limit'"],
    ["GET", "/api/artifacts/99999", 404, "no artifact"],
    ["GET", "/api/../../etc/passwd", 404, ""],
    ["POST", "/api/experiments", 405, "read-only"],
    ["DELETE", "/api/runs/1", 405, "read-only"],
  ]) {
    const res = await fetch(base + path, { method });
    const body = await res.text();
    check(`${method} ${path} is ${status}`, res.status === status && body.includes(words), `${res.status} ${body}`);
  }

  browser = await chromium.launch({ executablePath: browserPath, args: ["--no-sandbox", "--no-proxy-server"] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.on("console", (m) => { if (m.type() === "error") pageErrors.push(m.text()); });

  // Experiments.
  await page.goto(base + "/#/");
  const expRow = page.locator(`#experiments tr[data-experiment="${EXP}"]`);
  await expRow.waitFor();
  const expCells = await expRow.locator("td").allInnerTexts();
  check("experiments page lists the experiment with its 6 runs", expCells[1] === "6", expCells.join(" | "));
  await page.screenshot({ path: join(shots, "experiments.png") });

  // The runs table against the export.
  await expRow.locator("a").click();
  await page.locator("#runs tbody tr").first().waitFor();
  const readTable = () => page.$$eval("#runs tbody tr", (trs) => trs.map((tr) => {
    const o = { id: tr.dataset.runId };
    for (const td of tr.querySelectorAll("td[data-key]")) o[td.dataset.key] = td.dataset.value ?? td.innerText.trim();
    return o;
  }));
  const rows = await readTable();
  check("runs table has one row per exported run", rows.length === exported.length, `${rows.length} vs ${exported.length}`);
  let mismatches = [];
  for (const e of exported) {
    const r = rows.find((x) => x.id === e.run_id);
    if (!r) { mismatches.push(`run ${e.run_id} missing`); continue; }
    if (r.state !== e.state) mismatches.push(`run ${e.run_id} state ${r.state} vs ${e.state}`);
    if (r.seed !== e.seed) mismatches.push(`run ${e.run_id} seed ${r.seed} vs ${e.seed}`);
    if (r.model !== e.model) mismatches.push(`run ${e.run_id} model ${r.model} vs ${e.model}`);
    for (const k of summaryKeys)
      if (Number(r[k]) !== Number(e[k])) mismatches.push(`run ${e.run_id} ${k} ${r[k]} vs ${e[k]}`);
  }
  check("table cells equal `benchtop export` (state, seed, model, every summary, exactly)", mismatches.length === 0, mismatches.join("; "));

  // Sorting by a summary, both ways.
  const key = summaryKeys[0];
  await page.click(`#runs th[data-key="${key}"]`);
  let vals = (await readTable()).map((r) => Number(r[key]));
  check(`sorting by ${key} ascending`, vals.every((v, i) => i === 0 || vals[i - 1] <= v), vals.join(","));
  await page.click(`#runs th[data-key="${key}"]`);
  vals = (await readTable()).map((r) => Number(r[key]));
  check(`sorting by ${key} descending`, vals.every((v, i) => i === 0 || vals[i - 1] >= v), vals.join(","));

  // Filtering by a parameter and by a summary.
  await page.fill("#filter", "model=mlp");
  let filtered = await readTable();
  check("filter model=mlp keeps the mlp runs", filtered.length === exported.filter((e) => e.model === "mlp").length &&
    filtered.every((r) => r.model === "mlp"), JSON.stringify(filtered.map((r) => r.model)));
  const median = exported.map((e) => Number(e[key])).sort((a, b) => a - b)[3];
  await page.fill("#filter", `${key}>=${median}`);
  filtered = await readTable();
  check(`filter ${key}>=${median}`, filtered.length === exported.filter((e) => Number(e[key]) >= median).length, `${filtered.length}`);
  await page.fill("#filter", "");

  // Grouped by all parameters but the seed: one row per model, mean over its seeds.
  await page.check("#group");
  const groups = await page.$$eval("#runs tbody tr", (trs) => trs.map((tr) => {
    const o = {};
    for (const td of tr.querySelectorAll("td[data-key]")) o[td.dataset.key] = td.dataset.mean ?? td.innerText.trim();
    return o;
  }));
  const groupOk = groups.length === 2 && groups.every((g) => {
    const members = exported.filter((e) => e.model === g.model);
    const mean = members.reduce((s, e) => s + Number(e[key]), 0) / members.length;
    return Number(g.n) === 3 && Math.abs(Number(g[key]) - mean) <= 1e-12 * Math.max(1, Math.abs(mean));
  });
  check("grouping gives one row per model with n = 3 and the mean of the export's values", groupOk, JSON.stringify(groups));
  await page.uncheck("#group");

  // Selecting two runs draws their curves.
  const picked = exported.filter((e) => e.seed === "0").map((e) => e.run_id);
  for (const id of picked) await page.check(`#runs tr[data-run-id="${id}"] input.select`);
  await page.locator("#chart canvas").waitFor();
  await page.waitForFunction(() => document.querySelectorAll("#chart .u-legend .u-series").length >= 3);
  const legend = await page.$$eval("#chart .u-legend .u-series", (s) => s.map((x) => x.innerText));
  check("the chart's legend names both selected runs", picked.every((id) => legend.some((l) => l.includes(`run ${id} `))), legend.join(" | "));
  // Pixels in the two series' colours: the curves were drawn, not just the axes.
  const inked = await page.$eval("#chart canvas", (c) => {
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    const count = (r, g, b) => { let n = 0; for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - r) < 40 && Math.abs(d[i + 1] - g) < 40 && Math.abs(d[i + 2] - b) < 40 && d[i + 3] > 128) n++; return n; };
    return [count(0x1f, 0x77, 0xb4), count(0xd6, 0x27, 0x28)];
  });
  check("both curves are drawn on the canvas", inked[0] > 50 && inked[1] > 50, `pixels ${inked}`);
  const metric = await page.$eval("#metric", (s) => s.value);
  await page.check("#logy");
  await page.locator("#smooth").fill("0.6");
  await page.locator("#chart canvas").waitFor();
  check(`log axis and smoothing redraw the chart (metric ${metric})`, (await page.locator("#chart canvas").count()) === 1);
  await page.screenshot({ path: join(shots, "runs-and-curves.png"), fullPage: true });

  // The stored figures are shown.
  const figs = await page.$$eval("#figures img", (imgs) => imgs.map((i) => ({ src: i.src, w: i.naturalWidth })));
  check(`the experiment's ${figs.length} stored figures load`, figs.length > 0 && figs.every((f) => f.w > 0), JSON.stringify(figs));

  // One run's full record.
  const one = exported[0];
  await page.goto(`${base}/#/r/${one.run_id}`);
  await page.locator("#record").waitFor();
  const record = Object.fromEntries(await page.$$eval("#record tr", (trs) => trs.map((tr) => [tr.dataset.field, tr.cells[1].innerText.trim()])));
  check("run record: state, seed, CPU and kernel path", record.state === one.state && record.seed === one.seed &&
    record.CPU === one.cpu && record["kernel path"] === one.kernel_path, JSON.stringify(record));
  check("run record: the sweep's command", (record.sweep || "").includes("steps=200"), record.sweep);
  const config = Object.fromEntries(await page.$$eval("#config tr", (trs) => trs.map((tr) => [tr.cells[0].innerText, tr.cells[1].innerText])));
  check("run record: the resolved configuration", config.model === one.model && config.steps === "200" && "lr" in config, JSON.stringify(config));
  await page.locator("#chart canvas").waitFor();
  await page.screenshot({ path: join(shots, "run.png"), fullPage: true });

  check("the database files are byte-for-byte unchanged by serving", dbState() === dbHashBefore);

  // Live: a sweep writes the database while the page is open; the table follows without a reload.
  await page.goto(`${base}/#/e/${EXP}`);
  await page.locator("#runs tbody tr").first().waitFor();
  const sweep = spawn(bt, ["run", EXP, "model=mlp", "shuffle_features=false", "steps=5000", "eval_every=100", "seed=10..15",
    "--db", db, "--no-figures", "--quiet", "--max-pack", "1", "--jobs", "1"], { cwd: work, stdio: "inherit" });
  const sweepDone = new Promise((r) => sweep.on("exit", r));
  let sawRunning = false;
  const watch = setInterval(async () => {
    const t = await page.locator("#progress").innerText().catch(() => "");
    if (/running/.test(t)) sawRunning = true;
  }, 200);
  const code = await sweepDone;
  check("the concurrent sweep finished (exit 0)", code === 0, `exit ${code}`);
  await page.waitForFunction((n) => document.querySelectorAll("#runs tbody tr").length === n, exported.length + 6, { timeout: 10000 })
    .catch(() => {});
  clearInterval(watch);
  check("the runs table grew to 12 rows without a reload", (await page.locator("#runs tbody tr").count()) === exported.length + 6);
  check("the sweep's progress showed runs running while it ran", sawRunning);
  const progressText = await page.locator("#progress").innerText();
  check("the new sweep's progress reads 6 of 6 finished", progressText.includes("6 of 6 runs finished"), progressText);
  await page.screenshot({ path: join(shots, "live.png"), fullPage: true });

  check("no errors in the page's console", pageErrors.length === 0, pageErrors.join("; "));
} catch (err) {
  check("the browser test ran to the end", false, err.stack || String(err));
} finally {
  if (browser) await browser.close();
  server.kill("SIGTERM");
  await new Promise((r) => server.on("exit", r));
}
check("serve stopped on SIGTERM with exit 0", server.exitCode === 0, `exit ${server.exitCode} ${server.signalCode}`);
rmSync(work, { recursive: true, force: true });
if (failures) {
  console.log(`${failures} checks failed`);
  process.exit(1);
}
console.log(`all dashboard checks passed; screenshots in ${shots}`);

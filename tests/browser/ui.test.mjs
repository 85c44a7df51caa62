// The web UI in a real browser: Debian's Chromium (playwright-core) against the
// real `patientgen serve` binary. Screenshots of each screen at 1280 and 390 px
// go to docs/ui/.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { spawnSync } from "node:child_process";
import { startServer, launch, unzip, expectedCounters, ROOT, BIN } from "./harness.mjs";

const SHOTS = join(ROOT, "docs/ui");
const WIDTHS = [1280, 390];
/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;
/** @type {import("playwright-core").BrowserContext} */
let context;
/** @type {import("playwright-core").Page} */
let page;
const problems = [];
/** The job the tests generate, and its patients. */
const job = { id: "", patients: /** @type {any[]} */ ([]) };

/** @param {import("playwright-core").Page} p */
function watch(p) {
  p.on("console", (m) => {
    // The browser logs every HTTP error response; a 422 is the API's answer to the invalid
    // value the tests type on purpose (shown at its field), not a fault of the page.
    if (m.type() === "error" && !/status of 422 \(Unprocessable Entity\)/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  p.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  p.on("dialog", (d) => d.accept());
}

/** Full-page screenshots of the current screen at both widths. @param {string} name */
async function shoot(name) {
  const old = page.viewportSize();
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    await page.waitForTimeout(150); // layout and the canvas follow the new width
    // A viewport as tall as the page: the sticky Generate bar sits at the bottom, not mid-picture.
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    await page.setViewportSize({ width, height });
    await page.waitForTimeout(100);
    await page.screenshot({ path: join(SHOTS, `${name}-${width}.png`) });
  }
  if (old) await page.setViewportSize(old);
}

/** Opens a collapsed section of the scenario builder. @param {string} id */
async function openSection(id) {
  const toggle = page.locator(`button[aria-controls="${id}"]`);
  if ((await toggle.getAttribute("aria-expanded")) !== "true") await toggle.click();
}

/** Text of an element. @param {string} sel */
async function text(sel) {
  return (await page.locator(sel).textContent())?.trim() ?? "";
}

async function counters() {
  const n = async (/** @type {string} */ id) => Number(await text(id));
  return { KIA: await n("#tlKia"), DOW: await n("#tlDow"), RTD: await n("#tlRtd"), ROLE4: await n("#tlRole4") };
}

/** Authenticated API call from the test itself. @param {string} path */
async function api(path) {
  const res = await fetch(server.url + path, { headers: { "X-API-Key": server.key } });
  assert.equal(res.status, 200, path);
  return res;
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  server = await startServer();
  browser = await launch();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
  watch(page);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("without a key the page says how to get one", async () => {
  const fresh = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const p = await fresh.newPage();
  watch(p);
  await p.goto(server.url + "/");
  await p.locator("#keyMissing").waitFor({ state: "visible" });
  const help = await p.locator("#keyMissing").textContent();
  assert.match(help ?? "", /#key=/);
  assert.match(help ?? "", /patientgen keys create/);
  assert.ok(await p.locator("#generateBtn").isDisabled(), "generating waits for a key");
  // Reference data loads without a key (the nation lists are filled).
  await p.waitForFunction(() => document.querySelectorAll("#fronts select option").length > 20);
  const saved = page;
  page = p;
  await shoot("no-key");
  page = saved;
  await fresh.close();
});

test("the first-run link hands the key to the page, which hides it from the address bar", async () => {
  assert.match(server.stdout(), /shown only this once/);
  assert.ok(!server.stderr().includes(server.key), "the key never appears in a log line");
  await page.goto(server.link);
  await page.waitForFunction(() => document.querySelector("#statusBox")?.textContent?.includes("Welcome"));
  assert.ok(!page.url().includes("key="), page.url());
  assert.equal(await page.evaluate(() => localStorage.getItem("patientgen.apiKey")), server.key);
  assert.ok(await page.locator("#keyMissing").isHidden());
  // Presets are listed and the default one is loaded.
  assert.ok((await page.locator("#presetSelect option").count()) >= 9);
  assert.equal(await page.locator("#cfg-name").inputValue(), "Default exercise");
  await page.locator("#validity.ok").waitFor();
});

test("preset → edit → a field error → fix → generate → progress → download", async () => {
  await page.selectOption("#presetSelect", "nato_article_5");
  await page.click("#loadPreset");
  await page.waitForFunction(() => /** @type {HTMLInputElement} */ (document.querySelector("#cfg-name")).value.startsWith("NATO Article 5"));
  await page.fill("#cfg-total", "400");
  await page.fill("#cfg-seed", "42");
  // Break the first front's nationality mix: the API's error appears at that field.
  await openSection("sec-fronts");
  const pct = page.locator('[data-field="front_configs -> 0 -> nationality_distribution -> 0 -> percentage"] input');
  const before = await pct.inputValue();
  await pct.fill("10");
  const mixError = page.locator('[data-field="front_configs -> 0 -> nationality_distribution"] > .field-error');
  await mixError.filter({ hasText: "sum to 100" }).waitFor();
  assert.match(await page.locator('[data-sum="nations-0"]').textContent() ?? "", /off|sum/);
  assert.ok(await page.locator('[data-sum="nations-0"]').evaluate((n) => n.classList.contains("off")));
  await page.locator("#validity.bad").waitFor();
  // An out-of-range day count is shown at its own field too.
  await page.fill("#cfg-days", "400");
  await page.locator('[data-field="days_of_fighting"] .field-error').filter({ hasText: "between 1 and 365" }).waitFor();
  assert.equal(await page.locator("#cfg-days").getAttribute("aria-invalid"), "true");
  await shoot("generate-errors");
  // An empty patient count is refused by the API itself (422): its detail is shown at the field.
  await page.fill("#cfg-total", "");
  const totalError = page.locator('[data-field="total_patients"] .field-error');
  await totalError.filter({ hasText: /\S/ }).waitFor();
  assert.equal(await page.locator("#cfg-total").getAttribute("aria-invalid"), "true");
  await page.fill("#cfg-total", "400");
  // Generate refuses while errors stand.
  await page.click("#generateBtn");
  await page.locator("#statusBox.error").waitFor();
  // Fix both.
  await page.fill("#cfg-days", "3");
  await pct.fill(before);
  await page.locator("#validity.ok").waitFor();
  assert.equal(await mixError.textContent(), "");
  // Formats: JSON, CSV and NDJSON.
  await page.check('#formats input[value="ndjson"]');
  await page.click("#generateBtn");
  await page.locator("#follow").waitFor({ state: "visible" });
  await page.locator("#downloadZip").waitFor({ timeout: 60000 });
  assert.equal(await page.locator("#followProgress").evaluate((n) => /** @type {HTMLProgressElement} */ (n).value), 100);
  assert.match(await text("#followText"), /100 % · completed/);
  await shoot("generate");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#downloadZip")]);
  assert.match(download.suggestedFilename(), /\.zip$/);
  const path = join(tmpdir(), `patientgen-ui-${process.pid}.zip`);
  await download.saveAs(path);
  const entries = unzip(readFileSync(path));
  assert.deepEqual([...entries.keys()].sort(), ["manifest.json", "patients.csv", "patients.json", "patients.ndjson"]);
  const manifest = JSON.parse(entries.get("manifest.json").toString());
  assert.equal(manifest.counts.patients, 400);
  assert.equal(manifest.seed, 42);
  const patients = JSON.parse(entries.get("patients.json").toString());
  assert.equal(patients.length, 400);
  assert.equal(entries.get("patients.csv").toString().trim().split("\n").length, 401);
  assert.ok(patients.every((p) => ["Northern Front", "Central Front", "Southern Front"].some((f) => p.front.startsWith(f.split(" ")[0]))), "the preset's fronts");
  const jobs = await (await api("/api/v1/jobs/")).json();
  job.id = (Array.isArray(jobs) ? jobs : jobs.jobs)[0].job_id;
  job.patients = patients;
});

test("a configuration is saved, reloaded, updated and deleted", async () => {
  await page.fill("#cfg-name", "Baltic drill");
  await page.fill("#cfg-days", "5");
  // The largest u64 seed survives the round trip exactly (beyond JavaScript's 2^53).
  await page.fill("#cfg-seed", "18446744073709551615");
  await page.locator("#validity.ok").waitFor();
  await page.click("#saveNew");
  await page.locator("#statusBox", { hasText: "Saved “Baltic drill”" }).waitFor();
  // A new page load starts from the default preset; load the saved one.
  await page.reload();
  await page.locator("#validity.ok").waitFor();
  assert.equal(await page.locator("#cfg-name").inputValue(), "Default exercise");
  await page.locator("#savedSelect option", { hasText: "Baltic drill" }).waitFor({ state: "attached" });
  await page.click("#loadSaved");
  await page.waitForFunction(() => /** @type {HTMLInputElement} */ (document.querySelector("#cfg-name")).value === "Baltic drill");
  assert.equal(await page.locator("#cfg-days").inputValue(), "5");
  assert.equal(await page.locator("#cfg-total").inputValue(), "400");
  assert.equal(await page.locator("#cfg-seed").inputValue(), "18446744073709551615");
  assert.equal(await page.locator('[data-field="front_configs -> 2 -> name"] input').inputValue(), "Southern Front");
  // Update it.
  await page.fill("#cfg-days", "6");
  await page.locator("#validity.ok").waitFor();
  await page.click("#saveUpdate");
  await page.locator("#statusBox", { hasText: "version 2" }).waitFor();
  const list = await (await api("/api/v1/configurations/")).json();
  assert.equal(list.length, 1);
  assert.equal(list[0].days_of_fighting, 6);
  assert.equal(list[0].version, 2);
  assert.match(await (await api(`/api/v1/configurations/${list[0].id}`)).text(), /"seed":18446744073709551615\b/);
  // Export as TOML and import it back (vendored smol-toml in the page).
  const [toml] = await Promise.all([page.waitForEvent("download"), page.click("#exportToml")]);
  const tomlPath = join(tmpdir(), `patientgen-ui-${process.pid}.toml`);
  await toml.saveAs(tomlPath);
  const tomlText = readFileSync(tomlPath, "utf8");
  assert.match(tomlText, /name = "Baltic drill"/);
  assert.match(tomlText, /\[\[front_configs\]\]/);
  await page.fill("#cfg-days", "2");
  await page.setInputFiles("#importFile", tomlPath);
  await page.waitForFunction(() => /** @type {HTMLInputElement} */ (document.querySelector("#cfg-days")).value === "6");
  await page.locator("#validity.ok").waitFor();
  assert.match(tomlText, /^seed = 18446744073709551615$/m);
  assert.equal(await page.locator("#cfg-seed").inputValue(), "18446744073709551615");
  // The JSON export is a scenario file the command line accepts.
  const [json] = await Promise.all([page.waitForEvent("download"), page.click("#exportJson")]);
  const jsonPath = join(tmpdir(), `patientgen-ui-${process.pid}.json`);
  await json.saveAs(jsonPath);
  assert.match(readFileSync(jsonPath, "utf8"), /"seed": 18446744073709551615,/);
  const cli = spawnSync(BIN, ["scenario", "validate", jsonPath], { encoding: "utf8" });
  assert.equal(cli.status, 0, cli.stdout + cli.stderr);
  // An imported file with a bad injury mix: the collapsed section opens at the error.
  await page.locator("#sec-injury").waitFor({ state: "hidden" });
  const bad = JSON.parse(readFileSync(jsonPath, "utf8"));
  delete bad.seed; // beyond 2^53: JSON.parse here would round it
  bad.injury_distribution = { "Battle Injury": 0.5, "Non-Battle Injury": 0.2, Disease: 0.2 };
  const badPath = join(tmpdir(), `patientgen-ui-${process.pid}-bad.json`);
  writeFileSync(badPath, JSON.stringify(bad));
  await page.setInputFiles("#importFile", badPath);
  await page.locator('[data-field="injury_distribution"] > .field-error').filter({ hasText: "Shares must sum to 100 % (now 90 %)." }).waitFor();
  await page.locator("#sec-injury").waitFor({ state: "visible" });
  assert.equal(await text("#injurySum"), "Sum 90 %");
  await page.setInputFiles("#importFile", jsonPath);
  await page.locator("#validity.ok").waitFor();
  // Delete it.
  await page.click("#deleteSaved");
  await page.locator("#statusBox", { hasText: "Deleted" }).waitFor();
  assert.equal((await (await api("/api/v1/configurations/")).json()).length, 0);
});

test("jobs: status, summary charts and one-format download", async () => {
  await page.click('.tab[data-tab="jobs"]');
  const card = page.locator(`[data-job-id="${job.id}"]`);
  await card.waitFor();
  assert.match(await card.locator(".badge").textContent() ?? "", /completed/);
  assert.equal(await card.locator("h3").textContent(), "NATO Article 5 - Baltic Defense");
  await card.getByRole("button", { name: "Summary" }).click();
  await page.locator("#jobSummary figure").first().waitFor();
  const outcomes = await page.locator("#jobSummary figure").first().textContent();
  const expected = expectedCounters(job.patients);
  assert.match(outcomes ?? "", new RegExp(`RTD${expected.RTD.toLocaleString("en")} \\(`));
  await shoot("jobs");
  // Job summaries gain `arrival_hours` (facility -> triage -> percentiles): charted when present.
  const rows = await page.evaluate((id) => {
    const view = window.patientgen.jobs;
    const j = view.jobs.get(id);
    j.summary = { ...j.summary, arrival_hours: {
      Role1: { all: { count: 10, p50: 1.5, p90: 3, p99: 5, max: 6 }, T1: { count: 4, p50: 1, p90: 2, p99: 2.5, max: 2.6 } },
      Role2: { all: { count: 5, p50: 4, p90: 8, p99: 12, max: 13 } },
    } };
    view.showSummary(id, false);
    return [...document.querySelectorAll("#jobSummary table.arrivals tbody tr")].map((tr) => [...tr.children].map((c) => c.textContent));
  }, job.id);
  assert.deepEqual(rows.map((r) => r.slice(0, 7)), [
    ["Role1", "all", "10", "1.5", "3.0", "5.0", "6.0"],
    ["", "T1", "4", "1.0", "2.0", "2.5", "2.6"],
    ["Role2", "all", "5", "4.0", "8.0", "12.0", "13.0"],
  ]);
  await card.locator("select.format-choice").selectOption("csv");
  const [csv] = await Promise.all([page.waitForEvent("download"), card.locator('[data-action="download"]').click()]);
  assert.equal(csv.suggestedFilename(), "patients.csv");
  const csvPath = join(tmpdir(), `patientgen-ui-${process.pid}.csv`);
  await csv.saveAs(csvPath);
  assert.equal(readFileSync(csvPath, "utf8").trim().split("\n").length, 401);
});

test("jobs: a running job is cancelled, then deleted", async () => {
  const res = await fetch(server.url + "/api/v1/generation/", {
    method: "POST",
    headers: { "X-API-Key": server.key, "Content-Type": "application/json" },
    body: JSON.stringify({ configuration: { name: "Too big", total_patients: 1000000 }, output_formats: ["json"] }),
  });
  assert.equal(res.status, 201);
  const { job_id: id } = await res.json();
  await page.click("#refreshJobs");
  const card = page.locator(`[data-job-id="${id}"]`);
  await card.getByRole("button", { name: "Cancel" }).click();
  await card.locator(".badge", { hasText: "cancelled" }).waitFor();
  await card.getByRole("button", { name: "Delete" }).click();
  await card.waitFor({ state: "detached" });
  const gone = await fetch(`${server.url}/api/v1/jobs/${id}`, { headers: { "X-API-Key": server.key } });
  assert.equal(gone.status, 404);
});

test("timeline: replay a job, play, seek to the end, filter, open a record", async () => {
  const card = page.locator(`[data-job-id="${job.id}"]`);
  await card.getByRole("button", { name: "Replay timeline" }).click();
  await page.locator("#tlStage").waitFor({ state: "visible" });
  assert.match(await text("#tlSource"), /400 patients/);
  assert.deepEqual(await counters(), { KIA: 0, DOW: 0, RTD: 0, ROLE4: 0 });
  // Play at 60× for a moment: exercise time moves.
  await page.selectOption("#tlSpeed", "60");
  const t0 = Number(await page.locator("#tlTime").getAttribute("data-ms"));
  await page.click("#tlPlay");
  await page.waitForFunction((t) => Number(document.querySelector("#tlTime")?.getAttribute("data-ms")) > t + 3600000, t0);
  await page.click("#tlPlay");
  // The keyboard works on the canvas too: arrows move one hour, space plays and pauses.
  await page.locator("#tlCanvas").focus();
  const tKey = Number(await page.locator("#tlTime").getAttribute("data-ms"));
  await page.keyboard.press("ArrowRight");
  assert.equal(Number(await page.locator("#tlTime").getAttribute("data-ms")), tKey + 3600000);
  await page.keyboard.press(" ");
  assert.equal(await page.locator("#tlPlay").getAttribute("aria-pressed"), "true");
  await page.keyboard.press(" ");
  assert.equal(await page.locator("#tlPlay").getAttribute("aria-pressed"), "false");
  // At any instant the counters are the file's: check mid-way.
  const max = Number(await page.locator("#tlSeek").getAttribute("max"));
  const min = Number(await page.locator("#tlSeek").getAttribute("min"));
  const mid = min + Math.round((max - min) / 2 / 60000) * 60000;
  await page.locator("#tlSeek").fill(String(mid));
  const tMid = Number(await page.locator("#tlTime").getAttribute("data-ms"));
  assert.equal(tMid, mid);
  assert.deepEqual(await counters(), expectedCounters(job.patients, tMid));
  // The seek bar can span the fighting days only (the scenario has 3); counters stay exact there.
  await page.selectOption("#tlRange", "fighting");
  const fightingEnd = Number(await page.locator("#tlSeek").getAttribute("max"));
  assert.ok(fightingEnd < max && fightingEnd - min <= 5 * 86400000, `${fightingEnd - min}`);
  await page.locator("#tlSeek").fill(String(fightingEnd));
  assert.deepEqual(await counters(), expectedCounters(job.patients, fightingEnd));
  await page.selectOption("#tlRange", "all");
  await page.locator("#tlSeek").fill(String(max));
  const all = expectedCounters(job.patients);
  assert.deepEqual(await counters(), all);
  assert.equal(all.KIA + all.DOW + all.RTD + all.ROLE4, 400);
  assert.equal(await text("#tlInjured"), "400");
  // A filter changes them to the filtered set's counts.
  await page.selectOption("#tlTriage", "T1");
  assert.deepEqual(await counters(), expectedCounters(job.patients.filter((p) => p.triage_category === "T1")));
  const front = job.patients[0].front;
  await page.selectOption("#tlFront", front);
  assert.deepEqual(await counters(), expectedCounters(job.patients.filter((p) => p.triage_category === "T1" && p.front === front)));
  await page.selectOption("#tlTriage", "");
  await page.selectOption("#tlFront", "");
  await page.selectOption("#tlOutcome", "RTD");
  assert.deepEqual(await counters(), { ...all, KIA: 0, DOW: 0, ROLE4: 0 });
  await page.selectOption("#tlOutcome", "");
  // Day 2 of the fighting; click a dot to open that patient's record.
  await page.locator("#tlSeek").fill(String(min + 36 * 3600000));
  // Two animation frames: the canvas has drawn this instant.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  assert.ok(await page.evaluate(() => window.patientgen.player.hitP.length > 0));
  const dot = await page.evaluate(() => ({ x: window.patientgen.player.hitX[0], y: window.patientgen.player.hitY[0] }));
  await page.locator("#tlCanvas").click({ position: dot });
  await page.locator("#tlRecord").waitFor({ state: "visible" });
  assert.match(await text("#tlRecordBody"), /Timeline/);
  assert.ok((await page.locator("#tlRecordBody .events li").count()) >= 2);
  await shoot("timeline");
});

test("timeline: an NDJSON file and an upstream-style file (naive times, T4) load from disk", async () => {
  const ndjson = await (await api(`/api/v1/downloads/${job.id}?format=ndjson`)).text();
  const file = join(tmpdir(), `patientgen-ui-${process.pid}.ndjson`);
  writeFileSync(file, ndjson);
  await page.setInputFiles("#tlFile", file);
  await page.locator("#tlSource", { hasText: ".ndjson: 400 patients" }).waitFor();
  await page.locator("#tlSeek").fill(await page.locator("#tlSeek").getAttribute("max") ?? "0");
  assert.deepEqual(await counters(), expectedCounters(job.patients));
  // Upstream's viewer format: {metadata, patients}, items wrapped in {patient}, naive timestamps, a T4.
  const upstream = {
    metadata: { patient_count: 2 },
    patients: [
      { patient: { id: 1, triage_category: "T4", final_status: "KIA", nationality: "POL", front: "North", injury_time: "2025-06-01T06:00:00",
        movement_timeline: [{ event_type: "arrival", facility: "POI", hours_since_injury: 0 }, { event_type: "kia", facility: "POI", hours_since_injury: 0.2 }] } },
      { patient: { id: 2, triage_category: "T2", final_status: "RTD", nationality: "EST", front: "North", injury_time: "2025-06-01T07:00:00",
        movement_timeline: [{ event_type: "arrival", facility: "POI", hours_since_injury: 0 }, { event_type: "transit_start", facility: "POI", hours_since_injury: 1, to_facility: "Role1", transit_duration_hours: 1 },
          { event_type: "arrival", facility: "Role1", hours_since_injury: 2 }, { event_type: "rtd", facility: "Role1", hours_since_injury: 6 }] } },
    ],
  };
  const up = join(tmpdir(), `patientgen-ui-${process.pid}-upstream.json`);
  writeFileSync(up, JSON.stringify(upstream));
  await page.setInputFiles("#tlFile", up);
  await page.locator("#tlSource", { hasText: "2 patients" }).waitFor();
  await page.locator("#tlSeek").fill(await page.locator("#tlSeek").getAttribute("max") ?? "0");
  assert.deepEqual(await counters(), { KIA: 1, DOW: 0, RTD: 1, ROLE4: 0 });
  assert.deepEqual(await page.locator("#tlTriage option").allTextContents(), ["All", "T2", "T4"]);
});

test("keyboard: the tabs, the builder's sections and the player work without a mouse", async () => {
  await page.goto(server.url + "/static/index.html#generate");
  await page.reload(); // a fresh page (a change of fragment alone does not reload)
  await page.locator("#validity.ok").waitFor();
  const toggle = page.locator('button[aria-controls="sec-injury"]');
  await toggle.focus();
  const open = await toggle.getAttribute("aria-expanded");
  await page.keyboard.press("Enter");
  assert.notEqual(await toggle.getAttribute("aria-expanded"), open);
  // Every visible form control has a label.
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll("input, select, textarea")]
      .filter((n) => !n.closest("[hidden]") && /** @type {HTMLInputElement} */ (n).type !== "file")
      .filter((n) => !(/** @type {HTMLInputElement} */ (n).labels?.length) && !n.getAttribute("aria-label") && !n.getAttribute("aria-labelledby") && !n.closest("label"))
      .map((n) => n.id || n.outerHTML.slice(0, 80)));
  assert.deepEqual(unlabelled, []);
});

test("no console errors or page errors on any screen", () => {
  assert.deepEqual(problems, []);
});

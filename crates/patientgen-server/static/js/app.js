// The page's entry module: the API key (from the first-run link's #key=…
// fragment, or typed in), the three screens, and following a new job.

import { ApiClient, storedKey, storeKey, takeKeyFromFragment } from "./services/api.js";
import { initAccordion } from "./components/accordion.js";
import { el, byId, input, saveBlob, fileNameOf } from "./components/dom.js";
import { ScenarioBuilder } from "./scenario.js";
import { JobsView, errorText, jobFormats } from "./jobs.js";
import { TimelinePlayer } from "./timeline/player.js";
import { parsePatientsText } from "./timeline/model.js";

const tookKey = takeKeyFromFragment(window.location, window.history);
let key = storedKey();
const api = new ApiClient(() => key);
const hasKey = () => key !== "";

/** @param {string} text @param {string} [kind] */
function notify(text, kind = "info") {
  const box = byId("statusBox");
  box.textContent = text;
  box.className = "status " + kind;
}

const builder = new ScenarioBuilder({ api, notify, hasKey, generate: startJob });
const jobs = new JobsView({ api, notify, hasKey, replay });
const player = new TimelinePlayer({ notify });
initAccordion(byId("builder"));

// Screens: #generate, #jobs, #timeline (the address keeps the screen, so back/forward work).
const SCREENS = ["generate", "jobs", "timeline"];
function showScreen() {
  const name = SCREENS.find((s) => window.location.hash === "#" + s) || "generate";
  for (const s of SCREENS) {
    byId("screen-" + s).hidden = s !== name;
    const tab = /** @type {HTMLElement} */ (document.querySelector(`.tab[data-tab="${s}"]`));
    if (s === name) tab.setAttribute("aria-current", "page");
    else tab.removeAttribute("aria-current");
  }
  if (name === "jobs") jobs.refresh();
  if (name === "timeline") player.resize();
}
window.addEventListener("hashchange", showScreen);

function showKeyState() {
  byId("keyMissing").hidden = hasKey();
  byId("keyBanner").classList.toggle("needed", !hasKey());
  input("apiKey").value = key;
  byId("keyState").textContent = hasKey() ? "Key kept in this browser." : "";
  /** @type {HTMLButtonElement} */ (byId("forgetKey")).hidden = !hasKey();
  // What needs a key waits for one.
  for (const id of ["presetSelect", "loadPreset", "savedSelect", "loadSaved", "saveUpdate", "deleteSaved", "saveNew", "generateBtn"]) {
    /** @type {HTMLButtonElement} */ (byId(id)).disabled = !hasKey();
  }
}

byId("keyForm").addEventListener("submit", (e) => {
  e.preventDefault();
  key = input("apiKey").value.trim();
  storeKey(key);
  showKeyState();
  loadWithKey();
});
byId("forgetKey").addEventListener("click", () => {
  key = "";
  storeKey("");
  showKeyState();
  notify("The key was removed from this browser.");
});

/** Everything that needs a key: presets, saved configurations, jobs, validation. */
async function loadWithKey() {
  if (!hasKey()) {
    notify("Add an API key to start (see above).", "warn");
    return;
  }
  try {
    const data = await api.presets();
    builder.setPresets(data.presets || []);
    byId("keyState").textContent = "Key accepted; kept in this browser.";
    if (!builder.loadedOnce) {
      builder.loadedOnce = true;
      await builder.loadPreset();
    }
    await builder.refreshSaved();
    notify(tookKey ? "Welcome: your key is stored in this browser. Pick a preset and press Generate." : "Ready. Pick a preset, adjust it, and press Generate.");
  } catch (e) {
    notify("The key was not accepted: " + errorText(e), "error");
    byId("keyMissing").hidden = false;
  }
}

/** @param {any} request */
async function startJob(request) {
  try {
    const created = await api.generate(request);
    notify(`Job started: ${request.configuration.name} (${Number(request.configuration.total_patients).toLocaleString("en")} patients).`);
    follow(created.job_id);
  } catch (e) {
    notify("The job was not started: " + errorText(e), "error");
  }
}

/** Follows a job under the Generate button until it ends. @param {string} id */
async function follow(id) {
  const box = byId("follow");
  const bar = /** @type {HTMLProgressElement} */ (byId("followProgress"));
  const text = byId("followText");
  const actions = byId("followActions");
  box.hidden = false;
  actions.replaceChildren();
  for (;;) {
    /** @type {any} */
    let job;
    try {
      job = await api.job(id);
    } catch (e) {
      text.textContent = errorText(e);
      return;
    }
    bar.value = job.progress || 0;
    const phase = job.status === "running" && job.progress_details ? job.progress_details.current_step : job.status;
    text.textContent = `${job.progress || 0} % · ${phase}`;
    box.dataset.status = job.status;
    if (job.status === "completed") {
      notify("Job completed. Download the files, see the summary, or replay the timeline.", "ok");
      const formats = jobFormats(job);
      actions.replaceChildren(
        el("button", { type: "button", className: "primary", id: "downloadZip", onclick: () => download(id, "zip") }, ["Download ZIP"]),
        el("a", { href: "#jobs", className: "button secondary" }, ["Summary in Jobs"]),
      );
      if (formats.includes("json") || formats.includes("ndjson")) {
        actions.append(el("button", { type: "button", className: "secondary", onclick: () => replay(id, formats) }, ["Replay timeline"]));
      }
      return;
    }
    if (job.status === "failed" || job.status === "cancelled") {
      notify(`Job ${job.status}${job.error ? ": " + job.error : "."}`, "error");
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** @param {string} id @param {string} format */
async function download(id, format) {
  try {
    const res = await api.download(id, format);
    const blob = await res.blob();
    saveBlob(blob, fileNameOf(res.headers.get("content-disposition"), `patients_${id}.zip`));
    notify(`Downloaded ${(blob.size / 1024).toFixed(0)} KiB.`, "ok");
  } catch (e) {
    notify(errorText(e), "error");
  }
}

/** Loads a job's patients into the player. @param {string} id @param {string[]} formats */
async function replay(id, formats) {
  window.location.hash = "#timeline";
  try {
    notify("Loading the job's patients…");
    const format = formats.includes("json") ? "json" : "ndjson";
    const res = await api.download(id, format);
    player.load(parsePatientsText(await res.text()), `Job ${id.slice(0, 8)}`);
  } catch (e) {
    notify("Cannot replay the job: " + errorText(e), "error");
  }
}

async function start() {
  showKeyState();
  showScreen();
  builder.render();
  try {
    builder.setNations(await api.nationalities());
  } catch (e) {
    notify("Reference data did not load: " + errorText(e), "error");
  }
  await loadWithKey();
}

// For the benchmark script and the browser tests (read-only use).
Object.assign(window, { patientgen: { player, builder, jobs } });
start();

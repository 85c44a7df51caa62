// The Jobs screen: this key's jobs with live status, progress and phase;
// cancel, delete, download (ZIP or one format), summary charts, replay.

import { barChart, arrivalChart } from "./components/charts.js";
import { el, byId, saveBlob, fileNameOf, shortTime } from "./components/dom.js";

const ACTIVE = ["pending", "running"];
const FORMAT_LABELS = { zip: "ZIP (all files)", json: "JSON", ndjson: "NDJSON", csv: "CSV", fhir: "FHIR R4", xml: "XML" };

/**
 * @typedef {{api: import("./services/api.js").ApiClient, notify: (text: string, kind?: string) => void,
 *   replay: (jobId: string, formats: string[]) => void, hasKey: () => boolean}} JobsContext
 */

export class JobsView {
  /** @param {JobsContext} ctx */
  constructor(ctx) {
    this.ctx = ctx;
    this.list = byId("jobList");
    this.summaryBox = byId("jobSummary");
    /** @type {Map<string, any>} */
    this.jobs = new Map();
    /** @type {string | null} */
    this.openSummary = null;
    /** @type {number | undefined} */
    this.timer = undefined;
    this.busy = false;
    byId("refreshJobs").addEventListener("click", () => this.refresh());
  }

  /** Loads the list now and keeps polling while a job is active. */
  async refresh() {
    if (!this.ctx.hasKey()) {
      this.list.replaceChildren(el("p", { className: "muted" }, ["Jobs appear here once an API key is set."]));
      return;
    }
    if (this.busy) return;
    this.busy = true;
    try {
      const data = await this.ctx.api.jobs();
      const jobs = Array.isArray(data) ? data : data.jobs || [];
      this.jobs = new Map(jobs.map((/** @type {any} */ j) => [j.job_id, j]));
      this.render(jobs);
      if (this.openSummary && this.jobs.has(this.openSummary)) this.showSummary(this.openSummary, false);
    } catch (e) {
      this.ctx.notify(errorText(e), "error");
    } finally {
      this.busy = false;
    }
    this.schedule();
  }

  schedule() {
    clearTimeout(this.timer);
    const active = [...this.jobs.values()].some((j) => ACTIVE.includes(j.status));
    if (active) this.timer = window.setTimeout(() => this.refresh(), 700);
  }

  /** @param {any[]} jobs */
  render(jobs) {
    if (!jobs.length) {
      this.list.replaceChildren(el("p", { className: "muted" }, ["No jobs yet. Build a scenario and press Generate."]));
      return;
    }
    jobs.sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
    this.list.replaceChildren(...jobs.map((j) => this.card(j)));
  }

  /** @param {any} job */
  card(job) {
    const id = job.job_id;
    const name = jobName(job);
    const patients = (job.summary && job.summary.total_patients) || (job.config && job.config.total_patients) || "";
    const formats = jobFormats(job);
    const details = job.progress_details || {};
    const phase = job.status === "running" ? details.current_step || "running" : job.status;
    const progress = el("progress", { max: 100, value: job.progress || 0, "aria-label": `Progress of job ${name}` });
    const actions = el("div", { className: "job-actions" });
    if (ACTIVE.includes(job.status)) {
      actions.append(el("button", { type: "button", className: "secondary", onclick: () => this.cancel(id) }, ["Cancel"]));
    }
    if (job.status === "completed") {
      const choice = el("select", { "aria-label": "Download format", className: "format-choice" });
      for (const f of ["zip", ...formats]) choice.append(el("option", { value: f }, [FORMAT_LABELS[/** @type {keyof FORMAT_LABELS} */ (f)] || f]));
      actions.append(
        choice,
        el("button", { type: "button", onclick: () => this.download(id, /** @type {HTMLSelectElement} */ (choice).value), "data-action": "download" }, ["Download"]),
        el("button", { type: "button", className: "secondary", onclick: () => this.showSummary(id, true), "aria-expanded": String(this.openSummary === id) }, ["Summary"]),
      );
      if (formats.includes("json") || formats.includes("ndjson")) {
        actions.append(el("button", { type: "button", className: "secondary", onclick: () => this.ctx.replay(id, formats) }, ["Replay timeline"]));
      }
    }
    if (!ACTIVE.includes(job.status)) {
      actions.append(el("button", { type: "button", className: "danger", onclick: () => this.remove(id, name) }, ["Delete"]));
    }
    return el("article", { className: `job status-${job.status}`, "data-job-id": id }, [
      el("header", {}, [
        el("h3", {}, [name]),
        el("span", { className: `badge ${job.status}` }, [job.status]),
      ]),
      el("p", { className: "job-meta" }, [
        `${patients ? Number(patients).toLocaleString("en") + " patients · " : ""}${formats.join(", ").toUpperCase()} · started ${shortTime(job.created_at)}`,
      ]),
      el("div", { className: "job-progress" }, [progress, el("span", { className: "phase" }, [`${job.progress || 0} % · ${phase}`])]),
      job.error ? el("p", { className: "error-text" }, [job.error]) : null,
      actions,
    ]);
  }

  /** @param {string} id */
  async cancel(id) {
    try {
      await this.ctx.api.cancelJob(id);
      this.ctx.notify("Job cancelled.");
    } catch (e) {
      this.ctx.notify(errorText(e), "error");
    }
    this.refresh();
  }

  /** @param {string} id @param {string} name */
  async remove(id, name) {
    if (!window.confirm(`Delete job “${name}” and its files?`)) return;
    try {
      await this.ctx.api.deleteJob(id);
      if (this.openSummary === id) this.closeSummary();
      this.ctx.notify("Job deleted.");
    } catch (e) {
      this.ctx.notify(errorText(e), "error");
    }
    this.refresh();
  }

  /** @param {string} id @param {string} format */
  async download(id, format) {
    try {
      this.ctx.notify("Preparing the download…");
      const res = await this.ctx.api.download(id, format);
      const fallback = format === "zip" ? `patients_${id}.zip` : `patients_${id}.${format === "fhir" ? "fhir.ndjson" : format}`;
      const blob = await res.blob();
      saveBlob(blob, fileNameOf(res.headers.get("content-disposition"), fallback));
      this.ctx.notify(`Downloaded ${(blob.size / 1024).toFixed(0)} KiB.`);
    } catch (e) {
      this.ctx.notify(errorText(e), "error");
    }
  }

  closeSummary() {
    this.openSummary = null;
    this.summaryBox.hidden = true;
    this.summaryBox.replaceChildren();
  }

  /** @param {string} id @param {boolean} toggle */
  showSummary(id, toggle) {
    if (toggle && this.openSummary === id) {
      this.closeSummary();
      this.render([...this.jobs.values()]);
      return;
    }
    const job = this.jobs.get(id);
    if (!job || !job.summary) return;
    this.openSummary = id;
    const s = job.summary;
    const name = jobName(job);
    const charts = el("div", { className: "charts" }, [
      barChart("Outcomes", s.outcomes || {}, { order: ["KIA", "DOW", "RTD", "REMAINS_ROLE4"], labels: { REMAINS_ROLE4: "Remains at Role 4" } }),
      barChart("Triage", s.triage || {}, { order: ["T1", "T2", "T3", "T4"] }),
      barChart("Injury types", s.injury_types || {}),
      barChart("Nationalities", s.nationalities || {}, { limit: 12 }),
      barChart("Fronts", s.fronts || {}),
    ]);
    if (s.facilities_reached && typeof s.facilities_reached === "object") {
      /** @type {Record<string, number>} */
      const reached = {};
      for (const [k, v] of Object.entries(s.facilities_reached)) reached[k] = typeof v === "number" ? v : Number(/** @type {any} */ (v).count || 0);
      charts.append(barChart("Patients reaching each facility", reached, { order: ["POI", "Role1", "Role2", "Role3", "Role4"], total: Number(s.total_patients) || undefined }));
    }
    if (s.arrival_hours && typeof s.arrival_hours === "object") charts.append(arrivalChart(s.arrival_hours));
    this.summaryBox.replaceChildren(
      el("header", {}, [
        el("h3", { tabIndex: -1, id: "summaryTitle" }, [`Summary: ${name}`]),
        el("p", { className: "muted" }, [`${Number(s.total_patients || 0).toLocaleString("en")} patients · seed ${s.seed ?? "–"}`]),
        el("button", { type: "button", className: "secondary", onclick: () => { this.closeSummary(); this.render([...this.jobs.values()]); } }, ["Close summary"]),
      ]),
      charts,
    );
    this.summaryBox.hidden = false;
    if (toggle) {
      this.render([...this.jobs.values()]);
      byId("summaryTitle").focus();
    }
  }
}

/** @param {any} job */
function jobName(job) {
  const c = job.config || {};
  return c.name || (c.configuration && c.configuration.name) || (c.configuration_id ? "Saved configuration" : "Scenario");
}

/** The formats a job produced. @param {any} job @returns {string[]} */
export function jobFormats(job) {
  const fromConfig = job.config && Array.isArray(job.config.output_formats) ? job.config.output_formats : null;
  if (fromConfig) return fromConfig;
  return (job.files || []).map((/** @type {any} */ f) => f.format).filter((/** @type {string} */ f) => f !== "zip");
}

/** @param {unknown} e */
export function errorText(e) {
  if (e && typeof e === "object" && "status" in e && "detail" in e) {
    return `${/** @type {any} */ (e).detail} (HTTP ${/** @type {any} */ (e).status})`;
  }
  return e instanceof Error ? e.message : String(e);
}

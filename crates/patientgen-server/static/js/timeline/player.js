// The timeline player: patients moving from the point of injury through
// Role 1–4 over exercise time, drawn on one canvas. Counters and census come
// from the model's sorted event arrays at the current instant (exact at any
// time); the animation only decides which instant is shown.

import {
  FACILITIES, FACILITY_LABELS, OUTCOME_LABELS, TimelineIndex, buildTimeline, matches, parsePatientsText, segmentAt,
} from "./model.js";
import { el, byId, input, select, setOptions } from "../components/dom.js";

const HOUR = 3600000;
const DAY = 24 * HOUR;
const SPEEDS = [0.25, 0.5, 1, 2, 4, 8, 15, 30, 60];
const TRIAGE_COLORS = { T1: "#c62828", T2: "#e09b00", T3: "#2e7d32", T4: "#5c6bc0" };
const OTHER_COLOR = "#78909c";

/** @param {number} ms @param {number} start the replay's first instant */
function clock(ms, start) {
  const day = Math.floor((ms - start) / DAY) + 1;
  const d = new Date(ms);
  const hh = String(d.getUTCHours()).padStart(2, "0");
  const mm = String(d.getUTCMinutes()).padStart(2, "0");
  return `Day ${day}, ${d.toISOString().slice(0, 10)} ${hh}:${mm} UTC`;
}

export class TimelinePlayer {
  /** @param {{notify: (text: string, kind?: string) => void}} ctx */
  constructor(ctx) {
    this.ctx = ctx;
    this.canvas = /** @type {HTMLCanvasElement} */ (byId("tlCanvas"));
    const c2d = this.canvas.getContext("2d", { alpha: false });
    if (!c2d) throw new Error("no canvas");
    this.g = c2d;
    /** @type {ReturnType<typeof buildTimeline> | null} */
    this.data = null;
    /** @type {import("./model.js").TimelinePatient[]} */
    this.visible = [];
    /** @type {TimelineIndex | null} */
    this.index = null;
    this.t = 0;
    this.playing = false;
    this.speed = 8;
    this.last = 0;
    /** Positions drawn in the last frame, for clicks. */
    this.hitX = new Float32Array(0);
    this.hitY = new Float32Array(0);
    /** @type {number[]} */
    this.hitP = [];
    this.dirty = true;
    /** Frame timing, read by the benchmark script. */
    this.stats = { frames: 0, drawMs: 0, maxDrawMs: 0 };
    /** @type {import("./model.js").TimelinePatient | null} */
    this.selected = null;
    /** The seek bar's last instant (the whole replay, or the fighting days). */
    this.rangeEnd = 0;
    /** Canvas size in CSS pixels. */
    this.w = 0;
    this.h = 0;
    /** @type {{at: number[], transit: number} | null} */
    this.census = null;
    this.wire();
    this.resize();
    new ResizeObserver(() => this.resize()).observe(this.canvas.parentElement || this.canvas);
    requestAnimationFrame((now) => this.frame(now));
  }

  wire() {
    byId("tlPlay").addEventListener("click", () => this.toggle());
    setOptions(select("tlSpeed"), SPEEDS.map((s) => [String(s), `${s}× (${s >= 1 ? s + " h" : s * 60 + " min"} per second)`]), String(this.speed));
    select("tlRange").addEventListener("change", () => this.setRange());
    select("tlSpeed").addEventListener("change", () => {
      this.speed = Number(select("tlSpeed").value);
    });
    input("tlSeek").addEventListener("input", () => this.seek(Number(input("tlSeek").value)));
    for (const id of ["tlFront", "tlNation", "tlTriage", "tlOutcome"]) select(id).addEventListener("change", () => this.applyFilter());
    input("tlFile").addEventListener("change", async () => {
      const f = input("tlFile").files?.[0];
      if (f) await this.loadFile(f);
      input("tlFile").value = "";
    });
    const drop = byId("tlDrop");
    drop.addEventListener("dragover", (e) => {
      e.preventDefault();
      drop.classList.add("over");
    });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", async (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      const f = e.dataTransfer?.files?.[0];
      if (f) await this.loadFile(f);
    });
    this.canvas.addEventListener("click", (e) => this.pick(e));
    this.canvas.addEventListener("keydown", (e) => {
      if (e.key === " ") {
        e.preventDefault();
        this.toggle();
      } else if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
        e.preventDefault();
        this.seek(this.t + (e.key === "ArrowRight" ? HOUR : -HOUR));
      }
    });
    byId("tlCloseRecord").addEventListener("click", () => this.select(null));
  }

  /** @param {File} file */
  async loadFile(file) {
    try {
      this.ctx.notify(`Reading ${file.name}…`);
      this.load(parsePatientsText(await file.text()), file.name);
    } catch (e) {
      this.ctx.notify(`Cannot replay ${file.name}: ${e instanceof Error ? e.message : e}`, "error");
    }
  }

  /**
   * @param {object[]} records
   * @param {string} source
   */
  load(records, source) {
    const data = buildTimeline(records);
    if (!data.patients.length) {
      this.ctx.notify(`${source}: no patient with an injury time and a timeline.`, "error");
      return;
    }
    this.data = data;
    this.pause();
    const sel = (/** @type {string} */ id, /** @type {string[]} */ values, /** @type {Record<string,string>} */ labels = {}) =>
      setOptions(select(id), [["", "All"], ...values.map((v) => /** @type {[string,string]} */ ([v, labels[v] || v]))]);
    sel("tlFront", data.fronts);
    sel("tlNation", data.nationalities);
    sel("tlTriage", data.triages);
    sel("tlOutcome", data.outcomes, OUTCOME_LABELS);
    const seek = input("tlSeek");
    seek.min = String(data.start);
    seek.step = String(60000);
    const days = (/** @type {number} */ ms) => Math.round((ms - data.start) / DAY);
    setOptions(select("tlRange"), [
      ["all", `Whole replay (${days(data.end)} days)`],
      ["fighting", `Fighting days (${days(data.fightingEnd)} days)`],
    ], "all");
    this.setRange();
    byId("tlSource").textContent = `${source}: ${data.patients.length.toLocaleString("en")} patients` + (data.skipped ? ` (${data.skipped} without a timeline skipped)` : "");
    byId("tlEmpty").hidden = true;
    byId("tlStage").hidden = false;
    this.renderDayMarks();
    this.select(null);
    this.applyFilter();
    this.seek(data.start);
    this.resize();
    this.ctx.notify(`Loaded ${data.patients.length.toLocaleString("en")} patients for replay.`);
  }

  /** The seek bar's span: the whole replay or the fighting days. */
  setRange() {
    if (!this.data) return;
    this.rangeEnd = select("tlRange").value === "fighting" ? this.data.fightingEnd : this.data.end;
    input("tlSeek").max = String(this.rangeEnd);
    this.renderDayMarks();
    if (this.t > this.rangeEnd) this.seek(this.rangeEnd);
  }

  renderDayMarks() {
    if (!this.data) return;
    const start = this.data.start;
    const end = this.rangeEnd || this.data.end;
    const marks = byId("tlDays");
    const days = Math.ceil((end - start) / DAY);
    // As many marks as fit without overlapping (about 44 px each).
    const fit = Math.max(3, Math.floor((marks.clientWidth || 800) / 44));
    const every = [1, 2, 7, 14, 28, 56, 91, 182, 365].find((e) => days / e <= fit) || 365;
    const nodes = [];
    for (let d = 0; d <= days; d += every) {
      const at = start + d * DAY;
      if (at > end) break;
      nodes.push(el("span", { style: `left:${((100 * (at - start)) / (end - start)).toFixed(2)}%` }, [`D${d + 1}`]));
    }
    marks.replaceChildren(...nodes);
  }

  applyFilter() {
    if (!this.data) return;
    const f = {
      front: select("tlFront").value,
      nationality: select("tlNation").value,
      triage: select("tlTriage").value,
      outcome: select("tlOutcome").value,
    };
    this.visible = this.data.patients.filter((p) => matches(p, f));
    // Grouped by triage so the canvas switches colour at most a few times per frame.
    this.visible.sort((a, b) => (a.triage < b.triage ? -1 : a.triage > b.triage ? 1 : a.index - b.index));
    this.index = new TimelineIndex(this.visible);
    byId("tlShown").textContent = `${this.visible.length.toLocaleString("en")} of ${this.data.patients.length.toLocaleString("en")} patients shown`;
    this.updateReadout();
    this.dirty = true;
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  play() {
    if (!this.data) return;
    if (this.t >= this.rangeEnd) this.seek(this.data.start);
    this.playing = true;
    this.last = performance.now();
    byId("tlPlay").textContent = "Pause";
    byId("tlPlay").setAttribute("aria-pressed", "true");
  }

  pause() {
    this.playing = false;
    byId("tlPlay").textContent = "Play";
    byId("tlPlay").setAttribute("aria-pressed", "false");
  }

  /** @param {number} t */
  seek(t) {
    if (!this.data) return;
    this.t = Math.min(this.rangeEnd, Math.max(this.data.start, t));
    input("tlSeek").value = String(this.t);
    this.updateReadout();
    this.dirty = true;
  }

  /** Counters, census and clock as text (exact, from the index). */
  updateReadout() {
    if (!this.data || !this.index) return;
    const t = this.t;
    const c = this.index.counters(t);
    byId("tlKia").textContent = String(c.KIA);
    byId("tlDow").textContent = String(c.DOW);
    byId("tlRtd").textContent = String(c.RTD);
    byId("tlRole4").textContent = String(c.ROLE4);
    byId("tlInjured").textContent = String(c.injured);
    const census = this.index.census(t);
    census.at.forEach((n, i) => {
      byId("tlCensus" + i).textContent = String(n);
    });
    byId("tlTransit").textContent = String(census.transit);
    const time = byId("tlTime");
    time.textContent = clock(t, this.data.start);
    time.setAttribute("data-ms", String(t));
    input("tlSeek").setAttribute("aria-valuetext", clock(t, this.data.start));
    this.census = census;
  }

  resize() {
    const box = this.canvas.parentElement;
    const width = Math.max(300, Math.floor((box ? box.clientWidth : 800)));
    const height = width < 600 ? 420 : 460;
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.floor(width * dpr);
    this.canvas.height = Math.floor(height * dpr);
    this.canvas.style.width = width + "px";
    this.canvas.style.height = height + "px";
    this.g.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (this.w !== width) this.renderDayMarks();
    this.w = width;
    this.h = height;
    this.dirty = true;
  }

  /** @param {number} now */
  frame(now) {
    if (this.playing && this.data) {
      const dt = Math.min(250, now - this.last);
      this.t = Math.min(this.rangeEnd, this.t + dt * this.speed * (HOUR / 1000));
      input("tlSeek").value = String(this.t);
      this.updateReadout();
      if (this.t >= this.rangeEnd) this.pause();
      this.dirty = true;
    }
    this.last = now;
    if (this.dirty) {
      const t0 = performance.now();
      this.draw();
      const ms = performance.now() - t0;
      this.stats.frames++;
      this.stats.drawMs += ms;
      this.stats.maxDrawMs = Math.max(this.stats.maxDrawMs, ms);
      this.dirty = false;
    }
    requestAnimationFrame((n) => this.frame(n));
  }

  draw() {
    const g = this.g;
    const w = this.w || 800;
    const h = this.h || 460;
    g.fillStyle = "#ffffff";
    g.fillRect(0, 0, w, h);
    if (!this.data) return;
    const cols = FACILITIES.length;
    const colW = w / cols;
    const top = 46;
    const bottom = h - 8;
    const laneH = bottom - top;
    // Lanes and their census.
    for (let i = 0; i < cols; i++) {
      g.fillStyle = i % 2 ? "#f4f6f8" : "#eef1f4";
      g.fillRect(i * colW + 2, top, colW - 4, laneH);
      g.fillStyle = "#1d2733";
      g.font = `600 ${w < 600 ? 11 : 13}px system-ui, sans-serif`;
      g.textAlign = "center";
      g.fillText(w < 600 ? FACILITIES[i] : FACILITY_LABELS[i], i * colW + colW / 2, 18);
      g.font = `${w < 600 ? 11 : 12}px system-ui, sans-serif`;
      g.fillStyle = "#44515f";
      const n = this.census ? this.census.at[i] : 0;
      g.fillText(`${n.toLocaleString("en")} here`, i * colW + colW / 2, 36);
    }
    const t = this.t;
    const n = this.visible.length;
    if (this.hitX.length < n) {
      this.hitX = new Float32Array(n);
      this.hitY = new Float32Array(n);
    }
    this.hitP.length = 0;
    const size = n > 4000 ? 2 : n > 1000 ? 3 : 4;
    const pad = 8;
    let color = "";
    let k = 0;
    for (let idx = 0; idx < n; idx++) {
      const p = this.visible[idx];
      const s = segmentAt(p, t);
      if (!s) continue;
      const hx = p.hash;
      const hy = (p.hash * 7919.123) % 1;
      const y = top + pad + hy * (laneH - 2 * pad);
      let x;
      if (s.kind === "transit") {
        const span = s.to === Infinity ? 1 : Math.max(1, s.to - s.from);
        const q = Math.min(1, (t - s.from) / span);
        const a = s.facility * colW + colW / 2;
        const b = s.target * colW + colW / 2;
        x = a + (b - a) * q;
      } else {
        x = s.facility * colW + pad + hx * (colW - 2 * pad);
      }
      const c = s.kind === "kia" ? "#111111" : s.kind === "rtd" ? "#1e88e5" : TRIAGE_COLORS[/** @type {keyof TRIAGE_COLORS} */ (p.triage)] || OTHER_COLOR;
      if (c !== color) {
        g.fillStyle = c;
        color = c;
      }
      g.fillRect(x - size / 2, y - size / 2, size, size);
      this.hitX[k] = x;
      this.hitY[k] = y;
      this.hitP.push(idx);
      k++;
    }
    if (this.selected) {
      const s = segmentAt(this.selected, t);
      const i = this.visible.indexOf(this.selected);
      const j = i >= 0 ? this.hitP.indexOf(i) : -1;
      if (s && j >= 0) {
        g.strokeStyle = "#0b3d91";
        g.lineWidth = 2;
        g.beginPath();
        g.arc(this.hitX[j], this.hitY[j], 7, 0, 2 * Math.PI);
        g.stroke();
      }
    }
  }

  /** @param {MouseEvent} e */
  pick(e) {
    const r = this.canvas.getBoundingClientRect();
    const x = e.clientX - r.left;
    const y = e.clientY - r.top;
    let best = -1;
    let bestD = 100; // within 10 px
    for (let j = 0; j < this.hitP.length; j++) {
      const dx = this.hitX[j] - x;
      const dy = this.hitY[j] - y;
      const d = dx * dx + dy * dy;
      if (d < bestD) {
        bestD = d;
        best = j;
      }
    }
    this.select(best >= 0 ? this.visible[this.hitP[best]] : null);
  }

  /** Shows a patient's record and timeline. @param {import("./model.js").TimelinePatient | null} p */
  select(p) {
    this.selected = p;
    this.dirty = true;
    const box = byId("tlRecord");
    if (!p) {
      box.hidden = true;
      return;
    }
    const r = /** @type {any} */ (p.raw);
    const d = r.demographics || {};
    const cond = (r.conditions || []).map((/** @type {any} */ c) => `${c.name || c.display || ""}${c.code ? " (" + c.code + ")" : ""}`).join("; ");
    const rows = [
      ["Patient", `${p.name} (id ${p.id})`],
      ["Nationality", p.nationality],
      ["Front", p.front],
      ["Rank / unit", [d.rank, d.unit].filter(Boolean).join(", ")],
      ["Injury", [r.injury_type, r.body_part].filter(Boolean).join(", ")],
      ["Conditions", cond],
      ["Triage", p.triage],
      ["Outcome", OUTCOME_LABELS[/** @type {keyof OUTCOME_LABELS} */ (p.outcome)] || p.outcome],
      ["Injured", clock(p.injury, this.data ? this.data.start : p.injury)],
    ].filter(([, v]) => v);
    const events = (r.movement_timeline || []).map((/** @type {any} */ e) => {
      const at = p.injury + Math.max(0, Number(e.hours_since_injury) || 0) * HOUR;
      const extra = e.to_facility ? ` → ${e.to_facility}` : "";
      return el("li", {}, [el("time", {}, [`+${(Number(e.hours_since_injury) || 0).toFixed(1)} h`]), ` ${e.event_type.replace(/_/g, " ")} at ${e.facility || "?"}${extra}`, el("span", { className: "muted" }, [` (${clock(at, this.data ? this.data.start : at)})`])]);
    });
    byId("tlRecordBody").replaceChildren(
      el("dl", { className: "record" }, rows.flatMap(([k, v]) => [el("dt", {}, [k]), el("dd", {}, [v])])),
      el("h4", {}, ["Timeline"]),
      el("ol", { className: "events" }, events),
    );
    box.hidden = false;
  }
}

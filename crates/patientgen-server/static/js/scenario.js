// The scenario builder: every field of a scenario (PRODUCT §2), live sums,
// live validation through the API with each error shown at its field, saved
// configurations, and JSON / TOML import and export.

import { el, byId, input, select, setOptions, saveBlob } from "./components/dom.js";
import { reveal } from "./components/accordion.js";
import { toJson, parseJson } from "./services/api.js";
import { parse as parseToml, stringify as toToml } from "../vendor/smol-toml/index.js";

export const WARFARE = [
  ["conventional", "Conventional"],
  ["artillery", "Artillery"],
  ["urban", "Urban"],
  ["guerrilla", "Guerrilla"],
  ["drone", "Drone"],
  ["naval", "Naval / amphibious"],
  ["cbrn", "CBRN"],
  ["peacekeeping", "Peacekeeping"],
];
const INTENSITY = ["low", "medium", "high", "extreme"];
const TEMPO = ["sustained", "escalating", "surge", "declining", "intermittent"];
const SPECIAL = [
  ["major_offensive", "Major offensive"],
  ["ambush", "Ambush"],
  ["mass_casualty", "Mass-casualty events"],
];
const ENVIRONMENT = [
  ["night_operations", "Night operations"],
  ["rain", "Rain"],
  ["fog", "Fog"],
  ["storm", "Storm"],
  ["extreme_heat", "Extreme heat"],
  ["extreme_cold", "Extreme cold"],
  ["dust_storm", "Dust storm"],
  ["mountainous_terrain", "Mountainous terrain"],
  ["urban_debris", "Urban debris"],
];
const INJURY = [
  ["Battle Injury", "Battle injury"],
  ["Non-Battle Injury", "Non-battle injury"],
  ["Disease", "Disease"],
];
const ROLES = ["Role1", "Role2", "Role3", "Role4"];
const ROLE_NAMES = {
  Role1: "Role 1 - Battalion Aid Station",
  Role2: "Role 2 - Forward Surgical Team",
  Role3: "Role 3 - Combat Support Hospital",
  Role4: "Role 4 - Definitive Care",
};
const ROLE_DEFAULTS = { Role1: [0.08, 0.25], Role2: [0.06, 0.35], Role3: [0.04, 0.45], Role4: [0.02, 0.7] };
/** Keys the builder rewrites from their aliases. */
const ALIASES = ["count", "duration_days", "injury_mix", "warfare_type", "output_formats", "id", "created_at", "updated_at", "version", "parent_config_id"];

/** @param {number} x @returns {number} a percentage shown without float noise */
export function pct(x) {
  return Math.round(x * 100 * 10000) / 10000;
}

/** @param {unknown} v */
function num(v) {
  const n = typeof v === "string" && v.trim() === "" ? NaN : Number(v);
  return n;
}

/**
 * Turns any accepted configuration object (a preset's generation_config, a
 * saved configuration, an imported file, an API request body) into the
 * builder's complete scenario.
 * @param {any} raw
 * @returns {any}
 */
export function normalise(raw) {
  let c = raw && typeof raw === "object" ? raw : {};
  if (c.configuration && typeof c.configuration === "object") c = c.configuration;
  if (c.generation_config && typeof c.generation_config === "object") c = c.generation_config;
  const s = JSON.parse(JSON.stringify(c));
  s.name = s.name || "New scenario";
  s.description = s.description || "";
  s.total_patients = s.total_patients ?? s.count ?? 1440;
  s.days_of_fighting = s.days_of_fighting ?? s.duration_days ?? 8;
  s.base_date = s.base_date || "2025-06-01";
  let mix = s.injury_distribution || s.injury_mix || { "Battle Injury": 0.15, "Non-Battle Injury": 0.33, Disease: 0.52 };
  const sum = Object.values(mix).reduce((a, b) => a + Number(b || 0), 0);
  if (sum > 1.5) mix = Object.fromEntries(Object.entries(mix).map(([k, v]) => [k, Number(v) / 100]));
  s.injury_distribution = Object.fromEntries(INJURY.map(([k]) => [k, Number(mix[k] || 0)]));
  /** @type {Record<string, boolean>} */
  const warfare = Object.fromEntries(WARFARE.map(([k]) => [k, false]));
  if (s.warfare_types && typeof s.warfare_types === "object") {
    for (const [k, v] of Object.entries(s.warfare_types)) warfare[k === "amphibious" ? "naval" : k] = Boolean(v) || warfare[k] || false;
  } else if (typeof s.warfare_type === "string") {
    warfare[s.warfare_type === "amphibious" ? "naval" : s.warfare_type] = true;
  } else {
    warfare.conventional = warfare.artillery = warfare.drone = true;
  }
  s.warfare_types = warfare;
  s.intensity = s.intensity || "medium";
  s.tempo = s.tempo || "sustained";
  s.special_events = Object.assign(Object.fromEntries(SPECIAL.map(([k]) => [k, false])), s.special_events || { mass_casualty: true });
  s.environmental_conditions = Object.assign(
    Object.fromEntries(ENVIRONMENT.map(([k]) => [k, false])),
    s.environmental_conditions || { night_operations: true },
  );
  s.front_configs = Array.isArray(s.front_configs) && s.front_configs.length
    ? s.front_configs
    : [{ id: "front_0", name: "Main front", casualty_rate: 1, nationality_distribution: [{ nationality_code: "USA", percentage: 100 }] }];
  for (const f of s.front_configs) {
    f.nationality_distribution = Array.isArray(f.nationality_distribution) ? f.nationality_distribution : [];
    if (f.casualty_rate === undefined || f.casualty_rate === null) f.casualty_rate = 1 / s.front_configs.length;
  }
  s.facility_chain = Array.isArray(s.facility_chain) && s.facility_chain.length ? s.facility_chain : ["POI", ...ROLES];
  s.facility_configs = Array.isArray(s.facility_configs) && s.facility_configs.length
    ? s.facility_configs
    : ROLES.map((r) => ({ id: r, name: ROLE_NAMES[/** @type {keyof ROLE_NAMES} */ (r)], kia_rate: ROLE_DEFAULTS[/** @type {keyof ROLE_DEFAULTS} */ (r)][0], rtd_rate: ROLE_DEFAULTS[/** @type {keyof ROLE_DEFAULTS} */ (r)][1] }));
  for (const f of s.facility_configs) {
    for (const k of ["description", "capacity", "role", "front_id"]) if (f[k] === null || f[k] === "") delete f[k];
  }
  for (const k of ALIASES) delete s[k];
  if (s.seed === null || s.seed === "") delete s.seed;
  return s;
}

/** Large TOML integers come back as BigInt: keep them as digits. @param {any} v */
function bigToText(v) {
  if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      if (typeof x === "bigint") v[k] = Number.isSafeInteger(Number(x)) ? Number(x) : String(x);
      else bigToText(x);
    }
  }
}

/** Removes nulls (TOML has none). @param {any} v @returns {any} */
function withoutNulls(v) {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null && x !== undefined).map(([k, x]) => [k, withoutNulls(x)]));
  }
  return v;
}

/**
 * Splits an API error string `a -> b: rule` into field and message.
 * @param {string} text
 * @returns {{field: string, message: string}}
 */
export function splitError(text) {
  const m = /^([A-Za-z_][\w .-]*(?: -> [^:]+)*): (.+)$/s.exec(text);
  return m ? { field: m[1].trim(), message: m[2] } : { field: "", message: text };
}

/** Fields the builder shows in per cent although the API takes 0–1. */
const PERCENT_FIELD = /(casualty_rate|kia_rate|rtd_rate)$/;

/**
 * @typedef {{api: import("./services/api.js").ApiClient, notify: (text: string, kind?: string) => void,
 *   hasKey: () => boolean, generate: (request: any) => Promise<void>}} BuilderContext
 */

export class ScenarioBuilder {
  /** @param {BuilderContext} ctx */
  constructor(ctx) {
    this.ctx = ctx;
    /** @type {any} */
    this.s = normalise({});
    /** @type {Array<[string, string]>} */
    this.nations = [];
    /** @type {AbortController | null} */
    this.pending = null;
    /** @type {number | undefined} */
    this.debounce = undefined;
    this.valid = false;
    this.loadedOnce = false;
    this.wire();
  }

  wire() {
    byId("builder").addEventListener("input", (e) => this.onInput(/** @type {HTMLInputElement} */ (e.target)));
    byId("builder").addEventListener("change", (e) => this.onInput(/** @type {HTMLInputElement} */ (e.target)));
    byId("loadPreset").addEventListener("click", () => this.loadPreset());
    byId("loadSaved").addEventListener("click", () => this.loadSaved());
    byId("saveNew").addEventListener("click", () => this.save(false));
    byId("saveUpdate").addEventListener("click", () => this.save(true));
    byId("deleteSaved").addEventListener("click", () => this.deleteSaved());
    byId("exportJson").addEventListener("click", () => this.exportAs("json"));
    byId("exportToml").addEventListener("click", () => this.exportAs("toml"));
    input("importFile").addEventListener("change", () => this.importFile());
    byId("addFront").addEventListener("click", () => {
      const n = this.s.front_configs.length;
      let id = "front_" + n;
      while (this.s.front_configs.some((/** @type {any} */ f) => f.id === id)) id += "_";
      this.s.front_configs.push({ id, name: "Front " + (n + 1), casualty_rate: 0, nationality_distribution: [{ nationality_code: "USA", percentage: 100 }] });
      this.renderFronts();
      this.changed();
      /** @type {HTMLElement | null} */ (document.querySelector(`[data-field="front_configs -> ${n} -> name"] input`))?.focus();
    });
    byId("addFacility").addEventListener("click", () => {
      this.s.facility_configs.push({ id: "facility_" + this.s.facility_configs.length, name: "Role 2 (extra)", role: "Role2", kia_rate: 0.06, rtd_rate: 0.35 });
      this.renderFacilities();
      this.changed();
    });
    byId("generateBtn").addEventListener("click", () => this.generate());
    input("useEncryption").addEventListener("change", () => {
      byId("passwordField").hidden = !input("useEncryption").checked;
    });
  }

  /** @param {Array<{code: string, name: string}>} list */
  setNations(list) {
    this.nations = list.map((n) => [n.code, `${n.name} (${n.code})`]);
    this.renderFronts();
  }

  /** @param {Array<{id: string, name: string, total_patients?: number, duration_days?: number}>} presets */
  setPresets(presets) {
    const sel = select("presetSelect");
    setOptions(sel, presets.map((p) => [p.id, `${p.name}${p.total_patients ? ` — ${Number(p.total_patients).toLocaleString("en")} patients` : ""}${p.duration_days ? `, ${p.duration_days} d` : ""}`]), sel.value || "default");
  }

  async refreshSaved() {
    if (!this.ctx.hasKey()) return;
    try {
      const list = await this.ctx.api.configurations();
      const sel = select("savedSelect");
      setOptions(sel, list.map((/** @type {any} */ c) => [c.id, `${c.name} (v${c.version || 1})`]), sel.value);
      const none = list.length === 0;
      for (const id of ["loadSaved", "saveUpdate", "deleteSaved"]) /** @type {HTMLButtonElement} */ (byId(id)).disabled = none;
      sel.disabled = none;
      if (none) setOptions(sel, [["", "No saved configurations yet"]]);
    } catch (e) {
      this.ctx.notify(errorOf(e), "error");
    }
  }

  async loadPreset() {
    const id = select("presetSelect").value;
    if (!id) return;
    try {
      const preset = await this.ctx.api.preset(id);
      this.load(preset.generation_config || preset);
      this.ctx.notify(`Loaded preset “${preset.name || id}”.`);
    } catch (e) {
      this.ctx.notify(errorOf(e), "error");
    }
  }

  async loadSaved() {
    const id = select("savedSelect").value;
    if (!id) return;
    try {
      this.load(await this.ctx.api.configuration(id));
      this.ctx.notify("Loaded the saved configuration.");
    } catch (e) {
      this.ctx.notify(errorOf(e), "error");
    }
  }

  /** @param {boolean} update */
  async save(update) {
    const body = this.config();
    try {
      if (update) {
        const id = select("savedSelect").value;
        const current = await this.ctx.api.configuration(id);
        body.version = (current.version || 1) + 1;
        await this.ctx.api.updateConfiguration(id, body);
        this.ctx.notify(`Updated “${body.name}” (version ${body.version}).`);
      } else {
        const saved = await this.ctx.api.createConfiguration(body);
        await this.refreshSaved();
        select("savedSelect").value = saved.id;
        this.ctx.notify(`Saved “${saved.name}”.`);
      }
      await this.refreshSaved();
    } catch (e) {
      this.showErrors([errorOf(e, true)]);
      this.ctx.notify("Not saved: " + errorOf(e), "error");
    }
  }

  async deleteSaved() {
    const sel = select("savedSelect");
    const label = sel.selectedOptions[0] ? sel.selectedOptions[0].textContent : "";
    if (!sel.value || !window.confirm(`Delete the saved configuration “${label}”?`)) return;
    try {
      await this.ctx.api.deleteConfiguration(sel.value);
      this.ctx.notify("Deleted.");
      sel.value = "";
      await this.refreshSaved();
    } catch (e) {
      this.ctx.notify(errorOf(e), "error");
    }
  }

  /** @param {"json"|"toml"} kind */
  exportAs(kind) {
    const c = this.config();
    const slug = (c.name || "scenario").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "scenario";
    let text;
    if (kind === "json") {
      text = toJson(c, 2) + "\n";
    } else {
      const t = withoutNulls(c);
      if (typeof t.seed === "string") t.seed = BigInt(t.seed); // exact; TOML integers are 64-bit
      text = toToml(t) + "\n";
    }
    saveBlob(new Blob([text], { type: kind === "json" ? "application/json" : "application/toml" }), `${slug}.${kind}`);
  }

  async importFile() {
    const file = input("importFile").files?.[0];
    if (!file) return;
    try {
      const text = await file.text();
      const isToml = /\.toml$/i.test(file.name) || !/^\s*[{[]/.test(text);
      const doc = isToml ? parseToml(text, { integersAsBigInt: "asNeeded" }) : parseJson(text);
      bigToText(doc);
      this.load(doc);
      this.ctx.notify(`Imported ${file.name}.`);
    } catch (e) {
      this.ctx.notify(`Cannot read ${file.name}: ${e instanceof Error ? e.message : e}`, "error");
    } finally {
      input("importFile").value = "";
    }
  }

  /** @param {any} raw */
  load(raw) {
    this.s = normalise(raw);
    this.render();
    this.changed();
  }

  /** The scenario as the API takes it (a configuration object and template). @returns {any} */
  config() {
    const c = JSON.parse(JSON.stringify(this.s));
    if (c.seed === undefined || c.seed === "") delete c.seed;
    if (!c.description) delete c.description;
    return c;
  }

  render() {
    input("cfg-name").value = this.s.name;
    /** @type {HTMLTextAreaElement} */ (byId("cfg-description")).value = this.s.description || "";
    input("cfg-total").value = String(this.s.total_patients);
    input("cfg-days").value = String(this.s.days_of_fighting);
    input("cfg-base-date").value = String(this.s.base_date).slice(0, 10);
    input("cfg-seed").value = this.s.seed === undefined ? "" : String(this.s.seed);
    this.renderFronts();
    this.renderInjury();
    this.renderWarfare();
    this.renderFacilities();
  }

  renderFronts() {
    const box = byId("fronts");
    const nationOptions = this.nations.length ? this.nations : [["USA", "United States (USA)"]];
    box.replaceChildren(
      ...this.s.front_configs.map((/** @type {any} */ f, /** @type {number} */ i) => {
        const at = `front_configs -> ${i}`;
        const rows = f.nationality_distribution.map((/** @type {any} */ n, /** @type {number} */ j) => {
          const path = `${at} -> nationality_distribution -> ${j}`;
          const sel = el("select", { "data-bind": `${path} -> nationality_code`, "aria-label": `Front ${i + 1} nation ${j + 1}` });
          const options = nationOptions.some(([c]) => c === n.nationality_code) ? nationOptions : [...nationOptions, [n.nationality_code, n.nationality_code]];
          setOptions(/** @type {HTMLSelectElement} */ (sel), /** @type {Array<[string,string]>} */ (options), n.nationality_code);
          return el("div", { className: "nation-row", "data-field": path }, [
            el("div", { className: "field", "data-field": `${path} -> nationality_code` }, [sel, errorSlot()]),
            el("div", { className: "field small", "data-field": `${path} -> percentage` }, [
              el("input", { type: "number", min: 0, max: 100, step: "any", value: String(n.percentage), "data-bind": `${path} -> percentage`, "aria-label": `Front ${i + 1} nation ${j + 1} per cent` }),
              el("span", { className: "unit" }, ["%"]),
              errorSlot(),
            ]),
            el("button", { type: "button", className: "icon", "aria-label": `Remove nation ${j + 1} of front ${i + 1}`, onclick: () => {
              f.nationality_distribution.splice(j, 1);
              this.renderFronts();
              this.changed();
            } }, ["✕"]),
          ]);
        });
        const card = el("fieldset", { className: "front", "data-field": at }, [
          el("legend", {}, [`Front ${i + 1}`]),
          el("div", { className: "grid-3" }, [
            labelled(`Name`, el("input", { type: "text", value: f.name, "data-bind": `${at} -> name` }), `${at} -> name`),
            labelled(`Identifier`, el("input", { type: "text", value: f.id, "data-bind": `${at} -> id` }), `${at} -> id`),
            labelled(`Casualty share (%)`, el("input", { type: "number", min: 0, max: 100, step: "any", value: String(pct(f.casualty_rate)), "data-bind": `${at} -> casualty_rate`, "data-percent": "1" }), `${at} -> casualty_rate`),
          ]),
          el("div", { className: "field nations", "data-field": `${at} -> nationality_distribution` }, [
            el("p", { className: "field-label" }, ["Nationalities ", el("span", { className: "sum", "data-sum": `nations-${i}` })]),
            ...rows,
            errorSlot(),
          ]),
          el("div", { className: "row-actions" }, [
            el("button", { type: "button", className: "secondary", onclick: () => {
              const used = new Set(f.nationality_distribution.map((/** @type {any} */ n) => n.nationality_code));
              const next = nationOptions.find(([c]) => !used.has(c));
              f.nationality_distribution.push({ nationality_code: next ? next[0] : "USA", percentage: 0 });
              this.renderFronts();
              this.changed();
            } }, ["Add nation"]),
            this.s.front_configs.length > 1
              ? el("button", { type: "button", className: "danger", onclick: () => {
                this.s.front_configs.splice(i, 1);
                this.renderFronts();
                this.changed();
              } }, [`Remove front ${i + 1}`])
              : null,
          ]),
        ]);
        return card;
      }),
    );
    this.updateSums();
    this.renderFacilityFronts();
  }

  renderInjury() {
    const box = byId("injuryMix");
    box.replaceChildren(
      ...INJURY.map(([key, label]) =>
        labelled(`${label} (%)`, el("input", { type: "number", min: 0, max: 100, step: "any", value: String(pct(this.s.injury_distribution[key] || 0)), "data-bind": `injury_distribution -> ${key}`, "data-percent": "1" }), `injury_distribution -> ${key}`),
      ),
    );
    this.updateSums();
  }

  renderWarfare() {
    const boxes = (/** @type {string} */ group, /** @type {string[][]} */ items, /** @type {Record<string, boolean>} */ values) =>
      items.map(([key, label]) =>
        el("label", { className: "check", "data-field": `${group} -> ${key}` }, [
          el("input", { type: "checkbox", checked: Boolean(values[key]), "data-bind": `${group} -> ${key}` }),
          ` ${label}`,
        ]),
      );
    byId("warfareTypes").replaceChildren(...boxes("warfare_types", WARFARE, this.s.warfare_types));
    byId("specialEvents").replaceChildren(...boxes("special_events", SPECIAL, this.s.special_events));
    byId("environment").replaceChildren(...boxes("environmental_conditions", ENVIRONMENT, this.s.environmental_conditions));
    setOptions(select("cfg-intensity"), INTENSITY.map((x) => [x, x[0].toUpperCase() + x.slice(1)]), this.s.intensity);
    setOptions(select("cfg-tempo"), TEMPO.map((x) => [x, x[0].toUpperCase() + x.slice(1)]), this.s.tempo);
  }

  renderFacilities() {
    const chain = byId("facilityChain");
    chain.replaceChildren(
      el("label", { className: "check" }, [el("input", { type: "checkbox", checked: true, disabled: true }), " Point of injury"]),
      ...ROLES.map((r) =>
        el("label", { className: "check" }, [
          el("input", { type: "checkbox", checked: this.s.facility_chain.includes(r), "data-chain": r }),
          ` Role ${r.slice(4)}`,
        ]),
      ),
    );
    const rows = byId("facilities");
    rows.replaceChildren(
      ...this.s.facility_configs.map((/** @type {any} */ f, /** @type {number} */ i) => {
        const at = `facility_configs -> ${i}`;
        const role = el("select", { "data-bind": `${at} -> role` });
        const current = f.role || ROLES.find((r) => String(f.id).toLowerCase().replace(/[^a-z0-9]/g, "").startsWith(r.toLowerCase())) || "";
        setOptions(/** @type {HTMLSelectElement} */ (role), ROLES.map((r) => [r, `Role ${r.slice(4)}`]), current || "Role1");
        const front = el("select", { "data-bind": `${at} -> front_id`, "data-front-select": "1" });
        return el("fieldset", { className: "facility", "data-field": at }, [
          el("legend", {}, [f.name || `Facility ${i + 1}`]),
          el("div", { className: "grid-3" }, [
            labelled("Role", role, `${at} -> id`),
            labelled("Front", front, `${at} -> front_id`),
            labelled("Name", el("input", { type: "text", value: f.name, "data-bind": `${at} -> name` }), `${at} -> name`),
            labelled("Death rate (%)", el("input", { type: "number", min: 0, max: 100, step: "any", value: String(pct(f.kia_rate)), "data-bind": `${at} -> kia_rate`, "data-percent": "1" }), `${at} -> kia_rate`),
            labelled("Return-to-duty rate (%)", el("input", { type: "number", min: 0, max: 100, step: "any", value: String(pct(f.rtd_rate)), "data-bind": `${at} -> rtd_rate`, "data-percent": "1" }), `${at} -> rtd_rate`),
            labelled("Beds (optional)", el("input", { type: "number", min: 1, step: 1, value: f.capacity === undefined ? "" : String(f.capacity), "data-bind": `${at} -> capacity`, "data-optional": "1" }), `${at} -> capacity`),
          ]),
          el("div", { className: "row-actions" }, [
            el("button", { type: "button", className: "danger", onclick: () => {
              this.s.facility_configs.splice(i, 1);
              this.renderFacilities();
              this.changed();
            } }, [`Remove ${f.name || "facility"}`]),
          ]),
        ]);
      }),
    );
    this.renderFacilityFronts();
  }

  renderFacilityFronts() {
    const fronts = this.s.front_configs.map((/** @type {any} */ f) => [f.id, f.name || f.id]);
    document.querySelectorAll("[data-front-select]").forEach((node, i) => {
      const f = this.s.facility_configs[i];
      if (!f) return;
      setOptions(/** @type {HTMLSelectElement} */ (node), [["", "All fronts"], ...fronts], f.front_id || "");
    });
  }

  /** @param {HTMLInputElement} target */
  onInput(target) {
    if (!target || !(target instanceof HTMLElement)) return;
    const bind = target.getAttribute("data-bind");
    const simple = target.id && target.id.startsWith("cfg-") ? target.id : "";
    if (target.hasAttribute("data-chain")) {
      const chain = ["POI", ...ROLES.filter((r) => /** @type {HTMLInputElement|null} */ (document.querySelector(`[data-chain="${r}"]`))?.checked)];
      this.s.facility_chain = chain;
    } else if (bind) {
      this.assign(bind, target);
      if (/-> name$/.test(bind) && bind.startsWith("front_configs")) this.renderFacilityFronts();
      if (/-> name$/.test(bind) && bind.startsWith("facility_configs")) {
        const legend = target.closest("fieldset")?.querySelector("legend");
        if (legend) legend.textContent = target.value || "Facility";
      }
    } else if (simple) {
      const v = target.value;
      if (simple === "cfg-name") this.s.name = v;
      else if (simple === "cfg-description") this.s.description = v;
      else if (simple === "cfg-total") this.s.total_patients = v === "" ? null : num(v);
      else if (simple === "cfg-days") this.s.days_of_fighting = v === "" ? null : num(v);
      else if (simple === "cfg-base-date") this.s.base_date = v;
      else if (simple === "cfg-seed") {
        // Seeds are u64: beyond 2^53 they are kept as text and sent exactly.
        if (v === "") delete this.s.seed;
        else this.s.seed = /^\d+$/.test(v.trim()) && !Number.isSafeInteger(num(v)) ? v.trim() : num(v);
      } else if (simple === "cfg-intensity") this.s.intensity = v;
      else if (simple === "cfg-tempo") this.s.tempo = v;
      else return;
    } else {
      return;
    }
    this.changed();
  }

  /**
   * Writes an input's value at a `a -> b -> 0 -> c` path of the scenario.
   * @param {string} path
   * @param {HTMLInputElement} target
   */
  assign(path, target) {
    const keys = path.split(" -> ");
    /** @type {any} */
    let obj = this.s;
    for (const k of keys.slice(0, -1)) obj = obj[k];
    const last = keys[keys.length - 1];
    let value;
    if (target.type === "checkbox") value = target.checked;
    else if (target.type === "number") {
      value = target.value === "" ? null : num(target.value);
      if (value !== null && target.hasAttribute("data-percent")) value = value / 100;
    } else value = target.value;
    if ((value === null || value === "") && (target.hasAttribute("data-optional") || last === "front_id")) delete obj[last];
    else obj[last] = value;
    if (last === "role" && obj.id && /^role\d$/i.test(obj.id)) obj.id = value;
  }

  updateSums() {
    this.s.front_configs.forEach((/** @type {any} */ f, /** @type {number} */ i) => {
      const sum = f.nationality_distribution.reduce((/** @type {number} */ a, /** @type {any} */ n) => a + (Number(n.percentage) || 0), 0);
      const node = document.querySelector(`[data-sum="nations-${i}"]`);
      if (node) {
        node.textContent = `— sum ${round(sum)} %`;
        node.classList.toggle("off", Math.abs(sum - 100) > 0.5);
      }
    });
    const fronts = this.s.front_configs.reduce((/** @type {number} */ a, /** @type {any} */ f) => a + (Number(f.casualty_rate) || 0), 0);
    const fs = byId("frontSum");
    fs.textContent = `Casualty shares sum to ${round(fronts * 100)} %` + (Math.abs(fronts - 1) > 0.005 ? " (shares are scaled to 100 %)" : "");
    const injury = Object.values(this.s.injury_distribution).reduce((/** @type {number} */ a, /** @type {any} */ v) => a + (Number(v) || 0), 0);
    const is = byId("injurySum");
    is.textContent = `Sum ${round(injury * 100)} %`;
    is.classList.toggle("off", Math.abs(injury - 1) > 0.01);
  }

  changed() {
    this.updateSums();
    this.valid = false;
    byId("validity").textContent = "Checking…";
    byId("validity").className = "validity checking";
    clearTimeout(this.debounce);
    this.debounce = window.setTimeout(() => this.validate(), 300);
  }

  /** Asks the API whether the scenario is valid; shows each error at its field. */
  async validate() {
    if (!this.ctx.hasKey()) {
      byId("validity").textContent = "Set an API key to check the scenario.";
      byId("validity").className = "validity";
      return false;
    }
    if (this.pending) this.pending.abort();
    const controller = new AbortController();
    this.pending = controller;
    try {
      const result = await this.ctx.api.validate(this.config(), controller.signal);
      if (controller.signal.aborted) return false;
      this.showErrors(result.valid ? [] : result.errors);
      this.valid = Boolean(result.valid);
    } catch (e) {
      if (e instanceof DOMException && e.name === "AbortError") return false;
      this.showErrors([errorOf(e, true)]);
      this.valid = false;
    } finally {
      if (this.pending === controller) this.pending = null;
    }
    return this.valid;
  }

  /** @param {string[]} errors */
  showErrors(errors) {
    document.querySelectorAll("#builder .field-error").forEach((n) => {
      n.textContent = "";
    });
    document.querySelectorAll("#builder [aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
    document.querySelectorAll("#builder .has-error").forEach((n) => n.classList.remove("has-error"));
    /** @type {string[]} */
    const general = [];
    for (const text of errors) {
      const { field, message } = splitError(text);
      let shown = PERCENT_FIELD.test(field) ? message.replace("must be between 0 and 1", "must be between 0 and 100 %") : message;
      if (/^injury_(distribution|mix)$/.test(field) && message.startsWith("shares must sum")) {
        // The builder shows the mix in per cent: say it that way, without float noise.
        const sum = Object.values(this.s.injury_distribution).reduce((/** @type {number} */ a, /** @type {any} */ v) => a + (Number(v) || 0), 0);
        shown = `shares must sum to 100 % (now ${round(sum * 100)} %)`;
      }
      const target = field ? this.fieldNode(field) : null;
      if (!target) {
        general.push(text);
        continue;
      }
      target.classList.add("has-error");
      reveal(target);
      const slot = [...target.children].reverse().find((c) => c.classList.contains("field-error"));
      if (slot) slot.textContent = (slot.textContent ? slot.textContent + " " : "") + shown.charAt(0).toUpperCase() + shown.slice(1) + ".";
      const control = target.querySelector("input, select, textarea");
      if (control) control.setAttribute("aria-invalid", "true");
    }
    const box = byId("validity");
    if (!errors.length) {
      box.textContent = "✓ The scenario is valid.";
      box.className = "validity ok";
    } else {
      box.replaceChildren(
        `${errors.length} problem${errors.length > 1 ? "s" : ""} to fix${general.length ? ":" : " (marked at the fields)."}`,
        ...(general.length ? [el("ul", {}, general.map((g) => el("li", {}, [g])))] : []),
      );
      box.className = "validity bad";
    }
  }

  /**
   * The element showing a field path, or its nearest shown ancestor path.
   * @param {string} field
   * @returns {HTMLElement | null}
   */
  fieldNode(field) {
    let parts = field.split(" -> ");
    if (parts[0] === "injury_mix") parts[0] = "injury_distribution";
    if (parts[0] === "count") parts = ["total_patients"];
    if (parts[0] === "duration_days") parts = ["days_of_fighting"];
    while (parts.length) {
      const node = /** @type {HTMLElement | null} */ (document.querySelector(`#builder [data-field="${CSS.escape(parts.join(" -> "))}"]`));
      if (node && node.querySelector(":scope > .field-error, :scope > * > .field-error")) return node;
      if (node) {
        const slot = node.querySelector(".field-error");
        if (slot) return /** @type {HTMLElement} */ (slot.parentElement);
      }
      parts = parts.slice(0, -1);
    }
    return null;
  }

  async generate() {
    const formats = [...document.querySelectorAll("#formats input:checked")].map((i) => /** @type {HTMLInputElement} */ (i).value);
    if (!formats.length) {
      this.ctx.notify("Choose at least one output format.", "error");
      return;
    }
    clearTimeout(this.debounce);
    if (!(await this.validate())) {
      this.ctx.notify("Fix the marked fields first.", "error");
      const first = /** @type {HTMLElement | null} */ (document.querySelector("#builder [aria-invalid]"));
      if (first) {
        reveal(first);
        first.focus();
      }
      return;
    }
    /** @type {any} */
    const request = { configuration: this.config(), output_formats: formats };
    if (input("useCompression").checked) request.use_compression = true;
    if (input("useEncryption").checked) {
      request.use_encryption = true;
      request.encryption_password = input("encryptionPassword").value;
    }
    await this.ctx.generate(request);
  }
}

/** @param {number} x */
function round(x) {
  return Math.round(x * 100) / 100;
}

function errorSlot() {
  return el("p", { className: "field-error", "aria-live": "polite" });
}

let fieldCounter = 0;
/**
 * A label + control + error slot, marked with its API field path.
 * @param {string} label
 * @param {HTMLElement} control
 * @param {string} field
 */
function labelled(label, control, field) {
  const id = control.id || `f${++fieldCounter}`;
  control.id = id;
  const err = errorSlot();
  err.id = id + "-err";
  control.setAttribute("aria-describedby", err.id);
  return el("div", { className: "field", "data-field": field }, [el("label", { for: id }, [label]), control, err]);
}

/** @param {unknown} e @param {boolean} [raw] the bare detail (for field matching) */
function errorOf(e, raw) {
  if (e && typeof e === "object" && "detail" in e) {
    const d = /** @type {any} */ (e).detail;
    return raw ? d : `${d} (HTTP ${/** @type {any} */ (e).status})`;
  }
  return e instanceof Error ? e.message : String(e);
}

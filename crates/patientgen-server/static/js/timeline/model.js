// The timeline player's data: patients read from a patients.json / NDJSON file
// (ours, or upstream's viewer format), each turned into time segments, and
// sorted event-time arrays from which every counter is computed by binary
// search. Counters therefore follow from the data at any instant, never from
// animation state. No DOM here: the tests run this module in Node too.

export const FACILITIES = ["POI", "Role1", "Role2", "Role3", "Role4"];
export const FACILITY_LABELS = ["Point of injury", "Role 1", "Role 2", "Role 3", "Role 4"];
export const OUTCOMES = ["KIA", "DOW", "RTD", "ROLE4"];
export const OUTCOME_LABELS = { KIA: "KIA", DOW: "DOW", RTD: "RTD", ROLE4: "Role 4", UNKNOWN: "Unknown" };
export const TRIAGES = ["T1", "T2", "T3", "T4"];
const HOUR = 3600000;
/** How long a death or a return to duty stays visible on the lanes. */
export const LINGER = 0.25 * HOUR;

/**
 * One stretch of a patient's time: at a facility, in transit, or a terminal
 * marker (`kia` / `rtd`) shown briefly.
 * @typedef {{kind: "at"|"transit"|"kia"|"rtd", from: number, to: number, facility: number, target: number}} Segment
 */

/**
 * @typedef {object} TimelinePatient
 * @property {number} index position in the loaded file
 * @property {string} id
 * @property {string} name
 * @property {string} front
 * @property {string} nationality
 * @property {string} triage
 * @property {string} outcome KIA, DOW, RTD, ROLE4 or UNKNOWN
 * @property {number} injury injury instant, ms since the epoch
 * @property {number} end the terminal event's instant (ms), or the last event's
 * @property {Segment[]} segments sorted by `from`
 * @property {number} hash a stable pseudo-random number for the dot's place
 * @property {object} raw the record as loaded
 */

/**
 * Reads a patients file: a JSON array, `{metadata, patients}`, or NDJSON;
 * items may be wrapped as `{patient: {...}}` (upstream's viewer accepts that).
 * @param {string} text
 * @returns {object[]}
 */
export function parsePatientsText(text) {
  const trimmed = text.trim();
  if (!trimmed) throw new Error("The file is empty.");
  /** @type {any} */
  let doc;
  try {
    doc = JSON.parse(trimmed);
  } catch (e) {
    // NDJSON: one record per line.
    const lines = trimmed.split(/\r?\n/).filter((l) => l.trim() !== "");
    if (lines.length < 2 && !trimmed.startsWith("{")) throw new Error("Not JSON or NDJSON: " + String(e));
    doc = lines.map((line, i) => {
      try {
        return JSON.parse(line);
      } catch {
        throw new Error("Line " + (i + 1) + " is not JSON.");
      }
    });
  }
  const list = Array.isArray(doc) ? doc : doc && Array.isArray(doc.patients) ? doc.patients : null;
  if (!list) throw new Error("Expected an array of patients or an object with a `patients` array.");
  return list.map((/** @type {any} */ p) => (p && typeof p === "object" && p.patient && typeof p.patient === "object" ? p.patient : p));
}

/** @param {unknown} v @returns {number} ms, or NaN */
function instant(v) {
  if (typeof v !== "string" || !v) return NaN;
  // A time without a zone (upstream's naive timestamps) is read as UTC, so the
  // replay is the same in every browser time zone.
  const zoned = /([zZ]|[+-]\d\d:?\d\d)$/.test(v) ? v : v + "Z";
  return Date.parse(zoned);
}

/** @param {unknown} name @returns {number} facility index or -1 */
export function facilityIndex(name) {
  if (typeof name !== "string") return -1;
  const n = name.toLowerCase().replace(/[^a-z0-9]/g, "");
  if (n === "poi" || n.startsWith("pointofinjury")) return 0;
  const m = /^(?:role|r)([1-4])/.exec(n);
  return m ? Number(m[1]) : -1;
}

/** FNV-1a of a string, as a number in [0, 1). @param {string} s */
function hash01(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 4294967296;
}

/**
 * Builds the player's view of one record, or null when it cannot be placed
 * in time (no injury time or no timeline).
 * @param {any} p
 * @param {number} index
 * @returns {TimelinePatient | null}
 */
export function toTimelinePatient(p, index) {
  if (!p || typeof p !== "object" || !Array.isArray(p.movement_timeline)) return null;
  const injury = instant(p.injury_timestamp || p.injury_time);
  if (!Number.isFinite(injury)) return null;
  const events = p.movement_timeline
    .filter((/** @type {any} */ e) => e && typeof e.event_type === "string")
    .map((/** @type {any} */ e, /** @type {number} */ i) => ({ e, i, h: Math.max(0, Number(e.hours_since_injury) || 0) }))
    .sort((/** @type {any} */ a, /** @type {any} */ b) => a.h - b.h || a.i - b.i);
  /** @type {Segment[]} */
  const segments = [];
  /** @type {Segment} */
  let open = { kind: "at", from: injury, to: Infinity, facility: 0, target: 0 };
  let terminal = NaN;
  let reachedFacility = false;
  let terminalType = "";
  const close = (/** @type {number} */ at) => {
    open.to = Math.max(open.from, at);
    segments.push(open);
  };
  let last = injury;
  for (const { e, h } of events) {
    if (terminalType) break;
    const at = injury + h * HOUR;
    last = at;
    const fac = facilityIndex(e.facility);
    switch (e.event_type) {
      case "arrival": {
        const f = fac >= 0 ? fac : open.kind === "transit" ? open.target : open.facility;
        if (f >= 1) reachedFacility = true;
        if (open.kind === "at" && open.facility === f) break;
        close(at);
        open = { kind: "at", from: at, to: Infinity, facility: f, target: f };
        break;
      }
      case "transit_start": {
        const from = fac >= 0 ? fac : open.facility;
        const to = facilityIndex(e.to_facility);
        const target = to >= 0 ? to : Math.min(from + 1, 4);
        const d = Number(e.transit_duration_hours);
        close(at);
        open = { kind: "transit", from: at, to: Infinity, facility: from, target };
        if (!(d > 0)) {
          // No duration: an instant move to the destination.
          close(at);
          open = { kind: "at", from: at, to: Infinity, facility: target, target };
          if (target >= 1) reachedFacility = true;
        }
        break;
      }
      case "kia":
      case "rtd": {
        const f = fac >= 0 ? fac : open.facility;
        close(at);
        segments.push({ kind: e.event_type, from: at, to: at + LINGER, facility: f, target: f });
        terminal = at;
        terminalType = e.event_type;
        break;
      }
      case "remains_role4": {
        if (!(open.kind === "at" && open.facility === 4)) {
          close(at);
          open = { kind: "at", from: at, to: Infinity, facility: 4, target: 4 };
        }
        reachedFacility = true;
        terminal = at;
        terminalType = "remains_role4";
        break;
      }
      default:
        // evacuation_start and others: the patient stays where they are.
        break;
    }
  }
  if (terminalType !== "kia" && terminalType !== "rtd") segments.push(open);
  const outcome = outcomeOf(p, reachedFacility);
  const d = p.demographics || {};
  const given = d.given_name || p.given_name || "";
  const family = d.family_name || p.family_name || "";
  const id = p.id === undefined || p.id === null ? String(index) : String(p.id);
  return {
    index,
    id,
    name: (given + " " + family).trim() || "Patient " + id,
    front: String(p.front || "Unknown"),
    nationality: String(p.nationality || d.nationality || "Unknown"),
    triage: String(p.triage_category || "Unknown"),
    outcome,
    injury,
    end: Number.isFinite(terminal) ? terminal : last,
    segments,
    hash: hash01(id + ":" + index),
    raw: p,
  };
}

/**
 * KIA / DOW / RTD / ROLE4 from our `outcome`, else upstream's `final_status`
 * (a KIA after reaching a facility is a death of wounds), else `status`.
 * @param {any} p
 * @param {boolean} reachedFacility
 */
export function outcomeOf(p, reachedFacility) {
  const o = String(p.outcome || "").toUpperCase();
  if (o === "KIA" || o === "DOW" || o === "RTD") return o;
  if (o === "REMAINS_ROLE4") return "ROLE4";
  const f = String(p.final_status || p.status || "").toUpperCase();
  if (f === "KIA" || f === "DOW") return reachedFacility || f === "DOW" ? "DOW" : "KIA";
  if (f === "RTD") return "RTD";
  if (f === "REMAINS_ROLE4" || /^(ROLE|R)[1-4]$/.test(f)) return "ROLE4";
  return "UNKNOWN";
}

/** Number of values in the sorted array `a` that are <= t. @param {Float64Array} a @param {number} t */
export function countAtOrBefore(a, t) {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** @param {number[]} values */
function sorted(values) {
  return Float64Array.from(values).sort();
}

/**
 * @typedef {{front?: string, nationality?: string, triage?: string, outcome?: string}} Filter
 * A field left empty (or undefined) does not filter.
 */

/** @param {TimelinePatient} p @param {Filter} f */
export function matches(p, f) {
  return (
    (!f.front || p.front === f.front) &&
    (!f.nationality || p.nationality === f.nationality) &&
    (!f.triage || p.triage === f.triage) &&
    (!f.outcome || p.outcome === f.outcome)
  );
}

/** Sorted event times of a set of patients, for counters and census. */
export class TimelineIndex {
  /** @param {TimelinePatient[]} patients */
  constructor(patients) {
    this.patients = patients;
    /** @type {Record<string, Float64Array>} */
    this.outcomeTimes = {};
    for (const o of OUTCOMES) {
      this.outcomeTimes[o] = sorted(patients.filter((p) => p.outcome === o).map((p) => p.end));
    }
    /** @type {number[][]} */
    const enters = FACILITIES.map(() => []);
    /** @type {number[][]} */
    const exits = FACILITIES.map(() => []);
    /** @type {number[]} */
    const transitIn = [];
    /** @type {number[]} */
    const transitOut = [];
    /** @type {number[]} */
    const injuries = [];
    for (const p of patients) {
      injuries.push(p.injury);
      for (const s of p.segments) {
        if (s.kind === "at") {
          enters[s.facility].push(s.from);
          if (s.to !== Infinity) exits[s.facility].push(s.to);
        } else if (s.kind === "transit") {
          transitIn.push(s.from);
          if (s.to !== Infinity) transitOut.push(s.to);
        }
      }
    }
    this.enters = enters.map(sorted);
    this.exits = exits.map(sorted);
    this.transitIn = sorted(transitIn);
    this.transitOut = sorted(transitOut);
    this.injuries = sorted(injuries);
  }

  /** Cumulative outcomes at instant t. @param {number} t */
  counters(t) {
    /** @type {Record<string, number>} */
    const out = {};
    for (const o of OUTCOMES) out[o] = countAtOrBefore(this.outcomeTimes[o], t);
    out.injured = countAtOrBefore(this.injuries, t);
    return out;
  }

  /** Patients at each facility at instant t, and in transit. @param {number} t */
  census(t) {
    const at = FACILITIES.map((_, i) => countAtOrBefore(this.enters[i], t) - countAtOrBefore(this.exits[i], t));
    const transit = countAtOrBefore(this.transitIn, t) - countAtOrBefore(this.transitOut, t);
    return { at, transit };
  }
}

/**
 * Where a patient is at instant t: the segment covering t, or null (not yet
 * injured, or gone after death / return to duty).
 * @param {TimelinePatient} p
 * @param {number} t
 * @returns {Segment | null}
 */
export function segmentAt(p, t) {
  const s = p.segments;
  if (t < p.injury || s.length === 0) return null;
  let lo = 0;
  let hi = s.length - 1;
  // Last segment whose start is <= t; ties resolve to the later one.
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (s[mid].from <= t) lo = mid;
    else hi = mid - 1;
  }
  const seg = s[lo];
  return t < seg.to || (seg.to === Infinity) ? seg : null;
}

/**
 * Loads records into the player's model.
 * @param {object[]} records
 */
export function buildTimeline(records) {
  /** @type {TimelinePatient[]} */
  const patients = [];
  let skipped = 0;
  records.forEach((r, i) => {
    const p = toTimelinePatient(r, i);
    if (p) patients.push(p);
    else skipped++;
  });
  let start = Infinity;
  let end = -Infinity;
  let lastInjury = -Infinity;
  for (const p of patients) {
    start = Math.min(start, p.injury);
    end = Math.max(end, p.end + LINGER);
    lastInjury = Math.max(lastInjury, p.injury);
  }
  if (!patients.length) {
    start = 0;
    end = 0;
  }
  // The replay starts at midnight UTC of the first injury's day.
  const dayZero = Math.floor(start / (24 * HOUR)) * 24 * HOUR;
  const values = (/** @type {(p: TimelinePatient) => string} */ f) =>
    [...new Set(patients.map(f))].sort((a, b) => a.localeCompare(b));
  return {
    patients,
    skipped,
    start: patients.length ? dayZero : 0,
    end: patients.length ? Math.ceil(end / HOUR) * HOUR : 0,
    /** The end of the day after the last injury: the fighting days (capped at `end`). */
    fightingEnd: patients.length ? Math.min(Math.ceil(end / HOUR) * HOUR, (Math.floor(lastInjury / (24 * HOUR)) + 2) * 24 * HOUR) : 0,
    fronts: values((p) => p.front),
    nationalities: values((p) => p.nationality),
    triages: values((p) => p.triage),
    outcomes: values((p) => p.outcome),
  };
}

/**
 * Outcome counts of a set of patients as the file states them.
 * @param {TimelinePatient[]} patients
 */
export function outcomeTotals(patients) {
  /** @type {Record<string, number>} */
  const out = { KIA: 0, DOW: 0, RTD: 0, ROLE4: 0, UNKNOWN: 0 };
  for (const p of patients) out[p.outcome] = (out[p.outcome] || 0) + 1;
  return out;
}

// Unit tests of the timeline player's model (the same ES module the page
// loads), run by Node: file formats, T4, and counters that equal a brute-force
// count of the data at any instant.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  TimelineIndex, buildTimeline, parsePatientsText, segmentAt, outcomeTotals,
} from "../../crates/patientgen-server/static/js/timeline/model.js";

const H = 3600000;

/** An upstream-style record: naive timestamps, final_status only. */
function upstream(id, triage, final, events, injury = "2025-06-01T06:00:00") {
  return {
    id, triage_category: triage, final_status: final, nationality: "POL", front: "North",
    injury_time: injury,
    movement_timeline: events.map(([event_type, facility, h, extra]) => ({ event_type, facility, hours_since_injury: h, ...(extra || {}) })),
  };
}

const SAMPLE = [
  upstream(1, "T1", "KIA", [["arrival", "POI", 0], ["kia", "POI", 0.5]]),
  upstream(2, "T2", "KIA", [["arrival", "POI", 0], ["transit_start", "POI", 1, { to_facility: "Role1", transit_duration_hours: 1 }], ["arrival", "Role1", 2], ["kia", "Role1", 5]]),
  upstream(3, "T3", "RTD", [["arrival", "POI", 0], ["transit_start", "POI", 0.5, { to_facility: "Role1", transit_duration_hours: 0.5 }], ["arrival", "Role1", 1], ["rtd", "Role1", 30]], "2025-06-02T10:00:00"),
  upstream(4, "T4", "Remains_Role4", [["arrival", "POI", 0], ["transit_start", "POI", 1, { to_facility: "Role4", transit_duration_hours: 10 }], ["arrival", "Role4", 11], ["remains_role4", "Role4", 12]]),
];

test("reads a bare array, {metadata, patients}, wrapped items and NDJSON alike", () => {
  const a = parsePatientsText(JSON.stringify(SAMPLE));
  const b = parsePatientsText(JSON.stringify({ metadata: { patient_count: 4 }, patients: SAMPLE }));
  const c = parsePatientsText(JSON.stringify(SAMPLE.map((patient) => ({ patient }))));
  const d = parsePatientsText(SAMPLE.map((p) => JSON.stringify(p)).join("\n") + "\n");
  for (const x of [a, b, c, d]) assert.deepEqual(x, SAMPLE);
  assert.throws(() => parsePatientsText(""), /empty/);
  assert.throws(() => parsePatientsText('{"nope": 1}'), /array/);
});

test("T4 patients are kept; a KIA after reaching a facility is a death of wounds", () => {
  const data = buildTimeline(SAMPLE);
  assert.equal(data.patients.length, 4);
  assert.deepEqual(data.triages, ["T1", "T2", "T3", "T4"]);
  assert.deepEqual(outcomeTotals(data.patients), { KIA: 1, DOW: 1, RTD: 1, ROLE4: 1, UNKNOWN: 0 });
  // Naive timestamps are UTC; the replay starts at midnight of the first injury's day.
  assert.equal(data.start, Date.parse("2025-06-01T00:00:00Z"));
  // The replay ends on the hour after the last event (+15 min); the fighting days end at midnight
  // after the day of the last injury, or at the end when that is sooner.
  assert.equal(data.end, Date.parse("2025-06-03T17:00:00Z"));
  assert.equal(data.fightingEnd, data.end);
  const longer = buildTimeline([...SAMPLE, upstream(5, "T3", "RTD", [["arrival", "POI", 0], ["rtd", "POI", 200]])]);
  assert.equal(longer.fightingEnd, Date.parse("2025-06-04T00:00:00Z"), "midnight after the last injury's day (06-02)");
});

test("counters and census at chosen instants", () => {
  const data = buildTimeline(SAMPLE);
  const idx = new TimelineIndex(data.patients);
  const t0 = Date.parse("2025-06-01T06:00:00Z");
  assert.deepEqual(idx.counters(t0 - 1), { KIA: 0, DOW: 0, RTD: 0, ROLE4: 0, injured: 0 });
  assert.equal(idx.counters(t0 + 0.5 * H).KIA, 1, "a death at exactly t counts at t");
  assert.equal(idx.counters(t0 + 0.5 * H - 1).KIA, 0);
  const at = idx.census(t0 + 1.5 * H);
  assert.deepEqual(at, { at: [0, 0, 0, 0, 0], transit: 2 });
  assert.deepEqual(idx.census(t0 + 3 * H), { at: [0, 1, 0, 0, 0], transit: 1 });
  assert.deepEqual(idx.census(t0 + 48 * H), { at: [0, 1, 0, 0, 1], transit: 0 }, "patient 3 waits at Role 1");
  assert.deepEqual(idx.census(t0 + 60 * H), { at: [0, 0, 0, 0, 1], transit: 0 }, "then returns to duty");
  assert.deepEqual(idx.counters(data.end), { KIA: 1, DOW: 1, RTD: 1, ROLE4: 1, injured: 4 });
  assert.equal(segmentAt(data.patients[0], t0 + 0.6 * H)?.kind, "kia");
  assert.equal(segmentAt(data.patients[0], t0 + 2 * H), null, "gone after the marker");
});

/** A random but well-formed population. */
function population(n, seed) {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const out = [];
  for (let i = 0; i < n; i++) {
    const injury = Date.parse("2025-06-01T00:00:00Z") + Math.floor(rnd() * 5 * 24) * H + Math.floor(rnd() * 60) * 60000;
    const ev = [{ event_type: "arrival", facility: "POI", hours_since_injury: 0 }];
    let h = rnd() * 2;
    let f = 0;
    const end = ["kia", "rtd", "remains_role4"][Math.floor(rnd() * 3)];
    const stops = end === "remains_role4" ? 4 : Math.floor(rnd() * 4);
    for (let k = 0; k < stops; k++) {
      const d = Math.round(rnd() * 30) / 10;
      ev.push({ event_type: "transit_start", facility: f ? "Role" + f : "POI", hours_since_injury: Math.round(h * 100) / 100, to_facility: "Role" + (f + 1), transit_duration_hours: d });
      h += d;
      f++;
      ev.push({ event_type: "arrival", facility: "Role" + f, hours_since_injury: Math.round(h * 100) / 100 });
      h += rnd() * 10;
    }
    ev.push({ event_type: end, facility: f ? "Role" + f : "POI", hours_since_injury: Math.round(h * 100) / 100 });
    const outcome = end === "kia" ? (f ? "DOW" : "KIA") : end === "rtd" ? "RTD" : "REMAINS_ROLE4";
    out.push({ id: i, outcome, triage_category: "T" + (1 + Math.floor(rnd() * 4)), injury_time: new Date(injury).toISOString(), movement_timeline: ev });
  }
  return out;
}

test("counters equal a brute-force count of terminal events at 500 random instants", () => {
  const records = population(3000, 7);
  const data = buildTimeline(records);
  const idx = new TimelineIndex(data.patients);
  const key = { kia: null, rtd: "RTD", remains_role4: "ROLE4" };
  let s = 99;
  for (let k = 0; k < 500; k++) {
    s = (s * 69069 + 1) % 4294967296;
    const t = data.start + (s / 4294967296) * (data.end - data.start);
    const expected = { KIA: 0, DOW: 0, RTD: 0, ROLE4: 0 };
    for (const r of records) {
      const last = r.movement_timeline[r.movement_timeline.length - 1];
      const when = Date.parse(r.injury_time) + last.hours_since_injury * H;
      if (when <= t) expected[key[last.event_type] || r.outcome] += 1;
    }
    const got = idx.counters(t);
    assert.deepEqual({ KIA: got.KIA, DOW: got.DOW, RTD: got.RTD, ROLE4: got.ROLE4 }, expected, `at ${new Date(t).toISOString()}`);
    // Everyone injured is somewhere: at a facility, in transit, or gone (dead / returned).
    const census = idx.census(t);
    const here = census.at.reduce((a, b) => a + b, 0) + census.transit;
    assert.equal(here + got.KIA + got.DOW + got.RTD, got.injured);
  }
});

// Shared pieces of the browser tests and the benchmark: the real
// `patientgen serve` binary on a free loopback port with a temporary data
// directory (its first-run link read from stdout), Debian's Chromium through
// playwright-core, and a small ZIP reader for checking downloads.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { createServer } from "node:net";
import { inflateRawSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, "../..");
export const BIN = process.env.PATIENTGEN_BIN || join(ROOT, "target/debug/patientgen");
export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

/** @returns {Promise<number>} a free loopback port */
function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.on("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {import("node:net").AddressInfo} */ (srv.address());
      srv.close(() => ok(port));
    });
  });
}

/**
 * Starts `patientgen serve` and waits for its first-run link on stdout.
 * @param {string[]} [extra] more arguments
 */
export async function startServer(extra = []) {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build it with \`cargo build -p patientgen\` (or set PATIENTGEN_BIN)`);
  const dir = mkdtempSync(join(tmpdir(), "patientgen-ui-"));
  const port = await freePort();
  const child = spawn(BIN, ["serve", "--bind", `127.0.0.1:${port}`, "--data-dir", dir, "--workers", "2", ...extra], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, RUST_LOG: "info", PATIENTGEN_ADMIN_KEY: "", API_KEY: "" },
  });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d) => { stderr += d; });
  const link = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`no first-run link within 60 s\nstdout:\n${stdout}\nstderr:\n${stderr}`)), 60000);
    child.stdout.on("data", (d) => {
      stdout += d;
      const m = /(http:\/\/\S+#key=(\S+))/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`patientgen serve exited (${code})\n${stderr}`));
    });
  });
  const key = /#key=(\S+)/.exec(link)[1];
  return {
    url: `http://127.0.0.1:${port}`,
    link,
    key,
    stdout: () => stdout,
    stderr: () => stderr,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Launches Chromium with the flags this machine needs (no network chatter). */
export function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
}

/**
 * The entries of a ZIP file (stored or deflated), read from its central directory.
 * @param {Buffer} buf
 * @returns {Map<string, Buffer>}
 */
export function unzip(buf) {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error("not a ZIP file");
  let count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const out = new Map();
  while (count-- > 0) {
    if (buf.readUInt32LE(at) !== 0x02014b50) throw new Error("bad central directory");
    const method = buf.readUInt16LE(at + 10);
    const csize = buf.readUInt32LE(at + 20);
    const nameLen = buf.readUInt16LE(at + 28);
    const extraLen = buf.readUInt16LE(at + 30);
    const commentLen = buf.readUInt16LE(at + 32);
    const local = buf.readUInt32LE(at + 42);
    const name = buf.toString("utf8", at + 46, at + 46 + nameLen);
    const dataAt = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(dataAt, dataAt + csize);
    out.set(name, method === 0 ? raw : inflateRawSync(raw));
    at += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/**
 * Outcome counts of records whose terminal event is at or before `t` (ms),
 * computed from the file alone (independent of the page's code).
 * @param {any[]} records
 * @param {number} t
 */
export function expectedCounters(records, t = Infinity) {
  const out = { KIA: 0, DOW: 0, RTD: 0, ROLE4: 0 };
  for (const r of records) {
    const end = r.movement_timeline.find((e) => ["kia", "rtd", "remains_role4"].includes(e.event_type));
    if (!end) continue;
    const when = Date.parse(r.injury_time) + end.hours_since_injury * 3600000;
    if (when > t) continue;
    const o = r.outcome === "REMAINS_ROLE4" ? "ROLE4" : r.outcome;
    out[o] += 1;
  }
  return out;
}

// The patientgen HTTP API as the page uses it: relative URLs (the page always
// talks to the server that served it), the key in `X-API-Key`, and errors
// carrying the envelope's `detail`.

const KEY_STORAGE = "patientgen.apiKey";

/** An API error: HTTP status plus the envelope's `detail` text. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} detail
   * @param {string} [requestId]
   */
  constructor(status, detail, requestId) {
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
    this.requestId = requestId || "";
  }
}

/** @returns {string} the stored key, or "" */
export function storedKey() {
  try {
    return localStorage.getItem(KEY_STORAGE) || "";
  } catch {
    return "";
  }
}

/** @param {string} key an empty string forgets the key */
export function storeKey(key) {
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
  } catch {
    /* storage disabled: the key lives for this page only */
  }
}

/**
 * Takes `#key=…` from the address, stores it and removes it from the address
 * bar (and from history), so it is neither bookmarked nor shared by accident.
 * @param {Location} location
 * @param {History} history
 * @returns {boolean} whether a key was taken
 */
export function takeKeyFromFragment(location, history) {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  const key = (params.get("key") || "").trim();
  if (!key) return false;
  storeKey(key);
  params.delete("key");
  const rest = params.toString();
  history.replaceState(null, "", location.pathname + location.search + (rest ? "#" + rest : ""));
  return true;
}

/**
 * Reads an error response into an ApiError (the envelope's `detail` when present).
 * @param {Response} res
 * @returns {Promise<ApiError>}
 */
async function errorOf(res) {
  let detail = res.statusText || "HTTP " + res.status;
  let requestId = res.headers.get("x-request-id") || "";
  try {
    const body = await res.json();
    if (typeof body.detail === "string") detail = body.detail;
    else if (body.detail !== undefined) detail = JSON.stringify(body.detail);
    else if (typeof body.message === "string") detail = body.message;
    if (typeof body.request_id === "string") requestId = body.request_id;
  } catch {
    /* not JSON */
  }
  return new ApiError(res.status, detail, requestId);
}

/**
 * JSON.parse that keeps integers beyond 2^53 (seeds are u64) exact, as
 * strings of digits, where the browser gives the source text (Chromium does).
 * @param {string} text
 */
export function parseJson(text) {
  /** @type {any} */
  const J = JSON;
  return J.parse(text, function (/** @type {string} */ _key, /** @type {any} */ value, /** @type {any} */ context) {
    if (typeof value === "number" && !Number.isSafeInteger(value) && Number.isInteger(value)) {
      const source = context && typeof context.source === "string" ? context.source : "";
      if (/^\d+$/.test(source)) return source;
    }
    return value;
  });
}

/**
 * JSON.stringify that writes a `seed` held as a string of digits as a number
 * again, exactly (JSON.rawJSON), so large seeds survive the round trip.
 * @param {unknown} body
 * @param {number} [indent]
 */
export function toJson(body, indent) {
  /** @type {any} */
  const J = JSON;
  return JSON.stringify(body, function (key, value) {
    if (key === "seed" && typeof value === "string" && /^\d+$/.test(value)) {
      return typeof J.rawJSON === "function" ? J.rawJSON(value) : Number(value);
    }
    return value;
  }, indent);
}

/** A small client; `key` is read on every call so a new key applies at once. */
export class ApiClient {
  /** @param {() => string} key */
  constructor(key) {
    this.key = key;
  }

  /**
   * @param {string} path
   * @param {{method?: string, body?: unknown, signal?: AbortSignal}} [options]
   * @returns {Promise<Response>}
   */
  async request(path, options = {}) {
    /** @type {Record<string, string>} */
    const headers = { Accept: "application/json" };
    const key = this.key();
    if (key) headers["X-API-Key"] = key;
    /** @type {RequestInit} */
    const init = { method: options.method || "GET", headers, signal: options.signal };
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = toJson(options.body);
    }
    const res = await fetch(path, init);
    if (!res.ok) throw await errorOf(res);
    return res;
  }

  /**
   * @param {string} path
   * @param {{method?: string, body?: unknown, signal?: AbortSignal}} [options]
   * @returns {Promise<any>}
   */
  async json(path, options) {
    const res = await this.request(path, options);
    if (res.status === 204) return null;
    return parseJson(await res.text());
  }

  // Reference data (no key needed).
  nationalities() {
    return this.json("/api/v1/configurations/reference/nationalities/");
  }

  // Presets.
  presets() {
    return this.json("/api/v1/presets");
  }
  /** @param {string} id */
  preset(id) {
    return this.json("/api/v1/presets/" + encodeURIComponent(id));
  }

  // Saved configurations.
  configurations() {
    return this.json("/api/v1/configurations/");
  }
  /** @param {string} id */
  configuration(id) {
    return this.json("/api/v1/configurations/" + encodeURIComponent(id));
  }
  /** @param {object} template */
  createConfiguration(template) {
    return this.json("/api/v1/configurations/", { method: "POST", body: template });
  }
  /** @param {string} id @param {object} template */
  updateConfiguration(id, template) {
    return this.json("/api/v1/configurations/" + encodeURIComponent(id), { method: "PUT", body: template });
  }
  /** @param {string} id */
  deleteConfiguration(id) {
    return this.json("/api/v1/configurations/" + encodeURIComponent(id), { method: "DELETE" });
  }
  /** @param {object} template @param {AbortSignal} [signal] */
  validate(template, signal) {
    return this.json("/api/v1/configurations/validate/", { method: "POST", body: template, signal });
  }

  // Jobs.
  /** @param {object} request */
  generate(request) {
    return this.json("/api/v1/generation/", { method: "POST", body: request });
  }
  jobs() {
    return this.json("/api/v1/jobs/");
  }
  /** @param {string} id */
  job(id) {
    return this.json("/api/v1/jobs/" + encodeURIComponent(id));
  }
  /** @param {string} id */
  cancelJob(id) {
    return this.json("/api/v1/jobs/" + encodeURIComponent(id) + "/cancel", { method: "POST" });
  }
  /** @param {string} id */
  deleteJob(id) {
    return this.json("/api/v1/jobs/" + encodeURIComponent(id), { method: "DELETE" });
  }
  /**
   * A job's ZIP, or one of its formats.
   * @param {string} id
   * @param {string} [format]
   * @returns {Promise<Response>}
   */
  download(id, format) {
    const q = format && format !== "zip" ? "?format=" + encodeURIComponent(format) : "";
    return this.request("/api/v1/downloads/" + encodeURIComponent(id) + q);
  }
}

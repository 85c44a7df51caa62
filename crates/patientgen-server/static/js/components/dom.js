// Tiny DOM helpers (no framework).

/**
 * Creates an element.
 * @param {string} tag
 * @param {Record<string, any>} [props] properties; `style`, `for`, `aria-*`, `data-*` and `role` become attributes
 * @param {Array<Node|string|null|undefined|false>} [children]
 * @returns {HTMLElement}
 */
export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "style" || k === "for" || k === "role" || k === "list" || k.startsWith("aria-") || k.startsWith("data-")) {
      node.setAttribute(k, String(v));
    } else if (k.startsWith("on") && typeof v === "function") {
      node.addEventListener(k.slice(2), v);
    } else {
      // @ts-ignore: generic property assignment
      node[k] = v;
    }
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return node;
}

/** @param {string} id @returns {HTMLElement} */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error("missing element #" + id);
  return node;
}

/** @param {string} id @returns {HTMLInputElement} */
export function input(id) {
  return /** @type {HTMLInputElement} */ (byId(id));
}

/** @param {string} id @returns {HTMLSelectElement} */
export function select(id) {
  return /** @type {HTMLSelectElement} */ (byId(id));
}

/**
 * Replaces a select's options.
 * @param {HTMLSelectElement} sel
 * @param {Array<[string, string]>} options value, label
 * @param {string} [keep] value to keep selected when still present
 */
export function setOptions(sel, options, keep) {
  sel.replaceChildren(...options.map(([value, label]) => el("option", { value }, [label])));
  if (keep !== undefined && options.some(([v]) => v === keep)) sel.value = keep;
}

/**
 * Offers bytes or a blob as a file download.
 * @param {Blob} blob
 * @param {string} name
 */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** The file name from a Content-Disposition header. @param {string | null} header @param {string} fallback */
export function fileNameOf(header, fallback) {
  const m = header ? /filename="?([^";]+)"?/.exec(header) : null;
  return m ? m[1] : fallback;
}

/** @param {string} iso @returns {string} a short local date-time */
export function shortTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso || "";
  return d.toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
}

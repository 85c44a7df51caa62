// Accordion sections: each `.accordion-toggle` button opens and closes the
// panel named by its aria-controls (keyboard: Enter/Space on the button, as
// for any button). The open state is remembered for the session.

const STORE = "patientgen.accordion";

/** @returns {Record<string, boolean>} */
function remembered() {
  try {
    return JSON.parse(sessionStorage.getItem(STORE) || "{}");
  } catch {
    return {};
  }
}

/**
 * Wires every toggle under `root`.
 * @param {ParentNode} root
 */
export function initAccordion(root) {
  const state = remembered();
  root.querySelectorAll("button.accordion-toggle").forEach((node) => {
    const button = /** @type {HTMLButtonElement} */ (node);
    const id = button.getAttribute("aria-controls") || "";
    const panel = document.getElementById(id);
    if (!panel) return;
    const set = (/** @type {boolean} */ open) => {
      button.setAttribute("aria-expanded", String(open));
      panel.hidden = !open;
    };
    set(id in state ? state[id] : button.getAttribute("aria-expanded") === "true");
    button.addEventListener("click", () => {
      const open = button.getAttribute("aria-expanded") !== "true";
      set(open);
      const now = remembered();
      now[id] = open;
      try {
        sessionStorage.setItem(STORE, JSON.stringify(now));
      } catch {
        /* storage disabled */
      }
    });
  });
}

/**
 * Opens the section holding `node` (e.g. to show an error in it).
 * @param {Element} node
 */
export function reveal(node) {
  const panel = node.closest(".accordion-panel");
  if (!panel || !(panel instanceof HTMLElement) || !panel.hidden) return;
  panel.hidden = false;
  const button = document.querySelector(`button[aria-controls="${panel.id}"]`);
  if (button) button.setAttribute("aria-expanded", "true");
}

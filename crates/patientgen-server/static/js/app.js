// A minimal client of the patientgen API: pick a preset, start a job, follow it, download the ZIP.
(function () {
  const $ = (id) => document.getElementById(id);
  const key = () => $("apiKey").value.trim();
  const status = (text) => { $("statusBox").textContent = text; };
  $("apiKey").value = localStorage.getItem("patientgen.apiKey") || "";
  $("apiKey").addEventListener("change", () => localStorage.setItem("patientgen.apiKey", key()));

  async function api(path, options = {}) {
    const headers = Object.assign({ "X-API-Key": key() }, options.headers || {});
    const res = await fetch(path, Object.assign({}, options, { headers }));
    if (!res.ok) {
      let detail = res.statusText;
      try { const body = await res.json(); detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail); } catch (e) { /* not JSON */ }
      throw new Error(res.status + ": " + detail);
    }
    return res;
  }

  async function loadPresets() {
    try {
      const data = await (await api("/api/v1/presets")).json();
      $("preset").innerHTML = "";
      for (const p of data.presets) {
        const o = document.createElement("option");
        o.value = p.id; o.textContent = p.name + " (" + p.total_patients + " patients, " + p.duration_days + " days)";
        $("preset").appendChild(o);
      }
      status("Choose a preset and press Generate.");
    } catch (e) { status("Enter a valid API key to load presets (" + e.message + ")."); }
  }
  $("apiKey").addEventListener("change", loadPresets);

  $("generateBtn").addEventListener("click", async () => {
    $("download").hidden = true;
    try {
      const preset = await (await api("/api/v1/presets/" + encodeURIComponent($("preset").value))).json();
      const configuration = preset.generation_config;
      delete configuration.output_formats;
      const seed = $("seed").value;
      if (seed !== "") configuration.seed = Number(seed);
      const formats = [...document.querySelectorAll("#formats input:checked")].map((i) => i.value);
      const res = await api("/api/v1/generation/", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ configuration, total_patients: Number($("patients").value), output_formats: formats }),
      });
      const job = await res.json();
      follow(job.job_id);
    } catch (e) { status("Error: " + e.message); }
  });

  async function follow(id) {
    $("progress").hidden = false;
    for (;;) {
      const job = await (await api("/api/v1/jobs/" + id)).json();
      $("progress").value = job.progress;
      status("Job " + id + ": " + job.status + " (" + job.progress + " %)");
      if (job.status === "completed") { offerDownload(id); return; }
      if (job.status === "failed" || job.status === "cancelled") { status("Job " + job.status + ": " + (job.error || "")); return; }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  function offerDownload(id) {
    const link = $("download");
    link.hidden = false;
    link.onclick = async (ev) => {
      ev.preventDefault();
      const blob = await (await api("/api/v1/downloads/" + id)).blob();
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob); a.download = "patients_" + id + ".zip"; a.click();
    };
  }

  if (key()) loadPresets();
})();

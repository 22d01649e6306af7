// Casebook search page: plain JavaScript over the JSON API (no build step). The API key is exchanged once for a
// short-lived token (POST /api/token) kept in sessionStorage; images are fetched with the token and shown as blob URLs.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { token: sessionStorage.getItem("casebook.token"), role: sessionStorage.getItem("casebook.role"), lastSearch: null, blobUrls: [] };

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers, { Authorization: "Bearer " + state.token });
  const res = await fetch(path, Object.assign({}, options, { headers }));
  if (res.status === 401) { signOut("Your session ended; sign in again."); throw new Error("unauthenticated"); }
  if (!res.ok) {
    let detail = res.statusText;
    try { const p = await res.json(); detail = p.detail || p.title || detail; } catch { /* not JSON */ }
    throw new Error(detail);
  }
  return res;
}

async function imageUrl(path) {
  const res = await api(path);
  const url = URL.createObjectURL(await res.blob());
  state.blobUrls.push(url);
  return url;
}

function releaseImages() { state.blobUrls.forEach(URL.revokeObjectURL); state.blobUrls = []; }

function escapeHtml(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

// Snippets mark matched terms with [ ]; shown as <mark> after escaping everything else.
function highlight(snippet) { return escapeHtml(snippet).replace(/\[([^\]]*)\]/g, "<mark>$1</mark>"); }

// A filter-language string literal: single quotes, an inner quote doubled (docs/filter-language.md).
const lit = (v) => "'" + v.replace(/'/g, "''") + "'";

function buildFilter() {
  const parts = [];
  if ($("f-modality").value) parts.push("modality = " + lit($("f-modality").value));
  if ($("f-from").value) parts.push("exam_date >= DATE " + lit($("f-from").value));
  if ($("f-to").value) parts.push("exam_date <= DATE " + lit($("f-to").value));
  if ($("f-sex").value) parts.push("sex = " + lit($("f-sex").value));
  if ($("f-age").value) parts.push("age_band = " + lit($("f-age").value));
  for (const code of $("f-codes").value.split(",").map((c) => c.trim()).filter(Boolean)) parts.push("clinical_codes contains " + lit(code));
  return parts.join(" AND ");
}

function show(view) {
  for (const v of ["login-view", "search-view", "study-view"]) $(v).hidden = v !== view;
  $("error").textContent = "";
}

function signOut(message) {
  sessionStorage.removeItem("casebook.token");
  sessionStorage.removeItem("casebook.role");
  state.token = null;
  $("who").textContent = "";
  $("logout").hidden = true;
  show("login-view");
  $("login-error").textContent = message || "";
  $("api-key").focus();
}

async function signIn(event) {
  event.preventDefault();
  $("login-error").textContent = "";
  const key = $("api-key").value.trim();
  const res = await fetch("/api/token", { method: "POST", headers: { Authorization: "Bearer " + key } });
  if (!res.ok) { $("login-error").textContent = "That key was not accepted."; return; }
  const t = await res.json();
  state.token = t.access_token; state.role = t.role;
  sessionStorage.setItem("casebook.token", state.token);
  sessionStorage.setItem("casebook.role", state.role);
  $("api-key").value = "";
  route();
}

async function search(event) {
  if (event) event.preventDefault();
  const q = $("q").value.trim();
  if (!q) return;
  const params = new URLSearchParams({ q, limit: "20", mode: $("f-mode").value });
  const where = buildFilter();
  if (where) params.set("where", where);
  state.lastSearch = params.toString();
  if (location.hash !== "#/search?" + state.lastSearch) history.replaceState(null, "", "#/search?" + state.lastSearch);
  await runSearch(params);
}

async function runSearch(params) {
  await showResults(() => api("/api/search?" + params.toString()));
}

// Similar cases: the dropped or chosen file is sent as multipart with the current text and filters.
async function searchByImage(file) {
  if (!file) return;
  const form = new FormData();
  form.append("image", file, file.name);
  form.append("limit", "20");
  const q = $("q").value.trim();
  if (q) form.append("q", q);
  const where = buildFilter();
  if (where) form.append("where", where);
  state.lastSearch = null;
  await showResults(() => api("/api/search/image", { method: "POST", body: form }), `similar to ${file.name}: `);
}

async function showResults(request, label = "") {
  $("search-status").textContent = "Searching…";
  $("error").textContent = "";
  releaseImages();
  const list = $("results");
  list.innerHTML = "";
  try {
    const started = performance.now();
    const body = await (await request()).json();
    const ms = Math.round(performance.now() - started);
    $("search-status").textContent = label + (body.results.length === 0 ? "No matching studies." : `${body.results.length} studies (${ms} ms)`);
    for (const hit of body.results) list.appendChild(renderHit(hit));
  } catch (e) {
    $("search-status").textContent = "";
    $("error").textContent = "Search failed: " + e.message;
  }
}

function renderHit(hit) {
  const li = document.createElement("li");
  li.className = "hit";
  const thumb = document.createElement("div");
  thumb.className = "thumb-missing";
  li.appendChild(thumb);
  const text = document.createElement("div");
  const snippets = hit.matches
    .filter((m) => m.kind !== "image_slice")
    .map((m) => `<p class="snippet">${m.snippet ? highlight(m.snippet) : escapeHtml((m.text || "").slice(0, 240))}</p>`).join("");
  const slices = hit.matches.filter((m) => m.kind === "image_slice").length;
  text.innerHTML = `<h2><a href="#/study/${encodeURIComponent(hit.study_id)}">${escapeHtml(hit.study_id)}</a></h2>
    <div class="meta">${escapeHtml(hit.modality || "-")} · ${escapeHtml(hit.exam_date || "date unknown")} · score ${hit.score.toFixed(4)}${slices ? ` · ${slices} similar image${slices > 1 ? "s" : ""}` : ""}</div>
    ${snippets}`;
  li.appendChild(text);
  imageUrl(`/api/studies/${encodeURIComponent(hit.study_id)}/thumbnail`).then((url) => {
    const img = document.createElement("img");
    img.src = url; img.alt = `First image of ${hit.study_id}`;
    thumb.replaceWith(img);
  }).catch(() => { /* no images: keep the grey box */ });
  return li;
}

async function openStudy(id) {
  show("study-view");
  releaseImages();
  $("study-title").textContent = id;
  $("study-facts").innerHTML = ""; $("report").innerHTML = ""; $("history").innerHTML = ""; $("viewer-note").textContent = "";
  $("back").href = state.lastSearch ? "#/search?" + state.lastSearch : "#/";
  try {
    const [study, hist] = await Promise.all([
      api(`/api/studies/${encodeURIComponent(id)}`).then((r) => r.json()),
      api(`/api/studies/${encodeURIComponent(id)}/history`).then((r) => r.json()),
    ]);
    const md = study.metadata || {};
    const facts = { Modality: study.modality, "Exam date": study.exam_date, Patient: (study.patient_pseudo_id || "").slice(0, 12) + "…",
      Sex: md.sex, "Age band": md.age_band, "Body part": md.body_part, Codes: (study.clinical_codes || []).join(", ") };
    $("study-facts").innerHTML = Object.entries(facts).filter(([, v]) => v).map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join("");
    renderReport(study);
    $("history").innerHTML = hist.history.map((h) =>
      `<li>version ${h.version}${h.until ? ` (until ${h.until})` : " (current)"} · ${escapeHtml(h.time)} · ${escapeHtml(h.author)} · ${escapeHtml(h.message)}</li>`).join("");
    setupViewer(study);
  } catch (e) {
    $("error").textContent = "Could not open the study: " + e.message;
  }
}

function renderReport(study) {
  const paragraphs = study.segments.filter((g) => g.kind === "report_paragraph" || g.kind === "dictation_segment");
  if (paragraphs.length === 0) { $("report").innerHTML = `<p class="note">No report.</p>`; return; }
  let html = "", section = null;
  for (const g of paragraphs) {
    const name = g.kind === "dictation_segment" ? "Dictation" : (g.section || "Report");
    if (name !== section) { if (section !== null) html += "</div>"; html += `<div class="section"><h3>${escapeHtml(name)}</h3>`; section = name; }
    html += `<p>${escapeHtml(g.text)}</p>`;
  }
  $("report").innerHTML = html + "</div>";
}

const viewer = { study: null, index: 0, count: 0, pending: 0 };

function setupViewer(study) {
  viewer.study = study.study_id; viewer.count = study.slices; viewer.index = 0;
  $("viewer").hidden = study.slices === 0;
  if (study.slices === 0) return;
  $("slice-range").max = String(study.slices - 1);
  $("slice-range").value = "0";
  $("preset").value = "";
  $("preset").disabled = study.modality !== "CT";
  showSlice(0);
}

async function showSlice(i) {
  viewer.index = Math.max(0, Math.min(viewer.count - 1, i));
  $("slice-range").value = String(viewer.index);
  $("slice-label").textContent = `${viewer.index + 1} / ${viewer.count}`;
  const preset = $("preset").value;
  const ticket = ++viewer.pending; // a later scroll wins over a slower earlier image
  try {
    const url = await imageUrl(`/api/studies/${encodeURIComponent(viewer.study)}/slices/${viewer.index}` + (preset ? `?preset=${encodeURIComponent(preset)}` : ""));
    if (ticket !== viewer.pending) return;
    $("slice-img").src = url;
    $("slice-img").alt = `${viewer.study}, slice ${viewer.index + 1} of ${viewer.count}${preset ? ", " + preset + " window" : ""}`;
    $("slice-frame").dataset.slice = String(viewer.index);
    $("viewer-note").textContent = "";
  } catch (e) {
    if (ticket === viewer.pending) $("viewer-note").textContent = e.message;
  }
}

function viewerKeys(e) {
  const step = { ArrowDown: 1, ArrowRight: 1, PageDown: 10, ArrowUp: -1, ArrowLeft: -1, PageUp: -10 }[e.key];
  if (step) { e.preventDefault(); showSlice(viewer.index + step); }
  else if (e.key === "Home") { e.preventDefault(); showSlice(0); }
  else if (e.key === "End") { e.preventDefault(); showSlice(viewer.count - 1); }
}

function route() {
  if (!state.token) { signOut(); return; }
  $("who").textContent = `Signed in as ${state.role}`;
  $("logout").hidden = false;
  const hash = location.hash || "#/";
  if (hash.startsWith("#/study/")) { openStudy(decodeURIComponent(hash.slice("#/study/".length))); return; }
  show("search-view");
  if (hash.startsWith("#/search?")) {
    const params = new URLSearchParams(hash.slice("#/search?".length));
    $("q").value = params.get("q") || "";
    if (params.toString() !== state.lastSearch) { state.lastSearch = params.toString(); runSearch(params); }
  }
  $("q").focus();
}

function init() {
  const ages = $("f-age");
  for (let low = 0; low < 90; low += 5) ages.add(new Option(`${low}-${low + 4}`));
  ages.add(new Option("90+"));
  $("login-form").addEventListener("submit", signIn);
  $("search-form").addEventListener("submit", search);
  $("logout").addEventListener("click", () => signOut());
  const drop = $("drop-zone");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); searchByImage(e.dataTransfer.files[0]); });
  $("image-file").addEventListener("change", (e) => { searchByImage(e.target.files[0]); e.target.value = ""; });
  $("slice-range").addEventListener("input", (e) => showSlice(Number(e.target.value)));
  $("preset").addEventListener("change", () => showSlice(viewer.index));
  $("slice-frame").addEventListener("keydown", viewerKeys);
  $("slice-frame").addEventListener("wheel", (e) => { e.preventDefault(); showSlice(viewer.index + Math.sign(e.deltaY)); }, { passive: false });
  window.addEventListener("hashchange", route);
  route();
}

init();

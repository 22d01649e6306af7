// Casebook search page: plain JavaScript over the JSON API (no build step). The API key is exchanged once for a
// short-lived token (POST /api/token) kept in sessionStorage; images are fetched with the token and shown as blob URLs.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { token: sessionStorage.getItem("casebook.token"), role: sessionStorage.getItem("casebook.role"), lastSearch: null, blobUrls: [], searchTicket: 0 };
// The roles the server lets validate, diagnose and draw regions (policy "validation"); the page hides those controls from others.
const VALIDATION_ROLES = ["clinician", "validator", "admin"];
const canValidate = () => VALIDATION_ROLES.includes(state.role);

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
  if ($("f-body").value.trim()) parts.push("body_part = " + lit($("f-body").value.trim()));
  if ($("f-from").value) parts.push("exam_date >= DATE " + lit($("f-from").value));
  if ($("f-to").value) parts.push("exam_date <= DATE " + lit($("f-to").value));
  if ($("f-sex").value) parts.push("sex = " + lit($("f-sex").value));
  if ($("f-age").value) parts.push("age_band = " + lit($("f-age").value));
  for (const code of $("f-codes").value.split(",").map((c) => c.trim()).filter(Boolean)) parts.push("clinical_codes contains " + lit(code));
  if ($("f-validated").checked) parts.push("validated = 'true'");
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
  performance.clearMarks("search-submit");
  performance.mark("search-submit"); // "first results" is measured from here to the first hit on screen
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
  const ticket = ++state.searchTicket; // a later search wins over a slower earlier one
  $("search-status").textContent = "Searching…";
  $("error").textContent = "";
  releaseImages();
  const list = $("results");
  list.innerHTML = "";
  try {
    const started = performance.now();
    const body = await (await request()).json();
    if (ticket !== state.searchTicket) return;
    const ms = Math.round(performance.now() - started);
    $("search-status").textContent = label + (body.results.length === 0 ? "No matching studies." : `${body.results.length} studies (${ms} ms)`);
    for (const hit of body.results) list.appendChild(renderHit(hit));
    if (performance.getEntriesByName("search-submit", "mark").length) {
      const m = performance.measure("first-results", "search-submit");
      $("search-status").dataset.firstResultsMs = m.duration.toFixed(1);
      performance.clearMarks("search-submit");
    }
    if (body.results.length) addSummaries(body.results.map((h) => h.study_id), ticket);
  } catch (e) {
    if (ticket !== state.searchTicket) return;
    $("search-status").textContent = "";
    $("error").textContent = "Search failed: " + e.message;
  }
}

const KIND_NAMES = { diagnosis: "diagnosis", procedure: "procedure", medication: "medication", abnormal_lab: "abnormal lab", abnormal_vital: "abnormal vital", follow_up_imaging: "follow-up imaging" };

const plural = (name, n) => (n === 1 ? name : name === "diagnosis" ? "diagnoses" : name + "s");

// Codes, the validated mark and an outcome summary for each hit: one call after the results are on screen (GET /api/search
// itself stays the `search --json` contract).
async function addSummaries(ids, ticket) {
  try {
    const params = new URLSearchParams();
    for (const id of ids) params.append("study", id);
    const body = await (await api("/api/search/summaries?" + params.toString())).json();
    if (ticket !== state.searchTicket) return;
    for (const s of body.studies) {
      const li = [...$("results").children].find((el) => el.dataset.study === s.study_id);
      if (!li || s.missing) continue;
      const box = li.querySelector(".extras");
      let html = "";
      if (s.validated) html += `<span class="badge">validated</span> `;
      if (s.clinical_codes.length) html += `<span class="codes" aria-label="Codes">${s.clinical_codes.map((c) => `<code>${escapeHtml(c)}</code>`).join(" ")}</span>`;
      const o = s.outcomes;
      if (o.total === 0) html += `<p class="outcome-summary"><strong>Outcomes:</strong> none recorded</p>`;
      else {
        const counts = Object.entries(o.kinds).map(([k, n]) => `${n} ${escapeHtml(plural(KIND_NAMES[k] || k, n))}`).join(", ");
        const items = o.items.map((i) => escapeHtml(i.text || i.kind) + (i.days_after != null ? ` (+${Math.round(i.days_after)} d)` : i.status ? ` (${escapeHtml(i.status)})` : "")).join("; ");
        html += `<p class="outcome-summary"><strong>Outcomes:</strong> ${counts}. ${items}${o.total > o.items.length ? "; …" : ""}</p>`;
      }
      box.innerHTML = html;
    }
  } catch (e) { /* the hits stand without their extras */ }
}

function renderHit(hit) {
  const li = document.createElement("li");
  li.className = "hit";
  li.dataset.study = hit.study_id;
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
    ${snippets}<div class="extras"></div>`;
  li.appendChild(text);
  imageUrl(`/api/studies/${encodeURIComponent(hit.study_id)}/thumbnail`).then((url) => {
    const img = document.createElement("img");
    img.src = url; img.alt = `First image of ${hit.study_id}`;
    thumb.replaceWith(img);
  }).catch(() => { /* no images: keep the grey box */ });
  return li;
}

const current = { id: null, study: null, version: null };

// Opens (or reloads, keeping the slice) a study: record, history and timeline in parallel.
async function openStudy(id, keepSlice = false) {
  show("study-view");
  const sameStudy = keepSlice && current.id === id;
  if (!sameStudy) {
    releaseImages();
    $("study-facts").innerHTML = ""; $("report").innerHTML = ""; $("history").innerHTML = ""; $("viewer-note").textContent = "";
    $("timeline-chart").innerHTML = ""; $("timeline-detail").textContent = ""; $("outcomes").innerHTML = ""; $("validation-status").textContent = "";
    $("findings").innerHTML = ""; $("diagnoses").innerHTML = ""; $("regions").innerHTML = ""; $("study-version").textContent = "–";
    clearBox();
    $("similar").innerHTML = ""; $("similar-summary").textContent = "";
  }
  current.id = id;
  $("study-title").textContent = id;
  $("back").href = state.lastSearch ? "#/search?" + state.lastSearch : "#/";
  for (const el of document.querySelectorAll(".validator-only")) el.hidden = !canValidate();
  try {
    const enc = encodeURIComponent(id);
    const [study, hist, timeline] = await Promise.all([
      api(`/api/studies/${enc}`).then((r) => r.json()),
      api(`/api/studies/${enc}/history`).then((r) => r.json()),
      api(`/api/studies/${enc}/timeline`).then((r) => r.json()).catch(() => null),
    ]);
    if (current.id !== id) return;
    current.study = study;
    const md = study.metadata || {};
    const facts = { Modality: study.modality, "Exam date": study.exam_date, Patient: (study.patient_pseudo_id || "").slice(0, 12) + "…",
      Sex: md.sex, "Age band": md.age_band, "Body part": md.body_part, Codes: (study.clinical_codes || []).join(", ") };
    $("study-facts").innerHTML = Object.entries(facts).filter(([, v]) => v).map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join("");
    renderReport(study);
    // The version shown is the one that made the study's live row: what a validation action names as its base version.
    const live = hist.history.find((h) => h.until == null) || hist.history[hist.history.length - 1];
    current.version = live ? live.version : null;
    $("study-version").textContent = current.version ?? "–";
    $("history").innerHTML = hist.history.map((h) =>
      `<li>version ${h.version}${h.until ? ` (until ${h.until})` : " (current)"} · ${escapeHtml(h.time)} · ${escapeHtml(h.author)} · ${escapeHtml(h.message)}</li>`).join("");
    renderFindings(study);
    renderDiagnoses(study);
    renderRegions(study);
    renderTimeline(study, timeline);
    if (sameStudy) { viewer.sliceIds = sliceIds(study); drawOverlay(); } else setupViewer(study);
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

const findingTerm = (f) => (typeof f === "string" ? f : f.term || f.name || f.text || "");

// Findings from the report (clinical NLP) and the clinician's; one line per term, with confirm/reject for validators.
function renderFindings(study) {
  const byTerm = new Map();
  for (const f of study.pathology_findings || []) {
    const term = findingTerm(f);
    if (term && !byTerm.has(term.toLowerCase())) byTerm.set(term.toLowerCase(), f);
  }
  if (byTerm.size === 0) { $("findings").innerHTML = `<li class="note">No findings.</li>`; return; }
  $("findings").innerHTML = [...byTerm.values()].map((f) => {
    const term = findingTerm(f);
    const v = typeof f === "object" && f.validation;
    const status = v ? `${v.status} by ${escapeHtml(v.author)} (${escapeHtml(v.role)})` : (f.negated ? "negated in the text" : "not validated");
    // Each button that would change something: confirming a confirmed finding (or rejecting a rejected one) is no change.
    const button = (status, text) => (v && v.status === status ? ""
      : ` <button type="button" class="small" data-finding="${escapeHtml(term)}" data-status="${status}" aria-label="${text} ${escapeHtml(term)}">${text}</button>`);
    const buttons = canValidate() ? button("confirmed", "Confirm") + button("rejected", "Reject") : "";
    return `<li class="finding" data-term="${escapeHtml(term)}"><strong>${escapeHtml(term)}</strong> <span class="finding-status note">${status}</span>${buttons}</li>`;
  }).join("");
}

function renderDiagnoses(study) {
  const list = (study.metadata && study.metadata.diagnoses) || [];
  $("diagnoses").innerHTML = list.length === 0 ? `<li class="note">None set by a clinician.</li>`
    : list.map((d) => `<li><code>${escapeHtml(d.code)}</code> ${escapeHtml(d.display || "")} <span class="note">${escapeHtml(d.system)} · ${escapeHtml(d.status)} · ${escapeHtml(d.author)}</span></li>`).join("");
}

function renderRegions(study) {
  const regions = study.image_regions || [];
  const ids = sliceIds(study);
  $("regions").innerHTML = regions.length === 0 ? `<li class="note">No regions drawn.</li>`
    : regions.map((r) => {
      const p = r.pixel || {};
      const n = ids.indexOf(r.slice);
      return `<li class="region"><strong>${escapeHtml(r.label)}</strong> <span class="note">slice ${n >= 0 ? n + 1 : escapeHtml(r.slice)} · box ${escapeHtml(p.x)},${escapeHtml(p.y)} ${escapeHtml(p.w)}×${escapeHtml(p.h)} px · ${escapeHtml(r.author || "")}</span></li>`;
    }).join("");
}

// ---- Validation actions: each is one POST naming the version the page shows; the study is then reloaded, so the new version shows.
async function validationAction(path, body, done) {
  $("validation-status").textContent = "Saving…";
  const reason = $("v-reason").value.trim();
  if (reason) body.reason = reason;
  body.base_version = current.version;
  try {
    const res = await api(`/api/studies/${encodeURIComponent(current.id)}/${path}`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const result = await res.json();
    await openStudy(current.id, true);
    $("validation-status").textContent = `${done}: saved as version ${result.version}.`;
  } catch (e) {
    $("validation-status").textContent = "Not saved: " + e.message;
    if (/version/.test(e.message)) openStudy(current.id, true); // stale: show the current version
  }
}

function findingClick(e) {
  const b = e.target.closest("button[data-finding]");
  if (!b) return;
  validationAction("validate", { finding: b.dataset.finding, status: b.dataset.status }, `${b.dataset.finding} ${b.dataset.status}`);
}

function diagnosisSubmit(e) {
  e.preventDefault();
  const body = { code: $("d-code").value.trim(), system: $("d-system").value, status: $("d-status").value };
  if ($("d-display").value.trim()) body.display = $("d-display").value.trim();
  validationAction("diagnose", body, `Diagnosis ${body.code} ${body.status}`).then(() => { $("d-code").value = ""; $("d-display").value = ""; });
}

function regionSubmit(e) {
  e.preventDefault();
  const box = ["r-x", "r-y", "r-w", "r-h"].map((f) => Math.round(Number($(f).value)));
  const label = $("r-label").value.trim();
  validationAction("regions", { slice: viewer.sliceIds[viewer.index], box: box.join(","), label }, `Region "${label}"`)
    .then(() => { clearBox(); $("r-label").value = ""; });
}

// ---- Similar cases of this study (GET /api/similar, the `similar --json` contract): image and report evidence, with outcomes.
async function findSimilar() {
  const id = current.id;
  $("similar-summary").textContent = "Searching…";
  $("similar").innerHTML = "";
  try {
    const body = await (await api(`/api/similar?study=${encodeURIComponent(id)}&limit=5`)).json();
    if (current.id !== id) return;
    $("similar").innerHTML = body.results.map((r) => {
      const outcomes = r.outcomes.slice(0, 3).map((o) => escapeHtml(o.text || o.display || o.code || o.kind)).join("; ");
      return `<li><a href="#/study/${encodeURIComponent(r.study_id)}">${escapeHtml(r.study_id)}</a> <span class="note">score ${r.score.toFixed(3)}</span>`
        + `<div class="note">${r.outcomes.length ? `Outcomes: ${outcomes}${r.outcomes.length > 3 ? "; …" : ""}` : "No recorded outcomes"}</div></li>`;
    }).join("");
    const top = body.summary.slice(0, 3).map((s) => `${escapeHtml(s.display || s.code)} in ${s.count} of ${body.results.length}`).join("; ");
    $("similar-summary").innerHTML = body.results.length === 0 ? "No similar cases." : `${body.results.length} similar cases.` + (top ? ` Outcomes among them: ${top}.` : "");
  } catch (e) {
    $("similar-summary").textContent = "Could not find similar cases: " + e.message;
  }
}

// ---- Timeline chart: the patient's events on a time axis, one lane per event type, drawn as SVG from /timeline.
const SVG = "http://www.w3.org/2000/svg";
const TYPE_ORDER = ["imaging", "report", "encounter", "condition", "procedure", "observation", "medication", "immunization", "allergy"];

function svgEl(name, attrs, text) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  if (text != null) el.textContent = text;
  return el;
}

function eventTime(t) {
  if (!t) return null;
  const ms = Date.parse(/^\d{4}$/.test(t) ? t + "-01-01" : /^\d{4}-\d{2}$/.test(t) ? t + "-01" : t);
  return Number.isNaN(ms) ? null : ms;
}

const day = (ms) => new Date(ms).toISOString().slice(0, 10);

function renderTimeline(study, timeline) {
  const chart = $("timeline-chart");
  chart.innerHTML = "";
  const outcomes = new Map(((timeline && timeline.outcomes) || []).map((o) => [o.event_id, o]));
  $("outcomes").innerHTML = outcomes.size === 0 ? `<li class="note">No outcomes recorded after this study.</li>`
    : [...outcomes.values()].map((o) => `<li><span class="kind">${escapeHtml(KIND_NAMES[o.kind] || o.kind)}</span> ${escapeHtml(o.text)} <span class="note">+${Math.round(o.days_after)} days</span></li>`).join("");
  const events = ((timeline && timeline.events) || []).map((e) => ({ e, t: eventTime(e.time) }));
  const timed = events.filter((x) => x.t != null).sort((a, b) => a.t - b.t);
  const untimed = events.filter((x) => x.t == null);
  const studyMs = eventTime((study.metadata && study.metadata.fhir && study.metadata.fhir.sort_time) || study.exam_date);
  if (timed.length === 0) {
    chart.innerHTML = `<p class="note">No dated events for this patient${untimed.length ? ` (${untimed.length} without a time)` : ""}.</p>`;
    return;
  }
  const types = TYPE_ORDER.filter((t) => timed.some((x) => x.e.type === t)).concat([...new Set(timed.map((x) => x.e.type))].filter((t) => !TYPE_ORDER.includes(t)));
  const W = 760, left = 110, right = 20, top = 14, lane = 30, axis = 36;
  const H = top + lane * types.length + axis;
  let lo = Math.min(...timed.map((x) => x.t)), hi = Math.max(...timed.map((x) => x.t));
  if (studyMs != null) { lo = Math.min(lo, studyMs); hi = Math.max(hi, studyMs); }
  const pad = Math.max((hi - lo) * 0.04, 86400000);
  lo -= pad; hi += pad;
  const x = (ms) => left + ((ms - lo) / (hi - lo)) * (W - left - right);
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, class: "timeline", role: "group",
    "aria-label": `Timeline: ${timed.length} events from ${day(timed[0].t)} to ${day(timed[timed.length - 1].t)}. Use the arrow keys to move between events.` });
  types.forEach((t, i) => {
    const y = top + lane * i + lane / 2;
    svg.appendChild(svgEl("line", { x1: left, x2: W - right, y1: y, y2: y, class: "lane" }));
    svg.appendChild(svgEl("text", { x: left - 8, y: y + 4, "text-anchor": "end", class: "lane-label" }, t));
  });
  const axisY = top + lane * types.length + 4;
  svg.appendChild(svgEl("line", { x1: left, x2: W - right, y1: axisY, y2: axisY, class: "axis" }));
  for (let k = 0; k <= 4; k++) {
    const ms = lo + ((hi - lo) * k) / 4, tx = x(ms);
    svg.appendChild(svgEl("line", { x1: tx, x2: tx, y1: axisY, y2: axisY + 5, class: "axis" }));
    svg.appendChild(svgEl("text", { x: tx, y: axisY + 18, "text-anchor": k === 0 ? "start" : k === 4 ? "end" : "middle", class: "tick" }, day(ms)));
  }
  if (studyMs != null) {
    svg.appendChild(svgEl("line", { x1: x(studyMs), x2: x(studyMs), y1: top - 6, y2: axisY, class: "study-time" }));
    svg.appendChild(svgEl("text", { x: x(studyMs) + 4, y: top - 2, class: "tick" }, "this study"));
  }
  const marks = timed.map(({ e, t }, i) => {
    const outcome = outcomes.get(e.event_id);
    const label = `${e.time}: ${e.text}${outcome ? ` — outcome (${KIND_NAMES[outcome.kind] || outcome.kind}, +${Math.round(outcome.days_after)} days)` : ""}`;
    const c = svgEl("circle", { cx: x(t), cy: top + lane * types.indexOf(e.type) + lane / 2, r: 7, tabindex: i === 0 ? 0 : -1, role: "img", "aria-label": label,
      class: "tl-event" + (outcome ? " outcome" : "") + (e.abnormal ? " abnormal" : ""), "data-type": e.type, "data-index": i });
    c.appendChild(svgEl("title", {}, label));
    svg.appendChild(c);
    return { c, label };
  });
  // Roving focus: Tab reaches the chart once; the arrow keys, Home and End move through the events in time order.
  const focusMark = (i) => {
    i = Math.max(0, Math.min(marks.length - 1, i));
    marks.forEach((m, k) => m.c.setAttribute("tabindex", k === i ? "0" : "-1"));
    marks[i].c.focus();
  };
  svg.addEventListener("focusin", (ev) => {
    const i = Number(ev.target.getAttribute("data-index"));
    if (!Number.isNaN(i)) { $("timeline-detail").textContent = marks[i].label; svg.dataset.focused = String(i); }
  });
  svg.addEventListener("click", (ev) => { const i = ev.target.getAttribute && ev.target.getAttribute("data-index"); if (i != null) focusMark(Number(i)); });
  svg.addEventListener("keydown", (ev) => {
    const i = Number(svg.dataset.focused || 0);
    const to = { ArrowRight: i + 1, ArrowDown: i + 1, ArrowLeft: i - 1, ArrowUp: i - 1, Home: 0, End: marks.length - 1 }[ev.key];
    if (to != null) { ev.preventDefault(); focusMark(to); }
  });
  chart.appendChild(svg);
  const legend = document.createElement("p");
  legend.className = "note";
  legend.innerHTML = `<span class="key outcome"></span> outcome of this study · <span class="key abnormal"></span> abnormal · <span class="key plain"></span> other event`
    + (untimed.length ? ` · ${untimed.length} event${untimed.length > 1 ? "s" : ""} without a time: ${untimed.map((u) => escapeHtml(u.e.text)).join("; ")}` : "");
  chart.appendChild(legend);
}

// ---- Slice viewer, with an overlay canvas that shows the study's regions on this slice and the box being drawn.
const viewer = { study: null, index: 0, count: 0, pending: 0, sliceIds: [], drag: null, box: null };

const sliceIds = (study) => study.segments.filter((g) => g.kind === "image_slice").sort((a, b) => a.slice_index - b.slice_index).map((g) => g.segment_id);

function setupViewer(study) {
  viewer.study = study.study_id; viewer.count = study.slices; viewer.index = 0; viewer.sliceIds = sliceIds(study);
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
    await new Promise((resolve) => { $("slice-img").onload = resolve; $("slice-img").onerror = resolve; $("slice-img").src = url; });
    if (ticket !== viewer.pending) return;
    $("slice-img").alt = `${viewer.study}, slice ${viewer.index + 1} of ${viewer.count}${preset ? ", " + preset + " window" : ""}`;
    $("slice-frame").dataset.slice = String(viewer.index);
    $("viewer-note").textContent = "";
    drawOverlay();
  } catch (e) {
    if (ticket === viewer.pending) $("viewer-note").textContent = e.message;
  }
}

// Where the image sits inside the <img> box (object-fit: contain): scale and offsets, in CSS pixels.
function imageRect() {
  const img = $("slice-img");
  const nw = img.naturalWidth, nh = img.naturalHeight, cw = img.clientWidth, ch = img.clientHeight;
  if (!nw || !nh) return null;
  const scale = Math.min(cw / nw, ch / nh);
  return { scale, ox: (cw - nw * scale) / 2, oy: (ch - nh * scale) / 2, nw, nh };
}

function drawOverlay() {
  const img = $("slice-img"), canvas = $("slice-overlay");
  canvas.style.left = img.offsetLeft + "px"; canvas.style.top = img.offsetTop + "px";
  canvas.width = img.clientWidth; canvas.height = img.clientHeight;
  canvas.classList.toggle("drawable", canValidate());
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const r = imageRect();
  if (!r) return;
  const rect = (b, color, dash, label) => {
    ctx.setLineDash(dash); ctx.strokeStyle = color; ctx.lineWidth = 2;
    ctx.strokeRect(r.ox + b.x * r.scale, r.oy + b.y * r.scale, b.w * r.scale, b.h * r.scale);
    if (label) { ctx.font = "13px system-ui, sans-serif"; ctx.fillStyle = color; ctx.fillText(label, r.ox + b.x * r.scale + 3, r.oy + b.y * r.scale - 4); }
  };
  const here = viewer.sliceIds[viewer.index];
  for (const g of (current.study && current.study.image_regions) || []) if (g.slice === here && g.pixel) rect(g.pixel, "#ffd400", [], g.label);
  if (viewer.box) rect(viewer.box, "#38c7ff", [6, 4], null);
}

function toPixel(ev) {
  const r = imageRect();
  if (!r) return null;
  const b = $("slice-overlay").getBoundingClientRect();
  const px = (ev.clientX - b.left - r.ox) / r.scale, py = (ev.clientY - b.top - r.oy) / r.scale;
  return { x: Math.max(0, Math.min(r.nw, px)), y: Math.max(0, Math.min(r.nh, py)) };
}

function setBox(b) {
  viewer.box = b;
  $("r-x").value = b ? b.x : ""; $("r-y").value = b ? b.y : ""; $("r-w").value = b ? b.w : ""; $("r-h").value = b ? b.h : "";
  drawOverlay();
}

function clearBox() { viewer.box = null; for (const f of ["r-x", "r-y", "r-w", "r-h"]) $(f).value = ""; }

function dragStart(ev) {
  if (!canValidate() || ev.button !== 0) return;
  const p = toPixel(ev);
  if (!p) return;
  ev.preventDefault();
  $("slice-overlay").setPointerCapture(ev.pointerId);
  viewer.drag = p;
}

function dragMove(ev) {
  if (!viewer.drag) return;
  const p = toPixel(ev);
  if (!p) return;
  const a = viewer.drag;
  setBox({ x: Math.round(Math.min(a.x, p.x)), y: Math.round(Math.min(a.y, p.y)), w: Math.max(1, Math.round(Math.abs(p.x - a.x))), h: Math.max(1, Math.round(Math.abs(p.y - a.y))) });
}

function dragEnd(ev) {
  if (!viewer.drag) return;
  dragMove(ev);
  viewer.drag = null;
  if (viewer.box && viewer.box.w >= 2 && viewer.box.h >= 2) $("r-label").focus(); // next: name the box, Enter saves it
  else setBox(null);
}

function typedBox() {
  const v = ["r-x", "r-y", "r-w", "r-h"].map((f) => Number($(f).value));
  viewer.box = v.every((n) => Number.isFinite(n)) && $("r-w").value && $("r-h").value ? { x: v[0], y: v[1], w: v[2], h: v[3] } : null;
  drawOverlay();
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
  $("findings").addEventListener("click", findingClick);
  $("similar-btn").addEventListener("click", findSimilar);
  $("diagnosis-form").addEventListener("submit", diagnosisSubmit);
  $("region-form").addEventListener("submit", regionSubmit);
  for (const f of ["r-x", "r-y", "r-w", "r-h"]) $(f).addEventListener("input", typedBox);
  const overlay = $("slice-overlay");
  overlay.addEventListener("pointerdown", dragStart);
  overlay.addEventListener("pointermove", dragMove);
  overlay.addEventListener("pointerup", dragEnd);
  window.addEventListener("resize", drawOverlay);
  $("slice-frame").addEventListener("wheel", (e) => { e.preventDefault(); showSlice(viewer.index + Math.sign(e.deltaY)); }, { passive: false });
  window.addEventListener("hashchange", route);
  route();
}

init();

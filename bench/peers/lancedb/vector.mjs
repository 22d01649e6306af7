// LanceDB peer for Casebook's vector benchmark. Reads the same .f32 base/query vectors and exact top-10 truth
// (int32 row ids) that the C# bench wrote, builds LanceDB indexes, and prints JSON with build time, p50/p95 latency
// and recall@10 for a few nprobes / refine / ef settings. One query at a time, awaited in sequence. The flat
// (index-free) scan reads the table for every query, so it is timed on the first --flat-queries (200) queries only.
import * as lancedb from "@lancedb/lancedb";
import { Index } from "@lancedb/lancedb";
import { readFileSync, rmSync } from "node:fs";
import { readF32, args, vectorTable, percentile } from "./common.mjs";

const a = args();
const dims = Number(a.dims ?? 384);
const base = readF32(a.base, dims);
const queries = readF32(a.queries, dims);
const truthBuf = readFileSync(a.truth);
const truth = new Int32Array(truthBuf.buffer, truthBuf.byteOffset, truthBuf.byteLength / 4);
const n = base.length / dims, nq = queries.length / dims, k = 10;
const kinds = (a.indexes ?? "ivf_pq,ivf_hnsw_sq").split(",");

rmSync(a.db, { recursive: true, force: true });
const db = await lancedb.connect(a.db);
let t0 = performance.now();
const tbl = await db.createTable("vectors", vectorTable(base, dims), { mode: "overwrite" });
const loadSeconds = (performance.now() - t0) / 1000;

async function measure(configure, maxQueries = nq) {
  const lat = [];
  let hits = 0;
  const m = Math.min(nq, maxQueries);
  for (let qi = 0; qi < m; qi++) {
    const q = queries.subarray(qi * dims, (qi + 1) * dims);
    const s = performance.now();
    const rows = await configure(tbl.vectorSearch(q).distanceType("cosine").select(["id", "_distance"]).limit(k)).toArray();
    lat.push(performance.now() - s);
    const want = new Set(truth.subarray(qi * k, (qi + 1) * k));
    for (const r of rows) if (want.has(r.id)) hits++;
  }
  lat.sort((x, y) => x - y);
  return { p50_ms: percentile(lat, 0.5), p95_ms: percentile(lat, 0.95), recall10: hits / (m * k), queries: m };
}

const out = { rows: n, dims, queries: nq, load_s: loadSeconds, indexes: [] };
if ((a.flat ?? "1") !== "0")
  out.indexes.push({ index: "flat (no index)", params: "exhaustive", build_s: 0, results: [{ setting: "-", ...(await measure(q => q, Number(a["flat-queries"] ?? 200))) }] });
const partitions = Math.max(1, Math.round(Math.sqrt(n)));
for (const kind of kinds) {
  t0 = performance.now();
  let params, settings;
  if (kind === "ivf_pq") {
    params = { numPartitions: partitions, numSubVectors: dims / 8, distanceType: "cosine" };
    await tbl.createIndex("vector", { config: Index.ivfPq(params), replace: true, train: true });
    settings = [[20, 1], [20, 10], [50, 10], [100, 20]].map(([np, rf]) => ({ setting: `nprobes=${np} refine=${rf}`, f: q => q.nprobes(np).refineFactor(rf) }));
  } else {
    params = { numPartitions: Math.max(1, Math.round(n / 100000)), m: 16, efConstruction: 150, distanceType: "cosine" };
    await tbl.createIndex("vector", { config: Index.hnswSq(params), replace: true, train: true });
    settings = [[64, 1], [128, 1], [128, 5]].map(([ef, rf]) => ({ setting: `ef=${ef} nprobes=${params.numPartitions} refine=${rf}`, f: q => q.nprobes(params.numPartitions).ef(ef).refineFactor(rf) }));
  }
  const entry = { index: kind, params: JSON.stringify(params), build_s: (performance.now() - t0) / 1000, results: [] };
  for (const s of settings) entry.results.push({ setting: s.setting, ...(await measure(s.f)) });
  out.indexes.push(entry);
}
console.log(JSON.stringify(out));

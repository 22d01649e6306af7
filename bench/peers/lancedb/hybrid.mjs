// LanceDB peer for Casebook's retrieval-quality comparison (e.g. NFCorpus).
//   node hybrid.mjs --docs docs.tsv --doc-vectors docs.f32 --queries queries.tsv --query-vectors queries.f32 \
//                   --qrels dev.qrel [--dims 384] [--mode hybrid|fts|vector|all] [--db /tmp/lance-hybrid] [--limit 100]
// docs.tsv / queries.tsv: "id<TAB>text" per line; the .f32 files hold one float32 vector per line of the matching
// .tsv, same order. qrels: TREC "qid 0 docid grade". Per query it runs LanceDB's hybrid search (full-text on `text`
// + vector on `vector`, fused by its RRF reranker), full-text only, or vector only, limit 100, and prints JSON
// {mode, "ndcg@10", "recall@100", queries, p50_ms} per mode. Graded nDCG: gain = grade, discount log2(rank + 1);
// queries without any positive judgment are skipped. Recall@100 counts documents with grade > 0.
import * as lancedb from "@lancedb/lancedb";
import { Index, rerankers } from "@lancedb/lancedb";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readF32, args, vectorTable, percentile } from "./common.mjs";

const a = args();
const dims = Number(a.dims ?? 384);
const limit = Number(a.limit ?? 100);
const modes = (a.mode ?? "all") === "all" ? ["hybrid", "fts", "vector"] : [a.mode];

function tsv(path) {
  return readFileSync(path, "utf8").split("\n").filter(l => l.trim()).map(l => {
    const tab = l.indexOf("\t");
    if (tab < 0) throw new Error(`${path}: line without a tab: ${l.slice(0, 80)}`);
    return [l.slice(0, tab), l.slice(tab + 1)];
  });
}

const docs = tsv(a.docs), queries = tsv(a.queries);
const docVectors = readF32(a["doc-vectors"], dims), queryVectors = readF32(a["query-vectors"], dims);
if (docVectors.length / dims !== docs.length) throw new Error(`${docs.length} docs but ${docVectors.length / dims} doc vectors`);
if (queryVectors.length / dims !== queries.length) throw new Error(`${queries.length} queries but ${queryVectors.length / dims} query vectors`);

const qrels = new Map(); // qid -> Map(docid -> grade)
for (const line of readFileSync(a.qrels, "utf8").split("\n")) {
  const p = line.trim().split(/\s+/);
  if (p.length < 4) continue;
  if (!qrels.has(p[0])) qrels.set(p[0], new Map());
  qrels.get(p[0]).set(p[2], Number(p[3]));
}

const dbDir = a.db ?? join(tmpdir(), `lance-hybrid-${process.pid}`);
rmSync(dbDir, { recursive: true, force: true });
const db = await lancedb.connect(dbDir);
const table = vectorTable(docVectors, dims, docs.map(d => d[1]));
const tbl = await db.createTable("docs", table, { mode: "overwrite" });
await tbl.createIndex("text", { config: Index.fts() });
const docIds = docs.map(d => d[0]);
const rrf = await rerankers.RRFReranker.create();

function ndcgAt10(ranked, judged) {
  let dcg = 0;
  ranked.slice(0, 10).forEach((id, i) => { dcg += (judged.get(id) ?? 0) / Math.log2(i + 2); });
  const ideal = [...judged.values()].filter(g => g > 0).sort((x, y) => y - x).slice(0, 10);
  const idcg = ideal.reduce((s, g, i) => s + g / Math.log2(i + 2), 0);
  return idcg > 0 ? dcg / idcg : 0;
}

async function run(mode, text, vector) {
  let q;
  if (mode === "fts") q = tbl.query().fullTextSearch(text);
  else if (mode === "vector") q = tbl.vectorSearch(vector).distanceType("cosine");
  else q = tbl.query().nearestTo(vector).distanceType("cosine").fullTextSearch(text).rerank(rrf);
  const rows = await q.select(["id"]).limit(limit).toArray();
  return rows.map(r => docIds[r.id]);
}

const out = [];
for (const mode of modes) {
  let ndcg = 0, recall = 0, n = 0;
  const lat = [];
  for (let i = 0; i < queries.length; i++) {
    const [qid, text] = queries[i];
    const judged = qrels.get(qid);
    if (!judged || ![...judged.values()].some(g => g > 0)) continue;
    const vector = queryVectors.subarray(i * dims, (i + 1) * dims);
    const t0 = performance.now();
    const ranked = await run(mode, text, vector);
    lat.push(performance.now() - t0);
    ndcg += ndcgAt10(ranked, judged);
    const relevant = [...judged].filter(([, g]) => g > 0).map(([id]) => id);
    const got = new Set(ranked.slice(0, 100));
    recall += relevant.filter(id => got.has(id)).length / relevant.length;
    n++;
  }
  lat.sort((x, y) => x - y);
  out.push({ mode, "ndcg@10": n ? ndcg / n : 0, "recall@100": n ? recall / n : 0, queries: n, p50_ms: n ? percentile(lat, 0.5) : 0 });
}
if (!a.db) rmSync(dbDir, { recursive: true, force: true });
console.log(JSON.stringify(out.length === 1 ? out[0] : out));

// Self-test of hybrid.mjs on a tiny hand-made corpus: `node hybrid.test.mjs` (exits non-zero on failure).
// Q2's judgments are deliberately out of vector order (D5 graded 2, D2 graded 1, but D2 is nearer), so the
// vector-only nDCG@10 is known by hand: Q1 = 1; Q2 = (1 + 2/log2 3) / (2 + 1/log2 3) = 0.8597; mean 0.9299.
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "hybrid-test-"));
const docs = [["D1", "heart attack chest pain troponin"], ["D2", "pneumonia lung infiltrate cough"], ["D3", "kidney stones flank pain"],
  ["D4", "low salt diet for heart failure"], ["D5", "asthma inhaler lung wheeze"], ["D6", "fibre rich diet and bowel health"]];
const docVectors = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0.7, 0, 0, 0.7], [0, 1, 0, 0.1], [0, 0, 0, 1]];
const queries = [["Q1", "heart failure diet"], ["Q2", "lung"], ["Q3", "no judgments here"]];
const queryVectors = [[0.7, 0, 0, 0.7], [0, 1, 0, 0], [0, 0, 1, 0]];
const norm = v => { const s = Math.hypot(...v); return v.map(x => x / s); };
const f32 = rows => Buffer.from(new Float32Array(rows.map(norm).flat()).buffer);
writeFileSync(join(dir, "docs.tsv"), docs.map(d => d.join("\t")).join("\n") + "\n");
writeFileSync(join(dir, "queries.tsv"), queries.map(d => d.join("\t")).join("\n") + "\n");
writeFileSync(join(dir, "docs.f32"), f32(docVectors));
writeFileSync(join(dir, "queries.f32"), f32(queryVectors));
writeFileSync(join(dir, "qrels"), "Q1 0 D4 2\nQ1 0 D1 1\nQ1 0 D6 1\nQ2 0 D5 2\nQ2 0 D2 1\nQ2 0 D3 0\n");

const out = JSON.parse(execFileSync("node", [new URL("./hybrid.mjs", import.meta.url).pathname,
  "--docs", join(dir, "docs.tsv"), "--doc-vectors", join(dir, "docs.f32"), "--queries", join(dir, "queries.tsv"),
  "--query-vectors", join(dir, "queries.f32"), "--qrels", join(dir, "qrels"), "--dims", "4", "--mode", "all"],
  { env: { ...process.env, RUST_LOG: "error" }, stdio: ["ignore", "pipe", "ignore"] }).toString());
rmSync(dir, { recursive: true, force: true });

const byMode = Object.fromEntries(out.map(r => [r.mode, r]));
const fail = [];
const expectNear = (what, got, want) => { if (Math.abs(got - want) > 1e-3) fail.push(`${what}: ${got} != ${want}`); };
for (const m of ["hybrid", "fts", "vector"]) {
  if (!byMode[m]) { fail.push(`missing mode ${m}`); continue; }
  if (byMode[m].queries !== 2) fail.push(`${m}: ${byMode[m].queries} queries judged, expected 2 (Q3 has no judgments)`);
  expectNear(`${m} recall@100`, byMode[m]["recall@100"], 1);
}
expectNear("vector ndcg@10", byMode.vector["ndcg@10"], (1 + (1 + 2 / Math.log2(3)) / (2 + 1 / Math.log2(3))) / 2);
console.log(JSON.stringify(out));
if (fail.length) { console.error("FAIL\n" + fail.join("\n")); process.exit(1); }
console.log("hybrid.mjs self-test passed");

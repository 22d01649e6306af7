// Shared helpers for the LanceDB peer scripts: raw float32 files and Arrow tables built without JS arrays.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
// LanceDB's CommonJS build loads apache-arrow's CommonJS entry; an ESM import would be a second copy whose
// classes fail LanceDB's instanceof checks (and silently write zero rows). So load the same copy it does.
const { Field, FixedSizeList, Float32, Int32, Utf8, Schema, Struct, RecordBatch, Table, makeData, vectorFromArray } =
  createRequire(import.meta.url)("apache-arrow");

export function readF32(path, dims) {
  const buf = readFileSync(path);
  const f32 = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  if (f32.length % dims !== 0) throw new Error(`${path}: ${f32.length} floats is not a multiple of ${dims}`);
  return f32;
}

export function args() {
  const out = {};
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 2) out[a[i].replace(/^--/, "")] = a[i + 1];
  return out;
}

/** Arrow table {id:int32, vector:fixed_size_list<float32>[dims], text?:utf8} in batches of `batch` rows. */
export function vectorTable(f32, dims, texts = null, batch = 65536) {
  const n = f32.length / dims;
  const fields = [new Field("id", new Int32(), true),
                  new Field("vector", new FixedSizeList(dims, new Field("item", new Float32(), true)), true)];
  if (texts) fields.push(new Field("text", new Utf8(), true));
  const schema = new Schema(fields);
  const batches = [];
  for (let start = 0; start < n; start += batch) {
    const len = Math.min(batch, n - start);
    const ids = makeData({ type: new Int32(), length: len, data: Int32Array.from({ length: len }, (_, i) => start + i) });
    const child = makeData({ type: new Float32(), length: len * dims, data: f32.subarray(start * dims, (start + len) * dims) });
    const vec = makeData({ type: fields[1].type, length: len, nullCount: 0, child });
    const children = [ids, vec];
    if (texts) children.push(vectorFromArray(texts.slice(start, start + len), new Utf8()).data[0]);
    const struct = makeData({ type: new Struct(fields), length: len, nullCount: 0, children });
    batches.push(new RecordBatch(schema, struct));
  }
  return new Table(schema, batches);
}

export function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

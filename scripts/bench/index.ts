// Index benchmark: add rate, flat and HNSW search latency, HNSW recall@10 against exact search,
// and snapshot time, on synthetic clustered unit vectors. Prints one JSON object per measurement.
// Usage: node --import tsx scripts/bench/index.ts [--vectors N] [--dimension D] [--queries Q]
//        [--parts flat,hnsw,snapshot]
import { loadavg } from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DocumentStore } from '../../server/index/document-store.js';
import { entry, seededRandom } from '../../server/index/testing/fixtures.js';
import { VectorIndex } from '../../server/index/vector-index.js';
import { clusteredVectors } from './clustered-vectors.js';

const { values } = parseArgs({
  options: {
    vectors: { type: 'string', default: '100000' },
    dimension: { type: 'string', default: '384' },
    queries: { type: 'string', default: '500' },
    parts: { type: 'string', default: 'flat,hnsw,snapshot' },
  },
});
const count = Number(values.vectors);
const dimension = Number(values.dimension);
const queryCount = Number(values.queries);
const parts = new Set(values.parts.split(','));
const K = 10;
const ADD_BATCH = 1000;

function report(name: string, fields: Record<string, unknown>): void {
  const load = loadavg()[0]!.toFixed(1);
  console.log(JSON.stringify({ name, vectors: count, dimension, ...fields, loadAverage: load }));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function row(vectors: Float32Array, i: number): Float32Array {
  return vectors.subarray(i * dimension, (i + 1) * dimension);
}

const ids = Array.from({ length: count }, (_, i) => `chunk${i}`);

/** Adds every vector in documents of ADD_BATCH chunks; returns wall and process CPU seconds. */
async function addAll(index: VectorIndex, vectors: Float32Array) {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  for (let start = 0; start < count; start += ADD_BATCH) {
    const end = Math.min(count, start + ADD_BATCH);
    await index.add(ids.slice(start, end), vectors.subarray(start * dimension, end * dimension));
  }
  const cpu = process.cpuUsage(cpuBefore);
  return {
    vectorsPerSecond: Math.round(count / ((performance.now() - started) / 1000)),
    vectorsPerCpuSecond: Math.round(count / ((cpu.user + cpu.system) / 1e6)),
  };
}

/** Sequential single queries: per-query wall time including the event-loop round trip. */
async function latencies(index: VectorIndex, queries: Float32Array) {
  for (let i = 0; i < 10; i++) await index.search(row(queries, i), K);
  const times: number[] = [];
  const results: string[][] = [];
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < queryCount; i++) {
    const started = performance.now();
    const hits = await index.search(row(queries, i), K);
    times.push(performance.now() - started);
    results.push(hits.map((hit) => hit.chunkId));
  }
  const cpu = process.cpuUsage(cpuBefore);
  times.sort((a, b) => a - b);
  const ms = (value: number) => Number(value.toFixed(2));
  return {
    p50Ms: ms(percentile(times, 50)),
    p99Ms: ms(percentile(times, 99)),
    // Process CPU time, pool threads included: what a query costs when the cores are not shared.
    cpuMsPerQuery: ms((cpu.user + cpu.system) / 1000 / queryCount),
    results,
  };
}

async function concurrentThroughput(index: VectorIndex, queries: Float32Array) {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await Promise.all(Array.from({ length: queryCount }, (_, i) => index.search(row(queries, i), K)));
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    queriesPerSecond: Math.round((queryCount / elapsedMs) * 1000),
    cpuMsPerQuery: Number(((cpu.user + cpu.system) / 1000 / queryCount).toFixed(2)),
  };
}

function recallAt10(approximate: string[][], exact: string[][]): number {
  let found = 0;
  approximate.forEach((hits, i) => {
    const truth = new Set(exact[i]);
    found += hits.filter((id) => truth.has(id)).length;
  });
  return Number((found / (exact.length * K)).toFixed(4));
}

async function benchFlat(vectors: Float32Array, queries: Float32Array): Promise<string[][]> {
  const index = await VectorIndex.create({ dimension });
  report('flat add', await addAll(index, vectors));
  const { results, ...latency } = await latencies(index, queries);
  report('flat search, sequential single queries', { k: K, queries: queryCount, ...latency });
  report('flat search, all queries concurrent', {
    k: K,
    ...(await concurrentThroughput(index, queries)),
  });
  await index.close();
  return results;
}

async function benchHnsw(vectors: Float32Array, queries: Float32Array, exact: string[][]) {
  // Two OpenMP threads build the graph; searches of one query use one thread either way.
  const index = await VectorIndex.create({ dimension, kind: 'hnsw', threads: 2 });
  report('hnsw add (M 32, efConstruction 80, 2 threads)', await addAll(index, vectors));
  for (const efSearch of [16, 32, 64, 128]) {
    index.efSearch = efSearch;
    const { results, ...latency } = await latencies(index, queries);
    report('hnsw search, sequential single queries', {
      efSearch,
      k: K,
      queries: queryCount,
      ...latency,
      recallAt10: recallAt10(results, exact),
    });
  }
  await index.close();
}

/** Builds a put record of chunks `start` to `start + size` with 600-1000 characters of text each. */
function benchDocument(doc: number, start: number, size: number, vectors: Float32Array) {
  const random = seededRandom(doc);
  const chunks = Array.from({ length: size }, (_, ordinal) => ({
    id: `doc${doc}:${ordinal}`,
    documentId: `doc${doc}`,
    ordinal,
    text: 'x'.repeat(600 + Math.floor(random() * 400)),
    pageStart: ordinal + 1,
    pageEnd: ordinal + 1,
    charStart: 0,
    charEnd: 0,
  }));
  const document = {
    id: `doc${doc}`,
    name: `doc${doc}.pdf`,
    type: 'pdf' as const,
    sizeBytes: 0,
    pageCount: size,
    chunkCount: size,
    ingestedAt: 0,
  };
  const slice = vectors.subarray(start * dimension, (start + size) * dimension);
  return {
    type: 'document.put' as const,
    document,
    chunks,
    model: 'bench',
    dimension,
    vectors: slice,
  };
}

async function benchSnapshot(vectors: Float32Array): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'streamcluster-bench-'));
  const chunksPerDocument = 100;
  const store = await DocumentStore.open({ dimension, dataDir });
  for (let doc = 0; doc * chunksPerDocument < count; doc++) {
    const record = benchDocument(doc, doc * chunksPerDocument, chunksPerDocument, vectors);
    await store.apply(entry(doc + 1, record));
  }

  const info = await store.snapshot();
  report('snapshot write', {
    chunks: store.chunkCount,
    bytes: info.bytes,
    durationMs: info.durationMs,
  });
  await store.close();

  const started = performance.now();
  const reopened = await DocumentStore.open({ dimension, dataDir });
  report('snapshot open (verify and load)', {
    durationMs: Math.round(performance.now() - started),
  });
  await reopened.close();
  await rm(dataDir, { recursive: true, force: true });
}

const vectors = clusteredVectors(count, dimension, 1);
const queries = clusteredVectors(queryCount + 10, dimension, 2);
let exact: string[][] = [];
if (parts.has('flat') || parts.has('hnsw')) exact = await benchFlat(vectors, queries);
if (parts.has('hnsw')) await benchHnsw(vectors, queries, exact);
if (parts.has('snapshot')) await benchSnapshot(vectors);

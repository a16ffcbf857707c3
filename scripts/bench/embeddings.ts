// Embedding throughput: chunks per second with one worker and with one worker per core, and
// the pipeline's overhead over running the same batches on onnxruntime sessions directly.
//
//   node --import tsx scripts/bench/embeddings.ts [--chunks 256] [--batch-size 32] [--runs 3]
//
// Chunks are ~200-token windows of the licence texts in /usr/share/common-licenses (Debian's
// base-files), repeated to the requested count. Every figure is the median of --runs runs
// after one warm-up run.
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import * as ort from 'onnxruntime-node';

import { tokenizeBatch } from '../../server/embed/embed-batch.js';
import { loadTokenizer, readMaxTokens } from '../../server/embed/model-loader.js';
import { defaultModelDir, resolveModelSource } from '../../server/embed/model-source.js';
import { createEmbedder } from '../../server/embed/transformers-embedder.js';

const LICENCES = ['GPL-3', 'GPL-2', 'LGPL-2.1', 'Apache-2.0', 'MPL-2.0', 'GFDL-1.3'];
const TARGET_TOKENS = 200;

const { values } = parseArgs({
  options: {
    chunks: { type: 'string', default: '256' },
    'batch-size': { type: 'string', default: '32' },
    runs: { type: 'string', default: '3' },
  },
});
const chunkCount = Number(values.chunks);
const batchSize = Number(values['batch-size']);
const runs = Number(values.runs);
const modelDir = defaultModelDir();
const settings = {
  source: resolveModelSource(modelDir),
  hubCacheDir: '',
  hubEndpoint: 'https://huggingface.co/',
};
const tokenizer = await loadTokenizer(settings);
const sequenceLength = await readMaxTokens(settings, tokenizer);

/** Splits the licence texts into sentence-aligned windows of about TARGET_TOKENS tokens. */
function licenceChunks(): string[] {
  const text = LICENCES.map((name) =>
    readFileSync(join('/usr/share/common-licenses', name), 'utf8'),
  )
    .join('\n')
    .replace(/\s+/g, ' ');
  const sentences = text.split(/(?<=[.;:])\s+/);
  const chunks: string[] = [];
  let current: string[] = [];
  let tokens = 0;
  for (const sentence of sentences) {
    current.push(sentence);
    tokens += tokenizer.encode(sentence, { add_special_tokens: false }).length;
    if (tokens >= TARGET_TOKENS) {
      chunks.push(current.join(' '));
      current = [];
      tokens = 0;
    }
  }
  return chunks;
}

function repeatTo<T>(items: T[], count: number): T[] {
  return Array.from({ length: count }, (_, index) => items[index % items.length]!);
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Median wall time and process CPU time (all threads, user plus system) of a job, in ms. */
interface Timing {
  wallMs: number;
  cpuMs: number;
}

/**
 * Runs `job` once to warm up, then `runs` times. CPU time is reported beside wall time because
 * on a shared machine the wall time also counts the time other processes held the cores.
 */
async function measure(job: () => Promise<unknown>): Promise<Timing> {
  await job();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let run = 0; run < runs; run++) {
    const startWall = performance.now();
    const startCpu = process.cpuUsage();
    await job();
    const used = process.cpuUsage(startCpu);
    wall.push(performance.now() - startWall);
    cpu.push((used.user + used.system) / 1000);
  }
  return { wallMs: median(wall), cpuMs: median(cpu) };
}

/** The batches the pipeline builds: texts sorted by length, longest first, cut into batches. */
function pipelineBatches(texts: string[]): string[][] {
  const sorted = [...texts].sort((a, b) => b.length - a.length);
  const batches: string[][] = [];
  for (let start = 0; start < sorted.length; start += batchSize) {
    batches.push(sorted.slice(start, start + batchSize));
  }
  return batches;
}

/** Pre-tokenized ort feeds, so the raw measurement times session.run alone. */
function rawFeeds(batches: string[][]): Record<string, ort.Tensor>[] {
  return batches.map((batch) => {
    const encoded = tokenizeBatch(tokenizer, batch, sequenceLength);
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, tensor] of Object.entries(encoded)) {
      feeds[name] = new ort.Tensor('int64', tensor.data as BigInt64Array, tensor.dims);
    }
    return feeds;
  });
}

/** Runs every feed on `sessions`, each session taking the next feed when it is free. */
async function runRaw(sessions: ort.InferenceSession[], feeds: Record<string, ort.Tensor>[]) {
  let next = 0;
  await Promise.all(
    sessions.map(async (session) => {
      while (next < feeds.length) await session.run(feeds[next++]!);
    }),
  );
}

async function rawTiming(sessionCount: number, feeds: Record<string, ort.Tensor>[]) {
  const sessions = await Promise.all(
    Array.from({ length: sessionCount }, () =>
      ort.InferenceSession.create(join(modelDir, 'onnx', 'model.onnx'), {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
      }),
    ),
  );
  const elapsed = await measure(() => runRaw(sessions, feeds));
  await Promise.all(sessions.map((session) => session.release()));
  return elapsed;
}

async function pipelineTiming(workers: number, texts: string[]): Promise<Timing> {
  const embedder = await createEmbedder({ model: modelDir, workers, batchSize });
  const elapsed = await measure(() => embedder.embed(texts));
  await embedder.close();
  return elapsed;
}

const texts = repeatTo(licenceChunks(), chunkCount);
const counts = texts.map((text) => tokenizer.encode(text, { add_special_tokens: false }).length);
const feeds = rawFeeds(pipelineBatches(texts));
const cores = availableParallelism();

console.log(`machine: ${cores} cores, ${cpus()[0]?.model ?? 'unknown CPU'}`);
console.log(
  `chunks: ${texts.length}, mean ${Math.round(counts.reduce((a, b) => a + b, 0) / counts.length)} ` +
    `tokens, batch size ${batchSize}, median of ${runs} runs`,
);
const rate = (ms: number) => ((texts.length / ms) * 1000).toFixed(1);
const describe = (timing: Timing) =>
  `${timing.wallMs.toFixed(0)} ms wall (${rate(timing.wallMs)} chunks/s), ` +
  `${timing.cpuMs.toFixed(0)} ms CPU (${rate(timing.cpuMs)} chunks/CPU-s)`;
const overhead = (pipeline: number, raw: number) => `${((pipeline / raw - 1) * 100).toFixed(1)}%`;
for (const workers of [1, cores]) {
  const raw = await rawTiming(workers, feeds);
  const pipeline = await pipelineTiming(workers, texts);
  console.log(`${workers} worker(s), pipeline: ${describe(pipeline)}`);
  console.log(`${workers} session(s), raw onnxruntime: ${describe(raw)}`);
  console.log(
    `${workers} worker(s), pipeline overhead: ${overhead(pipeline.wallMs, raw.wallMs)} wall, ` +
      `${overhead(pipeline.cpuMs, raw.cpuMs)} CPU`,
  );
}

/**
 * Stream server benchmark: time to first answer token and answers per second with a large
 * index, and memory per idle WebSocket connection.
 *
 *   node --expose-gc --import tsx scripts/bench/stream.ts [--chunks 100000] [--asks 40]
 *     [--concurrency 4] [--idle 2000]
 *
 * The index is filled through the embedded log with real chunk texts (sentences of the GPL-3
 * text in /usr/share/common-licenses) and random unit vectors, because embedding 100k chunks
 * with the real model takes hours on two cores. Questions are embedded with the real model and
 * answered by the extractive generator, so answer cost is real; which chunks rank first is not.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { spawn } from 'node:child_process';

import { StreamClusterClient } from '../../client/client.js';
import { serverConfig, startServer } from '../../server/app/main.js';
import { silentLogger } from '../../server/core/logger.js';
import type { Chunk } from '../../server/ingest/types.js';
import { FileLog } from '../../server/replication/file-log.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.slice(2), process.argv[i + 1]!);
const CHUNKS = Number(args.get('chunks') ?? 100_000);
const ASKS = Number(args.get('asks') ?? 40);
const CONCURRENCY = Number(args.get('concurrency') ?? 4);
const IDLE = Number(args.get('idle') ?? 2000);
const DIMENSION = 384;

/** Opens N connections and keeps them idle; prints "ready" once all got their welcome. */
const IDLE_CLIENTS = `
const { WebSocket } = require('ws');
const [url, count] = process.argv.slice(1);
let open = 0;
const sockets = [];
(async () => {
  for (let i = 0; i < Number(count); i++) {
    const ws = new WebSocket(url, ['streamcluster.v1']);
    await new Promise((resolve, reject) => { ws.once('message', resolve); ws.once('error', reject); });
    sockets.push(ws);
  }
  console.log('ready');
})();
setInterval(() => {}, 1000);
`;
const CHUNKS_PER_DOCUMENT = 500;

const sentences = readFileSync('/usr/share/common-licenses/GPL-3', 'utf8')
  .replace(/\s+/g, ' ')
  .split(/(?<=[.!?])\s+/)
  .filter((sentence) => sentence.length > 40);

const QUESTIONS = [
  'What must I do when I convey modified versions of the program?',
  'Can I charge a fee for distributing copies?',
  'What happens if I violate the license?',
  'Does the license grant patent rights?',
  'Is there any warranty for the program?',
];

function randomUnitVectors(count: number): Float32Array {
  const vectors = new Float32Array(count * DIMENSION);
  for (let row = 0; row < count; row++) {
    let norm = 0;
    for (let d = 0; d < DIMENSION; d++) {
      const value = Math.random() - 0.5;
      vectors[row * DIMENSION + d] = value;
      norm += value * value;
    }
    const scale = 1 / Math.sqrt(norm);
    for (let d = 0; d < DIMENSION; d++) vectors[row * DIMENSION + d]! *= scale;
  }
  return vectors;
}

async function fillLog(directory: string, model: string): Promise<void> {
  const log = await FileLog.open({ directory });
  for (let start = 0; start < CHUNKS; start += CHUNKS_PER_DOCUMENT) {
    const documentId = (start / CHUNKS_PER_DOCUMENT).toString(16).padStart(64, '0');
    const count = Math.min(CHUNKS_PER_DOCUMENT, CHUNKS - start);
    const chunks: Chunk[] = [];
    let offset = 0;
    for (let ordinal = 0; ordinal < count; ordinal++) {
      const text = Array.from(
        { length: 5 },
        (_, j) => sentences[(start + ordinal * 5 + j) % sentences.length],
      ).join(' ');
      chunks.push({
        id: `${documentId}:${ordinal}`,
        documentId,
        ordinal,
        text,
        pageStart: 1 + Math.floor(ordinal / 4),
        pageEnd: 1 + Math.floor(ordinal / 4),
        charStart: offset,
        charEnd: offset + text.length,
      });
      offset += text.length + 1;
    }
    await log.append({
      type: 'document.put',
      document: {
        id: documentId,
        name: `synthetic-${start / CHUNKS_PER_DOCUMENT}.txt`,
        type: 'text',
        sizeBytes: offset,
        pageCount: Math.ceil(count / 4),
        chunkCount: count,
        ingestedAt: Date.now(),
      },
      chunks,
      model,
      dimension: DIMENSION,
      vectors: randomUnitVectors(count),
    });
  }
  await log.close();
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function askOnce(client: StreamClusterClient, question: string): Promise<number> {
  const started = performance.now();
  let firstToken = 0;
  for await (const event of client.ask(question)) {
    if (event.type === 'answer.token' && firstToken === 0) firstToken = performance.now() - started;
  }
  return firstToken;
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'streamcluster-bench-'));
  try {
    const config = serverConfig(
      [
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--data-dir',
        dataDir,
        '--heartbeat-interval-ms',
        '600000',
      ],
      {},
    );
    const probe = await startServer(config, silentLogger);
    const model = (probe.service as unknown as { options: { embedder: { modelName: string } } })
      .options.embedder.modelName;
    await probe.stop();

    let started = performance.now();
    await fillLog(join(dataDir, 'log'), model);
    console.log(
      `filled the log with ${CHUNKS} chunks in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );

    started = performance.now();
    const running = await startServer(config, silentLogger);
    while (running.service.stats().chunks < CHUNKS) await new Promise((r) => setTimeout(r, 200));
    console.log(
      `server applied ${CHUNKS} chunks in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const url = `ws://127.0.0.1:${running.server.address().port}`;

    const client = new StreamClusterClient({ urls: url });
    await askOnce(client, 'warm up the model and caches');
    const firstTokens: number[] = [];
    for (let i = 0; i < ASKS; i++)
      firstTokens.push(await askOnce(client, `${QUESTIONS[i % QUESTIONS.length]} (${i})`));
    console.log(
      `time to first token over ${ASKS} sequential asks: p50 ${percentile(firstTokens, 50).toFixed(0)} ms, p99 ${percentile(firstTokens, 99).toFixed(0)} ms`,
    );

    started = performance.now();
    let answered = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, worker) => {
        for (let i = worker; i < ASKS; i += CONCURRENCY) {
          await askOnce(client, `${QUESTIONS[i % QUESTIONS.length]} [${i}]`);
          answered++;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `answers per second with ${CONCURRENCY} in flight: ${(answered / seconds).toFixed(2)}`,
    );
    client.close();

    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc)
      throw new Error('run with node --expose-gc so memory can be measured after a collection');
    // Memory is read after each of two equal batches of idle clients; the slope between them
    // leaves out one-time costs such as the first connection's buffers and JIT code.
    const measure = async () => {
      await new Promise((r) => setTimeout(r, 1000));
      gc();
      const usage = process.memoryUsage();
      return { heap: usage.heapUsed + usage.external, rss: usage.rss };
    };
    const batches = [];
    for (let batch = 0; batch < 2; batch++) {
      // The idle clients live in another process so only the server's memory is measured here.
      const clients = spawn(process.execPath, ['-e', IDLE_CLIENTS, url, String(IDLE)], {
        cwd: process.cwd(),
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve, reject) => {
        clients.stdout.on('data', (data: Buffer) => data.toString().includes('ready') && resolve());
        clients.once('exit', (code) => reject(new Error(`idle clients exited with ${code}`)));
      });
      batches.push({ clients, memory: await measure() });
    }
    const [first, second] = batches as [(typeof batches)[0], (typeof batches)[0]];
    const heap = (second.memory.heap - first.memory.heap) / IDLE;
    const rss = (second.memory.rss - first.memory.rss) / IDLE;
    console.log(
      `server memory per idle connection, slope over ${IDLE} more: heap+external ${(heap / 1024).toFixed(1)} KiB, rss ${(rss / 1024).toFixed(1)} KiB`,
    );
    for (const { clients } of batches) clients.kill();
    await running.stop();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();

// Measures replication lag under a sustained ingest: one process appends synthetic document.put
// records at a fixed rate, a second process (this script with --role reader) follows the log and
// applies every record to a DocumentStore, as a stream server does. Lag is the time from the
// writer's acknowledged append to the record applied in the reader, both read from the wall clock
// of the same machine. Starts its own nats-server processes for the NATS backends.
// Usage: node --import tsx scripts/bench/replication-lag.ts --backend file|nats|nats3
//          [--records 300] [--rate 20] [--chunks 20]
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { DocumentStore } from '../../server/index/document-store.js';
import { FileLog } from '../../server/replication/file-log.js';
import { NatsLog } from '../../server/replication/nats-log.js';
import type { DocumentLog } from '../../server/replication/types.js';
import { startNatsCluster, type NatsCluster } from '../../test/support/nats.js';
import { syntheticRecords } from './synthetic-records.js';

const DIMENSION = 384;
const MODEL = 'synthetic-384';

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'writer' },
    backend: { type: 'string', default: 'file' },
    records: { type: 'string', default: '300' },
    rate: { type: 'string', default: '20' },
    chunks: { type: 'string', default: '20' },
    directory: { type: 'string' },
    'nats-url': { type: 'string', multiple: true },
  },
});
const recordCount = Number(values.records);

if (values.role === 'reader') await runReader();
else await runWriter();

/** Opens the log the writer names: a directory for the file backend, URLs for NATS. */
async function openLog(replicas = 1): Promise<DocumentLog> {
  if (values.directory) return FileLog.open({ directory: values.directory });
  return NatsLog.connect({ servers: values['nats-url']!, replicas });
}

/** Applies records 1 to `--records` and prints `applied <seq> <epoch ms>` for each. */
async function runReader(): Promise<void> {
  const log = await openLog();
  const store = await DocumentStore.open({ dimension: DIMENSION, model: MODEL });
  process.stdout.write('reading\n');
  for await (const entry of log.read(1)) {
    await store.apply(entry);
    process.stdout.write(`applied ${entry.seq} ${wallClockMs()}\n`);
    if (entry.seq >= recordCount) break;
  }
  await store.close();
  await log.close();
}

async function runWriter(): Promise<void> {
  const chunkCount = Number(values.chunks);
  const intervalMs = 1000 / Number(values.rate);
  const records = syntheticRecords({
    first: 0,
    count: recordCount,
    chunkCount,
    dimension: DIMENSION,
    model: MODEL,
  });
  const directory = await mkdtemp(join(tmpdir(), 'lag-bench-'));
  let nats: NatsCluster | undefined;
  let readerArgs: string[];
  if (values.backend === 'file') {
    readerArgs = ['--directory', directory];
  } else {
    nats = await startNatsCluster(values.backend === 'nats3' ? 3 : 1);
    readerArgs = nats.urls.flatMap((url) => ['--nats-url', url]);
  }
  const log =
    values.backend === 'file'
      ? await FileLog.open({ directory })
      : await NatsLog.connect({ servers: nats!.urls, replicas: nats!.urls.length });
  await log.lastSeq();

  const applied = new Map<number, number>();
  const reader = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      '--role',
      'reader',
      '--records',
      String(recordCount),
      ...readerArgs,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: reader.stdout! });
  const readerDone = new Promise<void>((resolve) => reader.once('exit', () => resolve()));
  const readerStarted = new Promise<void>((resolve) => {
    lines.on('line', (line) => {
      if (line === 'reading') resolve();
      const [word, seq, at] = line.split(' ');
      if (word === 'applied') applied.set(Number(seq), Number(at));
    });
  });

  try {
    await readerStarted;
    const acked = new Map<number, number>();
    const started = performance.now();
    const appends: Promise<void>[] = [];
    for (const [i, record] of records.entries()) {
      const due = started + i * intervalMs;
      await sleep(Math.max(0, due - performance.now()));
      appends.push(log.append(record).then((seq) => void acked.set(seq, wallClockMs())));
    }
    await Promise.all(appends);
    const appendSeconds = (performance.now() - started) / 1000;
    await readerDone;

    const lags = [...acked].map(([seq, at]) => applied.get(seq)! - at).sort((a, b) => a - b);
    console.log(
      JSON.stringify({
        backend: values.backend,
        records: recordCount,
        chunksPerRecord: chunkCount,
        targetRate: Number(values.rate),
        achievedRate: Number((recordCount / appendSeconds).toFixed(1)),
        lagMs: {
          p50: percentile(lags, 0.5),
          p90: percentile(lags, 0.9),
          p99: percentile(lags, 0.99),
          max: percentile(lags, 1),
        },
        loadAverage1m: Number(loadavg()[0]!.toFixed(1)),
      }),
    );
  } finally {
    reader.kill();
    await log.close();
    await nats?.destroy();
    await rm(directory, { recursive: true, force: true });
  }
}

function wallClockMs(): number {
  return Number((performance.timeOrigin + performance.now()).toFixed(2));
}

function percentile(sorted: number[], q: number): number {
  const value = sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return Number(value.toFixed(1));
}

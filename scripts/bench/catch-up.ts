// Measures how long a new stream server takes to catch up on a log of synthetic document.put
// records (100k chunks by default): from an empty volume (replay every record into a new
// DocumentStore) and from a snapshot (load the newest generation, then replay the records
// appended after it). Starts its own nats-server for the NATS backend.
// Usage: node --import tsx scripts/bench/catch-up.ts --backend file|nats
//          [--chunks-total 100000] [--chunks 20] [--tail-records 250]
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { DocumentStore } from '../../server/index/document-store.js';
import { FileLog } from '../../server/replication/file-log.js';
import { NatsLog } from '../../server/replication/nats-log.js';
import type { DocumentLog } from '../../server/replication/types.js';
import { startNatsServer, type NatsCluster } from '../../test/support/nats.js';
import { syntheticRecords } from './synthetic-records.js';

const DIMENSION = 384;
const MODEL = 'synthetic-384';
const BATCH_RECORDS = 250;

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'file' },
    'chunks-total': { type: 'string', default: '100000' },
    chunks: { type: 'string', default: '20' },
    'tail-records': { type: 'string', default: '250' },
  },
});
const chunkCount = Number(values.chunks);
const recordCount = Math.ceil(Number(values['chunks-total']) / chunkCount);
const tailRecords = Number(values['tail-records']);

const root = await mkdtemp(join(tmpdir(), 'catch-up-bench-'));
let nats: NatsCluster | undefined;
if (values.backend === 'nats') nats = await startNatsServer();
const openLog = (): Promise<DocumentLog> =>
  nats ? NatsLog.connect({ servers: nats.urls }) : FileLog.open({ directory: join(root, 'log') });

try {
  const writer = await openLog();
  const fillSeconds = await timed(() => appendRecords(writer, 0, recordCount));

  const dataDir = join(root, 'server');
  const empty = await catchUp(dataDir, recordCount);
  const snapshotSeconds = await timed(async () => void (await empty.store.snapshot()));
  await empty.store.close();

  await appendRecords(writer, recordCount, tailRecords);
  await writer.close();
  const fromSnapshot = await catchUp(dataDir, recordCount + tailRecords);
  await fromSnapshot.store.close();

  console.log(
    JSON.stringify({
      backend: values.backend,
      records: recordCount,
      chunks: recordCount * chunkCount,
      fillSeconds: round(fillSeconds),
      emptyVolume: {
        openSeconds: round(empty.openSeconds),
        replaySeconds: round(empty.replaySeconds),
        recordsPerSecond: Math.round(recordCount / empty.replaySeconds),
        chunksPerSecond: Math.round((recordCount * chunkCount) / empty.replaySeconds),
      },
      snapshotSeconds: round(snapshotSeconds),
      fromSnapshot: {
        tailRecords,
        openSeconds: round(fromSnapshot.openSeconds),
        replaySeconds: round(fromSnapshot.replaySeconds),
      },
      loadAverage1m: Number(loadavg()[0]!.toFixed(1)),
    }),
  );
} finally {
  await nats?.destroy();
  await rm(root, { recursive: true, force: true });
}

/** Appends records `first` to `first + count - 1`, a batch at a time to bound memory. */
async function appendRecords(log: DocumentLog, first: number, count: number): Promise<void> {
  for (let start = first; start < first + count; start += BATCH_RECORDS) {
    const size = Math.min(BATCH_RECORDS, first + count - start);
    const records = syntheticRecords({
      first: start,
      count: size,
      chunkCount,
      dimension: DIMENSION,
      model: MODEL,
    });
    // All at once: the file log writes them under one lock and one fdatasync.
    await Promise.all(records.map((record) => log.append(record)));
  }
}

/** Opens a store in `dataDir` as a starting server does and applies the log up to `lastSeq`. */
async function catchUp(dataDir: string, lastSeq: number) {
  let store!: DocumentStore;
  const openSeconds = await timed(async () => {
    store = await DocumentStore.open({ dimension: DIMENSION, model: MODEL, dataDir });
  });
  const log = await openLog();
  const replaySeconds = await timed(async () => {
    if (store.lastAppliedSeq >= lastSeq) return;
    for await (const entry of log.read(store.lastAppliedSeq + 1)) {
      await store.apply(entry);
      if (entry.seq >= lastSeq) break;
    }
  });
  await log.close();
  return { store, openSeconds, replaySeconds };
}

async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

function round(seconds: number): number {
  return Number(seconds.toFixed(2));
}

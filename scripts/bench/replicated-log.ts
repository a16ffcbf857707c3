// Measures records per second through the replicated log: appends (acknowledged, durable) and a
// full replay. Starts its own nats-server processes for the NATS backends.
// Usage: node --import tsx scripts/bench/replicated-log.ts --backend file|nats|nats3
//          [--records 500] [--chunks 20] [--dimension 384] [--concurrency 1]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { encodeRecord } from '../../server/replication/codec.js';
import { FileLog } from '../../server/replication/file-log.js';
import { NatsLog } from '../../server/replication/nats-log.js';
import type { DocumentLog } from '../../server/replication/types.js';
import { startNatsCluster, type NatsCluster } from '../../test/support/nats.js';
import { makeDocumentRecord } from '../../test/support/records.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'file' },
    records: { type: 'string', default: '500' },
    chunks: { type: 'string', default: '20' },
    dimension: { type: 'string', default: '384' },
    concurrency: { type: 'string', default: '1' },
  },
});
const recordCount = Number(values.records);
const concurrency = Number(values.concurrency);
const records = Array.from({ length: recordCount }, (_, i) =>
  makeDocumentRecord({
    name: `bench-${i}`,
    chunkCount: Number(values.chunks),
    dimension: Number(values.dimension),
  }),
);
const recordBytes = encodeRecord(records[0]!).byteLength;

const directory = await mkdtemp(join(tmpdir(), 'log-bench-'));
let nats: NatsCluster | undefined;
let log: DocumentLog;
if (values.backend === 'file') {
  log = await FileLog.open({ directory });
} else {
  const size = values.backend === 'nats3' ? 3 : 1;
  nats = await startNatsCluster(size);
  log = await NatsLog.connect({ servers: nats.urls, replicas: size });
}

try {
  const appendMs = await timed(async () => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < recordCount) await log.append(records[next++]!);
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  });
  const replayMs = await timed(async () => {
    for await (const entry of log.read(1)) if (entry.seq >= recordCount) break;
  });
  const mib = (recordBytes * recordCount) / 2 ** 20;
  console.log(
    JSON.stringify({
      backend: values.backend,
      records: recordCount,
      recordBytes,
      concurrency,
      appendsPerSecond: Math.round((recordCount / appendMs) * 1000),
      appendMiBPerSecond: Number(((mib / appendMs) * 1000).toFixed(1)),
      replayPerSecond: Math.round((recordCount / replayMs) * 1000),
      replayMiBPerSecond: Number(((mib / replayMs) * 1000).toFixed(1)),
    }),
  );
} finally {
  await log.close();
  await nats?.destroy();
  await rm(directory, { recursive: true, force: true });
}

async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

// Shows where CPU-heavy ingestion lands in a stream server's load report. One real server with
// the default embedding model ingests a long text document. Meanwhile this script reads /stats
// every second and prints the utilization of the event loop and of the worker pools. The server
// averages both over about ten seconds.
// Usage: node --import tsx scripts/bench/ingest-utilization.ts [--sentences 1500] [--embed-workers 1]
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';

import { StreamClusterClient } from '../../client/client.js';
import { startTestServer } from '../../test/support/stream-stack.js';

const { values } = parseArgs({
  options: {
    sentences: { type: 'string', default: '1500' },
    'embed-workers': { type: 'string', default: '1' },
  },
});
const TOPICS = ['granite', 'harbour', 'lamp', 'keeper', 'tide', 'storm', 'ledger', 'frost'];
const text = Array.from(
  { length: Number(values.sentences) },
  (_, index) =>
    `Entry ${index}: the ${TOPICS[index % 8]} near the ${TOPICS[(index * 3) % 8]} ` +
    `was logged by keeper ${index % 37} on day ${index % 365}.`,
).join(' ');

const server = await startTestServer(['--embed-workers', values['embed-workers']!]);
const client = new StreamClusterClient({ urls: server.url });
try {
  await client.connect();
  const startedAt = performance.now();
  let ingesting = true;
  let peakLoop = 0;
  let peakWorkers = 0;
  const sampling = (async () => {
    while (ingesting) {
      const stats = (await (await fetch(`${server.httpUrl}/stats`)).json()) as Record<
        string,
        number
      >;
      peakLoop = Math.max(peakLoop, stats.eventLoopUtilization!);
      peakWorkers = Math.max(peakWorkers, stats.workerUtilization!);
      const seconds = ((performance.now() - startedAt) / 1000).toFixed(0);
      console.log(
        `${seconds.padStart(3)} s  event loop ${stats.eventLoopUtilization!.toFixed(2)}  ` +
          `workers ${stats.workerUtilization!.toFixed(2)}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  })();
  const result = await client.ingest(Buffer.from(text), { name: 'logbook.txt' });
  ingesting = false;
  await sampling;
  console.log(
    `${result.chunks} chunks in ${((performance.now() - startedAt) / 1000).toFixed(1)} s; ` +
      `peak event loop ${peakLoop.toFixed(2)}, peak workers ${peakWorkers.toFixed(2)}, ` +
      `load average ${loadavg()[0]!.toFixed(1)}`,
  );
} finally {
  client.close();
  await server.stop();
}

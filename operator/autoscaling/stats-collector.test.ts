import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { WebSocket } from 'ws';

import { StreamServer } from '../../server/stream/server.js';
import type { DataPlane } from '../../server/stream/data-plane.js';
import { SUBPROTOCOL } from '../../server/stream/protocol.js';
import { httpStatsFetcher } from '../controller/stats.js';
import { StatsCollector, type StatsTarget } from './stats-collector.js';

const VALID = {
  serverId: 'demo-server-0',
  connections: 12,
  inflightIngests: 1,
  eventLoopUtilization: 0.25,
  draining: false,
  ready: true,
  documents: 3,
  chunks: 40,
};

const servers: Server[] = [];
const timers: NodeJS.Timeout[] = [];

after(async () => {
  for (const timer of timers) clearTimeout(timer);
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
});

/** Starts a loopback HTTP server on port 0 and returns a target pointing at it. */
async function serve(podName: string, handler: RequestListener): Promise<StatsTarget> {
  const server = createServer(handler);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { podName, ip: '127.0.0.1', port: (server.address() as AddressInfo).port };
}

function json(body: unknown, status = 200): RequestListener {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
}

/** A target on a port that was open a moment ago and is closed now. */
async function closedPort(podName: string): Promise<StatsTarget> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return { podName, ip: '127.0.0.1', port };
}

class ManualClock {
  nowMs = 1_700_000_000_000;
  readonly read = () => this.nowMs;
}

describe('StatsCollector', () => {
  it('reads a valid sample', async () => {
    const clock = new ManualClock();
    const target = await serve('demo-server-0', json(VALID));
    const collector = new StatsCollector({ nowMs: clock.read });

    const [reading] = await collector.collect([target]);

    assert.equal(reading?.podName, 'demo-server-0');
    assert.equal(reading?.error, undefined);
    assert.deepEqual(reading?.sample, {
      connections: 12,
      eventLoopUtilization: 0.25,
      workerUtilization: 0,
      inflightIngests: 1,
      draining: false,
      documents: 3,
      chunks: 40,
      sampledAtMs: clock.nowMs,
    });
  });

  it('reads the worker utilization of a server that reports it', async () => {
    const target = await serve('demo-server-0', json({ ...VALID, workerUtilization: 0.8 }));
    const [reading] = await new StatsCollector().collect([target]);
    assert.equal(reading?.sample?.workerUtilization, 0.8);
  });

  it('times out a slow server', async () => {
    let responded = false;
    const target = await serve('slow', (_request, response) => {
      timers.push(
        setTimeout(() => {
          responded = true;
          json(VALID)(_request, response);
        }, 5000),
      );
    });
    const collector = new StatsCollector({ timeoutMs: 100 });

    const [reading] = await collector.collect([target]);

    assert.equal(responded, false);
    assert.equal(reading?.sample, undefined);
    assert.match(
      reading?.error ?? '',
      /^GET http:\/\/127\.0\.0\.1:\d+\/stats timed out after 100 ms$/,
    );
  });

  it('times out a stalled body', async () => {
    const target = await serve('stalled', (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"connections": 1,');
    });
    const collector = new StatsCollector({ timeoutMs: 100 });

    const [reading] = await collector.collect([target]);

    assert.equal(reading?.sample, undefined);
    assert.match(reading?.error ?? '', /timed out after 100 ms$/);
  });

  const garbage: { name: string; handler: RequestListener; error: RegExp }[] = [
    { name: 'not JSON', handler: json('<html>oops</html>'), error: /must be JSON, got/ },
    { name: 'a JSON array', handler: json([1, 2]), error: /must be a JSON object, got \[1,2\]/ },
    {
      name: 'wrong field types',
      handler: json({ ...VALID, connections: 'many', draining: 'no' }),
      error:
        /^invalid \/stats body: connections must be a non-negative number, got "many"; draining must be a boolean, got "no"$/,
    },
    {
      name: 'utilization above 1',
      handler: json({ ...VALID, eventLoopUtilization: 3 }),
      error: /eventLoopUtilization must be a number from 0 to 1, got 3/,
    },
    {
      name: 'worker utilization that is not a fraction',
      handler: json({ ...VALID, workerUtilization: 'busy' }),
      error: /workerUtilization must be a number from 0 to 1, got "busy"/,
    },
    {
      name: 'a negative count',
      handler: json({ ...VALID, inflightIngests: -1 }),
      error: /inflightIngests must be a non-negative number, got -1/,
    },
    {
      name: 'missing fields',
      handler: json({ serverId: 'x' }),
      error:
        /connections must .*; inflightIngests must .*; documents must .*; chunks must .*; eventLoopUtilization must .*; draining/,
    },
    { name: 'an HTTP error', handler: json(VALID, 503), error: /returned HTTP 503$/ },
    {
      name: 'an oversized body',
      handler: json({ ...VALID, padding: 'x'.repeat(10_000) }),
      error: /returned more than 1024 bytes$/,
    },
  ];
  for (const { name, handler, error } of garbage) {
    it(`rejects ${name}`, async () => {
      const target = await serve(name, handler);
      const collector = new StatsCollector({
        fetchStats: httpStatsFetcher({ maxBodyBytes: 1024 }),
      });

      const [reading] = await collector.collect([target]);

      assert.equal(reading?.sample, undefined);
      assert.match(reading?.error ?? '', error);
    });
  }

  it('reports a refused connection', async () => {
    const target = await closedPort('gone');
    const [reading] = await new StatsCollector().collect([target]);
    assert.equal(reading?.sample, undefined);
    assert.match(
      reading?.error ?? '',
      /^GET http:\/\/127\.0\.0\.1:\d+\/stats failed: ECONNREFUSED$/,
    );
  });

  it('returns readings in target order', async () => {
    const targets = [
      await serve('a', json({ ...VALID, connections: 1 })),
      await serve('b', json('garbage')),
      await serve('c', json({ ...VALID, connections: 3 })),
    ];
    const readings = await new StatsCollector().collect(targets);
    assert.deepEqual(
      readings.map((reading) => reading.podName),
      ['a', 'b', 'c'],
    );
    assert.equal(readings[0]?.sample?.connections, 1);
    assert.equal(readings[1]?.sample, undefined);
    assert.equal(readings[2]?.sample?.connections, 3);
  });

  it('reuses a sample until it is stale', async () => {
    const clock = new ManualClock();
    const start = clock.nowMs;
    let failing = false;
    const target = await serve('flaky', (request, response) =>
      failing ? json('overloaded', 500)(request, response) : json(VALID)(request, response),
    );
    const collector = new StatsCollector({ nowMs: clock.read, maxSampleAgeMs: 30_000 });
    await collector.collect([target]);

    failing = true;
    clock.nowMs = start + 30_000;
    const [reused] = await collector.collect([target]);
    assert.equal(reused?.sample?.sampledAtMs, start);
    assert.match(reused?.error ?? '', /returned HTTP 500$/);

    clock.nowMs = start + 30_001;
    const [stale] = await collector.collect([target]);
    assert.equal(stale?.sample, undefined);
    assert.match(stale?.error ?? '', /returned HTTP 500$/);
  });

  it('forgets pods that are no longer targets', async () => {
    let failing = false;
    const target = await serve('removed', (request, response) =>
      failing ? json('gone', 500)(request, response) : json(VALID)(request, response),
    );
    const collector = new StatsCollector();
    await collector.collect([target]);
    await collector.collect([]);

    failing = true;
    const [reading] = await collector.collect([target]);
    assert.equal(reading?.sample, undefined);
  });

  it('calls the injected fetch with the stats URL', async () => {
    const urls: string[] = [];
    const recording: typeof fetch = async (input, init) => {
      urls.push(String(input));
      assert.ok(init?.signal, 'each request carries a timeout signal');
      return new Response(JSON.stringify(VALID));
    };
    const collector = new StatsCollector({ fetchStats: httpStatsFetcher({ fetch: recording }) });
    await collector.collect([
      { podName: 'v4', ip: '10.244.0.7', port: 8080 },
      { podName: 'v6', ip: 'fd00::7', port: 8080 },
    ]);
    assert.deepEqual(urls, ['http://10.244.0.7:8080/stats', 'http://[fd00::7]:8080/stats']);
  });
});

/** A data plane with no documents: enough for the stream server's `/stats` and handshake. */
function emptyDataPlane(): DataPlane {
  const unused = () => {
    throw new Error('the stats test sends no document requests');
  };
  return {
    findDocument: () => undefined,
    ingest: unused,
    search: unused,
    ask: unused,
    deleteDocument: unused,
    listDocuments: () => [],
    stats: () => ({ documents: 0, chunks: 0, lastAppliedSeq: 0 }),
    readiness: () => ({ ready: true }),
  };
}

describe('StatsCollector with a stream server', () => {
  it('reads connections and draining', async () => {
    const server = new StreamServer({ dataPlane: emptyDataPlane(), serverId: 'demo-server-0' });
    const { port } = await server.listen(0, '127.0.0.1');
    const target = { podName: 'demo-server-0', ip: '127.0.0.1', port };
    const collector = new StatsCollector();
    try {
      const client = new WebSocket(`ws://127.0.0.1:${port}`, SUBPROTOCOL);
      await once(client, 'message');
      const [open] = await collector.collect([target]);
      assert.equal(open?.error, undefined);
      assert.equal(open?.sample?.connections, 1);
      assert.equal(open?.sample?.draining, false);

      const closed = once(client, 'close');
      await server.drain({ batchIntervalMs: 10 });
      await closed;
      const [drained] = await collector.collect([target]);
      assert.equal(drained?.sample?.connections, 0);
      assert.equal(drained?.sample?.draining, true);
    } finally {
      await server.close();
    }
  });
});

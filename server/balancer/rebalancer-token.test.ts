import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { pino } from 'pino';

import { RawClient } from '../../test/support/raw-client.js';
import { startTestServer, type TestServer } from '../../test/support/stream-stack.js';
import { createBalancer, type Balancer } from './balancer.js';
import { startWsBackend, type WsBackend } from './testing/ws-backend.js';
import { eventually } from './testing/ws-client.js';

const TOKEN = 'rebalance-s3cret';

describe('rebalance against a server with --auth-token', () => {
  let server: TestServer;
  let idle: WsBackend;
  const serverLog: string[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];

  before(async () => {
    const logger = pino({ level: 'debug' }, { write: (line: string) => serverLog.push(line) });
    server = await startTestServer(['--auth-token', TOKEN], { logger });
    idle = await startWsBackend('idle');
    idle.stats = { connections: 0 };
  });

  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()!();
  });

  after(async () => {
    await idle?.close();
    await server?.stop();
  });

  /** Opens two connections to the server, so it is the busiest endpoint next to the idle one. */
  async function loadServer(): Promise<RawClient[]> {
    const headers = { authorization: `Bearer ${TOKEN}` };
    const clients = await Promise.all([1, 2].map(() => RawClient.connect(server.url, { headers })));
    cleanups.push(() => clients.forEach((client) => client.close()));
    return clients;
  }

  async function startBalancer(serverToken: string | undefined, logLines: string[] = []) {
    const balancer: Balancer = createBalancer({
      config: {
        endpoints: [
          { host: '127.0.0.1', port: server.port },
          { host: '127.0.0.1', port: idle.port },
        ],
        healthCheck: { intervalMs: 50, timeoutMs: 500 },
        loadReport: { enabled: true, intervalMs: 50 },
        rebalance: { enabled: true, intervalMs: 100, minConnections: 1, spreadMs: 0 },
      },
      serverToken,
      logger: pino({ level: 'info' }, { write: (line: string) => logLines.push(line) }),
    });
    await balancer.listen(0, '127.0.0.1');
    cleanups.push(() => balancer.close());
    return balancer;
  }

  test('sends the server token on shed', async () => {
    const clients = await loadServer();
    await startBalancer(TOKEN);
    await eventually(
      () => clients.some((client) => client.closeCode !== undefined),
      5000,
      'a connection shed by the server',
    );
    const shed = clients.find((client) => client.closeCode !== undefined)!;
    assert.equal(shed.closeCode, 1012);
    assert.equal((JSON.parse(shed.closeReason!) as { reason: string }).reason, 'rebalance');
  });

  test('without the token the server rejects shed', async () => {
    const clients = await loadServer();
    const balancerLog: string[] = [];
    await startBalancer(undefined, balancerLog);
    await eventually(
      () => balancerLog.some((line) => line.includes('rejected shed request with 401')),
      5000,
      'the balancer logs the 401',
    );
    for (const client of clients) assert.equal(client.closeCode, undefined);
    assert.ok(
      serverLog.some((line) =>
        line.includes('rejected admin request without a valid bearer token'),
      ),
      'the server logs the rejection',
    );
    for (const line of [...serverLog, ...balancerLog]) assert.doesNotMatch(line, /s3cret/, line);
  });
});

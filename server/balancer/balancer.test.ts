import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { after, afterEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createBalancer, type Balancer } from './balancer.js';
import type { PartialBalancerConfig } from './balancer-config.js';
import { rawExchange, upgradeRequest } from './testing/raw-http.js';
import { startWsBackend, type WsBackend } from './testing/ws-backend.js';
import { connectClient, eventually, within, type QueuedClient } from './testing/ws-client.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function backends(...names: string[]): Promise<WsBackend[]> {
  const started = await Promise.all(names.map((name) => startWsBackend(name)));
  for (const backend of started) cleanups.push(() => backend.close());
  return started;
}

/** Starts a balancer on port 0 in front of the given ports; health checks run every 50 ms. */
async function balancerFor(
  ports: number[],
  config: PartialBalancerConfig = {},
  adminPort?: number,
): Promise<Balancer> {
  const balancer = createBalancer({
    config: {
      endpoints: ports.map((port) => ({ host: '127.0.0.1', port })),
      healthCheck: { intervalMs: 50, timeoutMs: 500 },
      loadReport: { enabled: false },
      ...config,
    },
    adminPort,
  });
  await balancer.listen(0, '127.0.0.1');
  cleanups.push(() => balancer.close());
  return balancer;
}

const wsUrl = (balancer: Balancer, path = '/'): string =>
  `ws://127.0.0.1:${balancer.address()!.port}${path}`;

async function track(client: QueuedClient): Promise<QueuedClient> {
  cleanups.push(() => client.ws.terminate());
  return client;
}

/** Returns a port nothing listens on, bound once and then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function httpGet(port: number, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    },
  );
}

describe('balancer relay', () => {
  test('relays echo through the upgrade', async () => {
    const [a] = await backends('a');
    const balancer = await balancerFor([a!.port]);
    const client = await track(await connectClient(wsUrl(balancer, '/chat?x=1')));

    assert.equal(await client.next(), 'hello a');
    client.ws.send('ping');
    assert.equal(await client.next(), 'ping');
    const large = 'x'.repeat(300_000);
    client.ws.send(large);
    assert.equal(await client.next(), large);
    assert.equal(balancer.upstream.endpoints()[0]!.openConnections, 1);
  });

  test('sets forwarding headers and drops hop-by-hop', async () => {
    const [a] = await backends('a');
    const balancer = await balancerFor([a!.port]);
    const client = await track(
      await connectClient(wsUrl(balancer), {
        headers: { 'x-forwarded-for': '203.0.113.9', 'x-trace': 'keep' },
      }),
    );
    await client.next();
    const headers = a!.lastUpgradeHeaders!;
    assert.equal(headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(headers['x-forwarded-proto'], 'http');
    assert.equal(headers['x-trace'], 'keep');
    assert.equal(headers.upgrade, 'websocket');
  });

  test('forwards plain HTTP requests', async () => {
    const [a] = await backends('a');
    const balancer = await balancerFor([a!.port]);
    const answer = await httpGet(balancer.address()!.port, '/hello', {
      connection: 'keep-alive, x-private',
      'x-private': 'hop',
      'keep-alive': 'timeout=5',
      'x-visible': 'end-to-end',
    });

    assert.equal(answer.status, 200);
    assert.equal(answer.body, 'backend a GET /hello');
    assert.equal(answer.headers['x-backend'], 'a');
    assert.equal(a!.lastRequestHeaders!['x-private'], undefined);
    assert.equal(a!.lastRequestHeaders!['keep-alive'], undefined);
    assert.equal(a!.lastRequestHeaders!['x-visible'], 'end-to-end');
    assert.equal(a!.lastRequestHeaders!['x-forwarded-for'], '127.0.0.1');
  });

  test('refuses to forward server control paths', async () => {
    const [a] = await backends('a');
    const balancer = await balancerFor([a!.port]);
    for (const path of ['/drain?connections=100', '/draining']) {
      const answer = await httpGet(balancer.address()!.port, path, {});
      assert.equal(answer.status, 403, path);
      assert.equal(answer.headers['x-streamcluster-reject-reason'], 'server_control_path');
    }
    assert.deepEqual(a!.drainRequests, []);
  });

  test('client abort is no endpoint failure', async () => {
    const [a] = await backends('a');
    const balancer = await balancerFor([a!.port], { outlierDetection: { consecutiveFailures: 1 } });
    const endpoint = balancer.upstream.endpoints()[0]!;
    const req = request({
      host: '127.0.0.1',
      port: balancer.address()!.port,
      path: '/slow',
      agent: false,
    });
    req.on('error', () => {});
    req.end();
    await eventually(() => endpoint.activeRequests === 1, 2000, 'request forwarded');

    req.destroy();
    await eventually(() => endpoint.activeRequests === 0, 2000, 'request released');
    assert.equal(endpoint.isEjected(), false);
    assert.equal(endpoint.outlier.consecutiveFailures, 0);
    assert.equal(balancer.upstream.breakerOf(endpoint).state, 'closed');
  });

  test('upgrades with Firefox Connection header', async () => {
    const [a] = await backends('a');
    const balancer = await balancerFor([a!.port]);
    const answer = await rawExchange(
      balancer.address()!.port,
      upgradeRequest('/', ['Connection: keep-alive, Upgrade', 'Upgrade: websocket']),
    );
    assert.equal(answer.status, 101);
    assert.match(answer.head, /Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i);
  });

  test('upgrades with repeated Connection headers', async () => {
    const [a] = await backends('a');
    const balancer = await balancerFor([a!.port]);
    const answer = await rawExchange(
      balancer.address()!.port,
      upgradeRequest('/', ['Connection: keep-alive', 'Connection: Upgrade', 'Upgrade: websocket']),
    );
    assert.equal(answer.status, 101);
  });

  test('rejects upgrades to other protocols', async () => {
    const [a] = await backends('a');
    const balancer = await balancerFor([a!.port]);
    const answer = await rawExchange(
      balancer.address()!.port,
      upgradeRequest('/', ['Connection: Upgrade', 'Upgrade: h2c']),
    );
    assert.equal(answer.status, 400);
    assert.match(answer.head, /X-StreamCluster-Reject-Reason: unsupported_upgrade/);
    assert.equal(a!.lastUpgradeHeaders, undefined);
  });

  for (const status of [403, 500]) {
    test(`passes ${status} upgrade answer without leaks`, async () => {
      const [a] = await backends('a');
      const balancer = await balancerFor([a!.port]);
      const answer = await rawExchange(
        balancer.address()!.port,
        upgradeRequest(`/reject/${status}`, ['Connection: Upgrade', 'Upgrade: websocket']),
      );

      assert.equal(answer.status, status);
      assert.equal(answer.body, 'rejected by a');
      assert.ok(answer.closedByServer, 'balancer closes the client socket');
      const endpoint = balancer.upstream.endpoints()[0]!;
      await eventually(() => a!.openSockets() === 0, 2000, 'backend sockets closed');
      assert.equal(endpoint.pendingUpgrades, 0);
      assert.equal(endpoint.openConnections, 0);
    });
  }

  test('retries an upgrade rejected with 503', async () => {
    const [a, b] = await backends('a', 'b');
    a!.rejectUpgrades = 503;
    const balancer = await balancerFor([a!.port, b!.port], { algorithm: 'round-robin' });

    for (let i = 0; i < 4; i++) {
      const client = await track(await connectClient(wsUrl(balancer)));
      assert.equal(await client.next(), 'hello b');
    }
    assert.ok(a!.lastUpgradeHeaders, 'the first pick went to the draining endpoint');
  });

  test('responds 503 when every endpoint rejects with 503', async () => {
    const [a] = await backends('a');
    a!.rejectUpgrades = 503;
    const balancer = await balancerFor([a!.port]);
    const answer = await rawExchange(
      balancer.address()!.port,
      upgradeRequest('/', ['Connection: Upgrade', 'Upgrade: websocket']),
    );

    assert.equal(answer.status, 503);
    assert.ok(answer.closedByServer, 'balancer closes the client socket');
    await eventually(() => a!.openSockets() === 0, 2000, 'backend sockets closed');
  });
});

describe('balancer failure handling', () => {
  const children: ChildProcess[] = [];
  after(() => children.forEach((child) => child.kill('SIGKILL')));

  async function childBackend(name: string): Promise<{ child: ChildProcess; port: number }> {
    const script = fileURLToPath(new URL('./testing/ws-backend-process.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, name], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    return { child, port: Number(/listening (\d+)/.exec(line.toString())![1]) };
  }

  test('killed endpoint closes client with 1012', async () => {
    const [b] = await backends('b');
    const killed = await childBackend('a');
    const balancer = await balancerFor([killed.port, b!.port], {
      algorithm: 'round-robin',
      healthCheck: { intervalMs: 60_000 },
    });
    const client = await track(await connectClient(wsUrl(balancer, '/stream')));
    assert.equal(await client.next(), 'hello a');
    assert.match(await client.next(), /^tick \d+$/);

    killed.child.kill('SIGKILL');
    const closed = await within(client.closed, 2000, 'client close after endpoint crash');
    assert.ok(closed.code === 1012 || closed.code === 1011, `close code ${closed.code}`);

    // Round-robin sends the next upgrade to the dead endpoint first; the connect failure is
    // retried on the live one before the client's handshake completes.
    const next = await track(await connectClient(wsUrl(balancer)));
    assert.equal(await next.next(), 'hello b');
    const next2 = await track(await connectClient(wsUrl(balancer)));
    assert.equal(await next2.next(), 'hello b');
  });

  test('retries a refused connect on another endpoint', async () => {
    const [b] = await backends('b');
    const dead = await closedPort();
    const balancer = await balancerFor([dead, b!.port], {
      algorithm: 'round-robin',
      healthCheck: { enabled: false },
    });
    for (let i = 0; i < 4; i++) {
      const client = await track(await connectClient(wsUrl(balancer)));
      assert.equal(await client.next(), 'hello b');
    }
    const metrics = await balancer.registry.getSingleMetricAsString(
      'streamcluster_balancer_retries_total',
    );
    assert.match(metrics, /retries_total 2$/m);
  });

  test('all endpoints refusing gives 502', async () => {
    const balancer = await balancerFor([await closedPort(), await closedPort()], {
      healthCheck: { enabled: false },
    });
    const answer = await rawExchange(
      balancer.address()!.port,
      upgradeRequest('/', ['Connection: Upgrade', 'Upgrade: websocket']),
    );
    assert.equal(answer.status, 502);
    assert.match(answer.head, /X-StreamCluster-Reject-Reason: connect_failure/);
  });

  test('silent endpoint times out with 504', async () => {
    const accepted: Socket[] = [];
    const silent = createServer((socket) => {
      accepted.push(socket);
      socket.resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      accepted.forEach((socket) => socket.destroy());
      return new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    const balancer = await balancerFor([(silent.address() as { port: number }).port], {
      upgradeTimeoutMs: 200,
      retry: { maxAttempts: 1 },
      healthCheck: { enabled: false },
    });
    const answer = await rawExchange(
      balancer.address()!.port,
      upgradeRequest('/', ['Connection: Upgrade', 'Upgrade: websocket']),
    );

    assert.equal(answer.status, 504);
    assert.match(answer.head, /X-StreamCluster-Reject-Reason: upgrade_timeout/);
    await eventually(
      () => accepted.every((socket) => socket.destroyed),
      2000,
      'silent endpoint socket closed',
    );
    assert.equal(balancer.upstream.endpoints()[0]!.pendingUpgrades, 0);
  });

  test('client vanishing closes the endpoint leg', async () => {
    const [a] = await backends('a');
    const balancer = await balancerFor([a!.port]);
    const client = await connectClient(wsUrl(balancer));
    await client.next();
    assert.equal(a!.wss.clients.size, 1);

    client.ws.terminate();
    await eventually(() => a!.wss.clients.size === 0, 2000, 'backend connection closed');
    await eventually(
      () => balancer.upstream.endpoints()[0]!.openConnections === 0,
      2000,
      'count released',
    );
  });

  test('cap of 100 rejects 101st, probes still pass', async () => {
    const [a] = await backends('a');
    const balancer = await balancerFor([a!.port], { circuitBreaker: { maxConnections: 100 } });
    const clients = await Promise.all(
      Array.from({ length: 100 }, async () => track(await connectClient(wsUrl(balancer)))),
    );
    assert.equal(clients.length, 100);
    const endpoint = balancer.upstream.endpoints()[0]!;
    assert.equal(endpoint.openConnections, 100);

    const answer = await rawExchange(
      balancer.address()!.port,
      upgradeRequest('/', ['Connection: Upgrade', 'Upgrade: websocket']),
    );
    assert.equal(answer.status, 503);
    assert.match(answer.head, /X-StreamCluster-Reject-Reason: max_connections/);
    assert.equal(answer.body, 'max_connections\n');

    const probesBefore = endpoint.health.probes;
    await eventually(
      () => endpoint.health.probes >= probesBefore + 2,
      2000,
      'two more health probes',
    );
    assert.equal(endpoint.health.healthy, true);
    assert.equal(endpoint.health.consecutiveFailures, 0);
    const metrics = await balancer.registry.getSingleMetricAsString(
      'streamcluster_balancer_rejections_total',
    );
    assert.match(metrics, /reason="max_connections"} 1/);
  });

  test('unready endpoint gets no new connections', async () => {
    const [a, b] = await backends('a', 'b');
    const balancer = await balancerFor([a!.port, b!.port], {
      healthCheck: { intervalMs: 20, unhealthyThreshold: 1 },
    });
    a!.ready = false;
    const endpointA = balancer.upstream.endpoints().find((endpoint) => endpoint.port === a!.port)!;
    await eventually(() => !endpointA.health.healthy, 2000, 'endpoint a unhealthy');
    for (let i = 0; i < 3; i++) {
      const client = await track(await connectClient(wsUrl(balancer)));
      assert.equal(await client.next(), 'hello b');
    }
  });

  test('endpoint reporting draining gets nothing new', async () => {
    const [a, b] = await backends('a', 'b');
    a!.stats = { draining: true };
    const balancer = await balancerFor([a!.port, b!.port], {
      loadReport: { enabled: true, intervalMs: 20 },
    });
    const endpointA = balancer.upstream.endpoints().find((endpoint) => endpoint.port === a!.port)!;
    await eventually(() => endpointA.load?.draining === true, 2000, 'draining report');
    for (let i = 0; i < 3; i++) {
      const client = await track(await connectClient(wsUrl(balancer)));
      assert.equal(await client.next(), 'hello b');
    }
  });
});

describe('balancer lifecycle', () => {
  test('drain closes open WebSockets with 1012', async () => {
    const [a] = await backends('a');
    const balancer = await balancerFor([a!.port], { drain: { delayMs: 0, timeoutMs: 100 } }, 0);
    const client = await track(await connectClient(wsUrl(balancer)));
    await client.next();

    const draining = balancer.drain();
    const ready = await httpGet(balancer.adminAddress()!.port, '/readyz');
    assert.equal(ready.status, 503);
    const closed = await within(client.closed, 3000, 'close during drain');
    assert.equal(closed.code, 1012);
    await draining;
    await eventually(() => a!.openSockets() === 0, 2000, 'backend sockets closed');
  });

  test('admin serves metrics with endpoint labels', async () => {
    const [a] = await backends('a');
    const balancer = await balancerFor([a!.port], {}, 0);
    const client = await track(await connectClient(wsUrl(balancer)));
    await client.next();

    const admin = balancer.adminAddress()!.port;
    assert.equal((await httpGet(admin, '/healthz')).status, 200);
    assert.equal((await httpGet(admin, '/readyz')).status, 200);
    const metrics = await httpGet(admin, '/metrics');
    assert.match(
      metrics.body,
      new RegExp(`streamcluster_balancer_connections\\{endpoint="127.0.0.1:${a!.port}"\\} 1`),
    );
    assert.match(
      metrics.body,
      /streamcluster_balancer_upgrades_total\{endpoint="[^"]+",result="upgraded"\} 1/,
    );
    assert.match(
      metrics.body,
      /streamcluster_balancer_circuit_breaker_state\{endpoint="[^"]+"\} 0/,
    );
    assert.match(metrics.body, /streamcluster_balancer_panic 0/);
  });

  test('reconfigure keeps open connections', async () => {
    const [a, b] = await backends('a', 'b');
    const balancer = await balancerFor([a!.port]);
    const first = await track(await connectClient(wsUrl(balancer)));
    assert.equal(await first.next(), 'hello a');

    balancer.configure({
      endpoints: [{ host: '127.0.0.1', port: b!.port }],
      algorithm: 'round-robin',
    });
    const second = await track(await connectClient(wsUrl(balancer)));
    assert.equal(await second.next(), 'hello b');
    first.ws.send('still here');
    assert.equal(await first.next(), 'still here');
    first.ws.close();
    await first.closed;
    await eventually(
      () => balancer.upstream.allEndpoints().length === 1,
      2000,
      'removed endpoint retired',
    );
  });

  test('rebalance asks the busiest endpoint to shed', async () => {
    const [a, b] = await backends('a', 'b');
    a!.stats = { connections: 100 };
    b!.stats = { connections: 0 };
    const balancer = await balancerFor([a!.port, b!.port], {
      loadReport: { enabled: true, intervalMs: 20 },
      rebalance: {
        enabled: true,
        intervalMs: 100,
        maxConnectionsPerRound: 30,
        reconnectDelayMs: 500,
        spreadMs: 2000,
      },
    });
    await eventually(() => a!.drainRequests.length > 0, 3000, 'shed request');
    const query = new URLSearchParams(a!.drainRequests[0]);
    assert.equal(query.get('connections'), '30');
    assert.equal(query.get('reconnectDelayMs'), '500');
    assert.equal(query.get('spreadMs'), '2000');
    assert.equal(b!.drainRequests.length, 0);
    assert.ok(balancer);
  });
});

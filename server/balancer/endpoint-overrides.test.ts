import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, test } from 'node:test';
import { ValidationError } from '../core/errors.js';
import { createBalancer, type Balancer } from './balancer.js';
import {
  mergeConfig,
  validateConfig,
  type EndpointOverride,
  type PartialBalancerConfig,
} from './balancer-config.js';
import type { EndpointSlice } from './endpoint-slices.js';
import { startWsBackend, type WsBackend } from './testing/ws-backend.js';
import { connectClient, eventually } from './testing/ws-client.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/**
 * Serves the EndpointSlice list of Service `demo-server` over real HTTP, one slice per backend
 * (all backends share 127.0.0.1, so each slice carries its own port), with each endpoint's
 * `targetRef` naming the Pod `demo-server-N`. Watches stay open without events.
 */
async function startSliceApi(backends: WsBackend[]): Promise<string> {
  const slices: EndpointSlice[] = backends.map((backend, ordinal) => ({
    metadata: { name: `demo-server-${ordinal}`, resourceVersion: '5' },
    addressType: 'IPv4',
    endpoints: [
      {
        addresses: ['127.0.0.1'],
        conditions: { ready: true },
        targetRef: { kind: 'Pod', name: `demo-server-${ordinal}`, namespace: 'demo' },
      },
    ],
    ports: [{ name: 'http', port: backend.port, protocol: 'TCP' }],
  }));
  const server: Server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (new URL(req.url ?? '/', 'http://api').searchParams.get('watch') === '1') return;
    res.end(JSON.stringify({ metadata: { resourceVersion: '10' }, items: slices }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const discovery = (endpointOverrides: EndpointOverride[]): PartialBalancerConfig => ({
  kubernetes: { namespace: 'demo', service: 'demo-server', portName: 'http', endpointOverrides },
  algorithm: 'round-robin',
  healthCheck: { intervalMs: 50, timeoutMs: 500, healthyThreshold: 1 },
  loadReport: { enabled: false },
});

async function setUp(endpointOverrides: EndpointOverride[]) {
  const backends = await Promise.all(['a', 'b', 'c'].map((name) => startWsBackend(name)));
  for (const backend of backends) cleanups.push(() => backend.close());
  const balancer = createBalancer({
    config: discovery(endpointOverrides),
    kubernetesApi: { baseUrl: await startSliceApi(backends) },
  });
  await balancer.listen(0, '127.0.0.1');
  cleanups.push(() => balancer.close());
  await eventually(
    () =>
      balancer.upstream.endpoints().length === 3 &&
      balancer.upstream.endpoints().every((endpoint) => endpoint.health.healthy),
    5000,
    'three healthy endpoints',
  );
  return { balancer, backends };
}

/** Opens `count` WebSockets one after another and counts the backends' greetings. */
async function tally(balancer: Balancer, count: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const client = await connectClient(`ws://127.0.0.1:${balancer.address()!.port}/`);
    const name = (await client.next()).replace('hello ', '');
    counts[name] = (counts[name] ?? 0) + 1;
    client.ws.close();
    await client.closed;
  }
  return counts;
}

test('pod weights from discovery set round-robin shares', async () => {
  const { balancer } = await setUp([{ pod: 'demo-server-0', weight: 3 }]);
  // Smooth weighted round-robin over 3:1:1 is exact per cycle of five picks.
  assert.deepEqual(await tally(balancer, 10), { a: 6, b: 2, c: 2 });
});

test('changed pod priorities move new connections', async () => {
  const { balancer, backends } = await setUp([{ pod: 'demo-server-2', priority: 1 }]);
  assert.deepEqual(await tally(balancer, 4), { a: 2, b: 2 });

  balancer.configure(
    discovery([
      { pod: 'demo-server-0', priority: 1 },
      { pod: 'demo-server-1', priority: 1 },
    ]),
  );
  const priorities = () =>
    backends.map((backend) => balancer.upstream.get(`127.0.0.1:${backend.port}`)?.priority);
  await eventually(() => priorities().join() === '1,1,0', 5000, 'new priorities applied');
  assert.deepEqual(await tally(balancer, 4), { c: 4 });
});

test('invalid overrides are rejected with every field named', () => {
  const layer = discovery([
    { pod: '', weight: 0 },
    { pod: 'demo-server-1', priority: 1.5 },
  ]);
  assert.throws(
    () => validateConfig(mergeConfig(layer)),
    (error: unknown) =>
      error instanceof ValidationError &&
      error.problems.length === 3 &&
      error.problems.includes('kubernetes.endpointOverrides[0].pod must be a Pod name, got ""') &&
      error.problems.includes(
        'kubernetes.endpointOverrides[0].weight must be a number > 0, got 0',
      ) &&
      error.problems.includes(
        'kubernetes.endpointOverrides[1].priority must be an integer >= 0, got 1.5',
      ),
  );
});

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { silentLogger } from '../core/logger.js';
import type { EndpointSpec } from './balancer-config.js';
import type { EndpointSlice } from './endpoint-slices.js';
import { KubernetesDiscovery } from './kubernetes-discovery.js';
import { eventually } from './testing/ws-client.js';

const slice = (name: string, ips: string[], resourceVersion: string): EndpointSlice => ({
  metadata: { name, resourceVersion },
  addressType: 'IPv4',
  endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  ports: [{ name: 'ws', port: 8080, protocol: 'TCP' }],
});

/**
 * Serves the list and watch requests of the EndpointSlice API over real HTTP: the first watch
 * streams a change, a bookmark and a deletion, then ends as a server-side timeout would; the
 * second reports 410 Gone, which must lead to a new list.
 */
function startApiServer() {
  const requests: { path: string; authorization: string | undefined }[] = [];
  let lists = 0;
  let watches = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://api');
    requests.push({ path: req.url ?? '', authorization: req.headers.authorization });
    if (url.searchParams.get('watch') !== '1') {
      lists++;
      const items =
        lists === 1 ? [slice('s1', ['10.0.0.1'], '5')] : [slice('s1', ['10.0.0.7'], '20')];
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(
        JSON.stringify({
          kind: 'EndpointSliceList',
          metadata: { resourceVersion: lists === 1 ? '10' : '30' },
          items,
        }),
      );
    }
    watches++;
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    if (watches === 1) {
      const events = [
        { type: 'ADDED', object: slice('s2', ['10.0.0.2'], '11') },
        { type: 'BOOKMARK', object: { metadata: { name: '', resourceVersion: '12' } } },
        { type: 'DELETED', object: slice('s1', ['10.0.0.1'], '13') },
      ];
      // Split one event across writes, as the API server's chunking may.
      const text = events.map((event) => JSON.stringify(event) + '\n').join('');
      res.write(text.slice(0, 40));
      setTimeout(() => res.end(text.slice(40)), 20);
    } else if (watches === 2) {
      res.end(
        JSON.stringify({
          type: 'ERROR',
          object: { kind: 'Status', code: 410, message: 'too old resource version' },
        }) + '\n',
      );
    }
    // Later watches stay open until the test stops discovery.
  });
  return { server, requests, counts: () => ({ lists, watches }) };
}

test('watch loop follows EndpointSlice changes', async () => {
  const api = startApiServer();
  await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
  const { port } = api.server.address() as AddressInfo;
  const updates: string[][] = [];
  const discovery = new KubernetesDiscovery({
    api: { baseUrl: `http://127.0.0.1:${port}`, token: () => 'test-token' },
    namespace: 'demo',
    service: 'stream',
    portName: 'ws',
    logger: silentLogger,
    retryDelayMs: 10,
    onUpdate: (endpoints: EndpointSpec[]) =>
      updates.push(endpoints.map((endpoint) => endpoint.host)),
  });
  discovery.start();
  try {
    await eventually(() => api.counts().watches >= 3, 3000, 'third watch');
  } finally {
    discovery.stop();
    api.server.closeAllConnections();
    await new Promise<void>((resolve) => api.server.close(() => resolve()));
  }

  assert.deepEqual(updates, [['10.0.0.1'], ['10.0.0.1', '10.0.0.2'], ['10.0.0.2'], ['10.0.0.7']]);
  assert.equal(api.counts().lists, 2);
  const [list, firstWatch, secondWatch, , thirdWatch] = api.requests;
  assert.equal(
    list!.path,
    '/apis/discovery.k8s.io/v1/namespaces/demo/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dstream',
  );
  assert.equal(list!.authorization, 'Bearer test-token');
  assert.match(
    firstWatch!.path,
    /watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=10$/,
  );
  assert.match(secondWatch!.path, /resourceVersion=13$/);
  assert.match(thirdWatch!.path, /resourceVersion=30$/);
});

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { createBalancer, type Balancer } from './balancer.js';
import { startWsBackend, type WsBackend } from './testing/ws-backend.js';
import { connectClient } from './testing/ws-client.js';

describe('balancer web page', () => {
  let backend: WsBackend;
  let balancer: Balancer;
  let webRoot: string;
  let origin: string;

  before(async () => {
    backend = await startWsBackend('a');
    webRoot = await mkdtemp(join(tmpdir(), 'balancer-web-'));
    await writeFile(join(webRoot, 'index.html'), '<!doctype html><title>page</title>');
    await writeFile(join(webRoot, 'app.js'), 'export {};');
    balancer = createBalancer({
      config: {
        endpoints: [{ host: '127.0.0.1', port: backend.port }],
        loadReport: { intervalMs: 100 },
      },
      webRoot,
    });
    origin = `http://127.0.0.1:${(await balancer.listen(0, '127.0.0.1')).port}`;
  });

  after(async () => {
    await balancer?.close();
    await backend?.close();
    if (webRoot) await rm(webRoot, { recursive: true, force: true });
  });

  const cases: [string, RequestInit, number, RegExp | string][] = [
    ['/ui/', {}, 200, '<!doctype html><title>page</title>'],
    ['/ui/index.html', {}, 200, '<!doctype html><title>page</title>'],
    ['/ui/app.js', {}, 200, 'export {};'],
    ['/ui/style.css', {}, 404, 'not found\n'],
    ['/ui/..%2Findex.html', {}, 404, 'not found\n'],
    // URL parsing resolves the dot segments to /secret.js, which is outside /ui/ and forwarded.
    ['/ui/%2E%2E/secret.js', {}, 200, 'backend a GET /secret.js'],
    ['/ui/', { method: 'POST', body: 'x' }, 405, /method not allowed/],
    ['/other', {}, 200, 'backend a GET /other'],
    ['/', {}, 200, 'backend a GET /'],
  ];
  for (const [path, init, status, body] of cases) {
    it(`${init.method ?? 'GET'} ${path} answers ${status}`, async () => {
      const response = await fetch(`${origin}${path}`, { ...init, redirect: 'manual' });
      assert.equal(response.status, status);
      const text = await response.text();
      if (typeof body === 'string') assert.equal(text, body);
      else assert.match(text, body);
    });
  }

  it('browser at / is redirected to the page', async () => {
    for (const path of ['/', '/ui']) {
      const response = await fetch(`${origin}${path}`, {
        headers: { accept: 'text/html,application/xhtml+xml' },
        redirect: 'manual',
      });
      assert.equal(response.status, 302, path);
      assert.equal(response.headers.get('location'), '/ui/', path);
    }
  });

  it('page carries a content security policy', async () => {
    const response = await fetch(`${origin}/ui/`);
    const policy = response.headers.get('content-security-policy') ?? '';
    assert.match(policy, /default-src 'self'/);
    assert.match(policy, new RegExp(`connect-src 'self' ws://${origin.slice(7)} `));
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
  });

  it('endpoint list shows connections', async () => {
    const client = await connectClient(`${origin.replace('http', 'ws')}/`);
    try {
      assert.equal(await client.next(), 'hello a');
      // The load report arrives on the balancer's next poll, so the list is read until it has it.
      let endpoint: { openConnections: number; load?: { connections: number; serverId?: string } };
      const deadline = Date.now() + 5000;
      do {
        await new Promise((resolve) => setTimeout(resolve, 50));
        const response = await fetch(`${origin}/ui/api/endpoints`);
        endpoint = ((await response.json()) as { endpoints: (typeof endpoint)[] }).endpoints[0]!;
      } while (endpoint.load?.connections !== 1 && Date.now() < deadline);
      assert.equal(endpoint.openConnections, 1);
      assert.equal(endpoint.load?.connections, 1);
    } finally {
      client.ws.terminate();
    }
  });

  it('missing build names the fix', async () => {
    const empty = createBalancer({
      config: { endpoints: [{ host: '127.0.0.1', port: backend.port }] },
      webRoot: join(webRoot, 'missing'),
    });
    const { port } = await empty.listen(0, '127.0.0.1');
    try {
      const response = await fetch(`http://127.0.0.1:${port}/ui/`);
      assert.equal(response.status, 404);
      assert.match(await response.text(), /web page is not built; run `npm run build:web`/);
    } finally {
      await empty.close();
    }
  });
});

describe('balancer web page with a web token', () => {
  const token = 'page-token-1';
  let backend: WsBackend;
  let balancer: Balancer;
  let webRoot: string;
  let origin: string;

  before(async () => {
    backend = await startWsBackend('a');
    webRoot = await mkdtemp(join(tmpdir(), 'balancer-web-token-'));
    await writeFile(join(webRoot, 'index.html'), '<!doctype html><title>page</title>');
    balancer = createBalancer({
      config: { endpoints: [{ host: '127.0.0.1', port: backend.port }] },
      webRoot,
      webToken: token,
    });
    origin = `http://127.0.0.1:${(await balancer.listen(0, '127.0.0.1')).port}`;
  });

  after(async () => {
    await balancer?.close();
    await backend?.close();
    if (webRoot) await rm(webRoot, { recursive: true, force: true });
  });

  const cases: [string, Record<string, string>, number][] = [
    ['no Authorization', {}, 401],
    ['wrong token', { authorization: 'Bearer page-token-2' }, 401],
    ['token as a prefix', { authorization: `Bearer ${token}x` }, 401],
    ['other scheme', { authorization: `Basic ${token}` }, 401],
    ['empty bearer', { authorization: 'Bearer ' }, 401],
    ['the token', { authorization: `Bearer ${token}` }, 200],
    ['lower-case scheme', { authorization: `bearer ${token}` }, 200],
  ];
  for (const [name, headers, status] of cases) {
    it(`endpoint list with ${name} answers ${status}`, async () => {
      const response = await fetch(`${origin}/ui/api/endpoints`, { headers });
      assert.equal(response.status, status);
      if (status === 401) {
        assert.equal(response.headers.get('www-authenticate'), 'Bearer');
        assert.match(await response.text(), /missing or invalid bearer token/);
        return;
      }
      const { endpoints } = (await response.json()) as { endpoints: { id: string }[] };
      assert.deepEqual(
        endpoints.map((endpoint) => endpoint.id),
        [`127.0.0.1:${backend.port}`],
      );
    });
  }

  it('HEAD of endpoint list needs the token', async () => {
    const without = await fetch(`${origin}/ui/api/endpoints`, { method: 'HEAD' });
    assert.equal(without.status, 401);
    const withToken = await fetch(`${origin}/ui/api/endpoints`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(withToken.status, 200);
  });

  it('page itself needs no token', async () => {
    const response = await fetch(`${origin}/ui/`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), '<!doctype html><title>page</title>');
  });
});

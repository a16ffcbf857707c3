import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';

import { RawClient } from '../../test/support/raw-client.js';
import { startTestServer, type TestServer } from '../../test/support/stream-stack.js';

const TOKEN = 'admin-s3cret';

describe('stream server admin authentication', () => {
  let server: TestServer;
  const logLines: string[] = [];

  before(async () => {
    const logger = pino({ level: 'debug' }, { write: (line: string) => logLines.push(line) });
    server = await startTestServer(['--auth-token', TOKEN], { logger });
  });

  after(async () => {
    await server?.stop();
  });

  const adminRequests = [
    { method: 'POST', path: '/drain?connections=1' },
    { method: 'POST', path: '/draining' },
    { method: 'DELETE', path: '/draining' },
  ];

  it('rejects admin requests without the token', async () => {
    for (const { method, path } of adminRequests) {
      for (const authorization of [undefined, 'Bearer wrong', `Basic ${TOKEN}`, TOKEN]) {
        const headers: Record<string, string> = authorization ? { authorization } : {};
        const response = await fetch(`${server.httpUrl}${path}`, { method, headers });
        const label = `${method} ${path} with ${authorization ?? 'no header'}`;
        assert.equal(response.status, 401, label);
        assert.equal(response.headers.get('www-authenticate'), 'Bearer', label);
        assert.match(await response.text(), /requires the header Authorization: Bearer <token>/);
      }
    }
    const stats = (await (await fetch(`${server.httpUrl}/stats`)).json()) as { draining: boolean };
    assert.equal(stats.draining, false, 'a rejected POST /draining changes nothing');
  });

  it('logs each rejection without the token', async () => {
    logLines.length = 0;
    await fetch(`${server.httpUrl}/draining`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}x` },
    });
    await fetch(`${server.httpUrl}/drain?connections=1`, { method: 'POST' });
    const rejections = logLines
      .map((line) => JSON.parse(line) as { msg: string; path?: string; reason?: string })
      .filter((entry) => entry.msg === 'rejected admin request without a valid bearer token');
    assert.deepEqual(
      rejections.map(({ path, reason }) => ({ path, reason })),
      [
        { path: '/draining', reason: 'invalid' },
        { path: '/drain', reason: 'missing' },
      ],
    );
    for (const line of logLines) assert.doesNotMatch(line, new RegExp(TOKEN), line);
  });

  it('accepts admin requests with the token', async () => {
    const authorization = `Bearer ${TOKEN}`;
    const open = await RawClient.connect(server.url, { headers: { authorization } });
    try {
      const shed = await fetch(`${server.httpUrl}/drain?connections=1`, {
        method: 'POST',
        headers: { authorization },
      });
      assert.equal(shed.status, 202);
      assert.deepEqual(await shed.json(), { accepted: 1 });
      assert.equal(await open.closed(), 1012);

      const started = await fetch(`${server.httpUrl}/draining`, {
        method: 'POST',
        headers: { authorization },
      });
      assert.equal(started.status, 200);
      assert.equal(((await started.json()) as { draining: boolean }).draining, true);
      const stopped = await fetch(`${server.httpUrl}/draining`, {
        method: 'DELETE',
        headers: { authorization },
      });
      assert.equal(stopped.status, 200);
      assert.equal(((await stopped.json()) as { draining: boolean }).draining, false);
    } finally {
      open.close();
    }
  });

  it('keeps probes and scrapes open', async () => {
    for (const path of ['/healthz', '/readyz', '/stats', '/metrics']) {
      const response = await fetch(`${server.httpUrl}${path}`);
      assert.equal(response.status, 200, path);
      await response.arrayBuffer();
    }
  });
});

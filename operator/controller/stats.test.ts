import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseStats } from '../autoscaling/parse-stats.js';
import { httpStatsFetcher } from './stats.js';

describe('httpStatsFetcher', () => {
  let server: Server;
  let port: number;
  let body = '';
  let code = 200;

  before(async () => {
    server = createServer((request, response) => {
      assert.equal(request.url, '/stats');
      response.writeHead(code, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reads a server stats body', async () => {
    const stats = {
      connections: 3,
      inflightIngests: 1,
      eventLoopUtilization: 0.25,
      workerUtilization: 0.5,
      draining: false,
      documents: 2,
      chunks: 17,
    };
    body = JSON.stringify({ ...stats, extra: 'ignored' });
    code = 200;
    const fetched = await httpStatsFetcher()({ podName: 'demo-server-0', ip: '127.0.0.1', port });
    assert.deepEqual(fetched, stats);
  });

  it('rejects an HTTP error', async () => {
    body = '{}';
    code = 503;
    await assert.rejects(
      httpStatsFetcher()({ podName: 'demo-server-0', ip: '127.0.0.1', port }),
      /^StatsReadError: GET http:\/\/127\.0\.0\.1:\d+\/stats returned HTTP 503$/,
    );
  });

  it('rejects missing fields by name', () => {
    assert.throws(
      () => parseStats(JSON.stringify({ connections: 1, documents: -1 })),
      /inflightIngests must .*; documents must be a non-negative number, got -1; chunks must/,
    );
  });
});

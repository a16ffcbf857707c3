import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';

import { StreamClusterClient } from '../../client/client.js';
import { RawClient } from '../../test/support/raw-client.js';
import { startTestServer, type TestServer } from '../../test/support/stream-stack.js';
import { recordingLogger } from '../index/testing/recording-logger.js';
import { encodeUploadFrame } from './upload.js';

const HARBOR = [
  'The lighthouse of Port Alder was built in 1874 from granite quarried on the island.',
  'Its lamp burns colza oil and can be seen twenty-two nautical miles out to sea.',
  'Keepers lived in the cottage at the foot of the tower until automation in 1981.',
].join(' ');

const ORCHARD = [
  'Cider apples in the valley are pressed in late October after the first frost.',
  'The juice ferments in oak barrels for six months before it is bottled.',
  'Bittersweet varieties such as Dabinett give the cider its tannic taste.',
].join(' ');

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

describe('stream server', () => {
  let server: TestServer;
  let client: StreamClusterClient;

  before(async () => {
    server = await startTestServer(['--heartbeat-interval-ms', '300']);
    client = new StreamClusterClient({ urls: server.url });
    await client.connect();
    for (const [name, text] of [
      ['harbor.txt', HARBOR],
      ['orchard.md', `# Orchard\n\n${ORCHARD}`],
    ]) {
      await client.ingest(Buffer.from(text!), { name: name! });
    }
  });

  after(async () => {
    client?.close();
    await server?.stop();
  });

  it('streams ingest progress through every stage', async () => {
    const stages = new Set<string>();
    const text = 'Granite sets slowly. Granite quarries closed in 1920 on the island of Alder.';
    const result = await client.ingest(Buffer.from(text), {
      name: 'quarry.txt',
      onProgress: (stage) => stages.add(stage),
    });
    assert.equal(result.duplicate, false);
    assert.equal(result.pages, 1);
    assert.ok(result.chunks >= 1);
    assert.ok(result.seq > 0);
    assert.deepEqual([...stages], ['upload', 'parse', 'chunk', 'embed', 'index']);
  });

  it('treats the same bytes as a duplicate', async () => {
    const result = await client.ingest(Buffer.from(HARBOR), { name: 'again.txt' });
    assert.equal(result.duplicate, true);
    assert.equal(result.documentId, sha256(Buffer.from(HARBOR)));
  });

  it('searches by meaning', async () => {
    const { hits } = await client.search('how far away is the light visible from ships?', { k: 2 });
    assert.equal(hits[0]?.documentName, 'harbor.txt');
    assert.equal(hits[0]?.pageStart, 1);
  });

  it('streams an answer with citations', async () => {
    const events = [];
    for await (const event of client.ask('When are the apples pressed?')) events.push(event);
    const types = events.map((event) => event.type);
    assert.equal(types[0], 'answer.retrieved');
    assert.ok(
      types.filter((type) => type === 'answer.token').length > 1,
      'answer streams several tokens',
    );
    assert.equal(types.at(-2), 'answer.citations');
    assert.equal(types.at(-1), 'answer.done');
    const answer = events
      .map((event) => (event.type === 'answer.token' ? event.text : ''))
      .join('');
    assert.match(answer, /October/);
    const citations = events.find((event) => event.type === 'answer.citations');
    assert.ok(citations?.type === 'answer.citations');
    assert.equal(citations.citations[0]?.documentName, 'orchard.md');
  });

  it('resumes an answer after a reconnect without loss or repeats', async () => {
    const full: string[] = [];
    for await (const event of client.ask('What gives the cider its taste?', {
      conversationId: 'c-full',
    })) {
      const { op: _op, offset: _offset, ...rest } = event as Record<string, unknown>;
      full.push(JSON.stringify(event.type === 'answer.done' ? event.type : rest));
    }

    const raw = await RawClient.connect(server.url);
    raw.send({
      type: 'ask',
      op: 'r1',
      question: 'What gives the cider its taste?',
      conversationId: 'c-resume',
    });
    const first = await raw.forOp('r1', 'answer.retrieved');
    assert.equal(first.offset, 1);
    raw.close();

    const resumed = await RawClient.connect(server.url);
    resumed.send({
      type: 'ask',
      op: 'r1',
      question: 'What gives the cider its taste?',
      conversationId: 'c-resume',
      resumeAfter: 1,
    });
    await resumed.forOp('r1', 'answer.done');
    const events = resumed.events.filter((event) => event.op === 'r1');
    assert.deepEqual(
      events.map((event) => event.offset),
      events.map((_, i) => i + 2),
      'offsets continue from 2 with no gap or repeat',
    );
    const rest = events.map(({ op: _op, offset: _offset, conversationId: _c, ...event }) =>
      JSON.stringify(event.type === 'answer.done' ? event.type : event),
    );
    assert.deepEqual(
      rest,
      full.slice(1).map((json) => json.replace(/,"conversationId":"c-full"/, '')),
    );
    resumed.close();
  });

  it('cancels an answer in flight', async () => {
    const raw = await RawClient.connect(server.url);
    raw.send({
      type: 'ask',
      op: 'a1',
      question: 'Who lived in the cottage?',
      conversationId: 'c-cancel',
    });
    raw.send({ type: 'cancel', op: 'a1' });
    const end = await raw.next(
      (event) => event.op === 'a1' && ['cancelled', 'answer.done'].includes(event.type),
    );
    // A very fast answer may finish before the cancel arrives; either way nothing follows it.
    assert.ok(['cancelled', 'answer.done'].includes(end.type));
    raw.close();
  });

  it('answers malformed JSON with INVALID_JSON', async () => {
    const raw = await RawClient.connect(server.url);
    raw.ws.send('{not json');
    const error = await raw.next((event) => event.type === 'error');
    assert.equal(error.code, 'INVALID_JSON');
    raw.close();
  });

  it('answers an unknown type with UNKNOWN_TYPE naming the field', async () => {
    const raw = await RawClient.connect(server.url);
    raw.send({ type: 'teleport', op: 'x1' });
    const error = await raw.forOp('x1', 'error');
    assert.equal(error.code, 'UNKNOWN_TYPE');
    assert.equal(error.field, 'type');
    raw.close();
  });

  it('answers an invalid field with INVALID_MESSAGE naming it', async () => {
    const raw = await RawClient.connect(server.url);
    raw.send({ type: 'search', op: 's1', query: 'granite', k: 0 });
    const error = await raw.forOp('s1', 'error');
    assert.equal(error.code, 'INVALID_MESSAGE');
    assert.equal(error.field, 'k');
    assert.match(String(error.message), /k must be an integer from 1 to 100, got 0/);
    raw.close();
  });

  it('closes with 1009 on an oversized frame', async () => {
    const raw = await RawClient.connect(server.url);
    raw.ws.send(Buffer.alloc(2 * 1024 * 1024));
    assert.equal(await raw.closed(), 1009);
  });

  it('closes with 1007 on invalid UTF-8 in a text frame', async () => {
    const raw = await RawClient.connect(server.url);
    raw.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    assert.equal(await raw.closed(), 1007);
  });

  it('rejects an upload larger than declared', async () => {
    const raw = await RawClient.connect(server.url);
    const data = Buffer.from('a short text that is longer than announced');
    raw.send({
      type: 'ingest',
      op: 'u1',
      name: 'u.txt',
      mediaType: 'text/plain',
      size: 5,
      sha256: sha256(data),
    });
    await raw.forOp('u1', 'ingest.accepted');
    raw.ws.send(encodeUploadFrame('u1', data));
    const error = await raw.forOp('u1', 'error');
    assert.equal(error.code, 'UPLOAD_TOO_LARGE');
    raw.close();
  });

  it('rejects a document above the size limit by name', async () => {
    const raw = await RawClient.connect(server.url);
    raw.send({
      type: 'ingest',
      op: 'big',
      name: 'huge.txt',
      mediaType: 'text/plain',
      size: 100 * 1024 * 1024,
      sha256: 'b'.repeat(64),
    });
    const error = await raw.forOp('big', 'error');
    assert.equal(error.code, 'DOCUMENT_TOO_LARGE');
    assert.match(String(error.message), /^document is 104857600 bytes, .*--max-document-bytes/);
    raw.close();
  });

  it('rejects an upload whose SHA-256 does not match', async () => {
    const raw = await RawClient.connect(server.url);
    const data = Buffer.from('bytes whose hash the client got wrong');
    raw.send({
      type: 'ingest',
      op: 'u2',
      name: 'u.txt',
      mediaType: 'text/plain',
      size: data.length,
      sha256: 'a'.repeat(64),
    });
    await raw.forOp('u2', 'ingest.accepted');
    raw.ws.send(encodeUploadFrame('u2', data));
    const error = await raw.forOp('u2', 'error');
    assert.equal(error.code, 'CHECKSUM_MISMATCH');
    raw.close();
  });

  it('terminates a half-open client within two heartbeats', async () => {
    const raw = await RawClient.connect(server.url, { autoPong: false });
    const started = Date.now();
    assert.equal(await raw.closed(5000), 1006);
    assert.ok(Date.now() - started < 3 * 300 + 500, 'closed within about two intervals');
  });

  it('rejects the upgrade without the subprotocol', async () => {
    const ws = new WebSocket(server.url, ['other.v1']);
    const error = await new Promise<Error>((resolve) => ws.on('error', resolve));
    assert.match(error.message, /Unexpected server response: 400/);
  });

  it('serves health, readiness, stats and metrics', async () => {
    assert.equal((await fetch(`${server.httpUrl}/healthz`)).status, 200);
    assert.equal((await fetch(`${server.httpUrl}/readyz`)).status, 200);
    const stats = (await (await fetch(`${server.httpUrl}/stats`)).json()) as Record<string, number>;
    assert.ok(stats.documents! >= 2);
    assert.ok(stats.connections! >= 1);
    assert.equal(typeof stats.eventLoopUtilization, 'number');
    const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
    assert.match(metrics, /streamcluster_server_connections \d+/);
    assert.match(metrics, /streamcluster_server_first_token_seconds_count [1-9]/);
  });

  it('reports CPU-heavy ingestion as worker utilization, not event-loop load', async () => {
    const topics = ['granite', 'harbour', 'lamp', 'keeper', 'tide', 'storm', 'ledger', 'frost'];
    const text = Array.from(
      { length: 600 },
      (_, index) =>
        `Entry ${index}: the ${topics[index % 8]} near the ${topics[(index * 3) % 8]} ` +
        `was logged by keeper ${index % 37} on day ${index % 365}.`,
    ).join(' ');
    await client.ingest(Buffer.from(text), { name: 'logbook.txt' });
    // Both figures decay by a tenth per second, so right after the ingest they still show it.
    const stats = (await (await fetch(`${server.httpUrl}/stats`)).json()) as Record<string, number>;
    assert.ok(stats.workerUtilization! >= 0.1, `worker utilization ${stats.workerUtilization}`);
    assert.ok(
      stats.workerUtilization! > stats.eventLoopUtilization!,
      `embedding runs in workers: ${stats.workerUtilization} > ${stats.eventLoopUtilization}`,
    );
    const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
    assert.match(metrics, /streamcluster_server_worker_utilization 0\.[1-9]/);
  });
});

describe('stream server ingest log', () => {
  it('logs a rejected document with its name and code', async () => {
    const { logger, lines } = recordingLogger();
    const server = await startTestServer([], { logger });
    const client = new StreamClusterClient({ urls: server.url, reconnect: false });
    try {
      await assert.rejects(client.ingest(Buffer.from('   \n\n  '), { name: 'blank.txt' }), {
        code: 'DOCUMENT_NO_TEXT',
      });
      const line = lines.find((entry) => entry.msg === 'document rejected');
      assert.equal(line?.name, 'blank.txt');
      assert.equal(line?.code, 'DOCUMENT_NO_TEXT');
      assert.equal(line?.level, 30);
    } finally {
      client.close();
      await server.stop();
    }
  });
});

describe('stream server limits', () => {
  it('rejects a missing bearer token with 401', async () => {
    const server = await startTestServer(['--auth-token', 'sesame']);
    try {
      const status = await new Promise<number>((resolve) => {
        const ws = new WebSocket(server.url, ['streamcluster.v1']);
        ws.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
        ws.on('error', () => {});
      });
      assert.equal(status, 401);
      const ok = await RawClient.connect(server.url, {
        headers: { Authorization: 'Bearer sesame' },
      });
      ok.close();
      const viaProtocol = await RawClient.connect(server.url, {
        protocols: ['streamcluster.v1', 'bearer.sesame'],
      });
      viaProtocol.close();
    } finally {
      await server.stop();
    }
  });

  it('drains with 1012 and turns readiness off', async () => {
    const server = await startTestServer();
    const raw = await RawClient.connect(server.url);
    const draining = server.running.server.drain({ timeoutMs: 2000 });
    assert.equal(await raw.closed(), 1012);
    await draining;
    assert.equal((await fetch(`${server.httpUrl}/readyz`)).status, 503);
    await server.stop();
  });
});

describe('stream server rebalancing', () => {
  it('sheds connections on POST /drain with a rebalance reason', async () => {
    const server = await startTestServer();
    try {
      const clients = await Promise.all([1, 2, 3].map(() => RawClient.connect(server.url)));
      const response = await fetch(
        `${server.httpUrl}/drain?connections=2&spreadMs=100&reconnectDelayMs=500`,
        {
          method: 'POST',
        },
      );
      assert.equal(response.status, 202);
      assert.deepEqual(await response.json(), { accepted: 2 });
      await new Promise((resolve) => setTimeout(resolve, 500));
      const closed = clients.filter((client) => client.closeCode !== undefined);
      assert.equal(closed.length, 2);
      for (const client of closed) {
        assert.equal(client.closeCode, 1012);
        assert.deepEqual(JSON.parse(client.closeReason!), {
          reason: 'rebalance',
          reconnectDelayMs: 500,
        });
      }
      assert.equal(
        (await fetch(`${server.httpUrl}/readyz`)).status,
        200,
        'shedding is not draining',
      );
      for (const client of clients) client.close();
    } finally {
      await server.stop();
    }
  });

  it('drains for removal on POST /draining and stops on DELETE', async () => {
    const server = await startTestServer();
    try {
      const open = await RawClient.connect(server.url);
      const started = await fetch(`${server.httpUrl}/draining`, { method: 'POST' });
      assert.equal(started.status, 200);
      assert.deepEqual(await started.json(), { draining: true, connections: 1 });
      assert.equal((await fetch(`${server.httpUrl}/readyz`)).status, 503);
      const stats = (await (await fetch(`${server.httpUrl}/stats`)).json()) as {
        draining: boolean;
      };
      assert.equal(stats.draining, true);
      const refused = new WebSocket(server.url, 'streamcluster.v1');
      const [, upgrade] = (await once(refused, 'unexpected-response')) as [
        unknown,
        IncomingMessage,
      ];
      assert.equal(upgrade.statusCode, 503);
      upgrade.destroy();
      assert.equal(open.closeCode, undefined, 'draining for removal closes nothing by itself');

      const stopped = await fetch(`${server.httpUrl}/draining`, { method: 'DELETE' });
      assert.equal(stopped.status, 200);
      assert.equal((await fetch(`${server.httpUrl}/readyz`)).status, 200);
      const again = await RawClient.connect(server.url);
      again.close();
      open.close();
    } finally {
      await server.stop();
    }
  });

  it('keeps draining after a shutdown began', async () => {
    const server = await startTestServer();
    try {
      await server.running.server.drain({ timeoutMs: 100 });
      const response = await fetch(`${server.httpUrl}/draining`, { method: 'DELETE' });
      assert.equal(response.status, 409);
      assert.equal((await fetch(`${server.httpUrl}/readyz`)).status, 503);
    } finally {
      await server.stop();
    }
  });
});

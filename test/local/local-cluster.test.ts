import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { StreamClusterClient } from '../../client/client.js';
import type { AnswerEvent } from '../../client/types.js';
import { createBalancer, type Balancer } from '../../server/balancer/index.js';
import { startChatServer, streamTokens } from '../support/chat-completions-server.js';
import { startTestServer, type TestServer } from '../support/stream-stack.js';

const MANUAL = [
  'Chapter one. The ferry to Inishmore leaves Rossaveal at ten in the morning.',
  'Tickets are sold at the pier office, which opens an hour before departure.',
  'Bicycles travel free of charge on every crossing.',
].join(' ');

const ANSWER_TOKENS = Array.from({ length: 40 }, (_, i) => `word${i} `);

/**
 * Three stream servers sharing one embedded log behind a balancer, as `make demo` runs them.
 * The servers answer with an OpenAI-compatible generator served by a local fake that streams
 * the same tokens slowly, so a server can be killed in the middle of an answer.
 */
describe('local cluster', () => {
  let logDir: string;
  let servers: TestServer[] = [];
  let balancer: Balancer;
  let chat: Awaited<ReturnType<typeof startChatServer>>;
  let url: string;

  before(async () => {
    logDir = await mkdtemp(join(tmpdir(), 'streamcluster-log-'));
    chat = await startChatServer((_request, response) => streamTokens(response, ANSWER_TOKENS, 40));
    const flags = [
      '--log-dir',
      logDir,
      '--answer-generator',
      'openai',
      '--openai-base-url',
      chat.baseUrl,
      '--openai-model',
      'fake',
    ];
    servers = await Promise.all(
      [0, 1, 2].map((i) => startTestServer([...flags, '--server-id', `local-${i}`])),
    );
    balancer = createBalancer({
      config: {
        endpoints: servers.map((server) => ({
          host: '127.0.0.1',
          port: Number(new URL(server.httpUrl).port),
        })),
        healthCheck: { intervalMs: 200 },
      },
    });
    const { port } = await balancer.listen(0, '127.0.0.1');
    url = `ws://127.0.0.1:${port}`;
  });

  after(async () => {
    await balancer?.close();
    await Promise.allSettled(servers.map((server) => server.stop()));
    await chat?.close();
    if (logDir) await rm(logDir, { recursive: true, force: true });
  });

  it('serves a document ingested through the balancer from every server', async () => {
    const client = new StreamClusterClient({ urls: url });
    const result = await client.ingest(Buffer.from(MANUAL), { name: 'ferry.txt' });
    client.close();
    for (const server of servers) {
      const direct = new StreamClusterClient({ urls: server.url });
      const { hits } = await direct.search('where can I buy a ticket?', {
        k: 1,
        minSeq: result.seq,
      });
      direct.close();
      assert.equal(hits[0]?.documentName, 'ferry.txt', `server ${server.url} has the document`);
    }
  });

  it('resumes an answer on another server when its server dies', async () => {
    const client = new StreamClusterClient({
      urls: url,
      reconnect: { initialDelayMs: 50, maxAttempts: 20 },
    });
    await client.connect();
    const firstServer = client.connectedServerId;
    const events: AnswerEvent[] = [];
    let killed = false;
    for await (const event of client.ask('When does the ferry leave?')) {
      events.push(event);
      const tokens = events.filter((e) => e.type === 'answer.token').length;
      if (!killed && tokens === 5) {
        killed = true;
        const victim = servers.find((server) => server.running.server.serverId === firstServer);
        assert.ok(victim, `found the server ${firstServer}`);
        void victim.running.server.close();
      }
    }
    assert.ok(killed, 'the server was killed during the answer');
    assert.equal(client.counters.reconnects, 1);
    assert.notEqual(client.connectedServerId, firstServer);
    const text = events.map((event) => (event.type === 'answer.token' ? event.text : '')).join('');
    assert.equal(text, ANSWER_TOKENS.join(''), 'every token once, in order');
    assert.equal(events[0]?.type, 'answer.retrieved');
    assert.equal(events.at(-1)?.type, 'answer.done');
    client.close();
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { StreamClusterClient } from '../../client/client.js';
import type { AnswerEvent } from '../../client/types.js';
import type { Balancer } from '../../server/balancer/index.js';
import {
  startSharedLogServers,
  startTestBalancer,
  type SharedLogServers,
  type TestServer,
} from '../support/stream-stack.js';

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
  let stack: SharedLogServers | undefined;
  let servers: TestServer[] = [];
  let balancer: Balancer;
  let url: string;

  before(async () => {
    stack = await startSharedLogServers({
      count: 3,
      serverIdPrefix: 'local',
      answerTokens: ANSWER_TOKENS,
      tokenDelayMs: 40,
    });
    servers = stack.servers;
    balancer = await startTestBalancer(servers.map((server) => server.port));
    url = `ws://127.0.0.1:${balancer.address()!.port}`;
  });

  after(async () => {
    await balancer?.close();
    await stack?.stop();
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

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { StreamClusterClient } from '../../client/client.js';
import type { ClientState } from '../../client/types.js';
import type { Balancer } from '../../server/balancer/index.js';
import { sleep } from '../support/chat-completions-server.js';
import {
  startSharedLogServers,
  startTestBalancer,
  type SharedLogServers,
  type TestServer,
} from '../support/stream-stack.js';
import { startTcpLink, type TcpLink } from '../support/tcp-link.js';

const MANUAL = [
  'Chapter one. The ferry to Inishmore leaves Rossaveal at ten in the morning.',
  'Tickets are sold at the pier office, which opens an hour before departure.',
  'Bicycles travel free of charge on every crossing.',
].join(' ');

const QUESTION = 'When does the ferry leave?';

/** Tokens of the fake generator: long enough to interrupt, with a marker so citations exist. */
const ANSWER_TOKENS = [
  ...Array.from({ length: 30 }, (_, i) => `word${i} `),
  'The ferry leaves at ten [1]. ',
  ...Array.from({ length: 20 }, (_, i) => `more${i} `),
];

/** Token at which each fault strikes: well inside the answer, which streams for about 1.5 s. */
const FAULT_AFTER_TOKENS = 8;

type Recorded = Record<string, unknown>;

/**
 * Network and balancer failures in the middle of a streamed answer, against two real stream
 * servers that share an embedded log, a real balancer, and TCP forwarders that represent the
 * network paths: client to balancer, balancer to each server, and client to server. Every run
 * must hand the application the same events, in the same order, with the same offsets as an
 * uninterrupted run.
 */
describe('client failures', () => {
  let stack: SharedLogServers | undefined;
  let servers: TestServer[] = [];
  let serverLinks: TcpLink[] = [];
  const links: TcpLink[] = [];
  let clientLink: TcpLink;
  let balancer: Balancer;
  let balancerPort: number;
  let baseline: Recorded[];
  const clients: StreamClusterClient[] = [];

  const startBalancer = (port: number): Promise<Balancer> =>
    startTestBalancer(
      serverLinks.map((link) => link.port),
      port,
    );

  const newClient = (url: string): StreamClusterClient => {
    const client = new StreamClusterClient({
      urls: url,
      reconnect: { initialDelayMs: 50, maxDelayMs: 400, maxAttempts: 40 },
    });
    clients.push(client);
    return client;
  };

  before(async () => {
    stack = await startSharedLogServers({
      count: 2,
      serverIdPrefix: 'failures',
      answerTokens: ANSWER_TOKENS,
      tokenDelayMs: 30,
    });
    servers = stack.servers;
    serverLinks = await Promise.all(
      servers.map((server) => startTcpLink({ host: '127.0.0.1', port: server.port })),
    );
    balancer = await startBalancer(0);
    balancerPort = balancer.address()!.port;
    clientLink = await startTcpLink({ host: '127.0.0.1', port: balancerPort });

    const client = newClient(`ws://127.0.0.1:${balancerPort}`);
    const { seq } = await client.ingest(Buffer.from(MANUAL), { name: 'ferry.txt' });
    // Both servers must have applied the document, or a resumed answer could retrieve nothing.
    for (const server of servers) {
      const direct = newClient(server.url);
      await direct.search('ferry', { minSeq: seq });
    }
    baseline = await collect(client.ask(QUESTION));
  });

  after(async () => {
    for (const client of clients) client.close();
    await balancer?.close();
    await clientLink?.close();
    await Promise.allSettled([...serverLinks, ...links].map((link) => link.close()));
    await stack?.stop();
  });

  it('uninterrupted answer is complete', () => {
    const types = baseline.map((event) => event.type);
    assert.equal(types[0], 'answer.retrieved');
    assert.equal(types.at(-2), 'answer.citations');
    assert.equal(types.at(-1), 'answer.done');
    assert.equal(tokenText(baseline), ANSWER_TOKENS.join(''));
    const citations = baseline.at(-2)!.citations as { documentName: string; pageStart: number }[];
    assert.equal(citations[0]?.documentName, 'ferry.txt');
    assert.equal(citations[0]?.pageStart, 1);
    assertOffsetsContiguous(baseline);
  });

  it('balancer restart mid-answer loses nothing', async () => {
    const client = newClient(`ws://127.0.0.1:${balancerPort}`);
    const states = recordStates(client);
    const events = await askWithFault(client, async () => {
      await balancer.close();
      // Long enough for the client to be refused at least once while no balancer listens.
      await sleep(300);
      balancer = await startBalancer(balancerPort);
    });
    assertSameAnswer(events, baseline);
    assert.equal(client.counters.reconnects, 1);
    assert.ok(client.counters.resumedOperations >= 1, 'the answer was resumed');
    assert.ok(states.includes('reconnecting'), `states were ${states.join(', ')}`);
  });

  it('cut client-to-balancer path loses nothing', async () => {
    const client = newClient(`ws://127.0.0.1:${clientLink.port}`);
    const events = await askWithFault(client, async () => {
      assert.equal(clientLink.cut(), 1, 'one connection crossed the client link');
    });
    client.close();
    assertSameAnswer(events, baseline);
    assert.equal(client.counters.reconnects, 1);
    assert.equal(client.counters.resumedOperations, 1);
  });

  it('cut balancer-to-server path loses nothing', async () => {
    const client = newClient(`ws://127.0.0.1:${balancerPort}`);
    const endsBefore = await endpointLostCount(balancer);
    const events = await askWithFault(client, async () => {
      const cut = serverLinks.reduce((sum, link) => sum + link.cut(), 0);
      assert.ok(cut >= 1, 'the answer crossed a server link');
    });
    assertSameAnswer(events, baseline);
    assert.equal(client.counters.reconnects, 1);
    assert.equal(client.counters.resumedOperations, 1);
    // The balancer noticed the endpoint vanish without a close frame and ended the relay itself.
    const endsAfter = await endpointLostCount(balancer);
    const lost = endsAfter - endsBefore;
    assert.ok(lost >= 1, `${lost} relays ended because the endpoint went away`);
  });

  it('cut client-to-server path loses nothing', async () => {
    const link = await startTcpLink({ host: '127.0.0.1', port: servers[0]!.port });
    try {
      const client = newClient(`ws://127.0.0.1:${link.port}`);
      const events = await askWithFault(client, async () => {
        assert.equal(link.cut(), 1, 'one connection crossed the link');
      });
      assertSameAnswer(events, baseline);
      assert.equal(client.counters.reconnects, 1);
      assert.equal(client.counters.resumedOperations, 1);
    } finally {
      await link.close();
    }
  });

  it('two cuts in one answer lose nothing', async () => {
    const client = newClient(`ws://127.0.0.1:${clientLink.port}`);
    let cuts = 0;
    const events: Recorded[] = [];
    for await (const event of client.ask(QUESTION)) {
      events.push(event as unknown as Recorded);
      const tokens = events.filter((e) => e.type === 'answer.token').length;
      if (tokens === FAULT_AFTER_TOKENS * (cuts + 1) && cuts < 2) {
        cuts++;
        clientLink.cut();
      }
    }
    assert.equal(cuts, 2);
    assertSameAnswer(events, baseline);
    assert.equal(client.counters.reconnects, 2);
  });

  // Runs last, because the new document joins the index and would change the hits of the
  // answers above.
  it('cut path mid-upload still ingests', async () => {
    const link = await startTcpLink({ host: '127.0.0.1', port: balancerPort });
    links.push(link);
    const client = new StreamClusterClient({
      urls: `ws://127.0.0.1:${link.port}`,
      reconnect: { initialDelayMs: 50, maxDelayMs: 400, maxAttempts: 40 },
      // Small frames make the upload span many frames, so the cut lands inside it.
      uploadFrameBytes: 2048,
    });
    clients.push(client);
    const text = Array.from(
      { length: 300 },
      (_, i) => `Orchard row ${i}: the cider apple tree number ${i} was pruned in March.`,
    ).join('\n');
    const progress: [string, number, number][] = [];
    let cut = 0;
    const result = await client.ingest(Buffer.from(text), {
      name: 'orchard.txt',
      onProgress: (stage, done, total) => {
        progress.push([stage, done, total]);
        if (stage === 'upload' && cut === 0 && done >= 4096) cut = link.cut();
      },
    });
    assert.equal(cut, 1, 'the path was cut during the upload');
    assert.equal(client.counters.reconnects, 1);
    assert.equal(result.duplicate, false);
    assert.equal(result.documentId, createHash('sha256').update(text).digest('hex'));
    assert.ok(result.chunks >= 1);

    // The application receives progress that only moves forward, although the upload started over.
    const stages = ['upload', 'parse', 'chunk', 'embed', 'index'];
    for (let i = 1; i < progress.length; i++) {
      const [stage, done] = progress[i]!;
      const [previousStage, previousDone] = progress[i - 1]!;
      const order = stages.indexOf(stage) - stages.indexOf(previousStage);
      assert.ok(
        order > 0 || (order === 0 && done > previousDone),
        `progress went from ${progress[i - 1]} to ${progress[i]}`,
      );
    }
    assert.deepEqual(progress.at(-1), ['index', result.chunks, result.chunks]);
  });
});

/** Asks the question and runs `fault` once the answer has streamed a few tokens. */
async function askWithFault(
  client: StreamClusterClient,
  fault: () => Promise<void>,
): Promise<Recorded[]> {
  const events: Recorded[] = [];
  let struck: Promise<void> | undefined;
  for await (const event of client.ask(QUESTION)) {
    events.push(event as unknown as Recorded);
    const tokens = events.filter((e) => e.type === 'answer.token').length;
    if (struck === undefined && tokens === FAULT_AFTER_TOKENS) struck = fault();
  }
  assert.ok(struck, 'the fault struck during the answer');
  await struck;
  return events;
}

async function collect(stream: AsyncIterable<unknown>): Promise<Recorded[]> {
  const events: Recorded[] = [];
  for await (const event of stream) events.push(event as Recorded);
  return events;
}

/** Compares two answers event by event, ignoring ids and timings that differ between runs. */
function assertSameAnswer(actual: Recorded[], expected: Recorded[]): void {
  assert.equal(tokenText(actual), tokenText(expected), 'every token once, in order');
  assertOffsetsContiguous(actual);
  assert.deepEqual(actual.map(comparable), expected.map(comparable));
}

function comparable(event: Recorded): Recorded {
  const { op: _op, conversationId: _conversationId, timings: _timings, ...rest } = event;
  return rest;
}

function assertOffsetsContiguous(events: Recorded[]): void {
  assert.deepEqual(
    events.map((event) => event.offset),
    events.map((_, i) => i + 1),
    'offsets run from 1 without a gap or a repeat',
  );
}

function tokenText(events: Recorded[]): string {
  return events.map((event) => (event.type === 'answer.token' ? event.text : '')).join('');
}

function recordStates(client: StreamClusterClient): ClientState[] {
  const states: ClientState[] = [];
  client.addEventListener('state', (event) => states.push((event as CustomEvent).detail));
  return states;
}

/** Counts the relays the balancer ended because their endpoint went away without a close frame. */
async function endpointLostCount(balancer: Balancer): Promise<number> {
  const metric = await balancer.metrics.relayEnds.get();
  return metric.values
    .filter((value) => String(value.labels.how).startsWith('endpoint_lost'))
    .reduce((sum, value) => sum + value.value, 0);
}

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { StreamClusterClient } from '../../client/client.js';
import { StreamClusterClientError } from '../../client/errors.js';
import type { AnswerEvent, IngestResult } from '../../client/types.js';
import { startNatsServer, type NatsCluster } from '../support/nats.js';
import { startServerProcess, waitUntil, type ServerProcess } from '../support/server-process.js';

// Stream servers run as child processes here, so they can be killed with SIGKILL, and their
// nats-server is a real one that the outage test stops and starts again.

const SUBJECTS = ['harbour', 'ferry', 'lighthouse', 'timetable', 'pier', 'island', 'crossing'];
const VERBS = ['closes', 'opens', 'moves', 'changes', 'stays', 'returns', 'waits'];

/** Builds a plain-text manual of `sections` sections of six sentences each, the same for the same input. */
function manual(title: string, sections: number): Buffer {
  const lines = [`${title}.`];
  for (let s = 0; s < sections; s++) {
    lines.push(`Section ${s + 1}.`);
    for (let i = 0; i < 6; i++) {
      const subject = SUBJECTS[(s * 7 + i) % SUBJECTS.length]!;
      const verb = VERBS[(s * 3 + i * 5) % VERBS.length]!;
      lines.push(
        `On day ${s * 6 + i + 1} the ${subject} ${verb} at ${(s + i) % 12} o'clock, ` +
          `and visitors who arrive later than that wait at the ${SUBJECTS[(s + i) % 7]} ` +
          `office, where the staff of ${title} sell tickets for the next departure.`,
      );
    }
  }
  return Buffer.from(lines.join('\n'));
}

type IngestOutcome = { result: IngestResult } | { error: Error };

interface IndexState {
  documents: number;
  chunks: number;
  lastAppliedSeq: number;
}

async function indexState(server: ServerProcess): Promise<IndexState> {
  const stats = await server.stats();
  return {
    documents: stats.documents as number,
    chunks: stats.chunks as number,
    lastAppliedSeq: stats.lastAppliedSeq as number,
  };
}

/**
 * Waits until every server applied the same log head, and still has on a second look taken
 * after the next head poll (the servers read the head every second).
 */
async function waitForConvergence(servers: ServerProcess[]): Promise<void> {
  const converged = async (): Promise<number | undefined> => {
    const stats = await Promise.all(servers.map((server) => server.stats()));
    const applied = new Set(stats.map((s) => s.lastAppliedSeq));
    const caughtUp = stats.every(
      (s) => s.replicationLagRecords === 0 && s.lastAppliedSeq === s.logHeadSeq,
    );
    return caughtUp && applied.size === 1 ? (stats[0]!.lastAppliedSeq as number) : undefined;
  };
  await waitUntil('the servers to apply the same log head', async () => {
    const first = await converged();
    if (first === undefined) return false;
    await sleep(1200);
    return (await converged()) === first;
  });
}

async function waitForReady(server: ServerProcess, timeoutMs = 60_000): Promise<void> {
  await waitUntil(
    `${server.name} to be ready`,
    async () => (await server.get('/readyz')).status === 200,
    timeoutMs,
  );
}

async function withClient<T>(
  server: ServerProcess,
  work: (client: StreamClusterClient) => Promise<T>,
): Promise<T> {
  const client = new StreamClusterClient({ urls: server.url, reconnect: false });
  try {
    return await work(client);
  } finally {
    client.close();
  }
}

/**
 * Ingests `data` through `victim` and kills the victim with SIGKILL at the first progress event
 * that `killWhen` accepts. Resolves with what the client saw.
 */
async function ingestAndKill(
  victim: ServerProcess,
  data: Buffer,
  name: string,
  killWhen: (stage: string, done: number, total: number) => boolean,
): Promise<{ outcome: IngestOutcome; killed: boolean }> {
  const client = new StreamClusterClient({ urls: victim.url, reconnect: false });
  let kill: Promise<void> | undefined;
  try {
    const outcome = await client
      .ingest(data, {
        name,
        onProgress: (stage, done, total) => {
          if (kill === undefined && killWhen(stage, done, total)) kill = victim.kill('SIGKILL');
        },
      })
      .then(
        (result): IngestOutcome => ({ result }),
        (error: Error): IngestOutcome => ({ error }),
      );
    await kill;
    return { outcome, killed: kill !== undefined };
  } finally {
    client.close();
  }
}

const BACKENDS = ['file', 'nats'] as const;

for (const backend of BACKENDS) {
  describe(`server killed during an ingest (${backend} log)`, () => {
    const document = manual('Aran Islands Ferry Manual', 40);
    let logDir: string;
    let nats: NatsCluster | undefined;
    let servers: ServerProcess[] = [];
    let reference: IngestResult;

    before(async () => {
      logDir = await mkdtemp(join(tmpdir(), 'streamcluster-log-'));
      let flags = ['--log-dir', logDir];
      if (backend === 'nats') {
        // A small max_payload splits the document's record into several parts, so a kill
        // during the append can also fall between two parts of one record.
        nats = await startNatsServer({ maxPayloadBytes: 96 * 1024 });
        flags = ['--log', 'nats', '--nats-url', nats.urls[0]!];
      }
      // One at a time: three model loads at once on a small machine can take minutes.
      for (const name of ['victim', 'survivor-1', 'survivor-2']) {
        servers.push(await startServerProcess(name, flags));
      }
      await Promise.all(servers.map((server) => waitForReady(server)));

      // A clean ingest gives the chunk count a whole document has; deleting it restores the
      // empty state the killed ingests start from.
      const [, survivor] = servers;
      reference = await withClient(survivor!, (client) =>
        client.ingest(document, { name: 'manual.txt' }),
      );
      await withClient(survivor!, (client) => client.deleteDocument(reference.documentId));
      await waitForConvergence(servers);
    });

    after(async () => {
      await Promise.allSettled(servers.map((server) => server.destroy()));
      servers = [];
      await nats?.destroy();
      if (logDir) await rm(logDir, { recursive: true, force: true });
    });

    const cases = [
      {
        moment: 'in the middle of embedding',
        killWhen: (stage: string, done: number, total: number) => stage === 'embed' && done < total,
        mustBeStored: false,
      },
      {
        moment: 'as the record is appended',
        killWhen: (stage: string, done: number, total: number) =>
          stage === 'embed' && done === total,
        mustBeStored: false,
      },
      {
        // The index stage is reported after the append was acknowledged and applied locally.
        moment: 'after the record is stored',
        killWhen: (stage: string) => stage === 'index',
        mustBeStored: true,
      },
    ];

    for (const { moment, killWhen, mustBeStored } of cases) {
      it(`leaves the document whole or absent when killed ${moment}`, async (t) => {
        const [victim, ...survivors] = servers as [ServerProcess, ...ServerProcess[]];
        assert.ok(reference.chunks > 32, 'the document needs several embedding batches');

        const { outcome, killed } = await ingestAndKill(victim, document, 'manual.txt', killWhen);
        assert.ok(killed, `the victim was killed ${moment}`);
        await waitForConvergence(survivors);

        const states = await Promise.all(survivors.map(indexState));
        const seen = 'result' in outcome ? 'completed' : `failed (${outcome.error.message})`;
        t.diagnostic(`ingest ${seen}; survivors hold ${states[0]!.documents} documents`);
        for (const [i, state] of states.entries()) {
          const whole = state.documents === 1 && state.chunks === reference.chunks;
          const absent = state.documents === 0 && state.chunks === 0;
          assert.ok(whole || absent, `survivor ${i + 1} holds ${JSON.stringify(state)}`);
        }
        assert.deepEqual(states[1], states[0], 'both survivors hold the same index');
        if (mustBeStored)
          assert.equal(states[0]!.documents, 1, 'a stored record is on every survivor');
        if ('result' in outcome) {
          assert.equal(outcome.result.chunks, reference.chunks);
          assert.equal(states[0]!.documents, 1, 'a completed ingest is on every survivor');
        } else {
          assert.ok(outcome.error instanceof StreamClusterClientError, String(outcome.error));
        }

        // The restarted victim replays the log into the same state.
        await victim.start();
        await waitForReady(victim);
        await waitForConvergence(servers);
        assert.deepEqual(await indexState(victim), states[0]);

        // Ingesting the document again works on any server, whole or absent before.
        const again = await withClient(survivors[0]!, (client) =>
          client.ingest(document, { name: 'manual.txt' }),
        );
        assert.equal(again.chunks, reference.chunks);
        await waitForConvergence(servers);
        for (const server of servers) {
          const state = await indexState(server);
          assert.equal(state.documents, 1, `${server.name} holds the document`);
          assert.equal(state.chunks, reference.chunks, `${server.name} holds every chunk`);
        }
        await withClient(survivors[0]!, (client) => client.deleteDocument(reference.documentId));
        await waitForConvergence(servers);
      });
    }
  });
}

describe('stream servers while every NATS node is stopped', () => {
  let nats: NatsCluster;
  let servers: ServerProcess[] = [];

  before(async () => {
    nats = await startNatsServer();
    const flags = ['--log', 'nats', '--nats-url', nats.urls[0]!];
    for (const name of ['outage-a', 'outage-b']) {
      servers.push(await startServerProcess(name, flags));
    }
    await Promise.all(servers.map((server) => waitForReady(server)));
  });

  after(async () => {
    await Promise.allSettled(servers.map((server) => server.destroy()));
    servers = [];
    await nats?.destroy();
  });

  it('keeps search and ask, fails ingest, then catches up', async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const before = await withClient(a, (client) =>
      client.ingest(manual('Inishmore Bicycle Hire', 2), { name: 'bicycles.txt' }),
    );
    await waitForConvergence(servers);

    await nats.servers[0]!.stop();
    for (const server of servers) {
      await waitUntil(
        `${server.name} to report the log unavailable`,
        async () => (await server.stats()).log === 'unavailable',
      );
      const readyz = await server.get('/readyz');
      assert.equal(readyz.status, 200, `${server.name} stays ready: ${readyz.body}`);
      assert.match(readyz.body, /^ready; log unavailable: /);
      const metrics = (await server.get('/metrics')).body;
      assert.match(metrics, /^streamcluster_replication_log_available 0$/m);
    }

    const failed = await withClient(a, (client) =>
      client.ingest(manual('Inisheer Lighthouse Tours', 2), { name: 'lighthouse.txt' }),
    ).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(failed instanceof StreamClusterClientError, `ingest failed: ${String(failed)}`);
    assert.equal(failed.code, 'LOG_UNAVAILABLE');
    assert.match(failed.message, /NATS/);

    const { hits } = await withClient(b, (client) =>
      client.search('where are bicycles for hire?', { k: 1 }),
    );
    assert.equal(hits[0]?.documentId, before.documentId, 'search answers from the local index');
    const events = await withClient(a, async (client) => {
      const collected: AnswerEvent[] = [];
      for await (const event of client.ask('When does the pier office open?')) {
        collected.push(event);
      }
      return collected;
    });
    assert.equal(events[0]?.type, 'answer.retrieved');
    assert.equal(events.at(-1)?.type, 'answer.done', 'ask answers from the local index');

    await nats.servers[0]!.start();
    for (const server of servers) {
      await waitUntil(
        `${server.name} to report the log available`,
        async () => (await server.stats()).log === 'available',
      );
      assert.equal((await server.get('/readyz')).body, 'ready\n');
    }

    // An ingest through one server after the outage reaches the other one.
    const afterOutage = await withClient(b, (client) =>
      client.ingest(manual('Inisheer Lighthouse Tours', 2), { name: 'lighthouse.txt' }),
    );
    const found = await withClient(a, (client) =>
      client.search('lighthouse tours', { k: 1, minSeq: afterOutage.seq }),
    );
    assert.equal(found.hits[0]?.documentId, afterOutage.documentId);
    await waitForConvergence(servers);
    for (const server of servers) {
      const stats = await server.stats();
      assert.equal(stats.documents, 2, `${server.name} holds both documents`);
      const metrics = (await server.get('/metrics')).body;
      assert.match(metrics, /^streamcluster_replication_lag_records 0$/m);
      assert.match(
        metrics,
        new RegExp(`^streamcluster_replication_log_head_seq ${stats.logHeadSeq}$`, 'm'),
      );
    }
  });
});

/** Resolves with the error `work` rejects with, or undefined when it succeeds. */
async function failureOf(work: Promise<unknown>): Promise<unknown> {
  return work.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('stream servers started while every NATS node is stopped', () => {
  let nats: NatsCluster;
  let flags: string[];
  let servers: ServerProcess[] = [];

  before(async () => {
    nats = await startNatsServer();
    flags = ['--log', 'nats', '--nats-url', nats.urls[0]!];
  });

  after(async () => {
    await Promise.allSettled(servers.map((server) => server.destroy()));
    servers = [];
    await nats?.destroy();
  });

  it('serves the snapshot, fails ingest, then catches up', { timeout: 600_000 }, async () => {
    const url = nats.urls[0]!;
    const restarted = await startServerProcess('restarted', flags);
    servers.push(restarted);
    const writer = await startServerProcess('writer', flags);
    servers.push(writer);
    await Promise.all(servers.map((server) => waitForReady(server)));
    const first = await withClient(restarted, (client) =>
      client.ingest(manual('Inishmore Bicycle Hire', 2), { name: 'bicycles.txt' }),
    );
    await waitForConvergence(servers);
    // SIGTERM drains and writes a final snapshot; the second document comes after it.
    await restarted.kill('SIGTERM');
    const second = await withClient(writer, (client) =>
      client.ingest(manual('Inisheer Lighthouse Tours', 2), { name: 'lighthouse.txt' }),
    );
    await writer.kill('SIGTERM');
    await nats.servers[0]!.stop();

    await restarted.start();
    await waitUntil(
      'the restarted server to report the log unavailable',
      async () => (await restarted.stats()).log === 'unavailable',
    );
    const stale = await restarted.stats();
    assert.equal(stale.lastAppliedSeq, first.seq, 'the snapshot was loaded');
    assert.equal(stale.documents, 1);
    assert.equal(stale.ready, true);
    const readyz = await restarted.get('/readyz');
    assert.equal(readyz.status, 200, readyz.body);
    assert.match(readyz.body, /^ready; log unavailable since start: /);
    assert.ok(readyz.body.includes(url), `the body names ${url}: ${readyz.body}`);
    assert.match(
      (await restarted.get('/metrics')).body,
      /^streamcluster_replication_log_available 0$/m,
    );

    const { hits } = await withClient(restarted, (client) =>
      client.search('where are bicycles for hire?', { k: 1 }),
    );
    assert.equal(hits[0]?.documentId, first.documentId, 'search answers from the snapshot');
    const events = await withClient(restarted, async (client) => {
      const collected: AnswerEvent[] = [];
      for await (const event of client.ask('When does the pier office open?')) {
        collected.push(event);
      }
      return collected;
    });
    assert.equal(events.at(-1)?.type, 'answer.done', 'ask answers from the snapshot');
    const ingest = await failureOf(
      withClient(restarted, (client) =>
        client.ingest(manual('Inishmaan Walking Routes', 2), { name: 'walks.txt' }),
      ),
    );
    assert.ok(ingest instanceof StreamClusterClientError, `ingest failed: ${String(ingest)}`);
    assert.equal(ingest.code, 'LOG_UNAVAILABLE');
    assert.ok(ingest.message.includes(url), `the error names ${url}: ${ingest.message}`);
    assert.match(ingest.message, /check that the NATS servers are running and reachable/);
    const deletion = await failureOf(
      withClient(restarted, (client) => client.deleteDocument(first.documentId)),
    );
    assert.ok(deletion instanceof StreamClusterClientError, `delete failed: ${String(deletion)}`);
    assert.equal(deletion.code, 'LOG_UNAVAILABLE');

    // A server with an empty index has nothing to serve until it reaches the log.
    const empty = await startServerProcess('empty', flags);
    servers.push(empty);
    await waitUntil(
      'the empty server to report the log unavailable',
      async () => (await empty.stats()).log === 'unavailable',
    );
    const notReady = await empty.get('/readyz');
    assert.equal(notReady.status, 503, notReady.body);
    assert.match(notReady.body, /^not ready: log unavailable since start and the index is empty: /);
    assert.equal((await empty.stats()).ready, false);

    await nats.servers[0]!.start();
    for (const server of [restarted, empty]) await waitForReady(server, 120_000);
    await waitForConvergence([restarted, empty]);
    for (const server of [restarted, empty]) {
      const stats = await server.stats();
      assert.equal(stats.log, 'available', `${server.name} reached the log`);
      assert.equal(stats.documents, 2, `${server.name} applied the document of the outage`);
      assert.equal(stats.lastAppliedSeq, second.seq);
      assert.equal((await server.get('/readyz')).body, 'ready\n');
    }
    const replayed = new RegExp(`"fromSeq":${first.seq + 1},.*"msg":"applying the log"`);
    assert.match(restarted.output(), replayed, 'the restarted server replays from its snapshot');

    const third = await withClient(restarted, (client) =>
      client.ingest(manual('Inishmaan Walking Routes', 2), { name: 'walks.txt' }),
    );
    const found = await withClient(empty, (client) =>
      client.search('walking routes', { k: 1, minSeq: third.seq }),
    );
    assert.equal(found.hits[0]?.documentId, third.documentId, 'ingest works after the outage');
  });

  it('stops at startup on invalid NATS settings', async () => {
    const invalid = ['--log', 'nats', '--nats-url', 'nats://exa mple:4222', '--nats-stream', 'a.b'];
    const failure = await failureOf(startServerProcess('misconfigured', invalid));

    assert.ok(failure instanceof Error, 'the server did not start');
    assert.match(failure.message, /misconfigured exited while starting/);
    assert.match(failure.message, /invalid arguments:/);
    assert.match(failure.message, /--nats-url has invalid URLs: "nats:\/\/exa mple:4222" must be/);
    assert.match(failure.message, /--nats-stream must not contain "\.", .*, got "a\.b"/);
  });
});

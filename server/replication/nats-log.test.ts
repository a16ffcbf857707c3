import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

import { startNatsCluster, startNatsServer, type NatsCluster } from '../../test/support/nats.js';
import { makeDocumentRecord } from '../../test/support/records.js';
import { encodeRecord } from './codec.js';
import { NatsLog, type NatsLogOptions } from './nats-log.js';
import { partHeaders } from './nats-parts.js';
import type { DocumentLog, LogEntry } from './types.js';

/** Reads entries from `fromSeq` until the entry with `untilSeq` arrives. */
async function readUntil(log: DocumentLog, fromSeq: number, untilSeq: number): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  for await (const entry of log.read(fromSeq)) {
    entries.push(entry);
    if (entry.seq >= untilSeq) break;
  }
  return entries;
}

/** Every log a test opened, closed after the suite even when the test failed midway. */
const openLogs: NatsLog[] = [];

async function connectLog(options: NatsLogOptions): Promise<NatsLog> {
  const log = await NatsLog.connect(options);
  openLogs.push(log);
  return log;
}

/** Connects once the cluster can place the stream again, as a server starting after an outage would. */
async function connectLogWithRetry(options: NatsLogOptions): Promise<NatsLog> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await connectLog(options);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

async function closeLogs(): Promise<void> {
  await Promise.all(openLogs.splice(0).map((log) => log.close()));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

describe('nats log on one server', () => {
  let nats: NatsCluster;
  let stream = 0;
  before(async () => {
    nats = await startNatsServer({ maxPayloadBytes: 1024 * 1024 });
  });
  after(async () => {
    await closeLogs();
    await nats.destroy();
  });
  const open = (options: { abandonedRecordTimeoutMs?: number } = {}) =>
    connectLog({
      servers: nats.urls,
      stream: `LOG${++stream}`,
      subject: `log.${stream}`,
      ...options,
    });

  test('nats log orders concurrent appenders without gaps', async () => {
    const first = await open();
    const second = await connectLog({
      servers: nats.urls,
      stream: first.stream,
      subject: first.subject,
    });
    const appends = range(0, 19).map((i) =>
      (i % 2 ? first : second).append({ type: 'document.delete', documentId: `d${i}` }),
    );

    const seqs = await Promise.all(appends);
    const entries = await readUntil(first, 1, 20);

    assert.deepEqual(
      [...seqs].sort((a, b) => a - b),
      range(1, 20),
    );
    assert.deepEqual(
      entries.map((entry) => entry.seq),
      range(1, 20),
    );
    for (const [i, seq] of seqs.entries()) {
      assert.deepEqual(entries[seq - 1]!.record, { type: 'document.delete', documentId: `d${i}` });
    }
    assert.equal(await first.lastSeq(), 20);
    await Promise.all([first.close(), second.close()]);
  });

  test('nats log splits records above max_payload', async () => {
    const log = await open();
    const big = makeDocumentRecord({ name: 'big', chunkCount: 1200 });
    await log.append({ type: 'document.delete', documentId: 'before' });

    const seq = await log.append(big);
    await log.append({ type: 'document.delete', documentId: 'after' });
    const entries = await readUntil(log, 2, 3);

    assert.ok(encodeRecord(big).byteLength > 2 * 1024 * 1024);
    assert.equal(seq, 2);
    assert.deepEqual(
      entries.map((entry) => entry.seq),
      [2, 3],
    );
    assert.deepEqual(entries[0]!.record, big);
    await log.close();
  });

  test('nats log follower gets a large record after many small', async () => {
    const log = await open();
    const delivered = new Map<number, number>();
    const reading = new AbortController();
    const follower = (async () => {
      for await (const entry of log.read(1, { signal: reading.signal })) {
        delivered.set(entry.seq, performance.now());
      }
    })();
    // Small records first, as conversation turns are, while the follower keeps up.
    for (const i of range(1, 300)) {
      await log.append({ type: 'document.delete', documentId: `small-${i}` });
    }
    const appendedAt = performance.now();
    const seq = await log.append(makeDocumentRecord({ name: 'after-small', chunkCount: 60 }));

    // Normal delivery takes milliseconds; a stalled reader waits for missed heartbeats (30 s).
    while (!delivered.has(seq) && performance.now() - appendedAt < 10_000) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    reading.abort();
    await follower;
    assert.ok(delivered.has(seq), `record ${seq} was not delivered within 10 s`);
    await log.close();
  });

  test('nats log reuses the sequence of an abandoned record', async () => {
    const log = await open({ abandonedRecordTimeoutMs: 200 });
    await log.append({ type: 'document.delete', documentId: 'one' });
    const nc = await connect({ servers: nats.urls });
    const info = { seq: 2, recordId: 'crashed', part: 1, parts: 2 };
    await jetstream(nc).publish(log.subject, new Uint8Array(10), { headers: partHeaders(info) });
    await nc.close();

    const seq = await log.append({ type: 'document.delete', documentId: 'two' });
    const entries = await readUntil(log, 1, 2);

    assert.equal(seq, 2);
    assert.deepEqual(
      entries.map((entry) => entry.record),
      [
        { type: 'document.delete', documentId: 'one' },
        { type: 'document.delete', documentId: 'two' },
      ],
    );
    await log.close();
  });

  test('jetstream drops a retried part as a duplicate', async () => {
    const log = await open();
    const nc = await connect({ servers: nats.urls });
    const js = jetstream(nc);
    const options = { msgID: 'retried.1', expect: { lastSubjectSequence: 0 } };

    const first = await js.publish(log.subject, new Uint8Array(1), options);
    await js.publish(log.subject, new Uint8Array(1), { msgID: 'other.1' });
    const retry = await js.publish(log.subject, new Uint8Array(1), options);

    assert.equal(retry.duplicate, true);
    assert.equal(retry.seq, first.seq);
    await nc.close();
    await log.close();
  });

  test('nats log rejects a subject another stream owns', async () => {
    const log = await open();
    await assert.rejects(
      NatsLog.connect({ servers: nats.urls, stream: 'OTHER', subject: log.subject }),
      { code: 'INVALID_ARGUMENT', message: /stream OTHER with subject log\.\d+ cannot be created/ },
    );
    await log.close();
  });

  test('nats log fails fast when no server answers', async () => {
    const started = Date.now();
    await assert.rejects(
      NatsLog.connect({ servers: 'nats://127.0.0.1:1', connectTimeoutMs: 500 }),
      { code: 'LOG_UNAVAILABLE', message: /cannot connect to NATS at nats:\/\/127\.0\.0\.1:1/ },
    );
    assert.ok(Date.now() - started < 3000);
  });
});

describe('nats log on a three-node cluster', () => {
  let nats: NatsCluster;
  before(async () => {
    nats = await startNatsCluster(3);
  });
  after(async () => {
    await closeLogs();
    await nats.destroy();
  });

  test('nats log loses nothing when a node dies', { timeout: 120_000 }, async () => {
    const log = await connectLog({
      servers: nats.urls,
      stream: 'R3',
      replicas: 3,
    });
    const acked = new Map<number, string>();
    for (let i = 0; i < 40; i++) {
      if (i === 15) await killStreamLeader(nats, log);
      const record = makeDocumentRecord({ name: `r3-${i}`, chunkCount: 20 });
      acked.set(await log.append(record), record.document.id);
    }
    const entries = await readUntil(log, 1, 40);

    assert.deepEqual([...acked.keys()], range(1, 40));
    for (const entry of entries) {
      assert.equal(
        entry.record.type === 'document.put' && entry.record.document.id,
        acked.get(entry.seq),
      );
    }
    await log.close();
    await Promise.all(nats.servers.map((server) => server.start()));
  });

  test('nats log is unavailable while every node is down', { timeout: 120_000 }, async () => {
    const log = await connectLogWithRetry({
      servers: nats.urls,
      stream: 'OUTAGE',
      subject: 'outage',
      replicas: 3,
    });
    // A new three-replica stream may still be electing its leader, so the first append retries.
    await appendWithRetry(log, { type: 'document.delete', documentId: 'before' });
    const reader = readUntil(log, 1, 2);

    await Promise.all(nats.servers.map((server) => server.stop()));
    const started = Date.now();
    await assert.rejects(log.append({ type: 'document.delete', documentId: 'during' }), {
      code: 'LOG_UNAVAILABLE',
    });
    const failedAfterMs = Date.now() - started;
    await Promise.all(nats.servers.map((server) => server.start()));
    const seq = await appendWithRetry(log, { type: 'document.delete', documentId: 'after' });
    const entries = await reader;

    assert.ok(failedAfterMs < 4000, `append failed after ${failedAfterMs} ms`);
    assert.equal(seq, 2);
    assert.deepEqual(
      entries.map((entry) => entry.record),
      [
        { type: 'document.delete', documentId: 'before' },
        { type: 'document.delete', documentId: 'after' },
      ],
    );
    await log.close();
  });
});

async function killStreamLeader(nats: NatsCluster, log: NatsLog): Promise<void> {
  const jsm = await jetstreamManager(log.connection);
  const leader = (await jsm.streams.info(log.stream)).cluster?.leader;
  const server = nats.servers.find((candidate) => candidate.name === leader);
  assert.ok(server, `stream leader ${leader} is none of the test servers`);
  await server.kill();
}

/** Appends until the cluster has elected leaders again after a restart. */
async function appendWithRetry(log: NatsLog, record: Parameters<NatsLog['append']>[0]) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await log.append(record);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

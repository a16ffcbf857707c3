import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { jetstreamManager } from '@nats-io/jetstream';

import { startNatsServer, type NatsCluster } from '../../test/support/nats.js';
import { DeferredNatsLog, openNatsLog, type OpenNatsLogOptions } from './deferred-nats-log.js';
import { NatsLog } from './nats-log.js';
import type { DocumentLog, LogEntry } from './types.js';

/** Every log a test opened, closed after the suite even when the test failed midway. */
const openLogs: DocumentLog[] = [];

async function open(options: OpenNatsLogOptions): Promise<DocumentLog> {
  const log = await openNatsLog({ retryInitialDelayMs: 100, retryMaxDelayMs: 400, ...options });
  openLogs.push(log);
  return log;
}

async function readUntil(log: DocumentLog, fromSeq: number, untilSeq: number): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  for await (const entry of log.read(fromSeq)) {
    entries.push(entry);
    if (entry.seq >= untilSeq) break;
  }
  return entries;
}

/** Calls `work` every 100 ms until it resolves; rethrows its last error after 30 s. */
async function eventually<T>(work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await work();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}

describe('nats log opened while NATS is down', () => {
  let nats: NatsCluster;
  let url: string;
  before(async () => {
    nats = await startNatsServer();
    url = nats.urls[0]!;
    await nats.servers[0]!.stop();
  });
  after(async () => {
    await Promise.allSettled(openLogs.splice(0).map((log) => log.close()));
    await nats.destroy();
  });

  test('deferred log connects once NATS starts', { timeout: 60_000 }, async () => {
    const started = Date.now();
    const log = await open({ servers: url, stream: 'LATE', subject: 'late' });
    const openedAfterMs = Date.now() - started;

    assert.ok(log instanceof DeferredNatsLog, 'an unreachable NATS gives a deferred log');
    assert.ok(openedAfterMs < 4000, `opened after ${openedAfterMs} ms`);
    await assert.rejects(log.append({ type: 'document.delete', documentId: 'during' }), {
      code: 'LOG_UNAVAILABLE',
      message: new RegExp(
        `^no connection to the log since this server started: cannot connect to NATS at ` +
          `${url}: .*check that the NATS servers are running and reachable`,
      ),
    });
    await assert.rejects(log.lastSeq(), { code: 'LOG_UNAVAILABLE' });
    const reader = readUntil(log, 1, 2);

    await nats.servers[0]!.start();
    assert.equal(await eventually(() => log.lastSeq()), 0);
    assert.ok(log.connected);
    const other = await NatsLog.connect({ servers: url, stream: 'LATE', subject: 'late' });
    openLogs.push(other);
    const jsm = await jetstreamManager(other.connection);
    const info = await jsm.streams.info('LATE');
    await other.append({ type: 'document.delete', documentId: 'from another server' });
    const seq = await log.append({ type: 'document.delete', documentId: 'after' });

    assert.deepEqual(info.config.subjects, ['late'], 'the deferred log created the stream');
    assert.equal(seq, 2);
    assert.deepEqual(
      (await reader).map((entry) => entry.record),
      [
        { type: 'document.delete', documentId: 'from another server' },
        { type: 'document.delete', documentId: 'after' },
      ],
    );
    assert.equal(await log.lastSeq(), 2);
  });
});

describe('nats log opened with invalid settings', () => {
  const unreachable = 'nats://127.0.0.1:1';

  test('nats log rejects an invalid stream name without connecting', async () => {
    const started = Date.now();
    await assert.rejects(openNatsLog({ servers: unreachable, stream: 'bad.name' }), {
      code: 'INVALID_ARGUMENT',
      message: /^NATS stream name must not contain .*, got "bad\.name"$/,
    });
    assert.ok(Date.now() - started < 500, 'no connection was tried');
  });

  test('nats log rejects an invalid URL without connecting', async () => {
    await assert.rejects(openNatsLog({ servers: ['nats://exa mple:4222'] }), {
      code: 'INVALID_ARGUMENT',
      message: /^NATS server URL must be nats:\/\/host\[:port\].*, got "nats:\/\/exa mple:4222"$/,
    });
    await assert.rejects(NatsLog.connect({ servers: 'ws://127.0.0.1:1' }), {
      code: 'INVALID_ARGUMENT',
    });
  });
});

describe('nats log stream conflicts', () => {
  let nats: NatsCluster;
  let owner: NatsLog;
  before(async () => {
    nats = await startNatsServer();
    owner = await NatsLog.connect({ servers: nats.urls, stream: 'OWNER', subject: 'owned' });
  });
  after(async () => {
    await Promise.allSettled(openLogs.splice(0).map((log) => log.close()));
    await owner.close();
    await nats.destroy();
  });

  test('nats log rejects a conflicting stream at startup', async () => {
    await assert.rejects(openNatsLog({ servers: nats.urls, stream: 'MINE', subject: 'owned' }), {
      code: 'INVALID_ARGUMENT',
      message: /stream MINE with subject owned cannot be created/,
    });
  });

  test('deferred log reports a conflict found after connecting', { timeout: 60_000 }, async () => {
    await nats.servers[0]!.stop();
    const log = await open({ servers: nats.urls, stream: 'MINE', subject: 'owned' });
    await nats.servers[0]!.start();

    const error = await eventually(async () => {
      const failure = await log.lastSeq().then(
        () => undefined,
        (caught: Error) => caught,
      );
      if (!failure?.message.includes('cannot be created')) throw new Error('no conflict yet');
      return failure;
    });

    assert.equal((error as Error & { code?: string }).code, 'LOG_UNAVAILABLE');
    assert.match(
      error.message,
      /^the log stream at NATS .* cannot be used, so ingest and delete fail: stream MINE/,
    );
    assert.equal((log as DeferredNatsLog).connected, false);
  });
});

describe('deferred nats log closing', () => {
  test('close ends readers waiting for the connection', async () => {
    const log = await openNatsLog({ servers: 'nats://127.0.0.1:1', connectTimeoutMs: 500 });
    const stop = new AbortController();
    const signalled = readUntil(log, 1, 1);
    const aborted = (async () => {
      const entries: LogEntry[] = [];
      for await (const entry of log.read(1, { signal: stop.signal })) entries.push(entry);
      return entries;
    })();

    stop.abort();
    assert.deepEqual(await aborted, [], 'an aborted signal ends its reader');
    await log.close();
    assert.deepEqual(await signalled, [], 'closing ends every reader');
    await assert.rejects(log.append({ type: 'document.delete', documentId: 'x' }), {
      code: 'LOG_UNAVAILABLE',
      message: /is closed/,
    });
  });
});

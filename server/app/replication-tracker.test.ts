import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { silentLogger } from '../core/logger.js';
import { FileLog } from '../replication/file-log.js';
import type { DocumentLog } from '../replication/types.js';
import { makeDocumentRecord } from '../../test/support/records.js';
import { ReplicationTracker } from './replication-tracker.js';

async function eventually(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('ReplicationTracker', () => {
  let directory: string;
  let log: FileLog;
  let otherServer: FileLog;

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'tracker-'));
    log = await FileLog.open({ directory });
    otherServer = await FileLog.open({ directory });
  });

  after(async () => {
    await Promise.all([log.close(), otherServer.close()]);
    await rm(directory, { recursive: true, force: true });
  });

  it('follows appends of another server and gates readiness on the lag', async () => {
    let applied = 0;
    const tracker = new ReplicationTracker({
      log,
      appliedSeq: () => applied,
      logger: silentLogger,
      headPollIntervalMs: 50,
      readyLagRecords: 2,
    });
    assert.equal(tracker.readiness().ready, false, 'not ready before the head was read');
    const stop = new AbortController();
    const running = tracker.run(stop.signal);
    try {
      await eventually('the first head read', () => tracker.readiness().ready);
      assert.deepEqual(tracker.status(), { logHeadSeq: 0, lagRecords: 0, log: 'available' });

      for (let i = 0; i < 5; i++) {
        await otherServer.append(makeDocumentRecord({ name: `lag-${i}`, chunkCount: 1 }));
      }
      await eventually('the new head', () => tracker.status().logHeadSeq === 5);
      assert.equal(tracker.status().lagRecords, 5);
      assert.deepEqual(tracker.readiness(), {
        ready: false,
        reason: 'catching up: 5 log records behind, ready at 2 or fewer',
      });

      applied = 3;
      assert.equal(tracker.status().lagRecords, 2);
      assert.deepEqual(tracker.readiness(), { ready: true });
      applied = 5;
      tracker.applied(5);
      assert.equal(tracker.status().lagRecords, 0);
    } finally {
      stop.abort();
      await running;
    }
  });

  it('stays ready with a reason while the log is unavailable', async () => {
    let failing = false;
    const flaky: Pick<DocumentLog, 'lastSeq'> = {
      lastSeq: () => (failing ? Promise.reject(new Error('no NATS server')) : log.lastSeq()),
    };
    const tracker = new ReplicationTracker({
      log: flaky,
      appliedSeq: () => 5,
      logger: silentLogger,
    });
    await tracker.refreshHead();
    assert.deepEqual(tracker.readiness(), { ready: true });

    failing = true;
    await tracker.refreshHead();
    assert.equal(tracker.status().log, 'unavailable');
    const readiness = tracker.readiness();
    assert.equal(readiness.ready, true);
    assert.match(readiness.reason ?? '', /^log unavailable: no NATS server; /);

    failing = false;
    await tracker.refreshHead();
    assert.equal(tracker.status().log, 'available');
    assert.deepEqual(tracker.readiness(), { ready: true });
  });

  it('is not ready with an empty index when the log was never reached', async () => {
    const unreachable: Pick<DocumentLog, 'lastSeq'> = {
      lastSeq: () => Promise.reject(new Error('no NATS server')),
    };
    const tracker = new ReplicationTracker({
      log: unreachable,
      appliedSeq: () => 0,
      logger: silentLogger,
    });
    assert.deepEqual(tracker.readiness(), {
      ready: false,
      reason: 'log head not read yet: the first read has not finished',
    });

    await tracker.refreshHead();
    assert.equal(tracker.status().log, 'unavailable');
    assert.deepEqual(tracker.readiness(), {
      ready: false,
      reason: 'log unavailable since start and the index is empty: no NATS server',
    });
  });

  it('serves a snapshot when the log was never reached', async () => {
    let reachable = false;
    const log: Pick<DocumentLog, 'lastSeq'> = {
      lastSeq: () =>
        reachable ? Promise.resolve(200) : Promise.reject(new Error('no NATS server')),
    };
    const tracker = new ReplicationTracker({
      log,
      appliedSeq: () => 7,
      logger: silentLogger,
      readyLagRecords: 100,
    });
    await tracker.refreshHead();
    assert.deepEqual(tracker.status(), { logHeadSeq: 0, lagRecords: 0, log: 'unavailable' });
    assert.deepEqual(tracker.readiness(), {
      ready: true,
      reason:
        'log unavailable since start: no NATS server; search and ask use the local index ' +
        'at sequence 7 with an unknown lag, ingest fails',
    });

    // Once the head is known, the lag decides as for any other server.
    reachable = true;
    await tracker.refreshHead();
    assert.deepEqual(tracker.status(), { logHeadSeq: 200, lagRecords: 193, log: 'available' });
    assert.deepEqual(tracker.readiness(), {
      ready: false,
      reason: 'catching up: 193 log records behind, ready at 100 or fewer',
    });
  });

  it('times out a head read that hangs', async () => {
    const hanging: Pick<DocumentLog, 'lastSeq'> = { lastSeq: () => new Promise(() => {}) };
    const tracker = new ReplicationTracker({
      log: hanging,
      appliedSeq: () => 0,
      logger: silentLogger,
      headTimeoutMs: 50,
    });
    await tracker.refreshHead();
    assert.equal(tracker.status().log, 'unavailable');
    assert.match(tracker.readiness().reason ?? '', /reading the log head timed out after 50 ms/);
  });

  it('fails writes at once while the log is unreachable', async () => {
    let reachable = false;
    const log: Pick<DocumentLog, 'lastSeq'> = {
      lastSeq: () => (reachable ? Promise.resolve(3) : Promise.reject(new Error('no route'))),
    };
    const tracker = new ReplicationTracker({ log, appliedSeq: () => 3, logger: silentLogger });
    assert.equal(tracker.unavailableForWrites(), undefined);

    await tracker.refreshHead();
    const error = tracker.unavailableForWrites();
    assert.equal(error?.code, 'LOG_UNAVAILABLE');
    assert.match(error?.message ?? '', /replicated log is unavailable .*: no route$/);

    reachable = true;
    await tracker.refreshHead();
    assert.equal(tracker.unavailableForWrites(), undefined);
  });
});

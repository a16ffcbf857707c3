import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DocumentStore } from './document-store.js';
import { SnapshotError } from './errors.js';
import { entry, putRecord, row, seededRandom } from './testing/fixtures.js';

const DIMENSION = 384;
const CHUNKS_PER_DOCUMENT = 40;
const LOOP = join(dirname(fileURLToPath(import.meta.url)), 'testing', 'snapshot-loop.ts');

/** Runs the snapshot loop, kills it with SIGKILL `killAfterMs` after its first acknowledgement. */
async function runAndKill(dataDir: string, killAfterMs: number): Promise<number> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', LOOP, dataDir, String(DIMENSION), String(CHUNKS_PER_DOCUMENT)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let acknowledged = 0;
  for await (const line of createInterface({ input: child.stdout })) {
    const message = JSON.parse(line) as { acknowledged?: number };
    if (message.acknowledged === undefined) continue;
    if (acknowledged === 0) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    acknowledged = message.acknowledged;
  }
  await exited;
  assert.equal(child.signalCode, 'SIGKILL');
  return acknowledged;
}

describe('snapshot durability', () => {
  it('loads a complete generation after every SIGKILL', async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'streamcluster-crash-'));
    const random = seededRandom(42);
    let unfinished = 0;
    try {
      for (let round = 0; round < 6; round++) {
        const acknowledged = await runAndKill(dataDir, Math.floor(random() * 400));
        if ((await readdir(dataDir)).some((name) => name.startsWith('.tmp-'))) unfinished++;
        const store = await DocumentStore.open({ dimension: DIMENSION, dataDir });
        try {
          assert.ok(
            store.lastAppliedSeq >= acknowledged,
            `seq ${store.lastAppliedSeq} lost acknowledged ${acknowledged}`,
          );
          // Every round added one document and one conversation at two seqs, and a snapshot
          // followed each round, so a complete generation contains seq / 2 of each.
          const rounds = store.lastAppliedSeq / 2;
          assert.ok(Number.isInteger(rounds), `seq ${store.lastAppliedSeq} ends a round`);
          assert.equal(store.documentCount, rounds);
          assert.equal(store.chunkCount, rounds * CHUNKS_PER_DOCUMENT);
          assert.equal(store.conversationCount, rounds);
          const newest = putRecord(`doc${rounds}`, CHUNKS_PER_DOCUMENT, DIMENSION, rounds);
          const [hit] = await store.search(row(newest.vectors, 7, DIMENSION), 1);
          assert.equal(hit?.chunk.id, newest.chunks[7]!.id);
          const history = await store.conversationHistory(`c${rounds}`);
          assert.deepEqual(
            history.map((turn) => turn.text),
            [`turn ${rounds}`],
          );
        } finally {
          await store.close();
        }
      }
      t.diagnostic(`${unfinished} of 6 kills left an unfinished generation behind`);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('snapshot on a full disk', () => {
  let mountPoint: string;
  let mounted = false;

  before(async () => {
    mountPoint = await mkdtemp(join(tmpdir(), 'streamcluster-full-'));
    const result = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint]);
    mounted = result.status === 0;
  });

  after(async () => {
    if (mounted) spawnSync('umount', [mountPoint]);
    await rm(mountPoint, { recursive: true, force: true });
  });

  it('keeps the previous generation valid', async (t) => {
    if (!mounted) {
      t.skip('mounting a 1 MiB tmpfs needs root');
      return;
    }
    const dataDir = join(mountPoint, 'data');
    await mkdir(dataDir);
    const store = await DocumentStore.open({ dimension: DIMENSION, dataDir });
    await store.apply(entry(1, putRecord('small', 10, DIMENSION, 1)));
    await store.snapshot();
    // 1000 chunks of 384 floats need 1.5 MiB, more than the file system holds.
    await store.apply(entry(2, putRecord('large', 1000, DIMENSION, 2)));
    await assert.rejects(store.snapshot(), (error) => {
      assert.ok(error instanceof SnapshotError);
      assert.match(error.message, /ENOSPC/);
      return true;
    });
    await store.close();

    assert.deepEqual(await readdir(dataDir), ['generation-000000000001']);
    const reopened = await DocumentStore.open({ dimension: DIMENSION, dataDir });
    try {
      assert.equal(reopened.lastAppliedSeq, 1);
      assert.equal(reopened.chunkCount, 10);
    } finally {
      await reopened.close();
    }
  });
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { FileLock } from './file-lock.js';

let directory: string;

before(async () => {
  directory = await mkdtemp(join(tmpdir(), 'file-lock-'));
});

after(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}

test('file lock excludes a second holder', async () => {
  const path = join(directory, 'exclusive.lock');
  const [first, second] = [new FileLock(path), new FileLock(path, { timeoutMs: 100 })];
  await first.acquire();

  await assert.rejects(second.acquire(), {
    code: 'LOG_UNAVAILABLE',
    message: new RegExp(`still held by process ${process.pid} after 100 ms`),
  });
  await first.release();
  await second.acquire();
  await second.release();
});

test('file lock breaks the lock of a dead process', async () => {
  const path = join(directory, 'dead.lock');
  await writeFile(path, `${await deadPid()} 12345 left-by-a-crash\n`);
  const lock = new FileLock(path, { timeoutMs: 100 });

  await lock.acquire();
  await lock.release();

  assert.deepEqual(
    (await readdir(directory)).filter((name) => name.startsWith('dead')),
    [],
  );
});

test('file lock treats a recycled pid as dead', async () => {
  const path = join(directory, 'recycled.lock');
  await writeFile(path, `${process.pid} 1 older-process-with-this-pid\n`);
  const lock = new FileLock(path, { timeoutMs: 100 });

  await lock.acquire();
  await lock.release();
});

test('file lock removes drafts of dead processes', async () => {
  const path = join(directory, 'drafts.lock');
  await writeFile(`${path}.${await deadPid()}-token`, 'draft');
  await writeFile(`${path}.${process.pid}-token`, 'draft of a live process');

  await new FileLock(path).removeOrphanDrafts();

  const left = (await readdir(directory)).filter((name) => name.startsWith('drafts'));
  assert.deepEqual(left, [`drafts.lock.${process.pid}-token`]);
});

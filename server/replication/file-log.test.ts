import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFile, mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { makeDocumentRecord } from '../../test/support/records.js';
import { FileLog } from './file-log.js';
import { listSegments } from './segment.js';
import type { DocumentLog, LogEntry } from './types.js';

const writerScript = new URL('../../test/support/file-log-writer.ts', import.meta.url).pathname;
const directories: string[] = [];

after(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

async function tempDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'file-log-'));
  directories.push(directory);
  return directory;
}

/** Reads entries from `fromSeq` until the entry with `untilSeq` arrives. */
async function readUntil(log: DocumentLog, fromSeq: number, untilSeq: number): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  if (untilSeq < fromSeq) return entries;
  for await (const entry of log.read(fromSeq)) {
    entries.push(entry);
    if (entry.seq >= untilSeq) break;
  }
  return entries;
}

function documentName(entry: LogEntry): string {
  assert.equal(entry.record.type, 'document.put');
  return entry.record.document.name.replace(/\.pdf$/, '');
}

test('file log assigns gap-free sequences and reads records back', async () => {
  const directory = await tempDirectory();
  const log = await FileLog.open({ directory });
  const records = [0, 1, 2, 3, 4].map((i) =>
    makeDocumentRecord({ name: `doc-${i}`, chunkCount: 2 }),
  );

  const seqs = await Promise.all(records.map((record) => log.append(record)));
  const entries = await readUntil(log, 1, 5);

  assert.deepEqual(seqs, [1, 2, 3, 4, 5]);
  assert.deepEqual(
    entries.map((entry) => entry.seq),
    [1, 2, 3, 4, 5],
  );
  assert.deepEqual(
    entries.map((entry) => entry.record),
    records,
  );
  assert.equal(await log.lastSeq(), 5);
  await log.close();
});

test('file log rolls segments over and reopens', async () => {
  const directory = await tempDirectory();
  const log = await FileLog.open({ directory, segmentSizeBytes: 20_000 });
  for (let i = 0; i < 6; i++)
    await log.append(makeDocumentRecord({ name: `roll-${i}`, chunkCount: 4 }));
  await log.close();

  const reopened = await FileLog.open({ directory, segmentSizeBytes: 20_000 });
  const segments = await listSegments(directory);
  const seq = await reopened.append({ type: 'document.delete', documentId: 'x' });
  const entries = await readUntil(reopened, 3, 7);

  assert.ok(segments.length >= 3, `expected several segments, got ${segments.length}`);
  assert.equal(seq, 7);
  assert.deepEqual(
    entries.map((entry) => entry.seq),
    [3, 4, 5, 6, 7],
  );
  await reopened.close();
});

test('file log reader follows appends of another instance', async () => {
  const directory = await tempDirectory();
  const reader = await FileLog.open({ directory, pollIntervalMs: 5_000 });
  const writer = await FileLog.open({ directory });
  const received = readUntil(reader, 1, 3);

  for (let i = 0; i < 3; i++) await writer.append({ type: 'document.delete', documentId: `d${i}` });
  const entries = await received;

  assert.deepEqual(
    entries.map((entry) => entry.seq),
    [1, 2, 3],
  );
  assert.equal(await reader.lastSeq(), 3);
  await writer.append({ type: 'document.delete', documentId: 'd3' });
  assert.equal(await reader.lastSeq(), 4);
  await Promise.all([reader.close(), writer.close()]);
});

test('file log reader ends on abort and on close', async () => {
  const directory = await tempDirectory();
  const log = await FileLog.open({ directory });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);

  for await (const entry of log.read(1, { signal: controller.signal }))
    assert.fail(`got ${entry.seq}`);
  const reading = (async () => {
    for await (const entry of log.read(1)) assert.fail(`got ${entry.seq}`);
  })();
  await log.close();
  await reading;
});

test('file log truncates a torn tail on open', async () => {
  const directory = await tempDirectory();
  const log = await FileLog.open({ directory });
  for (let i = 0; i < 3; i++)
    await log.append(makeDocumentRecord({ name: `torn-${i}`, chunkCount: 2 }));
  await log.close();
  const [segment] = await listSegments(directory);
  const goodSize = (await stat(segment!.path)).size;
  const frame = Buffer.alloc(3000, 7);
  frame.writeUInt32LE(0x53434c47, 0);
  frame.writeUInt32LE(5000, 4);
  await appendFile(segment!.path, frame);

  const reopened = await FileLog.open({ directory });
  const sizeAfterOpen = (await stat(segment!.path)).size;
  const seq = await reopened.append({ type: 'document.delete', documentId: 'after-crash' });
  const entries = await readUntil(reopened, 1, 4);

  assert.equal(sizeAfterOpen, goodSize);
  assert.equal(seq, 4);
  assert.equal(entries.length, 4);
  await reopened.close();
});

test('file log reports a corrupt record in the middle', async () => {
  const directory = await tempDirectory();
  const log = await FileLog.open({ directory, segmentSizeBytes: 40_000 });
  for (let i = 0; i < 6; i++)
    await log.append(makeDocumentRecord({ name: `bad-${i}`, chunkCount: 4 }));
  await log.close();
  const [first] = await listSegments(directory);
  await flipByteOfSecondFrame(first!.path);

  const reopened = await FileLog.open({ directory, segmentSizeBytes: 40_000 });
  const seen: number[] = [];
  await assert.rejects(
    async () => {
      for await (const entry of reopened.read(1)) seen.push(entry.seq);
    },
    {
      code: 'LOG_CORRUPT',
      message: new RegExp(`${first!.path} at byte \\d+: record 2 is damaged`),
    },
  );
  assert.deepEqual(seen, [1]);
  await reopened.close();
});

test('file log open rejects damage in its newest segment', async () => {
  const directory = await tempDirectory();
  const log = await FileLog.open({ directory });
  for (let i = 0; i < 3; i++)
    await log.append(makeDocumentRecord({ name: `new-${i}`, chunkCount: 2 }));
  await log.close();
  const [segment] = await listSegments(directory);
  await flipByteOfSecondFrame(segment!.path);

  await assert.rejects(FileLog.open({ directory }), { code: 'LOG_CORRUPT', message: /record 2/ });
});

async function flipByteOfSecondFrame(path: string): Promise<void> {
  const file = await open(path, 'r+');
  const header = Buffer.alloc(8);
  await file.read(header, 0, 8, 0);
  const secondFrameAt = 20 + header.readUInt32LE(4);
  const byte = Buffer.alloc(1);
  await file.read(byte, 0, 1, secondFrameAt + 100);
  byte[0]! ^= 0xff;
  await file.write(byte, 0, 1, secondFrameAt + 100);
  await file.close();
}

/** Starts a writer process and collects its `acked <seq> <name>` lines. */
function startWriter(directory: string, name: string, count: string, chunkCount = 20) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', writerScript, directory, name, count, String(chunkCount)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const acked = new Map<string, number>();
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    const lines = (buffered + text).split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      const [, seq, recordName] = line.split(' ');
      acked.set(recordName!, Number(seq));
    }
  });
  return { child, acked };
}

test('file log orders appends of two processes without gaps', async () => {
  const directory = await tempDirectory();
  const writers = [
    startWriter(directory, 'alpha', '40', 4),
    startWriter(directory, 'beta', '40', 4),
  ];
  const exits = await Promise.all(writers.map(({ child }) => once(child, 'exit')));
  const log = await FileLog.open({ directory, segmentSizeBytes: 100_000 });
  const entries = await readUntil(log, 1, 80);

  assert.deepEqual(exits, [
    [0, null],
    [0, null],
  ]);
  assert.equal(await log.lastSeq(), 80);
  assert.deepEqual(
    entries.map((entry) => entry.seq),
    Array.from({ length: 80 }, (_, i) => i + 1),
  );
  for (const { acked } of writers) {
    for (const [name, seq] of acked) assert.equal(documentName(entries[seq - 1]!), name);
  }
  for (const prefix of ['alpha', 'beta']) {
    const order = entries.map(documentName).filter((name) => name.startsWith(prefix));
    assert.deepEqual(
      order,
      Array.from({ length: 40 }, (_, i) => `${prefix}-${i}`),
    );
  }
  await log.close();
});

test('file log keeps acknowledged records after kill -9', async () => {
  const directory = await tempDirectory();
  for (let round = 0; round < 2; round++) {
    const { child, acked } = startWriter(directory, `round${round}`, 'forever', 400);
    while (acked.size < 5 + round * 3) await new Promise((resolve) => setTimeout(resolve, 5));
    child.kill('SIGKILL');
    await once(child, 'exit');

    const log = await FileLog.open({ directory });
    const lastSeq = await log.lastSeq();
    const entries = await readUntil(log, 1, lastSeq);

    assert.deepEqual(
      entries.map((entry) => entry.seq),
      Array.from({ length: lastSeq }, (_, i) => i + 1),
    );
    for (const [name, seq] of acked) assert.equal(documentName(entries[seq - 1]!), name);
    await log.close();
  }
  const leftovers = (await readdir(directory)).filter((name) => !name.endsWith('.seg'));
  assert.deepEqual(leftovers, []);
});

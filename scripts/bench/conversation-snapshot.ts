// Measures the conversation part of a snapshot at full capacity: a DocumentStore without documents
// is filled through apply() until every conversation has its maximum number of turns and every
// turn its maximum length, then snapshotted. A child process then loads the snapshot, as a
// restarting server does, so its peak RSS is that of the load alone. Texts are random and
// distinct, so V8 cannot share them. `--alphabet ascii` encodes one byte per character, `cjk`
// three (CJK ideographs, the widest unescaped case in UTF-8).
// Usage: node --expose-gc --import tsx scripts/bench/conversation-snapshot.ts
//          [--alphabet ascii|cjk] [--conversations 10000] [--turns 10] [--turn-chars 4000]
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { MEMORY_STORE_DEFAULTS } from '../../server/conversation/index.js';
import { DocumentStore } from '../../server/index/document-store.js';

const DIMENSION = 384;
const MIB = 1024 * 1024;

const { values } = parseArgs({
  options: {
    alphabet: { type: 'string', default: 'ascii' },
    conversations: { type: 'string', default: String(MEMORY_STORE_DEFAULTS.maxConversations) },
    turns: { type: 'string', default: String(MEMORY_STORE_DEFAULTS.maxTurns) },
    'turn-chars': { type: 'string', default: String(MEMORY_STORE_DEFAULTS.maxTurnChars) },
    // Internal: set on the child process, the data directory to load.
    load: { type: 'string' },
  },
});
const limits = {
  maxConversations: Number(values.conversations),
  maxTurns: Number(values.turns),
  maxTurnChars: Number(values['turn-chars']),
};
if (values.alphabet !== 'ascii' && values.alphabet !== 'cjk') {
  throw new Error(`--alphabet must be ascii or cjk, got ${values.alphabet}`);
}
const randomText = values.alphabet === 'cjk' ? randomCjk : randomAscii;

if (values.load !== undefined) {
  await measureLoad(values.load);
  process.exit(0);
}

const dataDir = await mkdtemp(join(tmpdir(), 'conversation-snapshot-'));
try {
  const heapBefore = usedHeapMiB();
  const store = await DocumentStore.open({ dimension: DIMENSION, dataDir, conversations: limits });
  const fillSeconds = await timed(() => fill(store));
  const heapFilled = usedHeapMiB();

  // An apply issued as the snapshot starts waits while the snapshot copies the state.
  let snapshot!: Awaited<ReturnType<DocumentStore['snapshot']>>;
  let applyWaitSeconds = 0;
  const snapshotSeconds = await timed(async () => {
    const written = store.snapshot();
    applyWaitSeconds = await timed(() => applyTurn(store, store.lastAppliedSeq + 1, 0, 0));
    snapshot = await written;
  });
  await store.close();
  const load = loadInChild(dataDir);

  console.log(
    JSON.stringify({
      alphabet: values.alphabet,
      ...limits,
      fillSeconds: round(fillSeconds),
      storeHeapMiB: Math.round(heapFilled - heapBefore),
      snapshotMiB: Math.round(snapshot.bytes / MIB),
      snapshotSeconds: round(snapshotSeconds),
      applyWaitMs: Math.round(applyWaitSeconds * 1000),
      ...load,
      loadAverage1m: Number(loadavg()[0]!.toFixed(1)),
    }),
  );
} finally {
  await rm(dataDir, { recursive: true, force: true });
}

/** Opens the store in `dataDir` and prints the load time, the heap and the peak RSS. */
async function measureLoad(dataDir: string): Promise<void> {
  let store!: DocumentStore;
  const loadSeconds = await timed(async () => {
    store = await DocumentStore.open({ dimension: DIMENSION, dataDir, conversations: limits });
  });
  const loadedHeapMiB = Math.round(usedHeapMiB());
  const result = {
    loadSeconds: round(loadSeconds),
    conversationsLoaded: store.conversationCount,
    loadedHeapMiB,
    loadMaxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  await store.close();
  console.log(JSON.stringify(result));
}

/** Runs this script with `--load dataDir` and the same limits, and returns what it prints. */
function loadInChild(dataDir: string): Record<string, unknown> {
  const args = [
    ...process.execArgv,
    fileURLToPath(import.meta.url),
    ...['--load', dataDir, '--conversations', String(limits.maxConversations)],
    ...['--turns', String(limits.maxTurns), '--turn-chars', String(limits.maxTurnChars)],
  ];
  const child = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: 'pipe' });
  if (child.status !== 0) throw new Error(`the load process failed: ${child.stderr}`);
  return JSON.parse(child.stdout) as Record<string, unknown>;
}

/** Applies alternating user and assistant turns until every conversation is full. */
async function fill(store: DocumentStore): Promise<void> {
  let seq = 0;
  for (let c = 0; c < limits.maxConversations; c++) {
    for (let t = 0; t < limits.maxTurns; t++) await applyTurn(store, ++seq, c, t);
  }
}

async function applyTurn(store: DocumentStore, seq: number, conversation: number, turn: number) {
  await store.apply({
    seq,
    record: {
      type: 'conversation.turn',
      conversationId: `conversation-${conversation}`,
      role: turn % 2 === 0 ? 'user' : 'assistant',
      text: randomText(limits.maxTurnChars),
      at: Date.now(),
    },
  });
}

function randomAscii(length: number): string {
  return randomBytes(Math.ceil((length * 3) / 4))
    .toString('base64')
    .slice(0, length);
}

function randomCjk(length: number): string {
  const codes = new Uint16Array(length);
  const bytes = randomBytes(length * 2);
  for (let i = 0; i < length; i++) codes[i] = 0x4e00 + (bytes.readUInt16LE(i * 2) % 0x5000);
  return String.fromCharCode(...codes);
}

/** Returns the heap in use, after a full collection when run with --expose-gc. */
function usedHeapMiB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / MIB;
}

async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';

import type { ConversationTurn } from '../conversation/index.js';
import { CONVERSATIONS_FILE, decodeConversations } from './conversation-snapshot.js';
import { DOCUMENTS_FILE, INDEX_FILE } from './document-snapshot.js';
import { DocumentStore, type DocumentStoreOptions } from './document-store.js';
import { GenerationStore, type GenerationManifest } from './generation-store.js';
import { entry, putRecord, row, turnRecord } from './testing/fixtures.js';
import { recordingLogger } from './testing/recording-logger.js';

const DIMENSION = 8;
const WARN = 40;

describe('DocumentStore conversation snapshots', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'streamcluster-conversations-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  async function openStore(extra: Partial<DocumentStoreOptions> = {}): Promise<DocumentStore> {
    return DocumentStore.open({ dimension: DIMENSION, dataDir, ...extra });
  }

  async function generationDirs(): Promise<string[]> {
    const names = (await readdir(dataDir)).filter((name) => name.startsWith('generation-'));
    return names.sort().map((name) => join(dataDir, name));
  }

  async function readManifest(dir: string): Promise<GenerationManifest> {
    const envelope = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as {
      manifest: GenerationManifest;
    };
    return envelope.manifest;
  }

  /**
   * Writes two generations: the first contains conversation `a` at seq 2, the second adds
   * conversation `b` at seq 3.
   */
  async function writeTwoGenerations(): Promise<void> {
    const store = await openStore();
    await store.apply(entry(1, putRecord('alpha', 2, DIMENSION, 1)));
    await store.apply(entry(2, turnRecord('a', 'first question')));
    await store.snapshot();
    await store.apply(entry(3, turnRecord('b', 'second question')));
    await store.snapshot();
    await store.close();
  }

  it('restores history and least recently used order', async () => {
    const limits = { maxConversations: 3, maxTurnChars: 40 };
    const first = await openStore({ conversations: limits });
    await first.apply(entry(1, putRecord('alpha', 2, DIMENSION, 1)));
    await first.apply(entry(2, turnRecord('a', 'How do I renew a ticket?', 'user', 1000)));
    await first.apply(
      entry(3, turnRecord('a', 'Online [1].\nOr "at the pier".', 'assistant', 1001)),
    );
    await first.apply(entry(4, turnRecord('b', 'Wo ist die Fähre? 🚢', 'user', 2000)));
    // 39 characters and a surrogate pair: the cut at 40 leaves a lone high surrogate.
    await first.apply(entry(5, turnRecord('c', `${'x'.repeat(39)}🚢`, 'user', 3000)));
    const expected = new Map<string, ConversationTurn[]>();
    for (const id of ['b', 'c', 'a']) expected.set(id, await first.conversationHistory(id));
    const info = await first.snapshot();
    await first.close();
    assert.equal(info.conversations, 3);
    assert.equal(expected.get('c')![0]!.text.length, 40);

    const second = await openStore({ conversations: limits });
    try {
      assert.equal(second.lastAppliedSeq, 5);
      assert.equal(second.conversationCount, 3);
      assert.equal(await second.apply(entry(5, turnRecord('a', 'again'))), 'skipped');

      // The snapshot kept the order b, c, a, so a new conversation evicts b.
      await second.apply(entry(6, turnRecord('d', 'fourth conversation')));
      assert.equal(second.conversationCount, 3);
      assert.deepEqual(await second.conversationHistory('b'), []);
      assert.deepEqual(await second.conversationHistory('c'), expected.get('c'));
      assert.deepEqual(await second.conversationHistory('a'), expected.get('a'));
    } finally {
      await second.close();
    }
  });

  it('holds only turns up to the snapshot seq', async () => {
    const first = await openStore();
    await first.apply(entry(1, turnRecord('a', 'question')));
    await first.snapshot();
    await first.apply(entry(2, turnRecord('a', 'answer', 'assistant')));
    await first.close();

    const second = await openStore();
    try {
      assert.equal(second.lastAppliedSeq, 1);
      assert.deepEqual(
        (await second.conversationHistory('a')).map((turn) => turn.text),
        ['question'],
      );
      // Replaying the log from lastAppliedSeq + 1 completes the history without duplicates.
      await second.apply(entry(1, turnRecord('a', 'question')));
      await second.apply(entry(2, turnRecord('a', 'answer', 'assistant')));
      assert.deepEqual(
        (await second.conversationHistory('a')).map((turn) => turn.text),
        ['question', 'answer'],
      );
    } finally {
      await second.close();
    }
  });

  it('writes the conversation file into the generation', async () => {
    await writeTwoGenerations();
    const [, newest] = await generationDirs();
    const manifest = await readManifest(newest!);

    assert.deepEqual(
      manifest.files.map((file) => file.name),
      [INDEX_FILE, DOCUMENTS_FILE, CONVERSATIONS_FILE],
    );
    const decoded = decodeConversations(await readFile(join(newest!, CONVERSATIONS_FILE)));
    assert.deepEqual(
      decoded.map((conversation) => conversation.conversationId),
      ['a', 'b'],
    );
  });

  it('loads a generation without conversations', async () => {
    const alpha = putRecord('alpha', 2, DIMENSION, 1);
    const store = await openStore();
    await store.apply(entry(1, alpha));
    await store.apply(entry(2, turnRecord('a', 'lost question')));
    await store.snapshot();
    await store.close();

    // Rewrite the generation with only the files that snapshots had before they held
    // conversations, and the same manifest data.
    const [dir] = await generationDirs();
    const manifest = await readManifest(dir!);
    const files = new Map([
      [INDEX_FILE, await readFile(join(dir!, INDEX_FILE))],
      [DOCUMENTS_FILE, await readFile(join(dir!, DOCUMENTS_FILE))],
    ]);
    await rm(dir!, { recursive: true });
    await new GenerationStore({ dataDir }).write(manifest.lastAppliedSeq, manifest.meta, files);

    const { logger, lines } = recordingLogger();
    const reopened = await openStore({ logger });
    try {
      assert.equal(reopened.lastAppliedSeq, 2);
      assert.equal(reopened.documentCount, 1);
      assert.equal(reopened.conversationCount, 0);
      assert.deepEqual(await reopened.conversationHistory('a'), []);
      const [hit] = await reopened.search(row(alpha.vectors, 1, DIMENSION), 1);
      assert.equal(hit?.chunk.id, alpha.chunks[1]!.id);
      assert.ok(
        lines.some((line) => /has no conversations\.jsonl/.test(String(line.msg))),
        'a missing conversation file is logged',
      );
      assert.ok(!lines.some((line) => line.level === WARN));

      await reopened.apply(entry(3, turnRecord('a', 'new question')));
      assert.equal((await reopened.conversationHistory('a')).length, 1);
      await reopened.snapshot();
    } finally {
      await reopened.close();
    }
    const [, upgraded] = await generationDirs();
    assert.ok(
      (await readManifest(upgraded!)).files.some((file) => file.name === CONVERSATIONS_FILE),
      'the next snapshot writes the conversation file',
    );
  });

  it('falls back when the newest conversation file is corrupt', async () => {
    await writeTwoGenerations();
    const [, newest] = await generationDirs();
    const path = join(newest!, CONVERSATIONS_FILE);
    const bytes = await readFile(path);
    bytes[bytes.length - 5]! ^= 0xff;
    await writeFile(path, bytes);

    const { logger, lines } = recordingLogger();
    const reopened = await openStore({ logger });
    try {
      assert.equal(reopened.lastAppliedSeq, 2);
      assert.equal(reopened.documentCount, 1);
      assert.equal((await reopened.conversationHistory('a')).length, 1);
      assert.deepEqual(await reopened.conversationHistory('b'), []);
      const warning = lines.find((line) => line.level === WARN);
      assert.match(String(warning?.msg), /corrupt or incomplete; falling back/);
      assert.match(JSON.stringify(warning?.err), /conversations\.jsonl does not match/);
    } finally {
      await reopened.close();
    }
  });

  it('falls back when the newest conversation file is missing', async () => {
    await writeTwoGenerations();
    const [, newest] = await generationDirs();
    await rm(join(newest!, CONVERSATIONS_FILE));

    const reopened = await openStore();
    try {
      assert.equal(reopened.lastAppliedSeq, 2);
      assert.deepEqual(await reopened.conversationHistory('b'), []);
    } finally {
      await reopened.close();
    }
  });

  it('falls back when a conversation line is invalid', async () => {
    await writeTwoGenerations();
    // A generation whose checksums match but whose conversation line does not parse as a turn.
    const [, newest] = await generationDirs();
    const manifest = await readManifest(newest!);
    const invalid = JSON.stringify({
      conversationId: 'b',
      turns: [{ role: 'system', text: 'x', at: 0 }],
    });
    const files = new Map<string, Uint8Array | Iterable<string>>([
      [INDEX_FILE, await readFile(join(newest!, INDEX_FILE))],
      [DOCUMENTS_FILE, await readFile(join(newest!, DOCUMENTS_FILE))],
      [CONVERSATIONS_FILE, [`${invalid}\n`]],
    ]);
    await new GenerationStore({ dataDir, keepGenerations: 3 }).write(4, manifest.meta, files);

    const { logger, lines } = recordingLogger();
    const reopened = await openStore({ logger });
    try {
      assert.equal(reopened.lastAppliedSeq, 3);
      assert.equal((await reopened.conversationHistory('b')).length, 1);
      const warning = lines.find((line) => line.level === WARN);
      assert.match(
        JSON.stringify(warning?.err),
        /line 1 of conversations\.jsonl is invalid: role must be user or assistant/,
      );
    } finally {
      await reopened.close();
    }
  });

  it('starts empty when the only conversation file is corrupt', async () => {
    const store = await openStore();
    await store.apply(entry(1, putRecord('alpha', 2, DIMENSION, 1)));
    await store.apply(entry(2, turnRecord('a', 'question')));
    await store.snapshot();
    await store.close();
    const [dir] = await generationDirs();
    await writeFile(join(dir!, CONVERSATIONS_FILE), 'torn');

    const reopened = await openStore();
    try {
      assert.equal(reopened.lastAppliedSeq, 0);
      assert.equal(reopened.documentCount, 0);
      assert.equal(reopened.conversationCount, 0);
    } finally {
      await reopened.close();
    }
  });

  it('applies the configured limits to restored conversations', async () => {
    const first = await openStore();
    for (let seq = 1; seq <= 6; seq++) {
      await first.apply(entry(seq, turnRecord(seq <= 3 ? 'a' : 'b', `turn ${seq}`)));
    }
    await first.snapshot();
    await first.close();

    const second = await openStore({ conversations: { maxTurns: 2, maxConversations: 1 } });
    try {
      assert.equal(second.conversationCount, 1);
      assert.deepEqual(
        (await second.conversationHistory('b')).map((turn) => turn.text),
        ['turn 5', 'turn 6'],
      );
    } finally {
      await second.close();
    }
  });
});

describe('decodeConversations', () => {
  it('reads lines without a final newline', () => {
    const line = JSON.stringify({ conversationId: 'a', turns: [] });
    assert.deepEqual(decodeConversations(Buffer.from(`${line}\n\n${line}`)), [
      { conversationId: 'a', turns: [] },
      { conversationId: 'a', turns: [] },
    ]);
  });

  it('names the line of invalid JSON', () => {
    const good = JSON.stringify({ conversationId: 'a', turns: [] });
    assert.throws(
      () => decodeConversations(Buffer.from(`${good}\n{"conversationId":`)),
      /line 2 of conversations\.jsonl is invalid/,
    );
  });

  it('rejects a turn without a time', () => {
    const line = JSON.stringify({ conversationId: 'a', turns: [{ role: 'user', text: 'q' }] });
    assert.throws(() => decodeConversations(Buffer.from(line)), /at must be a number/);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ValidationError } from '../core/errors.js';
import { MemoryConversationStore } from './memory-store.js';

function turn(text: string, at = 1) {
  return { role: 'user' as const, text, at };
}

describe('MemoryConversationStore', () => {
  it('returns turns oldest first', async () => {
    const store = new MemoryConversationStore();
    await store.append('c1', turn('first', 1));
    await store.append('c1', { role: 'assistant', text: 'second', at: 2 });

    assert.deepEqual(await store.history('c1'), [
      { role: 'user', text: 'first', at: 1 },
      { role: 'assistant', text: 'second', at: 2 },
    ]);
  });

  it('returns nothing for an unknown conversation', async () => {
    assert.deepEqual(await new MemoryConversationStore().history('missing'), []);
  });

  it('keeps only the most recent turns', async () => {
    const store = new MemoryConversationStore({ maxTurns: 3 });
    for (const text of ['1', '2', '3', '4', '5']) await store.append('c1', turn(text));

    const texts = (await store.history('c1')).map((stored) => stored.text);
    assert.deepEqual(texts, ['3', '4', '5']);
  });

  it('drops the least recently used conversation past the limit', async () => {
    const store = new MemoryConversationStore({ maxConversations: 2 });
    await store.append('a', turn('a'));
    await store.append('b', turn('b'));
    await store.history('a');
    await store.append('c', turn('c'));

    assert.equal(store.size, 2);
    assert.equal((await store.history('a')).length, 1);
    assert.deepEqual(await store.history('b'), []);
  });

  it('cuts long turn texts', async () => {
    const store = new MemoryConversationStore({ maxTurnChars: 5 });
    await store.append('c1', turn('abcdefgh'));

    assert.equal((await store.history('c1'))[0]!.text, 'abcde');
  });

  it('hands out copies', async () => {
    const store = new MemoryConversationStore();
    await store.append('c1', turn('kept'));
    (await store.history('c1'))[0]!.text = 'changed';

    assert.equal((await store.history('c1'))[0]!.text, 'kept');
  });

  it('forgets a deleted conversation', async () => {
    const store = new MemoryConversationStore();
    await store.append('c1', turn('gone'));
    await store.delete('c1');

    assert.deepEqual(await store.history('c1'), []);
  });

  it('exports conversations least recently used first', async () => {
    const store = new MemoryConversationStore();
    await store.append('a', turn('a1', 1));
    await store.append('b', turn('b1', 2));
    await store.append('a', { role: 'assistant', text: 'a2', at: 3 });
    await store.append('c', turn('c1', 4));
    await store.history('b');

    assert.deepEqual(store.entries(), [
      {
        conversationId: 'a',
        turns: [
          { role: 'user', text: 'a1', at: 1 },
          { role: 'assistant', text: 'a2', at: 3 },
        ],
      },
      { conversationId: 'c', turns: [{ role: 'user', text: 'c1', at: 4 }] },
      { conversationId: 'b', turns: [{ role: 'user', text: 'b1', at: 2 }] },
    ]);
  });

  it('exports copies', async () => {
    const store = new MemoryConversationStore();
    await store.append('c1', turn('kept'));
    const [exported] = store.entries();
    exported!.turns[0]!.text = 'changed';
    exported!.turns.push(turn('added'));

    assert.deepEqual(
      (await store.history('c1')).map((stored) => stored.text),
      ['kept'],
    );
  });

  it('restores entries in least recently used order', async () => {
    const source = new MemoryConversationStore({ maxConversations: 3 });
    for (const id of ['a', 'b', 'c']) await source.append(id, turn(id));
    await source.history('a');
    const restored = new MemoryConversationStore({ maxConversations: 3 });
    restored.restore(source.entries());

    assert.deepEqual(restored.entries(), source.entries());
    await restored.append('d', turn('d'));
    assert.deepEqual(
      restored.entries().map((entry) => entry.conversationId),
      ['c', 'a', 'd'],
    );
  });

  it('replaces what it held on restore', async () => {
    const store = new MemoryConversationStore();
    await store.append('old', turn('old'));
    store.restore([{ conversationId: 'new', turns: [turn('new')] }]);

    assert.deepEqual(await store.history('old'), []);
    assert.equal((await store.history('new'))[0]!.text, 'new');
    assert.equal(store.size, 1);
  });

  it('applies its limits on restore', async () => {
    const store = new MemoryConversationStore({
      maxTurns: 2,
      maxConversations: 2,
      maxTurnChars: 3,
    });
    store.restore([
      { conversationId: 'a', turns: [turn('a')] },
      { conversationId: 'b', turns: [turn('b1'), turn('b2'), turn('b3')] },
      { conversationId: 'empty', turns: [] },
      { conversationId: 'c', turns: [turn('c-long')] },
    ]);

    assert.deepEqual(
      store.entries().map((entry) => entry.conversationId),
      ['b', 'c'],
    );
    assert.deepEqual(
      (await store.history('b')).map((stored) => stored.text),
      ['b2', 'b3'],
    );
    assert.equal((await store.history('c'))[0]!.text, 'c-l');
  });

  it('rejects limits below one', () => {
    assert.throws(
      () => new MemoryConversationStore({ maxTurns: 0, maxConversations: 1.5 }),
      (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.deepEqual(error.problems, [
          'maxTurns must be a positive integer, got 0',
          'maxConversations must be a positive integer, got 1.5',
        ]);
        return true;
      },
    );
  });
});

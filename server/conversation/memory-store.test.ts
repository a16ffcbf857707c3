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

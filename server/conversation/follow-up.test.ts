import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { HistoryTurn } from '../answer/types.js';
import { isFollowUp, resolveRetrievalQuery } from './follow-up.js';

const history: HistoryTurn[] = [
  { role: 'user', text: 'How do I configure a static network address?' },
  { role: 'assistant', text: 'Edit the interfaces file [1].' },
];

describe('resolveRetrievalQuery', () => {
  it('returns a question without history unchanged', () => {
    assert.equal(resolveRetrievalQuery([], 'And the gateway?'), 'And the gateway?');
  });

  it('returns a standalone question unchanged', () => {
    const question = 'Which command deletes cached package archives?';
    assert.equal(resolveRetrievalQuery(history, question), question);
  });

  it('appends the previous question words to a pronoun question', () => {
    assert.equal(
      resolveRetrievalQuery(history, 'Where is it stored on disk?'),
      'Where is it stored on disk? configure static network address',
    );
  });

  it('appends them to a short question', () => {
    assert.equal(
      resolveRetrievalQuery(history, 'Gateway?'),
      'Gateway? configure static network address',
    );
  });

  it('skips words the question already has', () => {
    assert.equal(
      resolveRetrievalQuery(history, 'What about the network mask?'),
      'What about the network mask? configure static address',
    );
  });

  it('keeps the topic through a chain of follow-ups', () => {
    const chain: HistoryTurn[] = [
      ...history,
      { role: 'user', text: 'And the gateway?' },
      { role: 'assistant', text: 'Add a gateway line [2].' },
    ];
    assert.equal(
      resolveRetrievalQuery(chain, 'Is it required?'),
      'Is it required? gateway configure static network address',
    );
  });

  it('carries at most the configured number of words', () => {
    assert.equal(
      resolveRetrievalQuery(history, 'Why?', { maxCarriedWords: 2 }),
      'Why? configure static',
    );
  });
});

describe('isFollowUp', () => {
  const cases: [string, boolean][] = [
    ['Where is it stored?', true],
    ['And the gateway?', true],
    ['What about their limits?', true],
    ['Why?', true],
    ['Which command deletes cached package archives?', false],
    ['How does the installer partition an encrypted disk?', false],
  ];
  for (const [question, expected] of cases) {
    it(`${expected ? 'detects' : 'ignores'} "${question}"`, () => {
      assert.equal(isFollowUp(question), expected);
    });
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { AppliedSequence } from './applied-sequence.js';

test('applied sequence resolves once the entry is applied', async () => {
  const applied = new AppliedSequence(3);
  let done = false;
  const waiting = applied.waitFor(5, { timeoutMs: 5000 }).then(() => (done = true));

  applied.advance(4);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(done, false);
  applied.advance(6);
  await waiting;

  assert.equal(done, true);
  assert.equal(applied.value, 6);
});

test('applied sequence resolves at once for an applied entry', async () => {
  await new AppliedSequence(5).waitFor(5, { timeoutMs: 0 });
});

test('applied sequence times out with a clear error', async () => {
  const applied = new AppliedSequence(2);
  await assert.rejects(applied.waitFor(9, { timeoutMs: 20 }), {
    code: 'SEQ_NOT_APPLIED',
    message: /sequence 9 was not applied within 20 ms \(applied up to 2\)/,
  });
});

test('applied sequence stops waiting on abort', async () => {
  const controller = new AbortController();
  const waiting = new AppliedSequence().waitFor(1, { timeoutMs: 5000, signal: controller.signal });
  controller.abort(new Error('client went away'));
  await assert.rejects(waiting, /client went away/);
});

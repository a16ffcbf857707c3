import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  manualChunk,
  NETWORKING_CHUNK,
  PAGE_4_TEXT,
  STRADDLING_CHUNK,
} from '../../test/support/chunks.js';
import { createHashedEmbedding } from '../../test/support/hashed-embedding.js';
import { ValidationError } from '../core/errors.js';
import { PAGE_SEPARATOR } from '../ingest/types.js';
import { ExtractiveGenerator } from './extractive.js';
import {
  NO_ANSWER_TEXT,
  type AnswerEvent,
  type AnswerRequest,
  type Citation,
  type RetrievedChunk,
} from './types.js';

const straddling = STRADDLING_CHUNK;
const networking = NETWORKING_CHUNK;
const chunk = manualChunk;

async function collect(events: AsyncIterable<AnswerEvent>) {
  const tokens: string[] = [];
  const citationEvents: Citation[][] = [];
  for await (const event of events) {
    if (event.type === 'token') tokens.push(event.text);
    else citationEvents.push(event.citations);
  }
  assert.equal(citationEvents.length, 1, 'exactly one citations event');
  return { tokens, text: tokens.join(''), citations: citationEvents[0]! };
}

function request(question: string, chunks: RetrievedChunk[], extra: Partial<AnswerRequest> = {}) {
  return { question, history: [], chunks, ...extra };
}

function generator(options: Partial<ConstructorParameters<typeof ExtractiveGenerator>[0]> = {}) {
  const { embed } = createHashedEmbedding();
  return new ExtractiveGenerator({ embed, minSimilarity: 0.2, ...options });
}

describe('ExtractiveGenerator', () => {
  it('answers with the matching sentence and its citation', async () => {
    const answer = await collect(
      generator().generate(request('How do I configure a static address?', [networking])),
    );

    assert.match(answer.text, /A static address needs the address, netmask and gateway lines\./);
    assert.equal(answer.citations.length, 1);
    const [citation] = answer.citations;
    assert.equal(citation!.index, 1);
    assert.equal(citation!.chunkId, 'manual:9');
    assert.equal(citation!.documentName, 'Debian manual.pdf');
    assert.equal(citation!.pageStart, 6);
    assert.ok(networking.text.includes(citation!.quote), 'quote is copied from the chunk');
    assert.match(answer.text, /\[1\]$/);
  });

  it('streams one word per token', async () => {
    const answer = await collect(
      generator().generate(request('How do I configure a static address?', [networking])),
    );

    assert.ok(answer.tokens.length > 5);
    for (const token of answer.tokens) assert.match(token, /^\s?\S+$/);
    assert.ok(!answer.tokens[0]!.startsWith(' '), 'first token has no leading space');
  });

  it('cites the page a sentence is on inside a straddling chunk', async () => {
    const answer = await collect(
      generator({ maxSentences: 1 }).generate(
        request('Which service installs security updates automatically?', [straddling]),
      ),
    );

    const [citation] = answer.citations;
    assert.equal(citation!.quote, PAGE_4_TEXT.split('. ')[1]);
    assert.equal(citation!.pageStart, 4);
    assert.equal(citation!.pageEnd, 4);
  });

  it('cites the first page for a sentence before the page break', async () => {
    const answer = await collect(
      generator({ maxSentences: 1 }).generate(
        request('How do I delete cached archives?', [straddling]),
      ),
    );

    const [citation] = answer.citations;
    assert.match(citation!.quote, /^Run apt clean/);
    assert.equal(citation!.pageStart, 3);
    assert.equal(citation!.pageEnd, 3);
  });

  it('cites both pages for a sentence across the page break', async () => {
    const text = 'The installer asks for the root' + PAGE_SEPARATOR + 'password and the user name.';
    const answer = await collect(
      generator().generate(
        request('What does the installer ask for?', [chunk({ text, pageStart: 2, pageEnd: 3 })]),
      ),
    );

    const [citation] = answer.citations;
    assert.equal(citation!.quote, text);
    assert.equal(citation!.pageStart, 2);
    assert.equal(citation!.pageEnd, 3);
    assert.match(answer.text, /the root password and the user name\. \[1\]/);
  });

  it('numbers passages from several chunks in reading order', async () => {
    const answer = await collect(
      generator({ maxSentences: 2 }).generate(
        request('Which service installs updates, and when to restart networking?', [
          straddling,
          networking,
        ]),
      ),
    );

    assert.equal(answer.citations.length, 2);
    assert.deepEqual(
      answer.citations.map((citation) => citation.index),
      [1, 2],
    );
    for (const citation of answer.citations) {
      const marker = answer.text.indexOf(`[${citation.index}]`);
      assert.ok(marker > 0, `marker [${citation.index}] in the answer`);
      const shownQuote = citation.quote.replace(/\s+/g, ' ');
      assert.ok(
        answer.text.lastIndexOf(shownQuote, marker) !== -1,
        'quote shown before its marker',
      );
    }
  });

  it('joins adjacent sentences under one citation', async () => {
    const answer = await collect(
      generator({ maxSentences: 2 }).generate(
        request('interfaces file static address netmask gateway', [networking]),
      ),
    );

    assert.equal(answer.citations.length, 1);
    assert.equal(
      answer.citations[0]!.quote,
      'Network interfaces are configured in the interfaces file. ' +
        'A static address needs the address, netmask and gateway lines.',
    );
  });

  it('skips sentences repeated by overlapping chunks', async () => {
    const overlap = chunk({
      chunkId: 'manual:10',
      text: 'Restart the networking service after editing the interfaces file. Then check it.',
      pageStart: 6,
      pageEnd: 6,
    });
    const answer = await collect(
      generator().generate(
        request('When do I restart the networking service?', [networking, overlap]),
      ),
    );

    const restarts = answer.text.match(/Restart the networking service/g) ?? [];
    assert.equal(restarts.length, 1);
  });

  it('skips near-duplicate sentences', async () => {
    const text =
      'Restart the networking service after editing the interfaces file. ' +
      'After editing the interfaces file, restart the networking service.';
    const answer = await collect(
      generator().generate(request('When do I restart the networking service?', [chunk({ text })])),
    );

    assert.equal(answer.citations.length, 1);
  });

  it('says so when no sentence is relevant', async () => {
    const answer = await collect(
      generator().generate(request('What colour is the sky on Mars?', [networking])),
    );

    assert.equal(answer.text, NO_ANSWER_TEXT);
    assert.deepEqual(answer.citations, []);
  });

  it('says so when nothing was retrieved', async () => {
    const { embed, calls } = createHashedEmbedding();
    const answer = await collect(
      new ExtractiveGenerator({ embed }).generate(request('Anything?', [])),
    );

    assert.equal(answer.text, NO_ANSWER_TEXT);
    assert.equal(calls.length, 0, 'no embedding needed');
  });

  it('resolves a follow-up question from the history', async () => {
    const history = [
      { role: 'user' as const, text: 'How are security updates installed?' },
      { role: 'assistant' as const, text: 'By the unattended upgrades service [1].' },
    ];
    const { embed, calls } = createHashedEmbedding();
    const answer = await collect(
      new ExtractiveGenerator({ embed, minSimilarity: 0.2, maxSentences: 1 }).generate(
        request('Who publishes them?', [straddling], { history }),
      ),
    );

    assert.match(calls[0]![0]!, /^Who publishes them\? security updates installed$/);
    assert.match(answer.text, /^Security updates are published by the security team/);
  });

  it('stops at the next token when aborted', async () => {
    const controller = new AbortController();
    const events = generator().generate(
      request('How do I configure a static address?', [networking], {
        signal: controller.signal,
      }),
    );
    const iterator = events[Symbol.asyncIterator]();

    const first = await iterator.next();
    assert.equal(first.done, false);
    controller.abort();
    await assert.rejects(iterator.next(), { name: 'AbortError' });
  });

  it('stops while waiting for a stalled embedder', async () => {
    const controller = new AbortController();
    const stalled = () => new Promise<Float32Array[]>(() => {});
    const events = new ExtractiveGenerator({ embed: stalled }).generate(
      request('How do I configure a static address?', [networking], {
        signal: controller.signal,
      }),
    );

    setTimeout(() => controller.abort(), 20);
    await assert.rejects(collect(events), { name: 'AbortError' });
  });

  it('passes the abort signal to the embedder', async () => {
    let received: AbortSignal | undefined;
    const embed = async (texts: string[], options?: { signal?: AbortSignal }) => {
      received = options?.signal;
      return createHashedEmbedding().embed(texts);
    };
    const controller = new AbortController();
    await collect(
      new ExtractiveGenerator({ embed }).generate(
        request('static address', [networking], { signal: controller.signal }),
      ),
    );

    assert.equal(received, controller.signal);
  });

  it('rejects invalid options, listing each', () => {
    const { embed } = createHashedEmbedding();
    assert.throws(
      () => new ExtractiveGenerator({ embed, maxSentences: 0, minSimilarity: 2 }),
      (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.deepEqual(error.problems, [
          `maxSentences must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}, got 0`,
          'minSimilarity must be a number from -1 to 1, got 2',
        ]);
        return true;
      },
    );
  });
});

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';

import { manualChunk, NETWORKING_CHUNK, STRADDLING_CHUNK } from '../../test/support/chunks.js';
import type { Embedder } from '../embed/types.js';
import { ExtractiveGenerator } from './extractive.js';
import { NO_ANSWER_TEXT, type AnswerEvent, type Citation } from './types.js';

// These tests run the extractive generator on the project's embedding model, which checks the
// default similarity threshold against real scores. They need server/embed/index.ts, which
// exports createEmbedder and defaultModelDir, and the model that `make setup` builds.
const EMBED_MODULE = new URL('../embed/index.ts', import.meta.url);

interface EmbedModule {
  createEmbedder?: (options: { model: string; workers?: number }) => Promise<Embedder>;
  defaultModelDir?: () => string;
}

async function loadEmbedder(): Promise<Embedder | string> {
  if (!existsSync(EMBED_MODULE)) return 'server/embed/index.ts is missing';
  const module = (await import(EMBED_MODULE.href)) as EmbedModule;
  if (!module.createEmbedder || !module.defaultModelDir) {
    return 'server/embed/index.ts does not export createEmbedder and defaultModelDir';
  }
  const model = module.defaultModelDir();
  if (!existsSync(model)) return `the model directory ${model} is missing; run make setup`;
  return module.createEmbedder({ model, workers: 1 });
}

const loaded = await loadEmbedder();
const skip = typeof loaded === 'string' ? `${loaded}; the real embedding model is needed` : false;

async function collect(events: AsyncIterable<AnswerEvent>) {
  let text = '';
  let citations: Citation[] = [];
  for await (const event of events) {
    if (event.type === 'token') text += event.text;
    else citations = event.citations;
  }
  return { text, citations };
}

const printing = manualChunk({
  chunkId: 'manual:14',
  text:
    'Printers are managed through the CUPS web interface on port 631. ' +
    'Add a printer from the administration page and print a test page.',
  pageStart: 9,
  pageEnd: 9,
});

describe('ExtractiveGenerator with the embedding model', () => {
  const embedder = loaded as Embedder;
  const generator = () =>
    new ExtractiveGenerator({ embed: (texts, options) => embedder.embed(texts, options) });

  it('answers a question that shares no keywords with its answer', { skip }, async () => {
    const answer = await collect(
      generator().generate({
        question: 'How can I reclaim storage taken by downloaded software?',
        history: [],
        chunks: [printing, NETWORKING_CHUNK, STRADDLING_CHUNK],
      }),
    );

    assert.match(answer.text, /Run apt clean to delete the cached archives and free disk space\./);
    const citation = answer.citations.find((cited) => cited.quote.includes('Run apt clean'))!;
    assert.equal(citation.chunkId, 'manual:7');
    assert.equal(citation.pageStart, 3);
    assert.equal(citation.pageEnd, 3);
  });

  it('finds nothing for an unrelated question', { skip }, async () => {
    const answer = await collect(
      generator().generate({
        question: 'Who won the football world cup in 1998?',
        history: [],
        chunks: [printing, NETWORKING_CHUNK, STRADDLING_CHUNK],
      }),
    );

    assert.equal(answer.text, NO_ANSWER_TEXT);
  });

  it('closes the embedder', { skip }, () => embedder.close());
});

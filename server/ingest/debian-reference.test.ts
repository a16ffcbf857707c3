import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  chunkDocument,
  DocumentParser,
  DocumentTooLargeError,
  joinPages,
  pageNumberAt,
  ParseTimeoutError,
  type ParsedPage,
} from './index.js';

// Installed by scripts/setup/10-system.sh from the Debian package debian-reference-en.
const manualPath = '/usr/share/debian-reference/debian-reference.en.pdf';
const phrase = 'The apt package comes with its own cron script';
// The page pdftotext -f 100 -l 100 shows the phrase on (printed page label "72 / 233").
const phrasePage = 100;
const pdfDir = new URL('../../test/data/pdfs/', import.meta.url);

function loadManual(): Buffer {
  assert.ok(existsSync(manualPath), `${manualPath} is missing; run scripts/setup/10-system.sh`);
  return readFileSync(manualPath);
}

/** Counts words: deterministic and additive, like a word-level tokenizer. */
async function countWords(texts: string[]): Promise<number[]> {
  return texts.map((text) => text.split(/\s+/u).filter(Boolean).length);
}

function wordCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? []) {
    counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return counts;
}

/** Share of words two texts have in common, counting repeats: 1 when they hold the same words. */
function wordAgreement(a: string, b: string): number {
  const left = wordCounts(a);
  const right = wordCounts(b);
  let common = 0;
  for (const [word, count] of left) common += Math.min(count, right.get(word) ?? 0);
  const total = Math.max(sumValues(left), sumValues(right));
  return total === 0 ? 1 : common / total;
}

function sumValues(counts: Map<string, number>): number {
  let sum = 0;
  for (const count of counts.values()) sum += count;
  return sum;
}

describe('Debian Reference manual', () => {
  const parser = new DocumentParser();
  const progress: number[] = [];
  let pages: ParsedPage[];

  before(async () => {
    pages = await parser.parse(
      { name: 'debian-reference.en.pdf', data: loadManual() },
      { onPage: (done, total) => progress.push(done === total ? -done : done) },
    );
  });
  after(() => parser.close());

  test('parses every page', () => {
    assert.equal(pages.length, 261);
    assert.deepEqual(
      pages.map((page) => page.pageNumber),
      Array.from({ length: 261 }, (_, index) => index + 1),
    );
  });

  test('reports progress after each page', () => {
    assert.equal(progress.length, 261);
    assert.equal(progress[0], 1);
    assert.equal(progress.at(-1), -261);
  });

  test('finds the phrase on its page only', () => {
    const holding = pages.filter((page) => page.text.includes(phrase));
    assert.deepEqual(
      holding.map((page) => page.pageNumber),
      [phrasePage],
    );
  });

  test('text matches pdftotext word for word', () => {
    const reference = execFileSync('pdftotext', ['-enc', 'UTF-8', manualPath, '-'], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    }).split('\f');
    const agreements = pages.map((page, index) => wordAgreement(page.text, reference[index]!));
    const poor = agreements
      .map((agreement, index) => ({ page: index + 1, agreement }))
      .filter(({ agreement }) => agreement < 0.95);
    assert.deepEqual(poor, []);
    const mean = agreements.reduce((sum, value) => sum + value, 0) / agreements.length;
    assert.ok(mean > 0.99, `mean word agreement ${mean}`);
  });

  test('chunks cite the page of the phrase', async () => {
    const chunks = await chunkDocument('manual', pages, {
      countTokens: countWords,
      maxTokens: 200,
    });
    const joined = joinPages(pages);
    for (const chunk of chunks) {
      assert.equal(chunk.text, joined.text.slice(chunk.charStart, chunk.charEnd));
      assert.equal(chunk.pageStart, pageNumberAt(joined, chunk.charStart));
      assert.ok((await countWords([chunk.text]))[0]! <= 200, `chunk ${chunk.id} over the bound`);
    }
    const citing = chunks.filter((chunk) => chunk.text.includes(phrase));
    assert.ok(citing.length > 0);
    for (const chunk of citing) {
      assert.ok(chunk.pageStart <= phrasePage, `chunk ${chunk.id} starts after the phrase's page`);
      assert.ok(chunk.pageEnd >= phrasePage, `chunk ${chunk.id} ends before the phrase's page`);
    }
    assert.ok(chunks.some((chunk) => chunk.pageStart !== chunk.pageEnd));
  });
});

describe('PDF worker limits', () => {
  test('deadline stops a parse while the event loop runs', async () => {
    const parser = new DocumentParser();
    const hebrew = { name: 'hebrew.pdf', data: readFileSync(new URL('issue11656.pdf', pdfDir)) };
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    try {
      // A warm worker first, so the deadline strikes while pages are being parsed.
      await parser.parse(hebrew);
      ticks = 0;
      const manual = { name: 'manual.pdf', data: loadManual() };
      await assert.rejects(parser.parse(manual, { timeoutMs: 1000 }), ParseTimeoutError);
      assert.ok(ticks >= 5, `the main event loop ticked only ${ticks} times in 1 s`);

      const next = await parser.parse(hebrew);
      assert.match(next[0]!.text, /שלום עולם/u);
    } finally {
      clearInterval(timer);
      await parser.close();
    }
  });

  test('page limit rejects before parsing', async () => {
    const parser = new DocumentParser({ defaults: { maxPages: 100 } });
    try {
      await assert.rejects(parser.parse({ name: 'manual.pdf', data: loadManual() }), (error) => {
        assert.ok(error instanceof DocumentTooLargeError);
        assert.equal(error.limit, 'pages');
        assert.equal(error.actual, 261);
        return true;
      });
    } finally {
      await parser.close();
    }
  });

  test('heap limit fails the document, not the next one', async () => {
    const parser = new DocumentParser({ memoryLimitMb: 24 });
    try {
      await assert.rejects(parser.parse({ name: 'manual.pdf', data: loadManual() }), (error) => {
        assert.ok(error instanceof DocumentTooLargeError);
        assert.equal(error.limit, 'memory');
        return true;
      });
      const next = await parser.parse({ name: 'notes.txt', data: Buffer.from('Still parsing.') });
      assert.equal(next[0]?.text, 'Still parsing.');
      const pdfNext = await parser.parse({
        name: 'hebrew.pdf',
        data: readFileSync(new URL('issue11656.pdf', pdfDir)),
      });
      assert.equal(pdfNext.length, 1);
    } finally {
      await parser.close();
    }
  });
});

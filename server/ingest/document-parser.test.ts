import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ValidationError } from '../core/errors.js';
import {
  DocumentParser,
  DocumentTooLargeError,
  EncryptedDocumentError,
  InvalidDocumentError,
  NoExtractableTextError,
  ParseTimeoutError,
  type DocumentInput,
} from './index.js';

const pdfDir = new URL('../../test/data/pdfs/', import.meta.url);

function pdf(name: string, password?: string): DocumentInput {
  return { name, data: readFileSync(new URL(name, pdfDir)), password };
}

function text(name: string, content: string | Uint8Array): DocumentInput {
  return { name, data: typeof content === 'string' ? Buffer.from(content) : content };
}

describe('DocumentParser on hard PDFs', () => {
  let parser: DocumentParser;
  before(() => {
    parser = new DocumentParser();
  });
  after(() => parser.close());

  const failures = [
    { file: 'bug1020226.pdf', error: InvalidDocumentError, code: 'DOCUMENT_INVALID' },
    { file: 'REDHAT-1531897-0.pdf', error: InvalidDocumentError, code: 'DOCUMENT_INVALID' },
    { file: 'issue6010_1.pdf', error: EncryptedDocumentError, code: 'DOCUMENT_ENCRYPTED' },
    { file: 'scan-bad.pdf', error: NoExtractableTextError, code: 'DOCUMENT_NO_TEXT' },
    { file: 'PDFBOX-4352-0.pdf', error: NoExtractableTextError, code: 'DOCUMENT_NO_TEXT' },
  ];
  for (const { file, error, code } of failures) {
    test(`${file} fails with ${code}`, async () => {
      await assert.rejects(parser.parse(pdf(file)), (thrown: Error & { code?: string }) => {
        assert.ok(thrown instanceof error, `expected ${error.name}, got ${thrown.name}`);
        assert.equal(thrown.code, code);
        return true;
      });
    });
  }

  test('scanned PDF error suggests OCR', async () => {
    await assert.rejects(
      parser.parse(pdf('scan-bad.pdf')),
      /on 1 page; its pages are probably images/,
    );
  });

  test('blank text file error does not suggest OCR', async () => {
    await assert.rejects(parser.parse(text('blank.txt', '  \n\t\n')), (error: Error) => {
      assert.ok(error instanceof NoExtractableTextError);
      assert.match(error.message, /got no letters or digits; upload a file with text in it$/);
      return true;
    });
  });

  test('encrypted PDF parses with its password', async () => {
    const pages = await parser.parse(pdf('issue6010_1.pdf', 'abc'));
    assert.deepEqual(pages, [{ pageNumber: 1, text: 'Issue 6010' }]);
  });

  test('encrypted PDF rejects a wrong password', async () => {
    await assert.rejects(parser.parse(pdf('issue6010_1.pdf', 'wrong')), (error) => {
      assert.ok(error instanceof EncryptedDocumentError);
      assert.equal(error.passwordGiven, true);
      return true;
    });
  });

  test('ligatures expand and words are spaced', async () => {
    const [page] = await parser.parse(pdf('issue10640.pdf'));
    assert.ok(page);
    assert.match(page.text, /This font is available from the Google Font Directory/u);
    assert.doesNotMatch(page.text, /\uFB01/u);
    assert.match(page.text, /designed by Steve Matteson/u);
    assert.equal(page.text, page.text.normalize('NFKC'));
  });

  test('words hyphenated at a line end are joined', async () => {
    const [page] = await parser.parse(pdf('issue10640.pdf'));
    assert.match(page!.text, /open forms and a neutral, yet friendly appearance/u);
  });

  test('Hebrew comes out in logical order', async () => {
    const [page] = await parser.parse(pdf('issue11656.pdf'));
    const lines = page!.text.split('\n');
    assert.equal(lines[0], 'שלום עולם מה שלום כולם?');
    assert.equal(lines[2], 'כמו כל הילדים.');
    assert.match(page!.text, /לפי סעיף 15\(ב\)\(4\) לחוק מבקר המדינה/u);
  });

  test('progress is reported per page', async () => {
    const progress: [number, number][] = [];
    await parser.parse(pdf('issue11656.pdf'), {
      onPage: (done, total) => progress.push([done, total]),
    });
    assert.deepEqual(progress, [[1, 1]]);
  });

  test('bytes over maxBytes are rejected', async () => {
    await assert.rejects(parser.parse(pdf('issue10640.pdf'), { maxBytes: 1000 }), (error) => {
      assert.ok(error instanceof DocumentTooLargeError);
      assert.equal(error.limit, 'bytes');
      assert.equal(error.maximum, 1000);
      assert.equal(error.actual, 50264);
      return true;
    });
  });

  test('batch isolates each bad document', async () => {
    const results = await parser.parseMany([
      pdf('REDHAT-1531897-0.pdf'),
      pdf('issue11656.pdf'),
      pdf('bug1020226.pdf'),
      text('notes.md', '# Title\n\nSome *text* with a [link](https://example.com).'),
      pdf('scan-bad.pdf'),
      pdf('issue10640.pdf'),
    ]);
    assert.deepEqual(
      results.map((result) => result.ok),
      [false, true, false, true, false, true],
    );
    const [redhat, hebrew, , markdown] = results;
    assert.ok(redhat !== undefined && !redhat.ok);
    assert.ok(redhat.error instanceof InvalidDocumentError);
    assert.ok(hebrew?.ok);
    assert.equal(hebrew.type, 'pdf');
    assert.ok(markdown?.ok);
    assert.equal(markdown.type, 'markdown');
    assert.equal(markdown.pages[0]?.text, 'Title\nSome text with a link.');
  });
});

describe('DocumentParser options', () => {
  test('invalid options are all reported', () => {
    assert.throws(
      () => new DocumentParser({ workers: 0, memoryLimitMb: 1, defaults: { timeoutMs: -1 } }),
      (error) => {
        assert.ok(error instanceof ValidationError);
        assert.equal(error.problems.length, 3);
        return true;
      },
    );
  });

  test('invalid call limits are rejected', async () => {
    const parser = new DocumentParser();
    try {
      await assert.rejects(
        parser.parse(text('a.txt', 'Fine text.'), { maxBytes: 0 }),
        ValidationError,
      );
    } finally {
      await parser.close();
    }
  });
});

describe('DocumentParser on text files', () => {
  const parser = new DocumentParser();
  after(() => parser.close());

  test('plain text is NFKC-normalised', async () => {
    const pages = await parser.parse(text('a.txt', 'Ef\uFB01cient ﬁles\r\nline two\n'));
    assert.deepEqual(pages, [{ pageNumber: 1, text: 'Efficient files\nline two' }]);
  });

  test('invalid UTF-8 is an invalid document', async () => {
    const bytes = new Uint8Array([0x48, 0x69, 0xff, 0xfe, 0x20]);
    await assert.rejects(parser.parse(text('a.txt', bytes)), InvalidDocumentError);
  });

  test('large text obeys the deadline', async () => {
    const large = text('large.txt', 'Many words here. '.repeat(2_000_000));
    await assert.rejects(parser.parse(large, { timeoutMs: 50 }), ParseTimeoutError);
    const small = await parser.parse(text('small.txt', 'Still parsing.'));
    assert.equal(small[0]?.text, 'Still parsing.');
  });

  test('empty text has no extractable text', async () => {
    await assert.rejects(parser.parse(text('a.txt', ' \n\n ')), NoExtractableTextError);
  });

  test('PDF signature wins over a text name', async () => {
    const pages = await parser.parse({ ...pdf('issue11656.pdf'), name: 'upload.txt' });
    assert.match(pages[0]!.text, /שלום עולם/u);
  });
});

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';

import { detectMediaType, requireMediaType } from './media-type.js';

const encode = (text: string) => new TextEncoder().encode(text);

describe('detectMediaType', () => {
  const cases: [string, Uint8Array, string, string | undefined][] = [
    ['PDF signature', encode('%PDF-1.7\n...'), 'scan.bin', 'application/pdf'],
    ['signature after junk', encode(`${' '.repeat(500)}%PDF-1.4`), 'a', 'application/pdf'],
    ['Markdown name', encode('# Title\n\nbody'), 'notes.md', 'text/markdown'],
    ['plain text', encode('Grüße aus Köln'), 'notes.txt', 'text/plain'],
    ['text without a name hint', encode('hello'), 'README', 'text/plain'],
    ['NUL bytes', new Uint8Array([0x41, 0x00, 0x42]), 'data.txt', undefined],
    ['invalid UTF-8', new Uint8Array([0xff, 0xfe, 0x41]), 'data.txt', undefined],
    [
      'PNG',
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]),
      'x.pdf',
      undefined,
    ],
  ];
  for (const [label, data, name, expected] of cases) {
    it(label, () => assert.equal(detectMediaType(data, name), expected));
  }

  it('character cut at the sample end is text', () => {
    // 'é' is two bytes, so after one 'a' the 64 KiB sample ends halfway through an 'é'.
    const data = encode('a' + 'é'.repeat(40_000));
    assert.equal(detectMediaType(data, 'long.txt'), 'text/plain');
  });

  it('real PDF is a PDF', async () => {
    const pdf = await readFile('test/data/pdfs/bug1020226.pdf');
    assert.equal(detectMediaType(pdf, 'bug1020226'), 'application/pdf');
  });

  it('unknown binary is rejected by name', () => {
    assert.throws(
      () => requireMediaType(new Uint8Array([0, 1, 2]), 'photo.jpg'),
      (error: Error & { code?: string }) =>
        error.code === 'UNSUPPORTED_DOCUMENT' && error.message.startsWith('photo.jpg is neither'),
    );
  });
});

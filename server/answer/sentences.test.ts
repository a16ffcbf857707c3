import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { splitSentences } from './sentences.js';

function sentencesOf(text: string, maxChars?: number): string[] {
  return splitSentences(text, { maxChars }).map(({ start, end }) => text.slice(start, end));
}

describe('splitSentences', () => {
  it('splits at sentence ends and trims white space', () => {
    assert.deepEqual(sentencesOf('  One sentence.  Is it two? Yes!  '), [
      'One sentence.',
      'Is it two?',
      'Yes!',
    ]);
  });

  it('keeps abbreviations, decimals and titles inside a sentence', () => {
    assert.deepEqual(sentencesOf('Dr. Smith measured 3.5 kg, e.g. in Fig. 2 here. Next.'), [
      'Dr. Smith measured 3.5 kg, e.g. in Fig. 2 here.',
      'Next.',
    ]);
  });

  it('keeps a sentence whole across a page break', () => {
    assert.deepEqual(sentencesOf('It runs on\n\nthe next page. Then ends.'), [
      'It runs on\n\nthe next page.',
      'Then ends.',
    ]);
  });

  it('cuts a long sentence at word boundaries', () => {
    const text = Array(30).fill('word').join(' ');
    const pieces = sentencesOf(text, 50);
    assert.ok(pieces.length > 1);
    for (const piece of pieces) {
      assert.ok(piece.length <= 50, `piece of ${piece.length} characters`);
      assert.match(piece, /^word( word)*$/);
    }
    assert.equal(pieces.join(' '), text);
  });

  it('returns nothing for white space', () => {
    assert.deepEqual(splitSentences(' \n\n '), []);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  NETWORKING_CHUNK,
  PAGE_3_TEXT,
  PRINTING_CHUNK,
  STRADDLING_CHUNK,
} from '../../test/support/chunks.js';
import { citeMarkers } from './marker-citations.js';
import { locatePagesBySeparator } from './pages.js';

const chunks = [STRADDLING_CHUNK, NETWORKING_CHUNK, PRINTING_CHUNK];

function cite(answer: string) {
  return citeMarkers(answer, chunks, locatePagesBySeparator);
}

describe('citeMarkers', () => {
  it('cites only the numbers the answer uses', () => {
    const citations = cite('Printing uses CUPS on port 631 [3].');

    assert.equal(citations.length, 1);
    assert.equal(citations[0]!.index, 3);
    assert.equal(citations[0]!.chunkId, 'manual:14');
    assert.equal(citations[0]!.quote, PRINTING_CHUNK.text);
  });

  it('quotes the sentence closest to the claim, with its page', () => {
    const citations = cite('The unattended upgrades service installs them [1].');

    assert.equal(
      citations[0]!.quote,
      'The unattended upgrades service installs security updates automatically.',
    );
    assert.equal(citations[0]!.pageStart, 4);
    assert.equal(citations[0]!.pageEnd, 4);
  });

  it('reads lists and adjacent markers', () => {
    const citations = cite(
      'Free space with apt clean [1, 3]. Restart networking afterwards.[2][3]',
    );

    assert.deepEqual(
      citations.map((citation) => citation.index),
      [1, 2, 3],
    );
    assert.match(citations[1]!.quote, /^Restart the networking service/);
  });

  it('gives the claim before a marker after the full stop', () => {
    const citations = cite('Run apt clean to free disk space. [1]');

    assert.equal(citations[0]!.quote, PAGE_3_TEXT.split('. ')[1]);
    assert.equal(citations[0]!.pageEnd, 3);
  });

  it('quotes the whole chunk when no sentence shares a word', () => {
    const citations = cite('Ja [1].');

    assert.equal(citations[0]!.quote, STRADDLING_CHUNK.text);
    assert.equal(citations[0]!.pageStart, 3);
    assert.equal(citations[0]!.pageEnd, 4);
  });

  it('ignores numbers without a chunk', () => {
    assert.deepEqual(cite('Nothing here [0]. Nor here [4]. Nor in a year [2024].'), []);
  });
});

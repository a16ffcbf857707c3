import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { manualChunk } from '../../test/support/chunks.js';
import { PAGE_SEPARATOR } from '../ingest/types.js';
import { collectCandidates, looksTabular, splitBlocks } from './candidates.js';

function blockTexts(text: string): string[] {
  return splitBlocks(text).map(({ start, end }) => text.slice(start, end));
}

function candidateTexts(text: string): string[] {
  return collectCandidates([manualChunk({ text })], {
    locatePages: () => ({ pageStart: 1, pageEnd: 1 }),
    minWords: 4,
    maxChars: 600,
  }).map((candidate) => candidate.text);
}

// Lines as the PDF parser writes them: one paragraph per line, headings on their own lines.
const MANUAL_PAGE = [
  'Debian Reference 72 / 233',
  '2.7.8 Automatic download and upgrade of packages',
  'Warning Use of apt-pinning by a novice user is sure call for major troubles. You must avoid using apt-pinning except when you absolutely need it.',
  'The apt package comes with its own cron script to support the automatic download of packages.',
  'APT::Periodic::Update-Package-Lists "1";',
].join('\n');

describe('splitBlocks', () => {
  it('ends a block after a heading', () => {
    const blocks = blockTexts(MANUAL_PAGE);
    assert.equal(blocks[1], '2.7.8 Automatic download and upgrade of packages');
    assert.ok(blocks[2]!.startsWith('Warning Use of apt-pinning'));
  });

  it('keeps wrapped lines together', () => {
    const text =
      'This program is free software: you can redistribute it and/or modify\n' +
      'it under the terms of the GNU General Public License as published by\n' +
      'the Free Software Foundation.\n' +
      'Short heading\n' +
      'This program is distributed in the hope that it will be useful.';
    assert.deepEqual(blockTexts(text), [
      'This program is free software: you can redistribute it and/or modify\n' +
        'it under the terms of the GNU General Public License as published by\n' +
        'the Free Software Foundation.',
      'Short heading',
      'This program is distributed in the hope that it will be useful.',
    ]);
  });

  it('keeps a sentence across a page break whole', () => {
    const text =
      'The installer asks for the root password and' +
      PAGE_SEPARATOR +
      'the user name before it installs the base system.';
    assert.deepEqual(blockTexts(text), [text]);
  });

  it('returns no block for blank text', () => {
    assert.deepEqual(splitBlocks('\n \n'), []);
  });
});

describe('looksTabular', () => {
  it('flags dot leaders of a table of contents', () => {
    assert.equal(looksTabular('1.1.1 The shell prompt . . . . . . . . . . . . 1'), true);
    assert.equal(looksTabular('1.1.2 The shell prompt under GUI .......... 2'), true);
  });

  it('flags table rows run together', () => {
    const row = 'abiword V:1, I:9 3467 GNOME word processor calligrawords V:0, I:6 5836 KDE';
    assert.equal(looksTabular(row), true);
  });

  it('keeps prose with a few numbers', () => {
    const sentence = 'Limit the download bandwidth for APT to 800 KiB per second in apt.conf.';
    assert.equal(looksTabular(sentence), false);
  });

  it('keeps an ellipsis in prose', () => {
    assert.equal(looksTabular('The installer waits... and then asks for the password.'), false);
  });
});

describe('collectCandidates', () => {
  it('does not glue a heading to the next sentence', () => {
    const texts = candidateTexts(MANUAL_PAGE);
    assert.ok(
      texts.includes(
        'Warning Use of apt-pinning by a novice user is sure call for major troubles.',
      ),
    );
    assert.ok(!texts.some((text) => text.includes('packages Warning')));
  });

  it('skips the page header and table of contents', () => {
    const texts = candidateTexts(
      MANUAL_PAGE +
        '\n1.1 Console basics . . . . . . . . . . . . . . . . . . . . . . . . 1\n' +
        '1.1.1 The shell prompt under GUI . . . . . . . . . . . . . . . . . . . 2',
    );
    assert.ok(!texts.some((text) => text.includes('72 / 233')));
    assert.ok(!texts.some((text) => text.includes('. . .')));
  });
});

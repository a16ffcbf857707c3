import { PAGE_SEPARATOR } from '../../server/ingest/types.js';
import type { RetrievedChunk } from '../../server/answer/types.js';

/** Builds a retrieved chunk of a fictional system manual; offsets follow the text's length. */
export function manualChunk(fields: Partial<RetrievedChunk> & { text: string }): RetrievedChunk {
  const charStart = fields.charStart ?? 0;
  return {
    chunkId: 'manual:0',
    documentId: 'manual',
    documentName: 'Debian manual.pdf',
    pageStart: 1,
    pageEnd: 1,
    charStart,
    charEnd: charStart + fields.text.length,
    score: 0.5,
    ...fields,
  };
}

export const PAGE_3_TEXT =
  'The package manager keeps a cache of downloaded archives. ' +
  'Run apt clean to delete the cached archives and free disk space.';

export const PAGE_4_TEXT =
  'Security updates are published by the security team every day. ' +
  'The unattended upgrades service installs security updates automatically.';

/** A chunk whose text runs from page 3 onto page 4. */
export const STRADDLING_CHUNK = manualChunk({
  chunkId: 'manual:7',
  text: PAGE_3_TEXT + PAGE_SEPARATOR + PAGE_4_TEXT,
  pageStart: 3,
  pageEnd: 4,
  charStart: 1000,
  score: 0.62,
});

/** A chunk on page 6 about network configuration. */
export const NETWORKING_CHUNK = manualChunk({
  chunkId: 'manual:9',
  text:
    'Network interfaces are configured in the interfaces file. ' +
    'A static address needs the address, netmask and gateway lines. ' +
    'Restart the networking service after editing the interfaces file.',
  pageStart: 6,
  pageEnd: 6,
  charStart: 2400,
  score: 0.4,
});

/** A chunk on page 9 about printing. */
export const PRINTING_CHUNK = manualChunk({
  chunkId: 'manual:14',
  text: 'Printers are managed by the CUPS web interface on port 631.',
  pageStart: 9,
  pageEnd: 9,
  charStart: 5100,
  score: 0.3,
});

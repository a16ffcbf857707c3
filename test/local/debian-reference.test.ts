import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { StreamClusterClient } from '../../client/client.js';
import type { Citation } from '../../client/types.js';
import { startTestServer, type TestServer } from '../support/stream-stack.js';

/** The Debian Reference manual from Debian's debian-reference-en package (GPL), 261 pages. */
const MANUAL = '/usr/share/debian-reference/debian-reference.en.pdf';

/**
 * Questions and the physical page that holds each answer, checked with
 * `pdftotext -f N -l N` on the manual.
 */
const CASES = [
  {
    question: 'Which package comes with its own cron script to download packages daily?',
    page: 100,
  },
  { question: 'How do I reconfigure the system time zone?', page: 179 },
];

describe('Debian Reference manual', () => {
  let server: TestServer;
  let client: StreamClusterClient;
  let seq = 0;
  let dataDir: string;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'streamcluster-manual-'));
    server = await startTestServer(['--embed-workers', '2'], { dataDir });
    client = new StreamClusterClient({ urls: server.url });
    const result = await client.ingest(await readFile(MANUAL), { name: 'debian-reference.en.pdf' });
    assert.equal(result.pages, 261);
    seq = result.seq;
  });

  after(async () => {
    client?.close();
    await server?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  for (const { question, page } of CASES) {
    it(`cites page ${page} for "${question}"`, async () => {
      let citations: Citation[] = [];
      for await (const event of client.ask(question, { minSeq: seq })) {
        if (event.type === 'answer.citations') citations = event.citations;
      }
      assert.ok(citations.length > 0, 'the answer has citations');
      assert.equal(citations[0]!.pageStart, page, JSON.stringify(citations[0]));
    });
  }

  it('keeps the document after a restart', async () => {
    client.close();
    await server.stop();
    const restarted = await startTestServer([], { dataDir });
    try {
      const again = new StreamClusterClient({ urls: restarted.url });
      const { hits } = await again.search(CASES[0]!.question, { k: 3 });
      again.close();
      assert.equal(hits[0]?.documentName, 'debian-reference.en.pdf');
      assert.ok(hits.some((hit) => hit.pageStart <= 100 && hit.pageEnd >= 100));
    } finally {
      await restarted.stop();
    }
  });
});

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
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

  before(async () => {
    server = await startTestServer(['--embed-workers', '2']);
    client = new StreamClusterClient({ urls: server.url });
    const result = await client.ingest(await readFile(MANUAL), { name: 'debian-reference.en.pdf' });
    assert.equal(result.pages, 261);
    seq = result.seq;
  });

  after(async () => {
    client?.close();
    await server?.stop();
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
    await server.running.stop();
    const restarted = await startTestServer([], { dataDir: server.dataDir });
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

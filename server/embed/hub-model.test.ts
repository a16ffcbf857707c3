import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { defaultModelDir } from './model-source.js';
import { createEmbedder } from './transformers-embedder.js';

const HUB_ID = 'Xenova/all-MiniLM-L6-v2';

/**
 * Serves `modelDir` the way the Hub serves `HUB_ID`: `/<id>/resolve/main/<file>`, 404 for
 * anything else. Requests are recorded so the test can see which files were downloaded.
 */
function startFakeHub(modelDir: string, requests: string[]): Promise<Server> {
  const prefix = `/${HUB_ID}/resolve/main/`;
  const server = createServer((request, response) => {
    const url = decodeURIComponent(request.url ?? '');
    requests.push(url);
    const file = normalize(url.slice(prefix.length));
    if (!url.startsWith(prefix) || file.startsWith('..')) return response.writeHead(404).end();
    const path = join(modelDir, file);
    stat(path).then(
      (info) => {
        response.writeHead(200, { 'content-length': info.size });
        if (request.method === 'HEAD') return response.end();
        createReadStream(path).pipe(response);
      },
      () => response.writeHead(404).end(),
    );
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** A loopback port with nothing listening, so connections to it are refused. */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('Hub model ids', () => {
  let scratch: string;

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'streamcluster-hub-'));
  });

  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  test('hub model downloads into the cache', async () => {
    const requests: string[] = [];
    const hub = await startFakeHub(defaultModelDir(), requests);
    const { port } = hub.address() as { port: number };
    try {
      const embedder = await createEmbedder({
        model: HUB_ID,
        workers: 1,
        hubEndpoint: `http://127.0.0.1:${port}/`,
        hubCacheDir: join(scratch, 'hub'),
      });
      const [cat, kitten] = await embedder.embed([
        'A cat sits on the mat',
        'A kitten sits on a rug',
      ]);
      await embedder.close();

      assert.equal(embedder.dimension, 384);
      assert.ok(requests.some((url) => url.endsWith('/onnx/model.onnx')));
      assert.ok((await stat(join(scratch, 'hub', HUB_ID, 'onnx', 'model.onnx'))).size > 0);
      let similarity = 0;
      for (let i = 0; i < cat!.length; i++) similarity += cat![i]! * kitten![i]!;
      assert.ok(similarity > 0.5);
    } finally {
      hub.close();
    }
  });

  test('unreachable hub names the model id', async () => {
    const port = await closedPort();

    await assert.rejects(
      createEmbedder({
        model: HUB_ID,
        hubEndpoint: `http://127.0.0.1:${port}/`,
        hubCacheDir: join(scratch, 'unreachable'),
      }),
      {
        name: 'ModelLoadError',
        code: 'MODEL_LOAD_FAILED',
        message: /Xenova\/all-MiniLM-L6-v2 could not be loaded.*local model directory/,
      },
    );
  });
});

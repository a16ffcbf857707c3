import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { buildWebPage } from '../../scripts/build-web.js';
import { createBalancer, type Balancer } from '../../server/balancer/index.js';
import {
  Chromium,
  chromiumUnavailable,
  insecureLoopbackHost,
  type Page,
} from '../support/chromium.js';
import { decodePng, luminanceVariance } from '../support/png.js';
import { startTestServer, type TestServer } from '../support/stream-stack.js';

const DOCUMENT = [
  'The ferry to Inishmore leaves Rossaveal at ten in the morning.',
  'Tickets are sold at the pier office, which opens an hour before departure.',
  'Bicycles travel free of charge on every crossing.',
].join(' ');

const VIEWPORT = { width: 1280, height: 1000 };
/** Screenshots land here (ignored by git) for people to look at. */
const SCREENSHOT_DIR = join(process.cwd(), '.cache', 'screenshots');

const skip = chromiumUnavailable();

/**
 * The balancer's web page in headless Chromium, against two real stream servers that share an
 * embedded log: upload through the file input, watch the ingest, ask, read the streamed answer
 * with its source, and read the servers table. The page runs the client's browser bundle.
 */
describe('web page', { skip }, () => {
  let logDir: string;
  let webRoot: string;
  let workDir: string;
  let servers: TestServer[] = [];
  let balancer: Balancer;
  let origin: string;
  let browser: Chromium;
  let page: Page;

  before(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'streamcluster-web-'));
    webRoot = join(workDir, 'web');
    logDir = join(workDir, 'log');
    await buildWebPage(webRoot);
    servers = await Promise.all(
      [0, 1].map((i) => startTestServer(['--log-dir', logDir, '--server-id', `web-${i}`])),
    );
    balancer = createBalancer({
      config: {
        endpoints: servers.map((server) => ({
          host: '127.0.0.1',
          port: Number(new URL(server.httpUrl).port),
        })),
        healthCheck: { intervalMs: 200 },
        loadReport: { intervalMs: 200 },
      },
      webRoot,
    });
    const { port } = await balancer.listen(0, '127.0.0.1');
    origin = `http://127.0.0.1:${port}`;
    browser = await Chromium.launch();
    page = await browser.newPage(VIEWPORT.width, VIEWPORT.height);
  });

  after(async () => {
    await browser?.close();
    await balancer?.close();
    await Promise.allSettled(servers.map((server) => server.stop()));
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('bundle has no Node.js imports', async () => {
    const bundle = await readFile(join(webRoot, 'app.js'), 'utf8');
    assert.doesNotMatch(bundle, /from ["']node:|import\(["']node:|require\(/);
    // `ws` stays a lazy import that only runtimes without a WebSocket reach.
    assert.match(bundle, /typeof WebSocket|\.WebSocket/);
  });

  it('balancer routes page, API and servers', async () => {
    const redirect = await fetch(`${origin}/`, {
      headers: { accept: 'text/html' },
      redirect: 'manual',
    });
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get('location'), '/ui/');

    const html = await fetch(`${origin}/ui/`);
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(html.headers.get('content-security-policy') ?? '', /connect-src 'self' ws:\/\//);

    const api = await fetch(`${origin}/ui/api/endpoints`);
    assert.equal(api.status, 200);
    const { endpoints } = (await api.json()) as { endpoints: { id: string }[] };
    assert.equal(endpoints.length, 2);

    // Paths outside /ui/ still reach a stream server.
    const stats = await fetch(`${origin}/stats`);
    assert.equal(stats.status, 200);
    const { serverId } = (await stats.json()) as { serverId: string };
    assert.match(serverId, /^web-[01]$/);

    const escape = await fetch(`${origin}/ui/..%2Fpackage.json`);
    assert.equal(escape.status, 404);
    const post = await fetch(`${origin}/ui/`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
  });

  it('uploads, answers and shows servers', async () => {
    await page.goto(`${origin}/`);
    assert.equal(await page.evaluate<string>('location.pathname'), '/ui/');
    await page.waitFor(
      `document.querySelector('#connection-state').dataset.state === 'open'`,
      20_000,
    );
    // Records every later change of the connection state, to explain a failure below.
    await page.evaluate(`(() => {
      const label = document.querySelector('#connection-state');
      window.stateChanges = [];
      new MutationObserver(() => window.stateChanges.push(label.dataset.state)).observe(label, {
        attributes: true,
      });
    })()`);

    const file = join(workDir, 'ferry-timetable.txt');
    await writeFile(file, DOCUMENT);
    await page.setInputFiles('#files', [file]);
    await page.evaluate(`document.querySelector('#upload-form button[type=submit]').click()`);
    await page.waitFor(
      `document.querySelector('#uploads li[data-state=done], #uploads li[data-state=failed]')`,
      60_000,
      `document.querySelector('#uploads').innerText`,
    );
    const upload = await page.evaluate<{ state: string; text: string; indexed: number[] }>(`(() => {
      const item = document.querySelector('#uploads li');
      const bars = [...item.querySelectorAll('progress')];
      return {
        state: item.dataset.state,
        text: item.innerText,
        indexed: [bars.at(-1).value, bars.at(-1).max],
      };
    })()`);
    assert.equal(upload.state, 'done', upload.text);
    assert.match(upload.text, /ferry-timetable\.txt/);
    assert.match(upload.text, /Indexed: 1 page, 1 chunk/);
    assert.equal(upload.indexed[0], upload.indexed[1], 'the indexed bar is full');

    await page.evaluate(
      `document.querySelector('#question').value = 'Where are tickets sold for the ferry?'`,
    );
    await page.evaluate(`document.querySelector('#ask-form button[type=submit]').click()`);
    await page.waitFor(
      `['done', 'failed'].includes(document.querySelector('#answer-region').dataset.state)`,
      60_000,
      `document.querySelector('#answer-region').innerText`,
    );
    const answer = await page.evaluate<{ state: string; text: string; citations: string[] }>(`({
      state: document.querySelector('#answer-region').dataset.state,
      text: document.querySelector('#answer').innerText,
      citations: [...document.querySelectorAll('#citations li')].map((li) => li.innerText),
    })`);
    assert.equal(answer.state, 'done', answer.text);
    assert.match(answer.text, /pier office/);
    assert.match(answer.text, /\[1\]/);
    assert.ok(answer.citations.length >= 1, 'the answer lists a source');
    assert.match(answer.citations[0]!, /ferry-timetable\.txt, page 1/);
    const markerLinks = await page.evaluate<number>(
      `document.querySelectorAll('#answer a[href="#citation-1"]').length`,
    );
    assert.ok(markerLinks >= 1, 'the marker links to its source');

    await page.waitFor(
      `[...document.querySelectorAll('#servers tbody tr')].filter((row) => row.cells[2].textContent === 'available' && row.cells[0].textContent.startsWith('web-')).length === 2`,
      10_000,
      `document.querySelector('#servers').innerText`,
    );
    const rows = await page.evaluate<string[][]>(
      `[...document.querySelectorAll('#servers tbody tr')].map((row) => [...row.cells].map((cell) => cell.textContent))`,
    );
    assert.deepEqual(rows.map((row) => row[0]).sort(), ['web-0', 'web-1']);
    const states = await page.evaluate<string[]>('window.stateChanges');
    assert.deepEqual(states, [], 'the page kept its connection');
    await page.waitFor(
      `[...document.querySelectorAll('#servers tbody tr')].reduce((sum, row) => sum + Number(row.cells[4].textContent), 0) === 1`,
      10_000,
      `document.querySelector('#servers').innerText`,
    );

    await checkScreenshot(page);
    assert.deepEqual(page.errors, [], 'no script errors or CSP violations');
  });

  it('uploads from an insecure context', async () => {
    // Served by host name, the page has no crypto.subtle, so the client hashes in plain code; a
    // wrong digest would end the upload with CHECKSUM_MISMATCH.
    const insecure = await browser.newPage(VIEWPORT.width, VIEWPORT.height);
    await insecure.goto(`${origin.replace('127.0.0.1', insecureLoopbackHost)}/ui/`);
    assert.equal(await insecure.evaluate<boolean>('window.isSecureContext'), false);
    assert.equal(await insecure.evaluate<string>('typeof crypto.subtle'), 'undefined');
    await insecure.waitFor(
      `document.querySelector('#connection-state').dataset.state === 'open'`,
      20_000,
    );

    const file = join(workDir, 'harbour-notes.md');
    await writeFile(
      file,
      '# Harbour\n\nThe harbour light at Kilronan flashes green every five seconds.\n',
    );
    await insecure.setInputFiles('#files', [file]);
    await insecure.evaluate(`document.querySelector('#upload-form button[type=submit]').click()`);
    await insecure.waitFor(
      `document.querySelector('#uploads li[data-state=done], #uploads li[data-state=failed]')`,
      60_000,
      `document.querySelector('#uploads').innerText`,
    );
    const item = await insecure.evaluate<{ state: string; text: string }>(
      `({ state: document.querySelector('#uploads li').dataset.state, text: document.querySelector('#uploads li').innerText })`,
    );
    assert.equal(item.state, 'done', item.text);
    assert.match(item.text, /Indexed: 1 page, 1 chunk/);
    assert.deepEqual(insecure.errors, [], 'no script errors or CSP violations');
  });
});

/**
 * Saves a screenshot and checks it: the viewport's size, not blank, and the answer region on
 * screen with text in it.
 */
async function checkScreenshot(page: Page): Promise<void> {
  await page.evaluate(
    `document.querySelector('#answer-region').scrollIntoView({ block: 'center' })`,
  );
  const png = await page.screenshot();
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await writeFile(join(SCREENSHOT_DIR, 'web-page.png'), png);

  const image = decodePng(png);
  assert.equal(image.width, VIEWPORT.width);
  assert.equal(image.height, VIEWPORT.height);
  // A blank or single-colour page has a variance near 0; text and panels give hundreds.
  assert.ok(luminanceVariance(image) > 100, `whole page variance ${luminanceVariance(image)}`);

  const rect = await page.evaluate<{ x: number; y: number; width: number; height: number }>(
    `(() => { const r = document.querySelector('#answer').getBoundingClientRect(); return { x: r.x, y: r.y, width: r.width, height: r.height }; })()`,
  );
  assert.ok(rect.width > 100, `answer box ${JSON.stringify(rect)} is wide enough to read`);
  assert.ok(rect.height > 20, `answer box ${JSON.stringify(rect)} holds at least a line`);
  assert.ok(
    rect.y >= 0 && rect.y + rect.height <= VIEWPORT.height && rect.x >= 0,
    `answer box ${JSON.stringify(rect)} inside the viewport`,
  );
  const answerVariance = luminanceVariance(image, rect);
  assert.ok(answerVariance > 50, `answer box variance ${answerVariance}: its text is drawn`);
}

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';

import { buildWebPage } from '../../scripts/build-web.js';
import { createBalancer, type Balancer } from '../../server/balancer/index.js';
import { Chromium, chromiumUnavailable, type Page } from '../support/chromium.js';
import { startTestServer, type TestServer } from '../support/stream-stack.js';

const TOKEN = 'page-token-3f9c2a71';

const DOCUMENT = [
  'The ferry to Inishmore leaves Rossaveal at ten in the morning.',
  'Tickets are sold at the pier office, which opens an hour before departure.',
].join(' ');

/** Screenshots land here (ignored by git) for people to look at. */
const SCREENSHOT_DIR = join(process.cwd(), '.cache', 'screenshots');

const skip = chromiumUnavailable();

/**
 * The web page in headless Chromium against a stream server started with `--auth-token` and a
 * balancer started with the same `--web-token`. The page gets the token from the address's
 * fragment or from its access token field, and never otherwise.
 */
describe('web page with an access token', { skip }, () => {
  let workDir: string;
  let server: TestServer;
  let balancer: Balancer;
  let origin: string;
  let browser: Chromium;
  /** Every line the server and the balancer logged, at debug level. */
  const logLines: string[] = [];
  /** Every console message and browser log entry of every tab, as text. */
  const browserLog: string[] = [];

  before(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'streamcluster-web-token-'));
    const webRoot = join(workDir, 'web');
    await buildWebPage(webRoot);
    const logger = pino({ level: 'debug' }, { write: (line: string) => logLines.push(line) });
    server = await startTestServer(['--auth-token', TOKEN, '--server-id', 'token-0'], { logger });
    balancer = createBalancer({
      config: {
        endpoints: [{ host: '127.0.0.1', port: server.port }],
        healthCheck: { intervalMs: 200 },
        loadReport: { intervalMs: 200 },
      },
      webRoot,
      webToken: TOKEN,
      logger,
    });
    origin = `http://127.0.0.1:${(await balancer.listen(0, '127.0.0.1')).port}`;
    browser = await Chromium.launch();
    browser.onEvent((message) => {
      if (message.method === 'Log.entryAdded' || message.method === 'Runtime.consoleAPICalled')
        browserLog.push(JSON.stringify(message.params));
    });
  });

  after(async () => {
    await browser?.close();
    await balancer?.close();
    await server?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  /** Opens a new tab, which starts with empty sessionStorage, with browser logging on. */
  async function newTab(): Promise<Page> {
    const page = await browser.newPage(1280, 1000);
    await page.send('Log.enable');
    return page;
  }

  it('fragment token connects and answers', async () => {
    const page = await newTab();
    await page.goto(`${origin}/ui/#token=${TOKEN}&view=servers`);
    await waitForOpen(page);

    const address = await page.evaluate<{ href: string; hash: string }>(
      '({ href: location.href, hash: location.hash })',
    );
    assert.doesNotMatch(address.href, new RegExp(TOKEN));
    assert.equal(address.hash, '#view=servers', 'other fragment parameters stay');
    assert.equal(
      await page.evaluate<string>(`sessionStorage.getItem('streamcluster.accessToken')`),
      TOKEN,
    );
    assert.equal(await page.evaluate<number>('localStorage.length'), 0);
    assert.equal(await page.evaluate<boolean>(`document.querySelector('#access').hidden`), true);

    const file = join(workDir, 'ferry-timetable.txt');
    await writeFile(file, DOCUMENT);
    await page.setInputFiles('#files', [file]);
    await page.evaluate(`document.querySelector('#upload-form button[type=submit]').click()`);
    await page.waitFor(
      `document.querySelector('#uploads li[data-state=done], #uploads li[data-state=failed]')`,
      60_000,
      `document.querySelector('#uploads').innerText`,
    );
    const upload = await page.evaluate<{ state: string; text: string }>(
      `({ state: document.querySelector('#uploads li').dataset.state, text: document.querySelector('#uploads li').innerText })`,
    );
    assert.equal(upload.state, 'done', upload.text);

    await page.evaluate(
      `document.querySelector('#question').value = 'Where are tickets sold for the ferry?'`,
    );
    await page.evaluate(`document.querySelector('#ask-form button[type=submit]').click()`);
    await page.waitFor(
      `['done', 'failed'].includes(document.querySelector('#answer-region').dataset.state)`,
      60_000,
      `document.querySelector('#answer-region').innerText`,
    );
    const answer = await page.evaluate<{ state: string; text: string }>(
      `({ state: document.querySelector('#answer-region').dataset.state, text: document.querySelector('#answer').innerText })`,
    );
    assert.equal(answer.state, 'done', answer.text);
    assert.match(answer.text, /pier office/);

    // The servers table loads only with the token, because the balancer has a web token.
    await page.waitFor(
      `[...document.querySelectorAll('#servers tbody tr')].some((row) => row.cells[0].textContent === 'token-0' && row.cells[2].textContent === 'available')`,
      10_000,
      `document.querySelector('#servers-status').innerText`,
    );
    assert.deepEqual(page.errors, [], 'no script errors or CSP violations');

    // A reload in the same tab reads the token from sessionStorage.
    await page.goto(`${origin}/ui/`);
    await waitForOpen(page);
  });

  it('page without a token offers the field', async () => {
    const page = await newTab();
    await page.goto(`${origin}/ui/`);
    await page.waitFor(
      `!document.querySelector('#access').hidden && /may require an access token/.test(document.querySelector('#access-hint').textContent)`,
      20_000,
    );
    const state = await page.evaluate<string>(
      `document.querySelector('#connection-state').dataset.state`,
    );
    assert.notEqual(state, 'open');
    await page.waitFor(
      `/only to callers with the access token/.test(document.querySelector('#servers-status').textContent)`,
      10_000,
      `document.querySelector('#servers-status').textContent`,
    );
    assert.equal(
      await page.evaluate<number>(`document.querySelectorAll('#servers tbody tr').length`),
      0,
    );
    await mkdir(SCREENSHOT_DIR, { recursive: true });
    await writeFile(join(SCREENSHOT_DIR, 'web-page-access-token.png'), await page.screenshot());

    // A person types the token into the field.
    await page.evaluate(`(() => {
      document.querySelector('#access-token').value = '${TOKEN}';
      document.querySelector('#access-form').requestSubmit();
    })()`);
    await waitForOpen(page);
    assert.equal(await page.evaluate<string>(`document.querySelector('#access-token').value`), '');
    assert.equal(
      await page.evaluate<string>(`sessionStorage.getItem('streamcluster.accessToken')`),
      TOKEN,
    );
    assert.doesNotMatch(await page.evaluate<string>('location.href'), new RegExp(TOKEN));
    await page.waitFor(
      `document.querySelector('#access').hidden && document.querySelectorAll('#servers tbody tr').length === 1`,
      10_000,
      `document.querySelector('header').innerText`,
    );
    assert.deepEqual(page.errors, [], 'no script errors or CSP violations');
  });

  it('wrong token says it may be rejected', async () => {
    const page = await newTab();
    await page.goto(`${origin}/ui/#token=wrong-token`);
    await page.waitFor(
      `!document.querySelector('#access').hidden && /may have rejected the access token/.test(document.querySelector('#access-hint').textContent)`,
      20_000,
    );
    assert.equal(await page.evaluate<string>('location.href'), `${origin}/ui/`);
    await page.waitFor(
      `/rejected the access token/.test(document.querySelector('#servers-status').textContent)`,
      10_000,
      `document.querySelector('#servers-status').textContent`,
    );
  });

  it('invalid fragment token is named', async () => {
    const page = await newTab();
    await page.goto(`${origin}/ui/#token=has%20space`);
    await page.waitFor(
      `/may contain only letters, digits/.test(document.querySelector('#access-hint').textContent)`,
      5_000,
    );
    assert.equal(await page.evaluate<string>('location.href'), `${origin}/ui/`);
    assert.equal(
      await page.evaluate<string | null>(`sessionStorage.getItem('streamcluster.accessToken')`),
      null,
    );
  });

  it('logs never contain the token', () => {
    assert.ok(logLines.length > 0, 'the server and the balancer logged');
    assert.ok(browserLog.length > 0, 'the browser logged the failed connects');
    for (const line of [...logLines, ...browserLog]) assert.doesNotMatch(line, new RegExp(TOKEN));
  });
});

function waitForOpen(page: Page): Promise<void> {
  return page.waitFor(
    `document.querySelector('#connection-state').dataset.state === 'open'`,
    20_000,
    `document.querySelector('header').innerText`,
  );
}

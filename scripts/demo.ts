/**
 * `make demo`: a local StreamCluster on loopback. Three stream servers share the embedded file
 * log, a balancer fronts them, and a client ingests real documents through the balancer, asks
 * questions with streamed answers and page citations, then checks that every server answers
 * from the replicated index. Exits 0 when every step worked.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { basename, join, resolve } from 'node:path';

import { StreamClusterClient } from '../client/client.js';
import type { Citation } from '../client/types.js';
import { count, formatCitation } from '../server/cli/client-commands.js';
import { ProgressBoard } from '../server/cli/progress.js';
import { buildWebPage } from './build-web.js';

const ROOT = resolve(import.meta.dirname, '..');
const DATA = join(ROOT, '.data', 'demo');
const SERVERS = 3;

/** Documents shipped by Debian packages that `make setup` installs; all free licences. */
const DOCUMENTS = [
  '/usr/share/debian-reference/debian-reference.en.pdf',
  '/usr/share/common-licenses/GPL-3',
];

const QUESTIONS = [
  'Which package comes with its own cron script?',
  'How can I find out which package a file belongs to?',
  'What must I do when I convey modified versions of the program?',
];

const children: ChildProcess[] = [];

function say(text: string): void {
  // Bold only on a terminal, so a log file or a pipe gets plain text.
  const [bold, plain] = process.stdout.isTTY ? ['\x1b[1m', '\x1b[0m'] : ['', ''];
  process.stdout.write(`\n${bold}== ${text}${plain}\n`);
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolvePort(port));
    });
  });
}

function start(name: string, args: string[]): ChildProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'server/cli/main.ts'), ...args],
    {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  child.once('exit', (code, signal) => {
    if (!stopping) {
      process.stderr.write(
        `${name} exited early (code ${code}, signal ${signal}); see its log above\n`,
      );
      process.exit(1);
    }
  });
  children.push(child);
  return child;
}

async function waitReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} was not ready within ${timeoutMs} ms`);
}

let stopping = false;

async function stopAll(): Promise<void> {
  stopping = true;
  const exits = children.map(
    (child) =>
      new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r()))),
  );
  for (const child of children) child.kill('SIGTERM');
  await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 30_000))]);
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
}

async function main(): Promise<void> {
  for (const file of DOCUMENTS) {
    if (!existsSync(file))
      throw new Error(`missing demo document ${file}; run make setup to install it`);
  }
  await rm(DATA, { recursive: true, force: true });
  await mkdir(DATA, { recursive: true });

  say(`starting ${SERVERS} stream servers sharing one embedded log, and a balancer`);
  const serverPorts: number[] = [];
  for (let i = 0; i < SERVERS; i++) {
    const port = await freePort();
    serverPorts.push(port);
    start(`server ${i}`, [
      'server',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--server-id',
      `demo-${i}`,
      '--data-dir',
      join(DATA, `server-${i}`),
      '--log-dir',
      join(DATA, 'log'),
    ]);
  }
  await Promise.all(
    serverPorts.map((port) => waitReady(`http://127.0.0.1:${port}/readyz`, 180_000)),
  );
  const balancerPort = await freePort();
  const adminPort = await freePort();
  const webRoot = join(DATA, 'web');
  await buildWebPage(webRoot);
  start('balancer', [
    'balancer',
    '--host',
    '127.0.0.1',
    '--port',
    String(balancerPort),
    '--admin-port',
    String(adminPort),
    '--endpoints',
    serverPorts.map((port) => `127.0.0.1:${port}`).join(','),
    '--web-root',
    webRoot,
  ]);
  await waitReady(`http://127.0.0.1:${adminPort}/readyz`, 60_000);
  const url = `ws://127.0.0.1:${balancerPort}`;
  process.stdout.write(`servers on ports ${serverPorts.join(', ')}; balancer on ${url}\n`);
  process.stdout.write(`web page at http://127.0.0.1:${balancerPort}/ui/ while the demo runs\n`);

  say('ingesting documents through the balancer');
  const client = new StreamClusterClient({ urls: url });
  const board = new ProgressBoard(process.stdout);
  let lastSeq = 0;
  for (const file of DOCUMENTS) {
    const name = basename(file);
    const started = Date.now();
    const result = await client.ingest(await readFile(file), {
      name,
      mediaType: file.endsWith('.pdf') ? 'application/pdf' : 'text/plain',
      onProgress: (stage, done, total) => board.update(name, stage, done, total),
    });
    lastSeq = Math.max(lastSeq, result.seq);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    board.finish(
      name,
      `${name}: ${count(result.pages, 'page')}, ${count(result.chunks, 'chunk')} in ${seconds} s ` +
        `(log seq ${result.seq})`,
    );
  }

  for (const question of QUESTIONS) {
    say(`ask: ${question}`);
    let citations: Citation[] = [];
    for await (const event of client.ask(question, { minSeq: lastSeq })) {
      if (event.type === 'answer.token') process.stdout.write(event.text);
      if (event.type === 'answer.citations') citations = event.citations;
      if (event.type === 'answer.done') {
        process.stdout.write('\n');
        for (const citation of citations) process.stdout.write(`  ${formatCitation(citation)}\n`);
        process.stdout.write(`  (first token after ${event.timings.firstTokenMs} ms)\n`);
      }
    }
    if (citations.length === 0) throw new Error(`no citation for "${question}"`);
  }
  client.close();

  say('every server answers from the replicated index');
  for (const [i, port] of serverPorts.entries()) {
    const direct = new StreamClusterClient({ urls: `ws://127.0.0.1:${port}` });
    const { hits } = await direct.search(QUESTIONS[0]!, { k: 1, minSeq: lastSeq });
    direct.close();
    const hit = hits[0];
    if (!hit) throw new Error(`server demo-${i} returned no hit`);
    process.stdout.write(
      `  demo-${i}: ${hit.documentName} p. ${hit.pageStart} (score ${hit.score.toFixed(3)})\n`,
    );
  }
  say('done');
}

try {
  await main();
  await stopAll();
  process.exit(0);
} catch (error) {
  process.stderr.write(`demo failed: ${(error as Error).stack ?? String(error)}\n`);
  await stopAll();
  process.exit(1);
}

// Runs `streamcluster server` as a child process on a loopback port, for tests that kill servers
// with signals. The child runs the TypeScript entry through tsx directly rather than through
// bin/streamcluster.js, which would run a stale dist/ build left by `make build`.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { freePort } from './nats.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = join(ROOT, 'server', 'cli', 'main.ts');

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Options for {@link startServerProcess}. */
export interface ServerProcessOptions {
  /** Data directory; default a fresh temporary one, deleted by `destroy()`. */
  dataDir?: string;
  /** Bound on the wait for the server to listen, in milliseconds; default 120 000. */
  startTimeoutMs?: number;
}

/** A stream server process; `start()` after `kill()` runs it again with the same flags and data. */
export interface ServerProcess {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly httpUrl: string;
  readonly dataDir: string;
  readonly running: boolean;
  /** Starts the process when it is not running and waits until `/healthz` returns 200. */
  start(): Promise<void>;
  /** Sends `signal` and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** GET on the server's HTTP port; resolves with the status and the body. */
  get(path: string): Promise<{ status: number; body: string }>;
  /** The parsed `/stats` body. */
  stats(): Promise<Record<string, unknown>>;
  /** Output of the current or last run, for assertion messages. */
  output(): string;
  /** Kills the process and deletes a data directory it created. */
  destroy(): Promise<void>;
}

/**
 * Starts `streamcluster server --server-id <name> <flags>` on a free loopback port with one
 * embedding worker, and resolves once it listens. Readiness is left to the caller.
 */
export async function startServerProcess(
  name: string,
  flags: string[],
  options: ServerProcessOptions = {},
): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), `streamcluster-${name}-`)));
  const server = new ChildServer(name, await freePort(), dataDir, flags, options);
  try {
    await server.start();
  } catch (error) {
    await server.destroy();
    throw error;
  }
  return server;
}

class ChildServer implements ServerProcess {
  readonly url: string;
  readonly httpUrl: string;
  #child: ChildProcess | undefined;
  #output = '';

  constructor(
    readonly name: string,
    readonly port: number,
    readonly dataDir: string,
    private readonly flags: string[],
    private readonly options: ServerProcessOptions,
  ) {
    this.url = `ws://127.0.0.1:${port}`;
    this.httpUrl = `http://127.0.0.1:${port}`;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  async start(): Promise<void> {
    if (this.#child) return;
    const args = [
      '--import',
      'tsx',
      ENTRY,
      'server',
      '--server-id',
      this.name,
      '--host',
      '127.0.0.1',
      '--port',
      String(this.port),
      '--data-dir',
      this.dataDir,
      '--embed-workers',
      '1',
      ...this.flags,
    ];
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    this.#output = '';
    children.add(child);
    const keep = (text: string): void => void (this.#output = (this.#output + text).slice(-32_768));
    child.stdout!.setEncoding('utf8').on('data', keep);
    child.stderr!.setEncoding('utf8').on('data', keep);
    child.once('exit', () => {
      children.delete(child);
      if (this.#child === child) this.#child = undefined;
    });
    await this.#waitForListening(child);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (!child) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }

  async get(path: string): Promise<{ status: number; body: string }> {
    const response = await fetch(`${this.httpUrl}${path}`);
    return { status: response.status, body: await response.text() };
  }

  async stats(): Promise<Record<string, unknown>> {
    const { status, body } = await this.get('/stats');
    if (status !== 200) throw new Error(`${this.name} /stats returned ${status}: ${body}`);
    return JSON.parse(body) as Record<string, unknown>;
  }

  output(): string {
    return this.#output;
  }

  async destroy(): Promise<void> {
    await this.kill('SIGKILL');
    if (!this.options.dataDir) await rm(this.dataDir, { recursive: true, force: true });
  }

  async #waitForListening(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 120_000);
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${this.name} exited while starting; output:\n${this.#output}`);
      }
      const status = await this.get('/healthz').then(
        (response) => response.status,
        () => 0,
      );
      if (status === 200) return;
      await sleep(100);
    }
    await this.kill('SIGKILL');
    throw new Error(`${this.name} did not listen in time; output:\n${this.#output}`);
  }
}

/** Polls `condition` every 100 ms until it returns true; throws with `what` after `timeoutMs`. */
export async function waitUntil(
  what: string,
  condition: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition().catch(() => false)) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

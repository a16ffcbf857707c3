// Starts real nats-server processes (Debian's package, JetStream included) on loopback ports
// with their storage in temporary directories, for tests of the NATS log and of the servers
// that use it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

/** Options for {@link startNatsServer} and {@link startNatsCluster}. */
export interface NatsServerOptions {
  /** Largest message the server accepts; default 8 MiB (nats-server's own default is 1 MiB). */
  maxPayloadBytes?: number;
  /** How long to wait for the server to report ready; default 10 000 ms. */
  startTimeoutMs?: number;
}

/** One nats-server process; `start` after `stop` or `kill` runs it again on the same ports and data. */
export interface NatsServerHandle {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly storeDir: string;
  readonly running: boolean;
  /** Starts the server when it is not running and waits until it accepts clients. */
  start(): Promise<void>;
  /** Stops the server with SIGTERM and waits for it to exit. */
  stop(): Promise<void>;
  /** Kills the server with SIGKILL, as a crash would, and waits for it to exit. */
  kill(): Promise<void>;
}

/** Several nats-server processes routed into one JetStream cluster. */
export interface NatsCluster {
  readonly servers: NatsServerHandle[];
  readonly urls: string[];
  /** Stops every server and deletes their storage. */
  destroy(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Returns a loopback TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (typeof address !== 'object' || !address) throw new Error('no port assigned');
  return address.port;
}

/** Starts a single JetStream server; call `destroy()` on the result when done. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsCluster> {
  return startNatsCluster(1, options);
}

/** Starts `size` servers routed to each other, and waits until JetStream has a meta leader. */
export async function startNatsCluster(
  size: number,
  options: NatsServerOptions = {},
): Promise<NatsCluster> {
  const root = await mkdtemp(join(tmpdir(), 'nats-'));
  const clientPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routePorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const servers: NatsServerHandle[] = [];
  for (let i = 0; i < size; i++) {
    const config = serverConfig(i, root, clientPorts, routePorts, options);
    const configPath = join(root, `n${i + 1}.conf`);
    await writeFile(configPath, config);
    servers.push(new NatsServerProcess(`n${i + 1}`, clientPorts[i]!, root, configPath, options));
  }
  const cluster = {
    servers,
    urls: servers.map((server) => server.url),
    async destroy() {
      await Promise.all(servers.map((server) => server.kill()));
      await rm(root, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(servers.map((server) => server.start()));
    await waitForJetStream(cluster.urls, options.startTimeoutMs ?? 10_000);
  } catch (error) {
    await cluster.destroy();
    throw error;
  }
  return cluster;
}

function serverConfig(
  index: number,
  root: string,
  clientPorts: number[],
  routePorts: number[],
  options: NatsServerOptions,
): string {
  const lines = [
    `server_name: n${index + 1}`,
    `listen: "127.0.0.1:${clientPorts[index]}"`,
    `max_payload: ${options.maxPayloadBytes ?? 8 * 1024 * 1024}`,
    'jetstream {',
    `  store_dir: "${join(root, `n${index + 1}`)}"`,
    '  max_memory_store: 67108864',
    '  max_file_store: 4294967296',
    '}',
  ];
  if (clientPorts.length > 1) {
    const routes = routePorts.map((port) => `"nats-route://127.0.0.1:${port}"`).join(', ');
    lines.push(
      'cluster {',
      '  name: streamcluster-test',
      `  listen: "127.0.0.1:${routePorts[index]}"`,
      `  routes: [${routes}]`,
      '}',
    );
  }
  return lines.join('\n') + '\n';
}

class NatsServerProcess implements NatsServerHandle {
  readonly url: string;
  readonly storeDir: string;
  #child: ChildProcess | undefined;
  #output = '';

  constructor(
    readonly name: string,
    readonly port: number,
    root: string,
    private readonly configPath: string,
    private readonly options: NatsServerOptions,
  ) {
    this.url = `nats://127.0.0.1:${port}`;
    this.storeDir = join(root, name);
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  async start(): Promise<void> {
    if (this.#child) return;
    const child = spawn('nats-server', ['-c', this.configPath], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.#child = child;
    running.add(child);
    child.once('exit', () => {
      running.delete(child);
      if (this.#child === child) this.#child = undefined;
    });
    await this.#waitForReady(child);
  }

  async stop(): Promise<void> {
    await this.#signal('SIGTERM');
  }

  async kill(): Promise<void> {
    await this.#signal('SIGKILL');
  }

  async #signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    if (!child) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }

  async #waitForReady(child: ChildProcess): Promise<void> {
    const timeoutMs = this.options.startTimeoutMs ?? 10_000;
    this.#output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => fail(new Error(`${this.name} not ready in ${timeoutMs} ms`)),
        timeoutMs,
      );
      const fail = (error: Error): void => {
        clearTimeout(timer);
        reject(new Error(`${error.message}; nats-server output:\n${this.#output}`));
      };
      child.once('error', fail);
      child.once('exit', (code) => fail(new Error(`${this.name} exited with ${code}`)));
      child.stderr!.setEncoding('utf8').on('data', (text: string) => {
        this.#output = (this.#output + text).slice(-65_536);
        if (this.#output.includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }
}

/** Waits until a JetStream request through `urls` succeeds, which in a cluster needs a meta leader. */
export async function waitForJetStream(urls: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const nc = await connect({ servers: urls, timeout: timeoutMs });
  try {
    for (;;) {
      try {
        await (await jetstreamManager(nc, { timeout: 1000 })).getAccountInfo();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    await nc.close();
  }
}

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';

/** Path of Debian's Chromium (scripts/setup/15-chromium.sh), or STREAMCLUSTER_CHROMIUM. */
export const chromiumPath = process.env.STREAMCLUSTER_CHROMIUM ?? '/usr/bin/chromium';

/** Returns why Chromium cannot run here, or undefined when it can. */
export function chromiumUnavailable(): string | undefined {
  return existsSync(chromiumPath)
    ? undefined
    : `${chromiumPath} not found; run scripts/setup/15-chromium.sh or set STREAMCLUSTER_CHROMIUM`;
}

/**
 * A host name that Chromium resolves to 127.0.0.1. A page loaded through it is not a secure
 * context (only HTTPS, `localhost` and loopback addresses are), so browsers hide Web Crypto's
 * `subtle` and `randomUUID` there as on a cluster address.
 */
export const insecureLoopbackHost = 'streamcluster.test';

type Message = {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  sessionId?: string;
};
type Pending = {
  resolve: (value: Record<string, unknown>) => void;
  reject: (error: Error) => void;
};

/**
 * A headless Chromium driven over the DevTools protocol. It runs in its own process group with a
 * throwaway profile, listens for DevTools on loopback only, and resolves every host name but
 * {@link insecureLoopbackHost} to nothing, so a page cannot reach beyond the machine.
 */
export class Chromium {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(message: Message) => void>();

  private constructor(
    private readonly child: ChildProcess,
    private readonly socket: WebSocket,
    private readonly profileDir: string,
  ) {
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as Message & {
        result?: Record<string, unknown>;
        error?: { message: string };
      };
      if (message.id !== undefined) {
        const waiter = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error) waiter?.reject(new Error(`DevTools: ${message.error.message}`));
        else waiter?.resolve(message.result ?? {});
        return;
      }
      for (const listener of this.listeners) listener(message);
    });
  }

  /** Starts Chromium and connects to its DevTools endpoint. */
  static async launch(): Promise<Chromium> {
    const profileDir = await mkdtemp(join(tmpdir(), 'streamcluster-chromium-'));
    const child = spawn(
      chromiumPath,
      [
        '--headless=new',
        // The sandbox needs user namespaces, which containers often lack.
        '--no-sandbox',
        '--disable-gpu',
        '--remote-debugging-address=127.0.0.1',
        '--remote-debugging-port=0',
        `--user-data-dir=${profileDir}`,
        `--host-resolver-rules=MAP ${insecureLoopbackHost} 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1`,
        '--no-first-run',
        '--no-default-browser-check',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-extensions',
        'about:blank',
      ],
      { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    try {
      const url = await devToolsUrl(child);
      const socket = new WebSocket(url, { perMessageDeflate: false });
      await new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
      });
      return new Chromium(child, socket, profileDir);
    } catch (error) {
      killGroup(child);
      await rm(profileDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Sends a DevTools command, to a page when `sessionId` is given, and returns its result. */
  send(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
  ): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  /** Calls `listener` with every DevTools event until the returned function is called. */
  onEvent(listener: (message: Message) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Opens a tab with the given viewport and returns a handle to it. */
  async newPage(width: number, height: number): Promise<Page> {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new Page(this, sessionId as string);
    await page.send('Page.enable');
    await page.send('Runtime.enable');
    await page.send('Emulation.setDeviceMetricsOverride', {
      width,
      height,
      deviceScaleFactor: 1,
      mobile: false,
    });
    return page;
  }

  /** Stops Chromium and its helper processes and deletes the profile. */
  async close(): Promise<void> {
    this.socket.terminate();
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    killGroup(this.child);
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    await rm(this.profileDir, { recursive: true, force: true });
  }
}

/** One tab, with the few DevTools calls a page test needs. */
export class Page {
  /** Uncaught exceptions and console errors, as text. */
  readonly errors: string[] = [];

  constructor(
    private readonly browser: Chromium,
    private readonly sessionId: string,
  ) {
    browser.onEvent((message) => {
      if (message.sessionId !== sessionId) return;
      if (message.method === 'Runtime.exceptionThrown') {
        const details = message.params?.exceptionDetails as {
          text: string;
          exception?: { description?: string };
        };
        this.errors.push(details.exception?.description ?? details.text);
      } else if (
        message.method === 'Runtime.consoleAPICalled' &&
        message.params?.type === 'error'
      ) {
        const args = message.params.args as { value?: unknown; description?: string }[];
        this.errors.push(args.map((arg) => String(arg.value ?? arg.description)).join(' '));
      }
    });
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.browser.send(method, params, this.sessionId);
  }

  /** Navigates and resolves once the page's load event fired. */
  async goto(url: string): Promise<void> {
    const loaded = new Promise<void>((resolve) => {
      const stop = this.browser.onEvent((message) => {
        if (message.sessionId === this.sessionId && message.method === 'Page.loadEventFired') {
          stop();
          resolve();
        }
      });
    });
    const result = await this.send('Page.navigate', { url });
    if (result.errorText)
      throw new Error(`navigating to ${url} failed: ${String(result.errorText)}`);
    await loaded;
  }

  /** Evaluates an expression in the page, awaiting a promise, and returns its JSON value. */
  async evaluate<T>(expression: string): Promise<T> {
    const { result, exceptionDetails } = (await this.send('Runtime.evaluate', {
      expression,
      awaitPromise: true,
      returnByValue: true,
    })) as { result: { value?: T }; exceptionDetails?: { text: string } };
    if (exceptionDetails) throw new Error(`${expression} threw: ${exceptionDetails.text}`);
    return result.value as T;
  }

  /** Polls `expression` until it is truthy, and fails with `describe`'s value after the timeout. */
  async waitFor(
    expression: string,
    timeoutMs: number,
    describe = 'document.body.innerText',
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await this.evaluate<boolean>(`Boolean(${expression})`))) {
      if (Date.now() > deadline) {
        const state = await this.evaluate<unknown>(describe);
        throw new Error(
          `${expression} still false after ${timeoutMs} ms; page: ${JSON.stringify(state)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Sets the files of the `<input type=file>` that `selector` finds, as a person would. */
  async setInputFiles(selector: string, files: string[]): Promise<void> {
    const { root } = (await this.send('DOM.getDocument')) as { root: { nodeId: number } };
    const { nodeId } = await this.send('DOM.querySelector', { nodeId: root.nodeId, selector });
    if (!nodeId) throw new Error(`no element matches ${selector}`);
    await this.send('DOM.setFileInputFiles', { nodeId, files });
  }

  /** Captures the viewport as PNG. */
  async screenshot(): Promise<Buffer> {
    const { data } = await this.send('Page.captureScreenshot', { format: 'png' });
    return Buffer.from(data as string, 'base64');
  }
}

/** Reads the DevTools WebSocket URL that Chromium prints on stderr once it listens. */
function devToolsUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => fail(new Error('Chromium printed no DevTools URL within 30 s')),
      30_000,
    );
    const fail = (error: Error): void => {
      clearTimeout(timer);
      reject(new Error(`${error.message}; stderr: ${output.slice(-2000)}`));
    };
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`Chromium exited with ${code}`)));
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      // Keep draining stderr so a chatty browser never blocks on a full pipe.
      child.stderr!.resume();
      resolve(match[1]!);
    });
  });
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // The group is already gone.
  }
}

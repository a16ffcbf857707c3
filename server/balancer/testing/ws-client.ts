import { once } from 'node:events';
import WebSocket from 'ws';

/** A WebSocket client that queues messages, so tests can await them in order. */
export interface QueuedClient {
  ws: WebSocket;
  /** Resolves with the next text message. */
  next(timeoutMs?: number): Promise<string>;
  /** Resolves with the close code and reason once the connection closes. */
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens a WebSocket to `url` and waits for the handshake. */
export async function connectClient(
  url: string,
  options: WebSocket.ClientOptions = {},
): Promise<QueuedClient> {
  const ws = new WebSocket(url, options);
  const queue: string[] = [];
  const waiters: ((message: string) => void)[] = [];
  ws.on('message', (data) => {
    const message = data.toString();
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  ws.on('error', () => {});
  await once(ws, 'open');
  return {
    ws,
    closed,
    next(timeoutMs = 5000) {
      const queued = queue.shift();
      if (queued !== undefined) return Promise.resolve(queued);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no message within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push((message) => {
          clearTimeout(timer);
          resolve(message);
        });
      });
    },
  };
}

/** Fails with a clear message when `promise` does not settle within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `condition` every 10 ms until it holds, failing after `ms`. */
export async function eventually(
  condition: () => boolean,
  ms: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

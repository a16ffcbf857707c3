import { WebSocket, type ClientOptions } from 'ws';

/** A JSON event as the server sends it. */
export type Event = Record<string, unknown> & { type: string };

/**
 * A bare protocol client for tests that need to send what the client library never would:
 * malformed frames, wrong sizes, half-open sockets.
 */
export class RawClient {
  readonly events: Event[] = [];
  closeCode?: number;
  closeReason?: string;
  private waiters: { predicate: (event: Event) => boolean; resolve: (event: Event) => void }[] = [];
  private closeWaiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const event = JSON.parse(data.toString()) as Event;
      this.events.push(event);
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.predicate(event)) return true;
        waiter.resolve(event);
        return false;
      });
    });
    ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      for (const resolve of this.closeWaiters) resolve();
    });
    ws.on('error', () => {});
  }

  /** Connects with the `streamcluster.v1` subprotocol and waits for the welcome. */
  static async connect(
    url: string,
    options: ClientOptions & { protocols?: string[] } = {},
  ): Promise<RawClient> {
    const ws = new WebSocket(url, options.protocols ?? ['streamcluster.v1'], options);
    const client = new RawClient(ws);
    await client.next((event) => event.type === 'welcome');
    return client;
  }

  send(message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Resolves with the first event, past or future, that matches; rejects after the timeout. */
  next(predicate: (event: Event) => boolean, timeoutMs = 30_000): Promise<Event> {
    const seen = this.events.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `no matching event within ${timeoutMs} ms; got ${JSON.stringify(this.events.slice(-5))}`,
            ),
          ),
        timeoutMs,
      );
      this.waiters.push({
        predicate,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
      });
    });
  }

  /** Waits for the next event of an operation of the given type. */
  forOp(op: string, type: string, timeoutMs?: number): Promise<Event> {
    return this.next((event) => event.op === op && event.type === type, timeoutMs);
  }

  closed(timeoutMs = 30_000): Promise<number> {
    if (this.closeCode !== undefined) return Promise.resolve(this.closeCode);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`connection still open after ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve(this.closeCode!);
      });
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

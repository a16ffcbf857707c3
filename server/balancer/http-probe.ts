import { get } from 'node:http';
import type { Endpoint } from './endpoint.js';

/** Result of a probe: status and body, or the error that prevented a response. */
export type ProbeResult = { status: number; body: string } | { error: Error };

/** Largest probe body kept, in bytes; `/stats` responses are a few hundred bytes. */
const maxBodyBytes = 64 * 1024;

/**
 * Sends GET `path` to an endpoint on a fresh connection, outside the connection pools and circuit
 * breakers of proxied traffic, so a probe never counts against an endpoint's caps.
 */
export function probe(endpoint: Endpoint, path: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const request = get({
      host: endpoint.host,
      port: endpoint.port,
      path,
      agent: false,
      timeout: timeoutMs,
    });
    request.on('timeout', () =>
      request.destroy(new Error(`probe timed out after ${timeoutMs} ms`)),
    );
    request.on('error', (error) => resolve({ error }));
    request.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= maxBodyBytes) chunks.push(chunk);
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', (error) => resolve({ error }));
    });
  });
}

/**
 * Runs `task` now and then every `intervalMs` after the previous run finished, until stopped.
 * A failed run is passed to `onError` and the loop goes on. Timers are unref'd so a forgotten
 * loop never keeps the process alive.
 */
export function every(
  intervalMs: () => number,
  task: () => Promise<void>,
  onError: (error: unknown) => void,
): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const run = async (): Promise<void> => {
    await task().catch(onError);
    if (stopped) return;
    timer = setTimeout(() => void run(), intervalMs());
    timer.unref();
  };
  void run();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

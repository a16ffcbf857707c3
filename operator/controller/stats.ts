import { StreamClusterError } from '../../server/core/errors.js';
import { parseStats } from '../autoscaling/parse-stats.js';
import type { ServerStats } from '../autoscaling/readings.js';

/** Address of one stream server's HTTP port. */
export interface StatsTarget {
  podName: string;
  /** Pod IP, IPv4 or IPv6. */
  ip: string;
  port: number;
  /** False for a pod that is not ready, such as one still starting, whose failures are expected. */
  ready?: boolean;
}

/**
 * Reads one server's `/stats`. The operator's single reader of server load: status and the
 * autoscaler both go through it. Rejects with a StreamClusterError on any failure.
 */
export type StatsFetcher = (target: StatsTarget) => Promise<ServerStats>;

/** Options of {@link httpStatsFetcher}. */
export interface HttpStatsOptions {
  /** Time allowed for one request, body included, in milliseconds; default 2000. */
  timeoutMs?: number;
  /** Largest body read, in bytes; default 64 KiB. */
  maxBodyBytes?: number;
  /** HTTP client; default the global `fetch`. */
  fetch?: typeof fetch;
}

/** A failed read of one server's `/stats`. */
export class StatsReadError extends StreamClusterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STATS_UNAVAILABLE', message, options);
  }
}

/** Returns `http://<ip>:<port><path>`, with brackets around an IPv6 address. */
export function serverUrl({ ip, port }: StatsTarget, path: string): string {
  const host = ip.includes(':') ? `[${ip}]` : ip;
  return `http://${host}:${port}${path}`;
}

async function readLimited(response: Response, url: string, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks).toString('utf8');
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      await reader.cancel();
      throw new StatsReadError(`GET ${url} returned more than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
}

type ErrorClass = new (message: string, options?: { cause?: unknown }) => StreamClusterError;

/**
 * Turns a fetch failure into an error of `errorClass` whose message names the request and the
 * cause, such as a timeout or ECONNREFUSED. A StreamClusterError passes unchanged.
 */
export function describeRequestFailure(
  error: unknown,
  request: string,
  timeoutMs: number,
  errorClass: ErrorClass = StatsReadError,
): StreamClusterError {
  if (error instanceof StreamClusterError) return error;
  if (error instanceof Error && error.name === 'TimeoutError') {
    return new errorClass(`${request} timed out after ${timeoutMs} ms`, { cause: error });
  }
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message ?? (error as Error).message;
  return new errorClass(`${request} failed: ${detail}`, { cause: error });
}

/**
 * Fetches and parses `http://<pod IP>:<port>/stats`. The time limit covers the body too, so a
 * server that stalls mid-body fails like one that never answers.
 */
export function httpStatsFetcher(options: HttpStatsOptions = {}): StatsFetcher {
  const timeoutMs = options.timeoutMs ?? 2000;
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  return async (target) => {
    const url = serverUrl(target, '/stats');
    const fetcher = options.fetch ?? globalThis.fetch;
    let text: string;
    try {
      const response = await fetcher(url, {
        signal: AbortSignal.timeout(timeoutMs),
        headers: { accept: 'application/json' },
      });
      if (!response.ok) {
        await response.body?.cancel();
        throw new StatsReadError(`GET ${url} returned HTTP ${response.status}`);
      }
      text = await readLimited(response, url, maxBodyBytes);
    } catch (error) {
      throw describeRequestFailure(error, `GET ${url}`, timeoutMs);
    }
    return parseStats(text);
  };
}

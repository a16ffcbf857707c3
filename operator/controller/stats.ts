import { StreamClusterError } from '../../server/core/errors.js';
import type { ServerStats } from './observe.js';

/** Address of one ready stream server. */
export interface StatsTarget {
  podName: string;
  ip: string;
  port: number;
}

/**
 * Reads one server's `/stats`. Injected into the reconciler, so tests can point it at servers
 * they run themselves; a failure rejects and the server is left out of the totals.
 */
export type StatsFetcher = (target: StatsTarget) => Promise<ServerStats>;

const FIELDS = [
  'connections',
  'inflightIngests',
  'eventLoopUtilization',
  'documents',
  'chunks',
] as const;

/** Checks a `/stats` body: every field must be a finite, non-negative number. */
export function parseServerStats(body: unknown, source: string): ServerStats {
  const record = (body ?? {}) as Record<string, unknown>;
  const problems = FIELDS.filter((field) => {
    const value = record[field];
    return typeof value !== 'number' || !Number.isFinite(value) || value < 0;
  });
  if (problems.length > 0) {
    throw new StreamClusterError(
      'INVALID_STATS',
      `stats of ${source} must have non-negative numbers in ${problems.join(', ')}, ` +
        `got ${JSON.stringify(body)}`,
    );
  }
  return Object.fromEntries(
    FIELDS.map((field) => [field, record[field]]),
  ) as unknown as ServerStats;
}

/** Fetches `http://<pod IP>:<port>/stats`, giving up after `timeoutMs` (default 2000 ms). */
export function httpStatsFetcher(timeoutMs = 2000): StatsFetcher {
  return async ({ podName, ip, port }) => {
    const host = ip.includes(':') ? `[${ip}]` : ip;
    const response = await fetch(`http://${host}:${port}/stats`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) {
      throw new StreamClusterError(
        'STATS_UNAVAILABLE',
        `GET /stats of ${podName} failed with HTTP ${response.status}`,
      );
    }
    return parseServerStats(await response.json(), podName);
  };
}

import { StreamClusterError } from '../../server/core/errors.js';
import { silentLogger, type Logger } from '../../server/core/logger.js';
import { parseStats } from './parse-stats.js';
import { DEFAULT_MAX_SAMPLE_AGE_MS, type ServerReading, type ServerSample } from './readings.js';

/** Address of one ready stream server. */
export interface StatsTarget {
  podName: string;
  /** Pod IP, IPv4 or IPv6. */
  ip: string;
  /** HTTP port of the stream server. */
  port: number;
}

/** Options of {@link StatsCollector}. */
export interface StatsCollectorOptions {
  /** HTTP client; default the global `fetch`. */
  fetch?: typeof fetch;
  /** Clock in milliseconds since the Unix epoch; default `Date.now`. */
  nowMs?: () => number;
  /** Time allowed for one request, body included, in milliseconds; default 2000. */
  timeoutMs?: number;
  /** Age after which a previous sample is no longer reused, in milliseconds; default 30 000. */
  maxSampleAgeMs?: number;
  /** Largest `/stats` body read, in bytes; default 64 KiB. */
  maxBodyBytes?: number;
  logger?: Logger;
}

const DEFAULT_TIMEOUT_MS = 2000;
const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/** A failed read of one server's `/stats`. */
export class StatsReadError extends StreamClusterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STATS_UNAVAILABLE', message, options);
  }
}

function statsUrl({ ip, port }: StatsTarget): string {
  const host = ip.includes(':') ? `[${ip}]` : ip;
  return `http://${host}:${port}/stats`;
}

/**
 * Reads the `/stats` of every ready stream server, in parallel, for the autoscaler. A server
 * that times out, fails or returns an invalid body gets an `error`. Its previous sample is
 * reused while it is younger than `maxSampleAgeMs`, so one slow read does not count as missing.
 * One collector serves one StreamCluster, because it keeps the last sample per pod name.
 */
export class StatsCollector {
  private readonly fetch: typeof fetch;
  private readonly nowMs: () => number;
  private readonly timeoutMs: number;
  private readonly maxSampleAgeMs: number;
  private readonly maxBodyBytes: number;
  private readonly log: Logger;
  private readonly lastSamples = new Map<string, ServerSample>();
  /** Pods whose latest read failed, so a lasting failure is logged once at warn level. */
  private readonly failing = new Set<string>();

  constructor(options: StatsCollectorOptions = {}) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.nowMs = options.nowMs ?? Date.now;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxSampleAgeMs = options.maxSampleAgeMs ?? DEFAULT_MAX_SAMPLE_AGE_MS;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.log = options.logger ?? silentLogger;
  }

  /**
   * Reads every target once and returns one reading per target, in the same order. Never
   * rejects. Samples of pods that are no longer targets are forgotten.
   */
  async collect(targets: StatsTarget[]): Promise<ServerReading[]> {
    const names = new Set(targets.map((target) => target.podName));
    for (const name of this.lastSamples.keys()) if (!names.has(name)) this.lastSamples.delete(name);
    for (const name of this.failing) if (!names.has(name)) this.failing.delete(name);
    return Promise.all(targets.map((target) => this.read(target)));
  }

  private async read(target: StatsTarget): Promise<ServerReading> {
    const { podName } = target;
    try {
      const sample = parseStats(await this.fetchBody(target), this.nowMs());
      this.lastSamples.set(podName, sample);
      if (this.failing.delete(podName)) this.log.info({ podName }, 'stats readable again');
      return { podName, sample };
    } catch (error) {
      return this.readingAfterFailure(target, error);
    }
  }

  private readingAfterFailure(target: StatsTarget, error: unknown): ServerReading {
    const { podName } = target;
    const message = error instanceof Error ? error.message : String(error);
    const firstFailure = !this.failing.has(podName);
    this.failing.add(podName);
    const level = firstFailure ? 'warn' : 'debug';
    this.log[level]({ podName, url: statsUrl(target), err: error }, 'reading stats failed');

    const previous = this.lastSamples.get(podName);
    if (previous && this.nowMs() - previous.sampledAtMs <= this.maxSampleAgeMs) {
      return { podName, sample: previous, error: message };
    }
    this.lastSamples.delete(podName);
    return { podName, error: message };
  }

  private async fetchBody(target: StatsTarget): Promise<string> {
    const url = statsUrl(target);
    try {
      const response = await this.fetch(url, {
        signal: AbortSignal.timeout(this.timeoutMs),
        headers: { accept: 'application/json' },
      });
      if (!response.ok) {
        await response.body?.cancel();
        throw new StatsReadError(`GET ${url} returned HTTP ${response.status}`);
      }
      return await this.readLimited(response, url);
    } catch (error) {
      throw this.describeFailure(error, url);
    }
  }

  private async readLimited(response: Response, url: string): Promise<string> {
    if (!response.body) return '';
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return Buffer.concat(chunks).toString('utf8');
      bytes += value.byteLength;
      if (bytes > this.maxBodyBytes) {
        await reader.cancel();
        throw new StatsReadError(`GET ${url} returned more than ${this.maxBodyBytes} bytes`);
      }
      chunks.push(value);
    }
  }

  private describeFailure(error: unknown, url: string): Error {
    if (error instanceof StreamClusterError) return error;
    if (error instanceof Error && error.name === 'TimeoutError') {
      return new StatsReadError(`GET ${url} timed out after ${this.timeoutMs} ms`, {
        cause: error,
      });
    }
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message ?? (error as Error).message;
    return new StatsReadError(`GET ${url} failed: ${detail}`, { cause: error });
  }
}

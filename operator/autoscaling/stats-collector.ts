import { silentLogger, type Logger } from '../../server/core/logger.js';
import {
  httpStatsFetcher,
  serverUrl,
  type StatsFetcher,
  type StatsTarget,
} from '../controller/stats.js';
import { DEFAULT_MAX_SAMPLE_AGE_MS, type ServerReading, type ServerSample } from './readings.js';

export type { StatsTarget } from '../controller/stats.js';

/** Options of {@link StatsCollector}. */
export interface StatsCollectorOptions {
  /** Reader of one server's `/stats`; default httpStatsFetcher with `timeoutMs`. */
  fetchStats?: StatsFetcher;
  /** Clock in milliseconds since the Unix epoch; default `Date.now`. */
  nowMs?: () => number;
  /** Time allowed for one request of the default reader, in milliseconds; default 2000. */
  timeoutMs?: number;
  /** Age after which a previous sample is no longer reused, in milliseconds; default 30 000. */
  maxSampleAgeMs?: number;
  logger?: Logger;
}

/**
 * Reads the `/stats` of every ready stream server, in parallel, for status and the autoscaler. A
 * server that times out, fails or returns an invalid body gets an `error`. Its previous sample is
 * reused while it is younger than `maxSampleAgeMs`, so one slow read does not count as missing.
 * One collector serves one StreamCluster, because it keeps the last sample per pod name.
 */
export class StatsCollector {
  private readonly fetchStats: StatsFetcher;
  private readonly nowMs: () => number;
  private readonly maxSampleAgeMs: number;
  private readonly log: Logger;
  private readonly lastSamples = new Map<string, ServerSample>();
  /** Pods whose latest read failed, so a lasting failure is logged once at warn level. */
  private readonly failing = new Set<string>();

  constructor(options: StatsCollectorOptions = {}) {
    this.fetchStats = options.fetchStats ?? httpStatsFetcher({ timeoutMs: options.timeoutMs });
    this.nowMs = options.nowMs ?? Date.now;
    this.maxSampleAgeMs = options.maxSampleAgeMs ?? DEFAULT_MAX_SAMPLE_AGE_MS;
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
      const sample = { ...(await this.fetchStats(target)), sampledAtMs: this.nowMs() };
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
    const level = firstFailure && target.ready !== false ? 'warn' : 'debug';
    this.log[level](
      { podName, url: serverUrl(target, '/stats'), err: error },
      'reading stats failed',
    );

    const previous = this.lastSamples.get(podName);
    if (previous && this.nowMs() - previous.sampledAtMs <= this.maxSampleAgeMs) {
      return { podName, sample: previous, error: message };
    }
    this.lastSamples.delete(podName);
    return { podName, error: message };
  }
}

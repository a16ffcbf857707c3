import type { Logger } from '../core/logger.js';
import type { BalancerConfig } from './balancer-config.js';
import type { Endpoint, LoadReport } from './endpoint.js';
import { every, probe } from './http-probe.js';

/** Collaborators of a {@link LoadReporter}. */
export interface LoadReporterOptions {
  endpoints: () => Endpoint[];
  settings: () => BalancerConfig['loadReport'];
  logger: Logger;
  now: () => number;
}

/**
 * Polls each endpoint's `/stats` and stores the report on the endpoint. The latency-aware picker
 * lowers the weight of endpoints with a busy event loop, a report with `draining: true` stops new
 * connections to the endpoint, and the rebalancer compares connection counts. An endpoint that
 * responds with anything other than the expected JSON keeps no report.
 */
export class LoadReporter {
  private loop: { stop(): void } | undefined;
  private readonly warned = new Set<string>();

  constructor(private readonly options: LoadReporterOptions) {}

  start(): void {
    this.loop ??= every(
      () => this.options.settings().intervalMs,
      () => this.pollAll(),
      (error) => this.options.logger.error({ err: error }, 'load report round failed'),
    );
  }

  stop(): void {
    this.loop?.stop();
    this.loop = undefined;
  }

  async pollAll(): Promise<void> {
    const settings = this.options.settings();
    if (!settings.enabled) return;
    await Promise.all(this.options.endpoints().map((endpoint) => this.poll(endpoint, settings)));
  }

  private async poll(endpoint: Endpoint, settings: BalancerConfig['loadReport']): Promise<void> {
    const result = await probe(endpoint, settings.path, settings.timeoutMs);
    const report =
      'status' in result && result.status === 200
        ? parseLoadReport(result.body, this.options.now())
        : undefined;
    if (report) {
      endpoint.load = report;
      this.warned.delete(endpoint.id);
      return;
    }
    // One warning per endpoint until it reports again, since a missing /stats repeats every poll.
    if (this.warned.has(endpoint.id)) return;
    this.warned.add(endpoint.id);
    const cause =
      'error' in result ? result.error.message : `status ${result.status} or invalid JSON`;
    this.options.logger.warn(
      { endpoint: endpoint.id, path: settings.path, cause },
      'endpoint load report unavailable',
    );
  }
}

/** Parses a `/stats` body; returns undefined unless every field has the documented type. */
export function parseLoadReport(body: string, receivedAtMs: number): LoadReport | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const {
    connections,
    inflightIngests,
    eventLoopUtilization,
    workerUtilization,
    draining,
    serverId,
  } = value as Record<string, unknown>;
  const isCount = (n: unknown): n is number =>
    typeof n === 'number' && Number.isFinite(n) && n >= 0;
  if (!isCount(connections) || !isCount(inflightIngests) || !isCount(eventLoopUtilization))
    return undefined;
  if (typeof draining !== 'boolean') return undefined;
  if (workerUtilization !== undefined && !isCount(workerUtilization)) return undefined;
  return {
    connections,
    inflightIngests,
    eventLoopUtilization: Math.min(1, eventLoopUtilization),
    workerUtilization: Math.min(1, workerUtilization ?? 0),
    draining,
    receivedAtMs,
    ...(typeof serverId === 'string' ? { serverId } : {}),
  };
}

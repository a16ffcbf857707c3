import { request } from 'node:http';
import type { Logger } from '../core/logger.js';
import type { BalancerConfig } from './balancer-config.js';
import type { Endpoint } from './endpoint.js';
import { every } from './http-probe.js';
import type { BalancerMetrics } from './metrics.js';

/** A request to one endpoint to shed connections. */
export interface ShedPlan {
  endpoint: Endpoint;
  connections: number;
}

/**
 * Decides whether the busiest endpoint should shed connections: only when it carries at least
 * `minConnections` and more than `thresholdPercent` above the mean, and then only the excess over
 * the mean, capped at `maxConnectionsPerRound`. Counts are the endpoints' reported totals (all
 * balancers), or this balancer's own when no report is fresh.
 */
export function planRebalance(
  counts: readonly { endpoint: Endpoint; connections: number }[],
  settings: BalancerConfig['rebalance'],
): ShedPlan | undefined {
  if (counts.length < 2) return undefined;
  const mean = counts.reduce((sum, entry) => sum + entry.connections, 0) / counts.length;
  const busiest = counts.reduce((max, entry) =>
    entry.connections > max.connections ? entry : max,
  );
  if (busiest.connections < settings.minConnections) return undefined;
  if (busiest.connections <= mean * (1 + settings.thresholdPercent / 100)) return undefined;
  const excess = Math.ceil(busiest.connections - mean);
  return {
    endpoint: busiest.endpoint,
    connections: Math.min(excess, settings.maxConnectionsPerRound),
  };
}

/** Collaborators of a {@link Rebalancer}. */
export interface RebalancerOptions {
  /** Endpoints that may take new connections; only these are compared. */
  availableEndpoints: () => Endpoint[];
  settings: () => BalancerConfig['rebalance'];
  loadMaxAgeMs: () => number;
  now: () => number;
  logger: Logger;
  metrics: BalancerMetrics;
  /** Bearer token sent with each shed request, the endpoints' `--auth-token`; default none. */
  serverToken?: string;
}

/**
 * Every `intervalMs`, when enabled, requests at most one endpoint to shed connections with
 * `POST <path>?connections=N&reconnectDelayMs=M&spreadMs=S` (contract in docs/balancer.md), so
 * endpoints added by a scale-out receive the reconnecting clients.
 */
export class Rebalancer {
  private loop: { stop(): void } | undefined;

  constructor(private readonly options: RebalancerOptions) {}

  start(): void {
    this.loop ??= every(
      () => this.options.settings().intervalMs,
      async () => void (await this.round()),
      (error) => this.options.logger.error({ err: error }, 'rebalance round failed'),
    );
  }

  stop(): void {
    this.loop?.stop();
    this.loop = undefined;
  }

  /** Runs one round: plan, then send at most one shed request. */
  async round(): Promise<ShedPlan | undefined> {
    const settings = this.options.settings();
    if (!settings.enabled) return undefined;
    const nowMs = this.options.now();
    const counts = this.options.availableEndpoints().map((endpoint) => ({
      endpoint,
      connections:
        endpoint.freshLoad(nowMs, this.options.loadMaxAgeMs())?.connections ??
        endpoint.openConnections,
    }));
    const plan = planRebalance(counts, settings);
    if (!plan) return undefined;

    const status = await sendShedRequest(plan, settings, this.options.serverToken).catch(
      (error: Error) => error,
    );
    const accepted = typeof status === 'number' && status >= 200 && status < 300;
    this.options.metrics.rebalanceRequests.inc({ result: accepted ? 'accepted' : 'failed' });
    const details = {
      endpoint: plan.endpoint.id,
      connections: plan.connections,
      status: typeof status === 'number' ? status : undefined,
    };
    if (accepted)
      this.options.logger.info(details, 'asked endpoint to shed connections for rebalancing');
    else if (status === 401)
      this.options.logger.warn(
        details,
        "endpoint rejected shed request with 401; set --server-token to the stream servers' --auth-token",
      );
    else
      this.options.logger.warn(
        { ...details, err: status instanceof Error ? status : undefined },
        'endpoint did not accept shed request',
      );
    return plan;
  }
}

function sendShedRequest(
  plan: ShedPlan,
  settings: BalancerConfig['rebalance'],
  token: string | undefined,
): Promise<number> {
  const query = new URLSearchParams({
    connections: String(plan.connections),
    reconnectDelayMs: String(settings.reconnectDelayMs),
    spreadMs: String(settings.spreadMs),
  });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: plan.endpoint.host,
        port: plan.endpoint.port,
        method: 'POST',
        path: `${settings.path}?${query}`,
        headers: token ? { Authorization: `Bearer ${token}` } : {},
        agent: false,
        timeout: 5000,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('timeout', () => req.destroy(new Error('shed request timed out after 5000 ms')));
    req.on('error', reject);
    req.end();
  });
}

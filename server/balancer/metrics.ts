import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { breakerStateValue } from './circuit-breaker.js';
import type { Endpoint } from './endpoint.js';
import type { Upstream } from './upstream.js';

/** Outcome of one upgrade attempt against one endpoint. */
export type UpgradeResult =
  'upgraded' | 'client_error' | 'server_error' | 'connect_failure' | 'timeout';
const upgradeResults: UpgradeResult[] = [
  'upgraded',
  'client_error',
  'server_error',
  'connect_failure',
  'timeout',
];

/** Label shared by endpoints beyond `maxEndpointLabels`. */
export const otherEndpointLabel = 'other';

/** Collaborators and settings of {@link BalancerMetrics}. */
export interface BalancerMetricsOptions {
  registry: Registry;
  /** Endpoints named in labels; the rest share `other`. */
  maxEndpointLabels: number;
  upstream: Upstream;
  isDraining: () => boolean;
}

/**
 * Prometheus metrics of the balancer, all prefixed `streamcluster_balancer_`. Per-endpoint gauges
 * are read from the upstream at scrape time; the endpoint label is `host:port` for the first
 * `maxEndpointLabels` endpoints and `other` beyond, and a retired endpoint's series are removed,
 * so label values stay bounded while pods come and go.
 */
export class BalancerMetrics {
  readonly upgrades: Counter<'endpoint' | 'result'>;
  readonly rejections: Counter<'reason'>;
  readonly ejections: Counter<'endpoint'>;
  readonly retries: Counter;
  readonly requests: Counter<'result'>;
  readonly relayEnds: Counter<'how'>;
  readonly panics: Counter;
  readonly configReloads: Counter<'result'>;
  readonly rebalanceRequests: Counter<'result'>;
  readonly healthChecks: Counter<'endpoint' | 'result'>;
  readonly upgradeSeconds: Histogram;
  private readonly labels = new Map<string, string>();
  private maxEndpointLabels: number;

  constructor(private readonly options: BalancerMetricsOptions) {
    const registers = [options.registry];
    const name = (suffix: string): string => `streamcluster_balancer_${suffix}`;
    this.maxEndpointLabels = options.maxEndpointLabels;
    this.upgrades = new Counter({
      name: name('upgrades_total'),
      help: 'Upgrade attempts sent to endpoints, by endpoint and result.',
      labelNames: ['endpoint', 'result'],
      registers,
    });
    this.rejections = new Counter({
      name: name('rejections_total'),
      help: 'Upgrades and requests the balancer rejected itself with 400, 403, 502, 503 or 504, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.ejections = new Counter({
      name: name('ejections_total'),
      help: 'Outlier ejections, by endpoint.',
      labelNames: ['endpoint'],
      registers,
    });
    this.retries = new Counter({
      name: name('retries_total'),
      help: 'Upgrades and requests retried on another endpoint.',
      registers,
    });
    this.requests = new Counter({
      name: name('requests_total'),
      help: 'Plain HTTP requests forwarded, by result.',
      labelNames: ['result'],
      registers,
    });
    this.relayEnds = new Counter({
      name: name('relay_ends_total'),
      help: 'Relayed WebSockets ended, by how: closed, endpoint_lost, endpoint_lost_mid_frame, shutdown.',
      labelNames: ['how'],
      registers,
    });
    this.panics = new Counter({
      name: name('panics_total'),
      help: 'Times the pool entered panic.',
      registers,
    });
    this.configReloads = new Counter({
      name: name('config_reloads_total'),
      help: 'Configuration file reloads, by result.',
      labelNames: ['result'],
      registers,
    });
    this.rebalanceRequests = new Counter({
      name: name('rebalance_requests_total'),
      help: 'Requests to endpoints to shed connections, by result.',
      labelNames: ['result'],
      registers,
    });
    this.healthChecks = new Counter({
      name: name('health_checks_total'),
      help: 'Active health probes, by endpoint and result.',
      labelNames: ['endpoint', 'result'],
      registers,
    });
    this.upgradeSeconds = new Histogram({
      name: name('upgrade_duration_seconds'),
      help: 'Time from sending an upgrade to an endpoint until its 101 response.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.registerGauges(registers);
  }

  /** Applies a reloaded label bound; endpoints already named keep their label. */
  setMaxEndpointLabels(max: number): void {
    this.maxEndpointLabels = max;
  }

  /** Returns the bounded `endpoint` label of an endpoint. */
  label(endpoint: Endpoint): string {
    const known = this.labels.get(endpoint.id);
    if (known) return known;
    const named = [...this.labels.values()].filter((label) => label !== otherEndpointLabel).length;
    const label = named < this.maxEndpointLabels ? endpoint.id : otherEndpointLabel;
    this.labels.set(endpoint.id, label);
    return label;
  }

  /** Removes a retired endpoint's series and frees its label. */
  forget(endpoint: Endpoint): void {
    const label = this.labels.get(endpoint.id);
    this.labels.delete(endpoint.id);
    if (label === undefined || label === otherEndpointLabel) return;
    for (const result of upgradeResults) this.upgrades.remove({ endpoint: label, result });
    for (const result of ['pass', 'fail']) this.healthChecks.remove({ endpoint: label, result });
    this.ejections.remove({ endpoint: label });
  }

  private registerGauges(registers: Registry[]): void {
    const perEndpoint = (
      suffix: string,
      help: string,
      read: (endpoint: Endpoint) => number,
    ): void => {
      const labelOf = (endpoint: Endpoint): string => this.label(endpoint);
      const upstream = this.options.upstream;
      new Gauge({
        name: `streamcluster_balancer_${suffix}`,
        help,
        labelNames: ['endpoint'],
        registers,
        collect() {
          this.reset();
          for (const endpoint of upstream.allEndpoints()) {
            this.inc({ endpoint: labelOf(endpoint) }, read(endpoint));
          }
        },
      });
    };
    const upstream = this.options.upstream;
    perEndpoint(
      'connections',
      'Open WebSockets relayed to each endpoint.',
      (ep) => ep.openConnections,
    );
    perEndpoint(
      'pending_upgrades',
      'Upgrades waiting for a response from each endpoint.',
      (ep) => ep.pendingUpgrades,
    );
    perEndpoint('endpoint_healthy', '1 when the active health check passes.', (ep) =>
      Number(ep.health.healthy),
    );
    perEndpoint('endpoint_ejected', '1 while outlier detection ejects the endpoint.', (ep) =>
      Number(ep.isEjected()),
    );
    perEndpoint('endpoint_ready', '1 while discovery lists the endpoint as ready.', (ep) =>
      Number(ep.ready && !ep.removed),
    );
    perEndpoint(
      'circuit_breaker_state',
      'Circuit breaker state: 0 closed, 1 half-open, 2 open.',
      (ep) => breakerStateValue[upstream.breakerOf(ep).state],
    );
    new Gauge({
      name: 'streamcluster_balancer_panic',
      help: '1 while fewer endpoints are healthy than the panic threshold.',
      registers,
      collect() {
        this.set(Number(upstream.inPanic()));
      },
    });
    const isDraining = this.options.isDraining;
    new Gauge({
      name: 'streamcluster_balancer_draining',
      help: '1 while the balancer drains.',
      registers,
      collect() {
        this.set(Number(isDraining()));
      },
    });
  }
}

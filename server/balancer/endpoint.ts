import type { EndpointSpec } from './balancer-config.js';

/** An endpoint's last `/stats` report; see docs/balancer.md for the contract. */
export interface LoadReport {
  /** Open WebSocket connections on the endpoint, from every balancer. */
  connections: number;
  /** Document ingestions in progress. */
  inflightIngests: number;
  /** Event loop utilization from 0 to 1. */
  eventLoopUtilization: number;
  /** The busiest worker pool's utilization from 0 to 1; 0 when the server does not report it. */
  workerUtilization: number;
  /** True once the endpoint drains: it wants no new connections. */
  draining: boolean;
  /** Clock time the report arrived, in ms. */
  receivedAtMs: number;
  /** The server's own name (`serverId` in `/stats`), when it sends one; shown on the web page. */
  serverId?: string;
}

/** Passive outlier detection state of one endpoint. */
export interface OutlierState {
  consecutiveFailures: number;
  /** Ejections so far, decayed while the endpoint behaves; the next ejection lasts this + 1 times the base. */
  ejectionCount: number;
  /** Clock time the current ejection ends, in ms; 0 when not ejected. */
  ejectedUntilMs: number;
  /** Clock time of the last ejection end or decay step, in ms. */
  lastChangeMs: number;
}

/** Active health check state of one endpoint. */
export interface HealthState {
  healthy: boolean;
  consecutivePasses: number;
  consecutiveFailures: number;
  probes: number;
}

/** Formats the identifier of an endpoint, `host:port` (IPv6 hosts in brackets). */
export function endpointId(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * One upstream endpoint and everything the balancer tracks about it. Pickers, the health checker,
 * the outlier detector and the circuit breaker read and update these fields; the upstream owns
 * the object and keeps it while connections to a removed endpoint are still open.
 */
export class Endpoint {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  weight: number;
  priority: number;
  /** Discovery state: false means the endpoint is leaving and gets no new connections. */
  ready: boolean;
  /** True once discovery no longer lists the endpoint. */
  removed = false;
  /** Open WebSockets relayed to this endpoint. */
  openConnections = 0;
  /** Upgrades sent to this endpoint and not yet responded to. */
  pendingUpgrades = 0;
  /** Plain HTTP requests in progress. */
  activeRequests = 0;
  /** Clock time the slow start ramp began, in ms; 0 for no ramp. */
  slowStartFromMs = 0;
  /** EWMA of upgrade latency in ms; undefined before the first sample. */
  latencyEwmaMs: number | undefined;
  load: LoadReport | undefined;
  readonly health: HealthState = {
    healthy: true,
    consecutivePasses: 0,
    consecutiveFailures: 0,
    probes: 0,
  };
  readonly outlier: OutlierState = {
    consecutiveFailures: 0,
    ejectionCount: 0,
    ejectedUntilMs: 0,
    lastChangeMs: 0,
  };

  constructor(spec: EndpointSpec) {
    this.host = spec.host;
    this.port = spec.port;
    this.id = endpointId(spec.host, spec.port);
    this.weight = spec.weight ?? 1;
    this.priority = spec.priority ?? 0;
    this.ready = spec.ready ?? true;
  }

  /** True while an outlier ejection is in force. */
  isEjected(): boolean {
    return this.outlier.ejectedUntilMs !== 0;
  }

  /** True when the endpoint reports that it drains, from a report no older than `maxAgeMs`. */
  reportsDraining(nowMs: number, maxAgeMs: number): boolean {
    return this.freshLoad(nowMs, maxAgeMs)?.draining === true;
  }

  /** Returns the load report when it is no older than `maxAgeMs`. */
  freshLoad(nowMs: number, maxAgeMs: number): LoadReport | undefined {
    if (!this.load || nowMs - this.load.receivedAtMs > maxAgeMs) return undefined;
    return this.load;
  }

  /** True when the endpoint may take new connections: listed, ready, healthy, not ejected. */
  isAvailable(nowMs: number, loadMaxAgeMs: number): boolean {
    return (
      !this.removed &&
      this.ready &&
      this.health.healthy &&
      !this.isEjected() &&
      !this.reportsDraining(nowMs, loadMaxAgeMs)
    );
  }

  /** Upgrades and connections that load the endpoint, for least-connections pickers. */
  activeLoad(): number {
    return this.openConnections + this.pendingUpgrades + this.activeRequests;
  }

  /** Folds one upgrade latency sample into the EWMA. */
  recordLatency(sampleMs: number, alpha: number): void {
    this.latencyEwmaMs =
      this.latencyEwmaMs === undefined
        ? sampleMs
        : alpha * sampleMs + (1 - alpha) * this.latencyEwmaMs;
  }
}

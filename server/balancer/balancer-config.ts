import { ValidationError } from '../core/errors.js';

/** Picker algorithm among the available endpoints of one priority. */
export type Algorithm = 'round-robin' | 'least-connections' | 'latency-aware';

/** Panic behaviour when too few endpoints are healthy. */
export type PanicMode = 'spread' | 'fail';

/** One endpoint as discovery or the configuration file states it. */
export interface EndpointSpec {
  host: string;
  port: number;
  /** Relative share of traffic; default 1. */
  weight?: number;
  /** Priority level, 0 first; lower levels get traffic only when higher ones lack capacity. */
  priority?: number;
  /** False when discovery marks the endpoint not ready or terminating: no new connections. */
  ready?: boolean;
}

/** Kubernetes discovery: the EndpointSlices of one Service, watched. */
export interface KubernetesDiscoveryConfig {
  namespace: string;
  service: string;
  /** EndpointSlice port name to use; default: the first port of each slice. */
  portName?: string;
  /** Zone of the balancer; endpoints in other zones get priority 1. Default: no zone priority. */
  zone?: string;
  /** Weights and priorities of single pods, matched by each endpoint's target Pod. Default none. */
  endpointOverrides?: EndpointOverride[];
}

/** Weight and priority of the endpoint whose EndpointSlice `targetRef` names this Pod. */
export interface EndpointOverride {
  /** Pod name, such as `demo-server-2`. */
  pod: string;
  /** Relative share of traffic; default 1, as for endpoints without an override. */
  weight?: number;
  /** Priority level; default the priority of the endpoint's zone. */
  priority?: number;
}

/**
 * Every setting of the balancer. Each field documents its unit and default; the defaults live in
 * {@link defaultBalancerConfig}. The configuration file contains a partial object of this shape.
 */
export interface BalancerConfig {
  /** Picker algorithm; default `least-connections`. */
  algorithm: Algorithm;
  /** Compare two random endpoints instead of all (least-connections, latency-aware); default false. */
  powerOfTwoChoices: boolean;
  /** Static endpoints; default none. Ignored when `kubernetes` is set. */
  endpoints: EndpointSpec[];
  /** Kubernetes EndpointSlice discovery; default off. */
  kubernetes?: KubernetesDiscoveryConfig;
  /**
   * Multiplier on a priority level's healthy share before traffic spills to the next level, as in
   * Envoy: with 1.4, a level keeps all traffic while at least 1/1.4 = 72% of its weight is healthy.
   * Default 1.4.
   */
  overprovisioningFactor: number;
  panic: {
    /** Panic when the healthy share of all priorities is below this percent; 0 disables. Default 50. */
    thresholdPercent: number;
    /** `spread`: route across all ready endpoints ignoring health; `fail`: reject with 503. Default `spread`. */
    mode: PanicMode;
  };
  slowStart: {
    /** Time over which a new or recovered endpoint's weight ramps to full; 0 disables. Default 0 ms. */
    windowMs: number;
    /** Ramp shape: weight share = (elapsed / window) ^ (1 / aggression); default 1 (linear). */
    aggression: number;
    /** Lowest weight share during the ramp, in percent; default 10. */
    minWeightPercent: number;
  };
  healthCheck: {
    /** Whether active health checks run; default true. */
    enabled: boolean;
    /** Path probed with GET; a 2xx response passes. Default `/readyz`. */
    path: string;
    /** Time between probes of one endpoint; default 5000 ms. */
    intervalMs: number;
    /** Probe timeout; default 1000 ms. */
    timeoutMs: number;
    /** Consecutive passes that make an unhealthy endpoint healthy; default 2. */
    healthyThreshold: number;
    /** Consecutive failures that make a healthy endpoint unhealthy; default 3. */
    unhealthyThreshold: number;
  };
  loadReport: {
    /** Whether `/stats` is polled for the latency-aware algorithm and rebalancing; default true. */
    enabled: boolean;
    /** Path that returns the load report JSON; default `/stats`. */
    path: string;
    /** Time between polls of one endpoint; default 5000 ms. Reports older than 3 intervals are ignored. */
    intervalMs: number;
    /** Poll timeout; default 1000 ms. */
    timeoutMs: number;
  };
  outlierDetection: {
    /** Consecutive connect failures or 5xx upgrade responses that eject an endpoint; 0 disables. Default 5. */
    consecutiveFailures: number;
    /** First ejection time; the n-th ejection lasts n times as long. Default 30000 ms. */
    baseEjectionTimeMs: number;
    /** Upper bound of one ejection; default 300000 ms. */
    maxEjectionTimeMs: number;
    /** Share of endpoints that may be ejected at once, rounded down, never exceeded; default 50. */
    maxEjectionPercent: number;
    /** Period of the sweep that ends ejections and decays the repeat count; default 1000 ms. */
    intervalMs: number;
  };
  circuitBreaker: {
    /** Open WebSockets per endpoint; default 10000. */
    maxConnections: number;
    /** Upgrades in progress per endpoint; default 1024. */
    maxPendingUpgrades: number;
    /** Plain HTTP requests in progress per endpoint; default 1024. */
    maxRequests: number;
    /** Consecutive failures that open the breaker; 0 disables. Default 10. */
    consecutiveFailures: number;
    /** Time the breaker stays open before it lets trial upgrades through; default 5000 ms. */
    openMs: number;
    /** Trial upgrades at once while half-open; default 1. */
    halfOpenMaxUpgrades: number;
  };
  retry: {
    /** Endpoints tried per upgrade or idempotent request, the first included; default 3. */
    maxAttempts: number;
    /** Retries in progress allowed, as a percent of upgrades and requests in progress; default 20. */
    budgetPercent: number;
    /** Retries in progress always allowed regardless of the budget; default 3. */
    minRetryConcurrency: number;
  };
  /** Time from sending the upgrade to an endpoint until its response head; default 10000 ms. */
  upgradeTimeoutMs: number;
  /** Socket idle timeout of a forwarded plain HTTP request; default 30000 ms. */
  requestTimeoutMs: number;
  latency: {
    /** Weight of a new upgrade latency sample in the EWMA, from 0 to 1; default 0.3. */
    ewmaAlpha: number;
    /** Latency assumed for an endpoint without samples; default 5 ms. */
    defaultLatencyMs: number;
  };
  drain: {
    /** After SIGTERM, time `/readyz` fails while still accepting, so callers stop routing here. Default 0 ms. */
    delayMs: number;
    /** Time open WebSockets get to end on their own before the balancer closes them; default 30000 ms. */
    timeoutMs: number;
  };
  rebalance: {
    /** Whether the balancer requests the busiest endpoints to shed connections; default false. */
    enabled: boolean;
    /** Time between rebalance rounds, at most one request per round; default 30000 ms. */
    intervalMs: number;
    /** Act when the busiest endpoint exceeds the mean by this percent; default 25. */
    thresholdPercent: number;
    /** Act only when the busiest endpoint has at least this many connections; default 20. */
    minConnections: number;
    /** Connections one request may ask an endpoint to shed; default 50. */
    maxConnectionsPerRound: number;
    /** Path of the endpoint's shed request; default `/drain`. */
    path: string;
    /** Reconnect delay hint passed to the endpoint for its clients; default 1000 ms. */
    reconnectDelayMs: number;
    /** Time over which the endpoint should spread the closes; default 10000 ms. */
    spreadMs: number;
  };
  /** Append to incoming X-Forwarded-For and keep X-Forwarded-Proto instead of replacing them; default false. */
  trustForwardedHeaders: boolean;
  /** Endpoints named in metric labels; the rest share the label `other`. Default 100. */
  maxEndpointLabels: number;
}

/** Defaults of every setting; see {@link BalancerConfig} for units. */
export const defaultBalancerConfig: BalancerConfig = {
  algorithm: 'least-connections',
  powerOfTwoChoices: false,
  endpoints: [],
  overprovisioningFactor: 1.4,
  panic: { thresholdPercent: 50, mode: 'spread' },
  slowStart: { windowMs: 0, aggression: 1, minWeightPercent: 10 },
  healthCheck: {
    enabled: true,
    path: '/readyz',
    intervalMs: 5000,
    timeoutMs: 1000,
    healthyThreshold: 2,
    unhealthyThreshold: 3,
  },
  loadReport: { enabled: true, path: '/stats', intervalMs: 5000, timeoutMs: 1000 },
  outlierDetection: {
    consecutiveFailures: 5,
    baseEjectionTimeMs: 30_000,
    maxEjectionTimeMs: 300_000,
    maxEjectionPercent: 50,
    intervalMs: 1000,
  },
  circuitBreaker: {
    maxConnections: 10_000,
    maxPendingUpgrades: 1024,
    maxRequests: 1024,
    consecutiveFailures: 10,
    openMs: 5000,
    halfOpenMaxUpgrades: 1,
  },
  retry: { maxAttempts: 3, budgetPercent: 20, minRetryConcurrency: 3 },
  upgradeTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  latency: { ewmaAlpha: 0.3, defaultLatencyMs: 5 },
  drain: { delayMs: 0, timeoutMs: 30_000 },
  rebalance: {
    enabled: false,
    intervalMs: 30_000,
    thresholdPercent: 25,
    minConnections: 20,
    maxConnectionsPerRound: 50,
    path: '/drain',
    reconnectDelayMs: 1000,
    spreadMs: 10_000,
  },
  trustForwardedHeaders: false,
  maxEndpointLabels: 100,
};

/** A partial configuration: each section may name only the fields it changes. */
export type PartialBalancerConfig = {
  [K in keyof BalancerConfig]?: BalancerConfig[K] extends unknown[]
    ? BalancerConfig[K]
    : BalancerConfig[K] extends object
      ? Partial<BalancerConfig[K]>
      : BalancerConfig[K];
};

/** Merges partial configurations over the defaults, later ones winning, section by section. */
export function mergeConfig(...layers: (PartialBalancerConfig | undefined)[]): BalancerConfig {
  const merged = structuredClone(defaultBalancerConfig) as unknown as Record<string, unknown>;
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer ?? {})) {
      if (value === undefined) continue;
      const current = merged[key];
      merged[key] =
        isPlainObject(current) && isPlainObject(value) ? { ...current, ...value } : value;
    }
  }
  return merged as unknown as BalancerConfig;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks every field of a merged configuration and throws one {@link ValidationError} listing all
 * problems, each as "<field> must be <rule>, got <value>".
 */
export function validateConfig(config: BalancerConfig): BalancerConfig {
  const problems: string[] = [];
  const check: Check = (field, value, ok, rule) => {
    if (!ok) problems.push(`${field} must be ${rule}, got ${JSON.stringify(value)}`);
  };
  const atLeast = (field: string, value: number, min: number): void =>
    check(field, value, Number.isFinite(value) && value >= min, `a number >= ${min}`);
  const percent = (field: string, value: number): void =>
    check(field, value, value >= 0 && value <= 100, 'a percent from 0 to 100');

  const algorithms = ['round-robin', 'least-connections', 'latency-aware'];
  check(
    'algorithm',
    config.algorithm,
    algorithms.includes(config.algorithm),
    algorithms.join(' or '),
  );
  check(
    'panic.mode',
    config.panic.mode,
    ['spread', 'fail'].includes(config.panic.mode),
    'spread or fail',
  );
  atLeast('overprovisioningFactor', config.overprovisioningFactor, 1);
  percent('panic.thresholdPercent', config.panic.thresholdPercent);
  atLeast('slowStart.windowMs', config.slowStart.windowMs, 0);
  check(
    'slowStart.aggression',
    config.slowStart.aggression,
    config.slowStart.aggression > 0,
    'a number > 0',
  );
  percent('slowStart.minWeightPercent', config.slowStart.minWeightPercent);
  atLeast('healthCheck.intervalMs', config.healthCheck.intervalMs, 10);
  atLeast('healthCheck.timeoutMs', config.healthCheck.timeoutMs, 1);
  atLeast('healthCheck.healthyThreshold', config.healthCheck.healthyThreshold, 1);
  atLeast('healthCheck.unhealthyThreshold', config.healthCheck.unhealthyThreshold, 1);
  atLeast('loadReport.intervalMs', config.loadReport.intervalMs, 10);
  atLeast('loadReport.timeoutMs', config.loadReport.timeoutMs, 1);
  atLeast('outlierDetection.consecutiveFailures', config.outlierDetection.consecutiveFailures, 0);
  atLeast('outlierDetection.baseEjectionTimeMs', config.outlierDetection.baseEjectionTimeMs, 1);
  atLeast('outlierDetection.maxEjectionTimeMs', config.outlierDetection.maxEjectionTimeMs, 1);
  percent('outlierDetection.maxEjectionPercent', config.outlierDetection.maxEjectionPercent);
  atLeast('outlierDetection.intervalMs', config.outlierDetection.intervalMs, 10);
  atLeast('circuitBreaker.maxConnections', config.circuitBreaker.maxConnections, 1);
  atLeast('circuitBreaker.maxPendingUpgrades', config.circuitBreaker.maxPendingUpgrades, 1);
  atLeast('circuitBreaker.maxRequests', config.circuitBreaker.maxRequests, 1);
  atLeast('circuitBreaker.consecutiveFailures', config.circuitBreaker.consecutiveFailures, 0);
  atLeast('circuitBreaker.openMs', config.circuitBreaker.openMs, 1);
  atLeast('circuitBreaker.halfOpenMaxUpgrades', config.circuitBreaker.halfOpenMaxUpgrades, 1);
  atLeast('retry.maxAttempts', config.retry.maxAttempts, 1);
  percent('retry.budgetPercent', config.retry.budgetPercent);
  atLeast('retry.minRetryConcurrency', config.retry.minRetryConcurrency, 0);
  atLeast('upgradeTimeoutMs', config.upgradeTimeoutMs, 1);
  atLeast('requestTimeoutMs', config.requestTimeoutMs, 1);
  check(
    'latency.ewmaAlpha',
    config.latency.ewmaAlpha,
    config.latency.ewmaAlpha > 0 && config.latency.ewmaAlpha <= 1,
    'a number in (0, 1]',
  );
  atLeast('latency.defaultLatencyMs', config.latency.defaultLatencyMs, 0.001);
  atLeast('drain.delayMs', config.drain.delayMs, 0);
  atLeast('drain.timeoutMs', config.drain.timeoutMs, 0);
  atLeast('rebalance.intervalMs', config.rebalance.intervalMs, 100);
  atLeast('rebalance.thresholdPercent', config.rebalance.thresholdPercent, 0);
  atLeast('rebalance.minConnections', config.rebalance.minConnections, 1);
  atLeast('rebalance.maxConnectionsPerRound', config.rebalance.maxConnectionsPerRound, 1);
  atLeast('maxEndpointLabels', config.maxEndpointLabels, 0);
  check('endpoints', config.endpoints, Array.isArray(config.endpoints), 'a list');
  (Array.isArray(config.endpoints) ? config.endpoints : []).forEach((spec, i) =>
    validateEndpointSpec(`endpoints[${i}]`, spec, check),
  );
  if (config.kubernetes) {
    const { namespace, service } = config.kubernetes;
    check(
      'kubernetes.namespace',
      namespace,
      typeof namespace === 'string' && namespace !== '',
      'a namespace name',
    );
    check(
      'kubernetes.service',
      service,
      typeof service === 'string' && service !== '',
      'a Service name',
    );
    validateOverrides(config.kubernetes.endpointOverrides, check);
  }
  if (problems.length > 0) throw new ValidationError(problems);
  return config;
}

/** Records a problem of `field` unless `ok`. */
type Check = (field: string, value: unknown, ok: boolean, rule: string) => void;

function validateEndpointSpec(field: string, spec: EndpointSpec, check: Check): void {
  check(
    `${field}.host`,
    spec.host,
    typeof spec.host === 'string' && spec.host !== '',
    'a host name or address',
  );
  check(
    `${field}.port`,
    spec.port,
    Number.isInteger(spec.port) && spec.port > 0 && spec.port < 65536,
    'a port from 1 to 65535',
  );
  checkWeightAndPriority(field, spec, check);
}

function checkWeightAndPriority(
  field: string,
  spec: { weight?: number; priority?: number },
  check: Check,
): void {
  if (spec.weight !== undefined) {
    check(
      `${field}.weight`,
      spec.weight,
      Number.isFinite(spec.weight) && spec.weight > 0,
      'a number > 0',
    );
  }
  if (spec.priority !== undefined) {
    check(
      `${field}.priority`,
      spec.priority,
      Number.isInteger(spec.priority) && spec.priority >= 0,
      'an integer >= 0',
    );
  }
}

function validateOverrides(overrides: EndpointOverride[] | undefined, check: Check): void {
  if (overrides === undefined) return;
  const field = 'kubernetes.endpointOverrides';
  check(field, overrides, Array.isArray(overrides), 'a list');
  (Array.isArray(overrides) ? overrides : []).forEach((override, i) => {
    const pod = override?.pod;
    check(`${field}[${i}].pod`, pod, typeof pod === 'string' && pod !== '', 'a Pod name');
    checkWeightAndPriority(`${field}[${i}]`, override ?? {}, check);
  });
}

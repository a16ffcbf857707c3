import { resources } from './common.js';
import { array, boolean, enumOf, integer, object } from './schema.js';

const seconds = (description: string, minimum: number, maximum: number) =>
  integer({ description, minimum, maximum });

/** Active health checks of each server. */
export const healthCheck = object(
  {
    path: enumOf(['/readyz', '/healthz'] as const, {
      description: 'HTTP path probed on each server.',
    }).default('/readyz'),
    intervalSeconds: seconds('Time between probes.', 1, 300).default(5),
    timeoutSeconds: seconds('Time a probe may take.', 1, 60).default(1),
    healthyThreshold: integer({
      description: 'Consecutive passes that mark a server healthy.',
      minimum: 1,
      maximum: 10,
    }).default(1),
    unhealthyThreshold: integer({
      description: 'Consecutive failures that mark a server unhealthy.',
      minimum: 1,
      maximum: 10,
    }).default(3),
  },
  { description: 'Active health checks the balancer sends to every server.' },
).validate({
  rule: 'self.timeoutSeconds <= self.intervalSeconds',
  message: 'healthCheck.timeoutSeconds must be at most intervalSeconds',
  fieldPath: '.timeoutSeconds',
});

/** Passive outlier detection: ejecting servers that fail upgrades. */
export const outlierDetection = object(
  {
    enabled: boolean({ description: 'Eject servers that fail upgrades.' }).default(true),
    consecutiveFailures: integer({
      description: 'Consecutive connect failures or 5xx upgrade responses that eject a server.',
      minimum: 1,
      maximum: 1000,
    }).default(5),
    baseEjectionSeconds: seconds(
      'Ejection time of a first ejection; each repeat multiplies it.',
      1,
      3600,
    ).default(30),
    maxEjectionPercent: integer({
      description: 'Share of servers that may be ejected at once, in percent.',
      minimum: 0,
      maximum: 100,
    }).default(50),
  },
  { description: 'Passive outlier detection on upgrade failures.' },
);

/** Per-server caps of the balancer's circuit breaker. */
export const circuitBreaker = object(
  {
    maxConnections: integer({
      description: 'Open WebSocket connections per server before new ones are refused with 503.',
      minimum: 1,
    }).default(10000),
    maxPendingUpgrades: integer({
      description: 'Upgrades in progress per server before new ones are refused with 503.',
      minimum: 1,
    }).default(1000),
  },
  { description: 'Circuit breaker caps per server; health probes never count against them.' },
);

/** Weight and priority of one server, by StatefulSet ordinal. */
export const endpointOverride = object({
  ordinal: integer({ description: 'StatefulSet ordinal of the server.', minimum: 0 }),
  weight: integer({
    description: 'Relative share of new connections.',
    minimum: 1,
    maximum: 1000,
  }).default(100),
  priority: integer({
    description:
      'Priority pool; 0 is the highest, and lower pools get traffic only when it lacks capacity.',
    minimum: 0,
    maximum: 10,
  }).default(0),
});

/** The balancer in front of the stream servers. */
export const balancer = object(
  {
    replicas: integer({
      description: 'Number of balancer pods.',
      minimum: 0,
      maximum: 100,
    }).default(1),
    resources: resources.optional(),
    algorithm: enumOf(['roundRobin', 'leastConnections', 'latencyAware'] as const, {
      description:
        'roundRobin: smooth weighted round-robin. leastConnections: fewest open WebSockets, ' +
        'weighted. latencyAware: weights from upgrade latency and reported load.',
    }).default('leastConnections'),
    powerOfTwoChoices: boolean({
      description: 'With leastConnections, compare two random servers instead of all.',
    }).default(false),
    endpoints: array(endpointOverride, {
      description: 'Weights and priorities of single servers; others get weight 100, priority 0.',
      maxItems: 1000,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['ordinal'],
    }).optional(),
    healthCheck: healthCheck.defaultEmpty(),
    outlierDetection: outlierDetection.defaultEmpty(),
    circuitBreaker: circuitBreaker.defaultEmpty(),
    panicThresholdPercent: integer({
      description:
        'Below this share of healthy servers the balancer is in panic and applies panicMode.',
      minimum: 0,
      maximum: 100,
    }).default(50),
    panicMode: enumOf(['spreadAll', 'failFast'] as const, {
      description: 'In panic, spread over all servers or refuse new connections.',
    }).default('spreadAll'),
    slowStartSeconds: seconds(
      'Window over which a new server ramps up to its weight.',
      0,
      3600,
    ).default(0),
    drainSeconds: seconds(
      'Time a stopping balancer keeps relaying open connections before closing them.',
      0,
      3600,
    ).default(30),
  },
  { description: 'The WebSocket-aware balancer in front of the stream servers.' },
);

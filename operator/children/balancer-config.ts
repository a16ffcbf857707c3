import type { StreamCluster } from '../api/streamcluster.js';
import { childNames } from './names.js';

/** File name of the balancer's settings inside its ConfigMap. */
export const BALANCER_CONFIG_FILE = 'balancer.json';

/**
 * Settings file of the balancer: where to discover servers and every routing, health and breaker
 * setting of the spec. The balancer reloads it when the ConfigMap changes, so a settings change
 * needs no pod restart.
 */
export function balancerConfig(stc: StreamCluster) {
  const spec = stc.spec.balancer;
  const { healthCheck, outlierDetection, circuitBreaker } = spec;
  return {
    kubernetes: {
      namespace: stc.metadata.namespace,
      service: childNames(stc.metadata.name).server,
      portName: 'http',
      ...endpointOverrides(stc),
    },
    algorithm: ALGORITHMS[spec.algorithm],
    powerOfTwoChoices: spec.powerOfTwoChoices,
    healthCheck: {
      path: healthCheck.path,
      intervalMs: healthCheck.intervalSeconds * 1000,
      timeoutMs: healthCheck.timeoutSeconds * 1000,
      healthyThreshold: healthCheck.healthyThreshold,
      unhealthyThreshold: healthCheck.unhealthyThreshold,
    },
    outlierDetection: {
      // A threshold no server reaches turns passive ejection off.
      consecutiveFailures: outlierDetection.enabled
        ? outlierDetection.consecutiveFailures
        : 1_000_000,
      baseEjectionTimeMs: outlierDetection.baseEjectionSeconds * 1000,
      maxEjectionPercent: outlierDetection.maxEjectionPercent,
    },
    circuitBreaker: {
      maxConnections: circuitBreaker.maxConnections,
      maxPendingUpgrades: circuitBreaker.maxPendingUpgrades,
    },
    panic: {
      thresholdPercent: spec.panicThresholdPercent,
      mode: spec.panicMode === 'failFast' ? 'fail' : 'spread',
    },
    slowStart: { windowMs: spec.slowStartSeconds * 1000 },
    drain: { timeoutMs: spec.drainSeconds * 1000 },
  };
}

/**
 * Builds the balancer's weights and priorities of single servers, keyed by pod name, because
 * EndpointSlices name each server's pod in `targetRef` and a StatefulSet pod is named
 * `<set>-<ordinal>`. The CRD's default weight is 100 and the balancer's is 1, so weights are
 * divided by 100 to keep their ratio to the servers without an override. Without overrides the
 * file gets no list, so it stays as before.
 */
function endpointOverrides(stc: StreamCluster) {
  const endpoints = stc.spec.balancer.endpoints ?? [];
  if (endpoints.length === 0) return {};
  const set = childNames(stc.metadata.name).server;
  return {
    endpointOverrides: endpoints.map((endpoint) => ({
      pod: `${set}-${endpoint.ordinal}`,
      weight: endpoint.weight / 100,
      priority: endpoint.priority,
    })),
  };
}

/** The CRD's camelCase algorithm names and the balancer's own. */
const ALGORITHMS = {
  roundRobin: 'round-robin',
  leastConnections: 'least-connections',
  latencyAware: 'latency-aware',
} as const;

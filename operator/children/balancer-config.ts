import type { StreamCluster } from '../api/streamcluster.js';
import { PORTS, childNames } from './names.js';

/** File name of the balancer's settings inside its ConfigMap. */
export const BALANCER_CONFIG_FILE = 'balancer.json';

/**
 * Settings file of the balancer: where to discover servers and every routing, health and breaker
 * setting of the spec. The balancer reloads it when the ConfigMap changes, so a settings change
 * needs no pod restart.
 */
export function balancerConfig(stc: StreamCluster) {
  const spec = stc.spec.balancer;
  return {
    discovery: {
      type: 'endpointSlices',
      namespace: stc.metadata.namespace,
      service: childNames(stc.metadata.name).server,
      port: PORTS.http,
    },
    algorithm: spec.algorithm,
    powerOfTwoChoices: spec.powerOfTwoChoices,
    endpoints: spec.endpoints ?? [],
    healthCheck: spec.healthCheck,
    outlierDetection: spec.outlierDetection,
    circuitBreaker: spec.circuitBreaker,
    panicThresholdPercent: spec.panicThresholdPercent,
    panicMode: spec.panicMode,
    slowStartSeconds: spec.slowStartSeconds,
    drainSeconds: spec.drainSeconds,
  };
}

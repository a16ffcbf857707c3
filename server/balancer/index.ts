export { createBalancer, type Balancer, type BalancerOptions } from './balancer.js';
export {
  defaultBalancerConfig,
  mergeConfig,
  validateConfig,
  type Algorithm,
  type BalancerConfig,
  type EndpointSpec,
  type KubernetesDiscoveryConfig,
  type PanicMode,
  type PartialBalancerConfig,
} from './balancer-config.js';
export { runBalancer, balancerSettings } from './cli.js';
export { endpointsFromSlices, type EndpointSlice } from './endpoint-slices.js';
export { parseLoadReport } from './load-reporter.js';
export type { LoadReport } from './endpoint.js';
export { rejectReasonHeader } from './proxy-context.js';
export { buildCloseFrame, closeCodes } from './close-frame.js';

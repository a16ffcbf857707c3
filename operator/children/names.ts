import { API_VERSION, KIND, type StreamCluster } from '../api/streamcluster.js';

/** Field manager of every server-side apply the operator makes. */
export const FIELD_MANAGER = 'streamcluster-operator';

/** Value of `app.kubernetes.io/managed-by` on every child. */
export const MANAGED_BY = 'streamcluster-operator';

/** The parts of a StreamCluster that run as their own workload. */
export type Component = 'server' | 'balancer' | 'log';

/** Container ports, the same in every cluster. */
export const PORTS = {
  /** HTTP and WebSocket port of servers and balancer. */
  http: 8080,
  /** The balancer's /healthz, /readyz and /metrics, apart from the proxied traffic. */
  balancerAdmin: 9901,
  natsClient: 4222,
  natsCluster: 6222,
  natsMonitor: 8222,
} as const;

/** Names of the children of a StreamCluster, derived from its name. */
export function childNames(name: string) {
  return {
    server: `${name}-server`,
    serverHeadless: `${name}-server-headless`,
    balancer: `${name}-balancer`,
    balancerConfig: `${name}-balancer-config`,
    log: `${name}-log`,
    logHeadless: `${name}-log-headless`,
  };
}

/** Labels that select the pods of one component; they never change after creation. */
export function selectorLabels(stc: StreamCluster, component: Component): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'streamcluster',
    'app.kubernetes.io/instance': stc.metadata.name,
    'app.kubernetes.io/component': component,
  };
}

/** Labels of every child: the selector labels plus ownership for `kubectl get -l`. */
export function commonLabels(stc: StreamCluster, component: Component): Record<string, string> {
  return {
    ...selectorLabels(stc, component),
    'app.kubernetes.io/managed-by': MANAGED_BY,
    'app.kubernetes.io/part-of': 'streamcluster',
  };
}

/** Label selector of every child of one StreamCluster, for lists and pruning. */
export function instanceSelector(name: string): string {
  return `app.kubernetes.io/instance=${name},app.kubernetes.io/managed-by=${MANAGED_BY}`;
}

/** The serialized selector of the server pods, as the scale subresource wants it. */
export function serverSelector(stc: StreamCluster): string {
  return Object.entries(selectorLabels(stc, 'server'))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

/** Owner reference that ties a child's lifetime to its StreamCluster. */
export function ownerReference(stc: StreamCluster) {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: stc.metadata.name,
    uid: stc.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

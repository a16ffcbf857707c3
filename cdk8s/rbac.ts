import { CHILD_TYPES, STREAM_CLUSTERS, type ResourceType } from '../operator/kube/resources.js';

/** One RBAC policy rule, as in a Role or ClusterRole. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

function groupOf(type: Pick<ResourceType, 'apiVersion'>): string {
  return type.apiVersion.includes('/') ? type.apiVersion.split('/')[0]! : '';
}

/**
 * Rules the operator needs in every namespace it watches, each for a call it makes:
 *
 * - StreamClusters: list and watch (informer), get (fresh read after a status conflict),
 *   patch (the autoscaler's `spec.servers.replicas`), update of `status` (status writes).
 * - Children: list and watch (informers), patch (server-side apply), create (an apply that
 *   creates the object is also authorized as create), delete (children the spec no longer
 *   needs).
 * - Pods: list, to find the ready servers whose `/stats` it reads.
 * - Events: create, one per decision.
 * - Secrets: get, to read the token of `spec.auth.tokenSecretRef` that the servers require on
 *   the drain requests of a scale-in. The Secret's name comes from each spec, so the rule cannot
 *   be limited by resourceNames.
 * - EndpointSlices: get, list and watch. The operator never reads them, but it creates a Role
 *   granting exactly these verbs to each balancer, and RBAC lets a subject grant only
 *   permissions it has itself.
 */
export function operatorRules(): PolicyRule[] {
  const children = new Map<string, string[]>();
  for (const type of CHILD_TYPES) {
    const group = groupOf(type);
    children.set(group, [...(children.get(group) ?? []), type.plural]);
  }
  return [
    {
      apiGroups: [groupOf(STREAM_CLUSTERS)],
      resources: [STREAM_CLUSTERS.plural],
      // The autoscaler patches spec.servers.replicas, the field `kubectl scale` sets.
      verbs: ['get', 'list', 'watch', 'patch'],
    },
    {
      apiGroups: [groupOf(STREAM_CLUSTERS)],
      resources: [`${STREAM_CLUSTERS.plural}/status`],
      verbs: ['update'],
    },
    ...[...children].map(([group, resources]) => ({
      apiGroups: [group],
      resources: resources.sort(),
      verbs: ['list', 'watch', 'create', 'patch', 'delete'],
    })),
    { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
    { apiGroups: [''], resources: ['events'], verbs: ['create'] },
    { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
    {
      apiGroups: ['discovery.k8s.io'],
      resources: ['endpointslices'],
      verbs: ['get', 'list', 'watch'],
    },
  ];
}

/**
 * Rules for leader election in the operator's own namespace: create the Lease once, then read
 * and replace only the Lease of this installation (create cannot be limited by name).
 */
export function leaderElectionRules(leaseName: string): PolicyRule[] {
  return [
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
    {
      apiGroups: ['coordination.k8s.io'],
      resources: ['leases'],
      resourceNames: [leaseName],
      verbs: ['get', 'update'],
    },
  ];
}

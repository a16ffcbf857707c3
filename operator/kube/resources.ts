import { API_VERSION, KIND, PLURAL } from '../api/streamcluster.js';

/** A resource type the operator lists and watches. */
export interface ResourceType {
  apiVersion: string;
  kind: string;
  /** Lower-case plural as in the URL, such as `statefulsets`. */
  plural: string;
}

/** Minimal shape of any object read from the API server. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  ownerReferences?: {
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller?: boolean;
  }[];
  deletionTimestamp?: string | Date;
}

/** Any object read from the API server. */
export interface KubeResource {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export const STREAM_CLUSTERS: ResourceType = {
  apiVersion: API_VERSION,
  kind: KIND,
  plural: PLURAL,
};

/** Every kind of child the operator creates, watched so that drift is reverted. */
export const CHILD_TYPES: ResourceType[] = [
  { apiVersion: 'apps/v1', kind: 'StatefulSet', plural: 'statefulsets' },
  { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments' },
  { apiVersion: 'v1', kind: 'Service', plural: 'services' },
  { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps' },
  { apiVersion: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', plural: 'roles' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', plural: 'rolebindings' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets' },
];

/** URL path of a collection, in one namespace or across all when `namespace` is empty. */
export function collectionPath(type: ResourceType, namespace?: string): string {
  const base = type.apiVersion.includes('/')
    ? `/apis/${type.apiVersion}`
    : `/api/${type.apiVersion}`;
  return namespace ? `${base}/namespaces/${namespace}/${type.plural}` : `${base}/${type.plural}`;
}

/** Cache key of an object: `namespace/name`. */
export function keyOf(object: { metadata: { namespace?: string; name: string } }): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

import { App, Chart } from 'cdk8s';
import type { StreamCluster } from '../api/streamcluster.js';
import { addBalancer } from './balancer.js';
import { addDisruptionBudgets } from './disruption.js';
import { addManagedLog } from './log.js';
import { ownerReference } from './names.js';
import { addServerServices, addServerStatefulSet } from './server.js';

/** A Kubernetes object as plain JSON, ready for server-side apply. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    ownerReferences?: unknown[];
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/**
 * Builds every child of a StreamCluster from its spec: a pure function, synthesised in memory
 * with cdk8s. Each object carries the namespace, the common labels and a controller owner
 * reference, so deleting the StreamCluster deletes them through garbage collection.
 */
export function buildChildren(stc: StreamCluster): KubeObject[] {
  const chart = new Chart(new App(), stc.metadata.name, {
    namespace: stc.metadata.namespace,
    disableResourceNameHashes: true,
  });
  addServerStatefulSet(chart, stc);
  addServerServices(chart, stc);
  addBalancer(chart, stc);
  addManagedLog(chart, stc);
  addDisruptionBudgets(chart, stc);

  const owner = ownerReference(stc);
  return (chart.toJson() as KubeObject[]).map((object) => ({
    ...object,
    metadata: { ...object.metadata, ownerReferences: [owner] },
  }));
}

/** Identity of an object for comparisons: `kind/namespace/name` plus its API group. */
export function objectKey(object: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): string {
  const group = object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] : '';
  return `${group}/${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

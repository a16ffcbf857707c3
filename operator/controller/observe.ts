import type { Decision } from '../autoscaling/index.js';
import type { ServerStats } from '../autoscaling/readings.js';
import type { DrainProgress } from './scale-in.js';

/** Status fields of a StatefulSet or Deployment that the operator reads. */
export interface WorkloadState {
  generation: number;
  observedGeneration: number;
  /** Pods wanted, from the spec. */
  replicas: number;
  /** Pods that exist, from the status. */
  currentReplicas: number;
  readyReplicas: number;
  updatedReplicas: number;
  availableReplicas: number;
  /** StatefulSets only: whether every pod runs the newest revision. */
  revisionsMatch: boolean;
}

export type { ServerStats } from '../autoscaling/readings.js';

/** What the operator observed of a StreamCluster's children in one reconcile. */
export interface Observation {
  servers?: WorkloadState;
  balancer?: WorkloadState;
  /** Managed NATS StatefulSet; absent for an external log. */
  log?: WorkloadState;
  /** Stats of each ready server that answered, by pod name. */
  stats: Map<string, ServerStats>;
  /** Ready server pods, including those whose stats could not be read. */
  readyServerPods: number;
  /** Why applying children failed in this reconcile, if it did. */
  applyError?: string;
  /** Set while autoscaling is enabled, with the latest decision of this process if any. */
  autoscaling?: { decision?: Decision };
  /** Set while servers drain before a scale-in. */
  drain?: DrainProgress;
  /** Reason and message of a failed read of the `spec.auth.tokenSecretRef` token. */
  serverTokenProblem?: { reason: string; message: string };
}

function numberAt(object: Record<string, unknown> | undefined, field: string): number {
  const value = object?.[field];
  return typeof value === 'number' ? value : 0;
}

/** Reads the rollout state of a StatefulSet or Deployment as the API server returned it. */
export function workloadState(object: {
  metadata: { generation?: number };
  spec?: unknown;
  status?: unknown;
}): WorkloadState {
  const spec = object.spec as Record<string, unknown> | undefined;
  const status = object.status as Record<string, unknown> | undefined;
  const currentRevision = status?.currentRevision;
  const updateRevision = status?.updateRevision;
  return {
    generation: object.metadata.generation ?? 0,
    observedGeneration: numberAt(status, 'observedGeneration'),
    replicas: numberAt(spec, 'replicas'),
    currentReplicas: numberAt(status, 'replicas'),
    readyReplicas: numberAt(status, 'readyReplicas'),
    updatedReplicas: numberAt(status, 'updatedReplicas'),
    availableReplicas: numberAt(status, 'availableReplicas'),
    revisionsMatch: currentRevision === undefined || currentRevision === updateRevision,
  };
}

/** Whether a workload runs its newest spec on every wanted pod. */
export function rolledOut(state: WorkloadState): boolean {
  return (
    state.observedGeneration >= state.generation &&
    state.updatedReplicas >= state.replicas &&
    state.revisionsMatch
  );
}

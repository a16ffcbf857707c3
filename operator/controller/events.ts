import { randomBytes } from 'node:crypto';
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Logger } from '../../server/core/logger.js';
import type { StreamCluster } from '../api/streamcluster.js';

/** Options of {@link EventRecorder}. */
export interface EventRecorderOptions {
  core: CoreV1Api;
  logger: Logger;
  /** Name of this operator replica, recorded as the reporting instance. */
  instance: string;
  /** An identical event for the same object within this window is dropped; default 300 000. */
  dedupeWindowMs?: number;
}

/**
 * Records Kubernetes Events on StreamClusters for the operator's decisions, so `kubectl describe`
 * tells what happened and why. A failed write is logged and never fails a reconcile.
 */
export class EventRecorder {
  private readonly recent = new Map<string, number>();

  constructor(private readonly options: EventRecorderOptions) {}

  /** Records one event; identical repeats within the dedupe window are dropped. */
  async record(
    stc: StreamCluster,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): Promise<void> {
    if (this.isRepeat(`${stc.metadata.uid}/${type}/${reason}/${message}`)) return;
    const { namespace, name } = stc.metadata;
    const now = new Date();
    const body = {
      metadata: { name: `${name}.${randomBytes(8).toString('hex')}`, namespace },
      involvedObject: {
        apiVersion: stc.apiVersion,
        kind: stc.kind,
        name,
        namespace,
        uid: stc.metadata.uid,
        resourceVersion: stc.metadata.resourceVersion,
      },
      type,
      reason,
      message,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: 'streamcluster-operator' },
      reportingComponent: 'streamcluster.io/operator',
      reportingInstance: this.options.instance,
    };
    try {
      await this.options.core.createNamespacedEvent({ namespace, body });
    } catch (error) {
      this.options.logger.warn({ err: error, namespace, name, reason }, 'recording event failed');
    }
  }

  private isRepeat(key: string): boolean {
    const now = Date.now();
    const windowMs = this.options.dedupeWindowMs ?? 300_000;
    for (const [seen, at] of this.recent) if (now - at > windowMs) this.recent.delete(seen);
    if (this.recent.has(key)) return true;
    this.recent.set(key, now);
    return false;
  }
}

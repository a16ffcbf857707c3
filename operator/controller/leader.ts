import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../../server/core/logger.js';
import { httpStatusOf } from '../kube/client.js';
import type { OperatorMetrics } from './metrics.js';

/** Options of {@link LeaderElector}. */
export interface LeaderElectorOptions {
  coordination: CoordinationV1Api;
  namespace: string;
  /** Lease name, shared by every replica; default `streamcluster-operator`. */
  name?: string;
  /** This replica's identity, unique among replicas (the pod name). */
  identity: string;
  /** How long a lease holds without renewal; default 15 s. */
  leaseDurationSeconds?: number;
  /** Time between attempts to acquire or renew; default 2000 ms. */
  retryPeriodMs?: number;
  logger: Logger;
  metrics: OperatorMetrics;
  /** Clock, injectable for tests; default Date.now. */
  nowMs?: () => number;
}

/** Formats a time as the API server's MicroTime: RFC 3339 with six fractional digits. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * Leader election on a coordination.k8s.io Lease, as client-go does it. The holder renews the
 * Lease every retry period. Another replica takes it over only after seeing the same Lease record
 * unchanged for a whole lease duration, measured on its own clock, so clock skew between replicas
 * does not matter. Every write carries the resourceVersion read, so two replicas never both win.
 */
export class LeaderElector {
  private observedVersion = '';
  private observedAtMs = 0;
  private leading = false;

  constructor(private readonly options: LeaderElectorOptions) {}

  /** Whether this replica held the lease at its last attempt. */
  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Runs until `signal` aborts: calls `onStartedLeading` once the lease is won, and
   * `onStoppedLeading` if a renewal fails for a lease duration. Releases the lease on abort.
   */
  async run(
    signal: AbortSignal,
    onStartedLeading: () => void,
    onStoppedLeading: () => void,
  ): Promise<void> {
    let lastRenewMs = 0;
    while (!signal.aborted) {
      const held = await this.tryAcquireOrRenew().catch((error: unknown) => {
        this.options.logger.warn({ err: error, lease: this.leaseName }, 'lease update failed');
        return false;
      });
      if (held) lastRenewMs = this.now();
      if (held && !this.leading) {
        this.setLeading(true);
        onStartedLeading();
      } else if (!held && this.leading && this.now() - lastRenewMs > this.durationMs) {
        this.setLeading(false);
        onStoppedLeading();
      }
      await sleep(this.options.retryPeriodMs ?? 2000, signal);
    }
    if (this.leading) await this.release();
  }

  /** Creates, renews or takes over the Lease once. Returns whether this replica is the leader. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const lease = await this.read();
    if (!lease) return this.create();
    const spec = lease.spec ?? {};
    const version = lease.metadata?.resourceVersion ?? '';
    if (version !== this.observedVersion) {
      this.observedVersion = version;
      this.observedAtMs = this.now();
    }
    const mine = spec.holderIdentity === this.options.identity;
    const expired = this.now() - this.observedAtMs > this.durationMs;
    if (!mine && spec.holderIdentity && !expired) return false;
    return this.write(lease, mine);
  }

  private async read(): Promise<V1Lease | undefined> {
    try {
      return await this.options.coordination.readNamespacedLease({
        name: this.leaseName,
        namespace: this.options.namespace,
      });
    } catch (error) {
      if (httpStatusOf(error) === 404) return undefined;
      throw error;
    }
  }

  private async create(): Promise<boolean> {
    const now = microTime(this.now());
    const body = {
      metadata: { name: this.leaseName, namespace: this.options.namespace },
      spec: this.spec({ acquireTime: now, renewTime: now, leaseTransitions: 0 }),
    };
    try {
      await this.options.coordination.createNamespacedLease({
        namespace: this.options.namespace,
        body: body as unknown as V1Lease,
      });
      return true;
    } catch (error) {
      if (httpStatusOf(error) === 409) return false;
      throw error;
    }
  }

  private async write(lease: V1Lease, renewing: boolean): Promise<boolean> {
    const now = microTime(this.now());
    const previous = lease.spec ?? {};
    const transitions = (previous.leaseTransitions ?? 0) + (renewing ? 0 : 1);
    const acquireTime = renewing ? previous.acquireTime : now;
    const body = {
      ...lease,
      spec: this.spec({ acquireTime, renewTime: now, leaseTransitions: transitions }),
    };
    try {
      const written = await this.options.coordination.replaceNamespacedLease({
        name: this.leaseName,
        namespace: this.options.namespace,
        body: body as unknown as V1Lease,
      });
      this.observedVersion = written.metadata?.resourceVersion ?? '';
      this.observedAtMs = this.now();
      if (!renewing)
        this.options.logger.info({ lease: this.leaseName, transitions }, 'lease acquired');
      return true;
    } catch (error) {
      // Another replica wrote first; it holds the lease until that record expires.
      if (httpStatusOf(error) === 409) return false;
      throw error;
    }
  }

  /** Gives the lease up so another replica takes over at once instead of after expiry. */
  private async release(): Promise<void> {
    this.setLeading(false);
    try {
      const lease = await this.read();
      if (!lease || lease.spec?.holderIdentity !== this.options.identity) return;
      const spec = { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1 };
      await this.options.coordination.replaceNamespacedLease({
        name: this.leaseName,
        namespace: this.options.namespace,
        body: { ...lease, spec } as V1Lease,
      });
      this.options.logger.info({ lease: this.leaseName }, 'lease released');
    } catch (error) {
      this.options.logger.warn({ err: error, lease: this.leaseName }, 'releasing lease failed');
    }
  }

  private spec(times: { acquireTime: unknown; renewTime: string; leaseTransitions: number }) {
    return {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: this.options.leaseDurationSeconds ?? 15,
      ...times,
    };
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    this.options.metrics.leader.set(leading ? 1 : 0);
  }

  private get leaseName(): string {
    return this.options.name ?? 'streamcluster-operator';
  }

  private get durationMs(): number {
    return (this.options.leaseDurationSeconds ?? 15) * 1000;
  }

  private now(): number {
    return this.options.nowMs?.() ?? Date.now();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

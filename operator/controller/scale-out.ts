import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../../server/core/logger.js';
import type { ServerReading } from '../autoscaling/index.js';
import type { StreamCluster } from '../api/streamcluster.js';
import { PORTS } from '../children/names.js';
import { keyOf } from '../kube/resources.js';
import { ordinalOf } from './scale-in.js';
import type { ServerRequests } from './server-requests.js';
import { tokenOf, type ServerToken } from './server-token.js';

/** Options of {@link ScaleOutRelief}. */
export interface ScaleOutReliefOptions {
  logger: Logger;
  requests: ServerRequests;
  /** Time the new servers get to become ready before relief is given up, in ms; default 600 000. */
  readyTimeoutMs?: number;
  /** Clock in milliseconds since the Unix epoch; default `Date.now`. */
  nowMs?: () => number;
}

/**
 * Time every server of the new count must have been ready before connections move, in ms: the
 * balancer's default health-check and load-report interval, so that the balancer counts the new
 * servers as healthy by the time the moved clients reconnect.
 */
const READY_GRACE_MS = 5000;

/** Servers above the mean by more than this share shed their excess. */
const IMBALANCE_RATIO = 1.2;
const RECONNECT_DELAY_MS = 1000;

/**
 * Moves load onto servers a scale-out added. Open WebSockets stay where they are, so new servers
 * would otherwise get only new connections. Once every server of the new count has been ready
 * and reporting for 5 s, each server holding more than 1.2 times the mean is asked once, with
 * `POST /drain`, to close its excess over the mean, spread over `drainSpreadSeconds`.
 * Those clients reconnect through the balancer, which sends them to the least loaded servers.
 */
export class ScaleOutRelief {
  private readonly pending = new Map<
    string,
    { replicas: number; untilMs: number; readyAtMs?: number }
  >();
  private readonly nowMs: () => number;

  constructor(private readonly options: ScaleOutReliefOptions) {
    this.nowMs = options.nowMs ?? Date.now;
  }

  forget(key: string): void {
    this.pending.delete(key);
  }

  /**
   * Notes a scale-out from `currentReplicas` to `desiredReplicas`, and sheds once the new servers
   * report.
   */
  async reconcileScaleOut(
    stc: StreamCluster,
    desiredReplicas: number,
    currentReplicas: number | undefined,
    pods: V1Pod[],
    readings: Map<string, ServerReading>,
    serverToken: ServerToken = { state: 'none' },
  ): Promise<void> {
    const key = keyOf(stc);
    if (currentReplicas !== undefined && currentReplicas > 0 && desiredReplicas > currentReplicas) {
      const untilMs = this.nowMs() + (this.options.readyTimeoutMs ?? 600_000);
      this.pending.set(key, { replicas: desiredReplicas, untilMs });
      return;
    }
    const pending = this.pending.get(key);
    if (!pending) return;
    if (desiredReplicas < pending.replicas || this.nowMs() > pending.untilMs) {
      this.pending.delete(key);
      return;
    }
    const serving = this.servingReadings(stc, pending.replicas, pods, readings);
    if (!serving) {
      pending.readyAtMs = undefined;
      return;
    }
    pending.readyAtMs ??= this.nowMs();
    if (this.nowMs() - pending.readyAtMs < READY_GRACE_MS) return;
    this.pending.delete(key);
    if (serverToken.state === 'unavailable') {
      // Shed requests without the token would get 401, and the Degraded condition gives the cause.
      this.options.logger.warn(
        { key, reason: serverToken.reason },
        'not moving connections onto new servers: the token for the servers cannot be read',
      );
      return;
    }
    await this.shedExcess(stc, serving, tokenOf(serverToken));
  }

  /** Returns a fresh reading for every server below `replicas`, or undefined if one lacks it. */
  private servingReadings(
    stc: StreamCluster,
    replicas: number,
    pods: V1Pod[],
    readings: Map<string, ServerReading>,
  ) {
    const serving: { pod: V1Pod; connections: number }[] = [];
    for (const pod of pods) {
      const name = pod.metadata?.name ?? '';
      const ordinal = ordinalOf(stc, name);
      if (ordinal === undefined || ordinal >= replicas) continue;
      const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      const reading = readings.get(name);
      if (!ready || !reading?.sample || reading.error || reading.sample.draining) return undefined;
      serving.push({ pod, connections: reading.sample.connections });
    }
    return serving.length === replicas ? serving : undefined;
  }

  private async shedExcess(
    stc: StreamCluster,
    serving: { pod: V1Pod; connections: number }[],
    token: string | undefined,
  ) {
    const total = serving.reduce((sum, server) => sum + server.connections, 0);
    const mean = total / serving.length;
    const spreadMs = stc.spec.servers.scaleIn.drainSpreadSeconds * 1000;
    for (const { pod, connections } of serving) {
      const excess = Math.floor(connections - mean);
      if (connections <= mean * IMBALANCE_RATIO || excess < 1) continue;
      const podName = pod.metadata?.name ?? '';
      const target = { podName, ip: pod.status?.podIP ?? '', port: PORTS.http };
      try {
        const accepted = await this.options.requests.shed(
          target,
          { connections: excess, spreadMs, reconnectDelayMs: RECONNECT_DELAY_MS },
          token,
        );
        this.options.logger.info(
          { key: keyOf(stc), pod: podName, connections, mean: Math.round(mean), accepted },
          'moving connections onto new servers',
        );
      } catch (error) {
        this.options.logger.warn(
          { key: keyOf(stc), pod: podName, err: error },
          'asking a server to shed connections after scale-out failed',
        );
      }
    }
  }
}

import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../../server/core/logger.js';
import type { ServerReading } from '../autoscaling/index.js';
import type { StreamCluster } from '../api/streamcluster.js';
import { PORTS, childNames } from '../children/names.js';
import { keyOf } from '../kube/resources.js';
import type { EventRecorder } from './events.js';
import type { ServerRequests } from './server-requests.js';
import { tokenOf, type ServerToken } from './server-token.js';

/** Options of {@link ScaleIn}. */
export interface ScaleInOptions {
  events: EventRecorder;
  logger: Logger;
  requests: ServerRequests;
  /** Time between drain steps, in milliseconds; default 1000. */
  stepMs?: number;
  /** Clock in milliseconds since the Unix epoch; default `Date.now`. */
  nowMs?: () => number;
}

/** Upper bound of the random delay before a moved client reconnects, in milliseconds. */
const RECONNECT_DELAY_MS = 1000;

/**
 * Time between a server starting to drain and its first closes, in milliseconds: the balancer's
 * default load-report interval, so that the balancer has seen `draining: true` before clients
 * reconnect and does not send them back to the same server.
 */
const SHED_DELAY_MS = 5000;

/** A scale-in under way: the servers at ordinals `toReplicas` to `fromReplicas - 1` drain. */
interface Drain {
  fromReplicas: number;
  toReplicas: number;
  startedAtMs: number;
  deadlineMs: number;
  /** Pods that confirmed `POST /draining`, with the time they did. */
  marked: Map<string, number>;
}

/** The state of the servers a scale-in removes, for status. */
export interface DrainProgress {
  fromReplicas: number;
  toReplicas: number;
  /** Servers still holding connections, or not yet read. */
  pendingServers: string[];
  /** Open connections on the draining servers, as last read. */
  connections: number;
}

/** The result of one drain step for the server StatefulSet. */
export interface ScaleInStep {
  /** Count to set on the StatefulSet. */
  replicas: number;
  /** Set while servers drain; check again after `nextStepInMs`. */
  progress?: DrainProgress;
  nextStepInMs?: number;
}

/** Context of one drain step. */
export interface ScaleInInput {
  stc: StreamCluster;
  /** Servers the spec asks for, already within the autoscaling bounds. */
  desiredReplicas: number;
  /** Replicas of the server StatefulSet now; undefined before it exists. */
  currentReplicas: number | undefined;
  pods: V1Pod[];
  /** Readings of this reconcile, by pod name. */
  readings: Map<string, ServerReading>;
  /** Token for the servers' admin requests, read in this reconcile; default none needed. */
  serverToken?: ServerToken;
}

function ordinalName(stc: StreamCluster, ordinal: number): string {
  return `${childNames(stc.metadata.name).server}-${ordinal}`;
}

/** Returns the ordinal of a StatefulSet pod name, or undefined when it is not one. */
export function ordinalOf(stc: StreamCluster, podName: string): number | undefined {
  const prefix = `${childNames(stc.metadata.name).server}-`;
  if (!podName.startsWith(prefix)) return undefined;
  const ordinal = Number(podName.slice(prefix.length));
  return Number.isInteger(ordinal) && ordinal >= 0 ? ordinal : undefined;
}

function targetOf(pod: V1Pod) {
  return { podName: pod.metadata?.name ?? '', ip: pod.status?.podIP ?? '', port: PORTS.http };
}

function listNames(names: string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/**
 * Removes servers without severing their streams. Before the StatefulSet loses replicas, the
 * servers with the highest ordinals (the ones a StatefulSet removes) are told to drain: they fail
 * readiness and refuse upgrades, so balancers send them nothing new, and every step asks each of
 * them with `POST /drain` to close a share of its connections with 1012, which clients answer by
 * reconnecting through the balancer and resuming. The StatefulSet shrinks once their connections
 * reach zero, or when `spec.servers.scaleIn.drainTimeoutSeconds` runs out, which is recorded as a
 * Warning Event. The same applies to a count lowered by hand.
 */
export class ScaleIn {
  private readonly drains = new Map<string, Drain>();
  /**
   * Scale-ins finished in this process, until the watch cache shows the smaller StatefulSet, so
   * that a reconcile that still sees the old count does not start the same drain again.
   */
  private readonly finished = new Map<string, { from: number; to: number }>();
  private readonly stepMs: number;
  private readonly nowMs: () => number;

  constructor(private readonly options: ScaleInOptions) {
    this.stepMs = options.stepMs ?? 1000;
    this.nowMs = options.nowMs ?? Date.now;
  }

  /** Drops the memory of a StreamCluster that is gone. */
  forget(key: string): void {
    this.drains.delete(key);
    this.finished.delete(key);
  }

  /** Runs one drain step and returns the StatefulSet count to apply now. */
  async reconcileScaleIn(input: ScaleInInput): Promise<ScaleInStep> {
    const { stc, desiredReplicas, currentReplicas } = input;
    const key = keyOf(stc);
    const serverToken = input.serverToken ?? { state: 'none' };
    if (serverToken.state === 'unavailable') return this.handleMissingToken(input, serverToken);
    const token = tokenOf(serverToken);
    await this.ensureServing(input, token);
    if (currentReplicas === undefined || desiredReplicas >= currentReplicas) {
      this.drains.delete(key);
      this.finished.delete(key);
      return { replicas: desiredReplicas };
    }
    const finished = this.finished.get(key);
    if (finished?.from === currentReplicas && finished.to === desiredReplicas) {
      return { replicas: desiredReplicas };
    }

    const drain = this.startOrAdjust(key, stc, desiredReplicas, currentReplicas);
    const pending = await this.drainStep(input, drain, token);
    if (pending.servers.length === 0) {
      await this.finish(stc, drain);
      return { replicas: desiredReplicas };
    }
    if (this.nowMs() >= drain.deadlineMs) {
      await this.force(stc, drain, pending);
      return { replicas: desiredReplicas };
    }
    const progress: DrainProgress = {
      fromReplicas: drain.fromReplicas,
      toReplicas: drain.toReplicas,
      pendingServers: pending.servers,
      connections: pending.connections,
    };
    return { replicas: drain.fromReplicas, progress, nextStepInMs: this.stepMs };
  }

  /**
   * Holds the server count while the servers require a token the operator could not read:
   * draining needs `POST /draining` and `POST /drain`, and servers are never removed undrained
   * for that reason. A drain under way is forgotten, so it restarts with a full timeout once the
   * token can be read. A scale-up goes ahead, because it needs no request to the servers.
   */
  private async handleMissingToken(
    input: ScaleInInput,
    serverToken: Extract<ServerToken, { state: 'unavailable' }>,
  ): Promise<ScaleInStep> {
    const { stc, desiredReplicas, currentReplicas } = input;
    const key = keyOf(stc);
    this.drains.delete(key);
    if (currentReplicas === undefined || desiredReplicas >= currentReplicas) {
      return { replicas: desiredReplicas };
    }
    const finished = this.finished.get(key);
    if (finished?.from === currentReplicas && finished.to === desiredReplicas) {
      return { replicas: desiredReplicas };
    }

    this.options.logger.warn(
      { key, from: currentReplicas, to: desiredReplicas, reason: serverToken.reason },
      'scale-in blocked: the token for the servers cannot be read',
    );
    const message =
      `Not scaling in from ${currentReplicas} to ${desiredReplicas} servers, because they ` +
      `cannot be drained without their token. ${serverToken.message}`;
    await this.options.events.record(stc, 'Warning', 'ScaleInBlocked', message);
    return { replicas: currentReplicas };
  }

  private startOrAdjust(key: string, stc: StreamCluster, to: number, from: number): Drain {
    const existing = this.drains.get(key);
    if (existing && existing.toReplicas === to && existing.fromReplicas === from) return existing;

    const nowMs = this.nowMs();
    const timeoutMs = stc.spec.servers.scaleIn.drainTimeoutSeconds * 1000;
    const drain: Drain = {
      fromReplicas: from,
      toReplicas: to,
      // A changed target keeps the clock of the scale-in already under way.
      startedAtMs: existing?.startedAtMs ?? nowMs,
      deadlineMs: existing?.deadlineMs ?? nowMs + timeoutMs,
      marked: new Map(existing?.marked ?? []),
    };
    this.drains.set(key, drain);
    const names = Array.from({ length: from - to }, (_, i) => ordinalName(stc, to + i));
    const message =
      `Draining ${listNames(names)} before scaling in from ${from} to ${to} servers; their ` +
      `connections move to the other servers within ${timeoutMs / 1000} s.`;
    this.options.logger.info({ key, from, to, servers: names }, 'draining servers for scale-in');
    void this.options.events.record(stc, 'Normal', 'DrainingServers', message);
    return drain;
  }

  /**
   * Marks, reads and sheds each server above the target count. Returns the servers that still
   * hold connections or could not be read, with their connections.
   */
  private async drainStep(input: ScaleInInput, drain: Drain, token: string | undefined) {
    const { stc, pods, readings } = input;
    const byName = new Map(pods.map((pod) => [pod.metadata?.name ?? '', pod]));
    const running: V1Pod[] = [];
    for (let ordinal = drain.toReplicas; ordinal < drain.fromReplicas; ordinal++) {
      const pod = byName.get(ordinalName(stc, ordinal));
      // A server that runs no process holds no connections.
      if (pod?.status?.podIP && pod.status.phase === 'Running') running.push(pod);
    }
    // Every removed server stops taking connections, empty ones too, so that clients moved off
    // the others do not land on them.
    await Promise.all(running.map((pod) => this.ensureMarked(stc, pod, drain, token)));

    const servers: string[] = [];
    let connections = 0;
    for (const pod of running) {
      const name = pod.metadata?.name ?? '';
      const reading = readings.get(name);
      const fresh = reading?.sample && !reading.error ? reading.sample : undefined;
      if (fresh?.connections === 0) continue;
      servers.push(name);
      connections += fresh?.connections ?? 0;
      if (fresh && drain.marked.has(name)) {
        await this.shed(stc, pod, drain, fresh.connections, token);
      }
    }
    return { servers, connections };
  }

  private async ensureMarked(
    stc: StreamCluster,
    pod: V1Pod,
    drain: Drain,
    token: string | undefined,
  ): Promise<void> {
    const name = pod.metadata?.name ?? '';
    if (drain.marked.has(name)) return;
    try {
      await this.options.requests.setDraining(targetOf(pod), true, token);
      drain.marked.set(name, this.nowMs());
    } catch (error) {
      this.options.logger.warn(
        { key: keyOf(stc), pod: name, err: error },
        'starting drain failed; retrying',
      );
    }
  }

  /**
   * Asks for the share of the connections that keeps the closes even over the spread: with 10 s
   * of spread and 1 s steps, a tenth first, then a ninth of the rest, and so on.
   */
  private async shed(
    stc: StreamCluster,
    pod: V1Pod,
    drain: Drain,
    open: number,
    token: string | undefined,
  ) {
    const markedAtMs = drain.marked.get(pod.metadata?.name ?? '') ?? this.nowMs();
    const firstCloseAtMs = markedAtMs + SHED_DELAY_MS;
    if (this.nowMs() < firstCloseAtMs) return;
    const spreadMs = stc.spec.servers.scaleIn.drainSpreadSeconds * 1000;
    const remainingMs = Math.max(this.stepMs, firstCloseAtMs + spreadMs - this.nowMs());
    const connections = Math.ceil((open * this.stepMs) / remainingMs);
    try {
      await this.options.requests.shed(
        targetOf(pod),
        { connections, spreadMs: this.stepMs, reconnectDelayMs: RECONNECT_DELAY_MS },
        token,
      );
    } catch (error) {
      this.options.logger.warn(
        { key: keyOf(stc), pod: pod.metadata?.name, err: error },
        'asking a draining server to close connections failed',
      );
    }
  }

  /**
   * Turns draining off on servers that stay: those below the target of a scale-in that was
   * called off or shrunk, including one a previous operator replica started.
   */
  private async ensureServing(input: ScaleInInput, token: string | undefined): Promise<void> {
    const { stc, pods, readings, desiredReplicas } = input;
    for (const pod of pods) {
      const name = pod.metadata?.name ?? '';
      const ordinal = ordinalOf(stc, name);
      if (ordinal === undefined || ordinal >= desiredReplicas) continue;
      // A pod being deleted drains because it shuts down, which cannot be undone.
      if (pod.metadata?.deletionTimestamp || !pod.status?.podIP) continue;
      if (!readings.get(name)?.sample?.draining) continue;
      try {
        await this.options.requests.setDraining(targetOf(pod), false, token);
        this.drains.get(keyOf(stc))?.marked.delete(name);
        this.options.logger.info({ key: keyOf(stc), pod: name }, 'scale-in called off; serving');
      } catch (error) {
        this.options.logger.warn(
          { key: keyOf(stc), pod: name, err: error },
          'stopping drain failed; retrying',
        );
      }
    }
  }

  private async finish(stc: StreamCluster, drain: Drain): Promise<void> {
    this.drains.delete(keyOf(stc));
    this.finished.set(keyOf(stc), { from: drain.fromReplicas, to: drain.toReplicas });
    const seconds = Math.round((this.nowMs() - drain.startedAtMs) / 1000);
    const message =
      `Moved every connection off the servers above ${drain.toReplicas} in ${seconds} s; ` +
      `scaling in from ${drain.fromReplicas} to ${drain.toReplicas} servers.`;
    this.options.logger.info(
      { key: keyOf(stc), from: drain.fromReplicas, to: drain.toReplicas, seconds },
      'servers drained',
    );
    await this.options.events.record(stc, 'Normal', 'DrainedServers', message);
  }

  private async force(
    stc: StreamCluster,
    drain: Drain,
    pending: { servers: string[]; connections: number },
  ): Promise<void> {
    this.drains.delete(keyOf(stc));
    this.finished.set(keyOf(stc), { from: drain.fromReplicas, to: drain.toReplicas });
    const timeout = stc.spec.servers.scaleIn.drainTimeoutSeconds;
    const message =
      `Removing ${listNames(pending.servers)} with ${pending.connections} open connections ` +
      `because the drain timeout of ${timeout} s passed; their clients reconnect after the ` +
      `servers close them on shutdown.`;
    this.options.logger.warn(
      { key: keyOf(stc), servers: pending.servers, connections: pending.connections },
      'drain timed out; removing servers anyway',
    );
    await this.options.events.record(stc, 'Warning', 'ForcedScaleIn', message);
  }
}

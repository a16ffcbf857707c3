import type { ContainerProcess } from './container-process.js';
import type { Container } from './types.js';

/** What the agent knows about a pod when it writes its status. */
export interface PodObservation {
  podIp: string | undefined;
  hostIp: string;
  startTime: string;
  containers: Container[];
  /** Running processes, one per container, once they started. */
  processes: ContainerProcess[];
  /** Why the containers are not started yet, such as VolumeNotReady or ImageNotMapped. */
  waiting?: { reason: string; message: string };
}

type ConditionStatus = 'True' | 'False';

/**
 * Tracks condition transitions so lastTransitionTime only moves when a condition's status
 * changes, as API clients expect.
 */
export class ConditionClock {
  private readonly seen = new Map<string, { status: ConditionStatus; time: string }>();

  /** Returns the condition with its transition time. */
  condition(type: string, status: ConditionStatus): object {
    const previous = this.seen.get(type);
    const entry =
      previous?.status === status ? previous : { status, time: new Date().toISOString() };
    this.seen.set(type, entry);
    return { type, status, lastProbeTime: null, lastTransitionTime: entry.time };
  }
}

/** Builds the pod status the kubelet would report for this observation. */
export function buildPodStatus(observation: PodObservation, clock: ConditionClock): object {
  const { podIp, hostIp, processes } = observation;
  const started = processes.length > 0;
  const ready = started && processes.every((process) => process.isReady());
  const finished = started && processes.every((process) => process.isFinished());
  const statuses = started
    ? processes.map((process) => process.status())
    : observation.containers.map((container) => waitingStatus(container, observation));
  return {
    phase: finished ? finishedPhase(statuses) : started ? 'Running' : 'Pending',
    hostIP: hostIp,
    hostIPs: [{ ip: hostIp }],
    ...(podIp !== undefined ? { podIP: podIp, podIPs: [{ ip: podIp }] } : {}),
    startTime: observation.startTime,
    // A merge patch replaces the whole list, so the scheduler's condition is repeated here.
    conditions: [
      clock.condition('PodScheduled', 'True'),
      clock.condition('PodReadyToStartContainers', podIp !== undefined ? 'True' : 'False'),
      clock.condition('Initialized', 'True'),
      clock.condition('ContainersReady', ready ? 'True' : 'False'),
      clock.condition('Ready', ready ? 'True' : 'False'),
    ],
    containerStatuses: statuses,
  };
}

function waitingStatus(container: Container, observation: PodObservation): object {
  const waiting = observation.waiting ?? { reason: 'ContainerCreating', message: '' };
  return {
    name: container.name,
    image: container.image,
    imageID: '',
    ready: false,
    started: false,
    restartCount: 0,
    state: { waiting },
  };
}

function finishedPhase(statuses: object[]): 'Succeeded' | 'Failed' {
  const failed = statuses.some((status) => {
    const state = (status as { state: { terminated?: { exitCode: number } } }).state;
    return (state.terminated?.exitCode ?? 0) !== 0;
  });
  return failed ? 'Failed' : 'Succeeded';
}

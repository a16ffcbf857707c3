import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { constants } from 'node:os';
import type { Logger } from '../../../server/core/logger.js';
import type { LocalCommand } from './image-table.js';
import type { Mount } from './pod-volumes.js';
import { probeOnce } from './readiness.js';
import type { Container } from './types.js';

/** A container state in the shape of core/v1 ContainerState. */
export interface ContainerState {
  waiting?: { reason: string; message?: string };
  running?: { startedAt: string };
  terminated?: {
    exitCode: number;
    signal?: number;
    reason: string;
    startedAt: string;
    finishedAt: string;
  };
}

/** Settings of {@link ContainerProcess}. */
export interface ContainerProcessOptions {
  container: Container;
  command: LocalCommand;
  env: Record<string, string>;
  /** The pod's network namespace, which the process runs in. */
  netns: string;
  /**
   * Folders bind-mounted into the process's private mount namespace. A mount point that does
   * not exist on the host is created there as an empty folder.
   */
  bindMounts: Mount[];
  podIp: string;
  /** File that receives the process's stdout and stderr, appended across restarts. */
  logFile: string;
  restartPolicy: 'Always' | 'OnFailure' | 'Never';
  /** Called whenever the state or readiness changes. */
  onChange: () => void;
  logger: Logger;
}

/** First restart delay; doubles per restart up to the cap. The kubelet starts at 10 s. */
const restartDelayMs = 1000;
const maxRestartDelayMs = 20_000;
/** A run this long resets the restart delay. */
const stableRunMs = 10_000;

/**
 * One container run as a local process in the pod's network namespace: restarted per the
 * pod's restart policy, with its readiness probed while it runs.
 */
export class ContainerProcess {
  private child: ChildProcess | undefined;
  private state: ContainerState = { waiting: { reason: 'ContainerCreating' } };
  private lastState: ContainerState = {};
  private restartCount = 0;
  private ready = false;
  private passes = 0;
  private failures = 0;
  private stopping = false;
  private delayMs = restartDelayMs;
  private restartTimer: NodeJS.Timeout | undefined;
  private probeTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ContainerProcessOptions) {}

  /** Starts the process. */
  start(): void {
    const { command, env, netns, logFile, container, logger } = this.options;
    const output = openSync(logFile, 'a');
    // `ip netns exec` gives the command a private mount namespace, where the shell bind-mounts
    // the folders and then execs the command in place, so the child's pid is the container's.
    const argv = ['netns', 'exec', netns, 'sh', '-c', mountScript(this.options.bindMounts), 'sh'];
    const child = spawn('ip', [...argv, command.file, ...command.args], {
      cwd: command.cwd,
      env,
      detached: true,
      stdio: ['ignore', output, output],
    });
    closeSync(output);
    this.child = child;
    const startedAt = new Date().toISOString();
    this.state = { running: { startedAt } };
    logger.info({ container: container.name, pid: child.pid, command }, 'container started');
    child.once('exit', (code, signal) => this.handleExit(startedAt, code, signal));
    this.scheduleProbe(container.readinessProbe?.initialDelaySeconds ?? 0);
    this.options.onChange();
  }

  /** Stops the process: TERM to its process group, KILL after gracePeriodMs. */
  async stop(gracePeriodMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.probeTimer);
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    signalGroup(child, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), gracePeriodMs);
    await exited;
    clearTimeout(timer);
  }

  /** Returns the container's status in the shape of core/v1 ContainerStatus. */
  status(): object {
    const { container } = this.options;
    return {
      name: container.name,
      image: container.image,
      imageID: '',
      containerID: this.child?.pid === undefined ? undefined : `local://${this.child.pid}`,
      ready: this.ready,
      started: this.state.running !== undefined,
      restartCount: this.restartCount,
      state: this.state,
      lastState: this.lastState,
    };
  }

  /** Returns whether the process runs and its readiness probe (if any) passed. */
  isReady(): boolean {
    return this.ready;
  }

  /** Returns whether the container has finished for good under the restart policy. */
  isFinished(): boolean {
    return this.state.terminated !== undefined;
  }

  private handleExit(startedAt: string, code: number | null, signal: NodeJS.Signals | null): void {
    clearTimeout(this.probeTimer);
    this.ready = false;
    this.passes = 0;
    this.failures = 0;

    const exitCode = code ?? 128 + signalNumber(signal);
    const terminated = {
      exitCode,
      ...(signal !== null ? { signal: signalNumber(signal) } : {}),
      reason: exitCode === 0 ? 'Completed' : 'Error',
      startedAt,
      finishedAt: new Date().toISOString(),
    };
    const { container, logger, restartPolicy } = this.options;
    logger.info({ container: container.name, exitCode, signal }, 'container exited');

    const restart =
      !this.stopping &&
      (restartPolicy === 'Always' || (restartPolicy === 'OnFailure' && exitCode !== 0));
    if (restart) {
      this.scheduleRestart(terminated);
    } else {
      this.state = { terminated };
    }
    this.options.onChange();
  }

  /** Restarts after the back-off delay, which a long enough run resets. */
  private scheduleRestart(terminated: NonNullable<ContainerState['terminated']>): void {
    const ranMs = Date.parse(terminated.finishedAt) - Date.parse(terminated.startedAt);
    if (ranMs >= stableRunMs) this.delayMs = restartDelayMs;
    this.lastState = { terminated };
    this.state = {
      waiting: { reason: 'CrashLoopBackOff', message: `restarting in ${this.delayMs} ms` },
    };
    this.restartTimer = setTimeout(() => {
      this.restartCount += 1;
      this.start();
    }, this.delayMs);
    this.delayMs = Math.min(this.delayMs * 2, maxRestartDelayMs);
  }

  private scheduleProbe(delaySeconds: number): void {
    this.probeTimer = setTimeout(() => void this.probe(), delaySeconds * 1000);
  }

  /** Flips readiness after successThreshold passes or failureThreshold failures in a row. */
  private recordProbe(passed: boolean): void {
    const probe = this.options.container.readinessProbe;
    this.passes = passed ? this.passes + 1 : 0;
    this.failures = passed ? 0 : this.failures + 1;
    const flipsReady = !this.ready && this.passes >= (probe?.successThreshold ?? 1);
    const flipsUnready = this.ready && this.failures >= (probe?.failureThreshold ?? 3);
    if (!flipsReady && !flipsUnready) return;
    this.ready = flipsReady;
    this.options.onChange();
  }

  private async probe(): Promise<void> {
    const { container, podIp } = this.options;
    const probe = container.readinessProbe;
    if (this.state.running === undefined || this.stopping) return;
    const passed = probe === undefined ? true : await probeOnce(probe, container, podIp);
    if (this.state.running === undefined || this.stopping) return;
    this.recordProbe(passed);
    if (probe !== undefined) this.scheduleProbe(probe.periodSeconds ?? 10);
  }
}

/** Returns a shell script that bind-mounts each folder and then execs its arguments. */
function mountScript(mounts: Mount[]): string {
  const quote = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`;
  const steps = mounts.map(
    ({ localPath, mountPath }) =>
      `mkdir -p ${quote(mountPath)} && mount --bind ${quote(localPath)} ${quote(mountPath)} && `,
  );
  return `${steps.join('')}exec "$@"`;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === null ? 0 : constants.signals[signal];
}

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { StreamClusterError } from '../../../server/core/errors.js';
import type { Logger } from '../../../server/core/logger.js';
import { ContainerProcess } from './container-process.js';
import { expandReferences, resolveEnvironment, type DataLookup } from './container-env.js';
import { resolveCommand, type LocalImage } from './image-table.js';
import { KubeApiError, type KubeClient } from './kube-client.js';
import type { PodAddress, PodNetwork } from './pod-network.js';
import { buildPodStatus, ConditionClock } from './pod-status.js';
import {
  containerMounts,
  preparePodVolumes,
  rewritePaths,
  type VolumeSources,
} from './pod-volumes.js';
import { writeServiceAccountFiles, type ServiceAccountOptions } from './service-account.js';
import type { Container, Pod } from './types.js';

/** Collaborators and settings shared by every {@link PodRunner}. */
export interface PodRunnerContext {
  client: KubeClient;
  network: PodNetwork;
  images: LocalImage[];
  volumeSources: VolumeSources & { lookup: DataLookup };
  serviceAccount: ServiceAccountOptions;
  /** Folder under which each pod gets its own folder for logs and volumes. */
  podsDir: string;
  /** Address reported as the node's (status.hostIP). */
  hostIp: string;
  /** Host variables every container gets before its own, such as PATH. */
  baseEnv: Record<string, string>;
  logger: Logger;
}

/** Delay between attempts to start a pod whose volumes or config are not there yet. */
const retryDelayMs = 1000;

/**
 * Runs one pod as the kubelet would: gives it a network namespace and address, prepares its
 * volumes and service account credentials, starts one process per container, and writes the
 * pod's status whenever something changes.
 */
export class PodRunner {
  private pod: Pod;
  private address: PodAddress | undefined;
  private processes: ContainerProcess[] = [];
  private waiting: { reason: string; message: string } | undefined;
  private readonly startTime = new Date().toISOString();
  private readonly clock = new ConditionClock();
  private readonly logger: Logger;
  private stopped = false;
  private lastStatus = '';
  private writes: Promise<void> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    pod: Pod,
    private readonly context: PodRunnerContext,
  ) {
    this.pod = pod;
    this.logger = context.logger.child({ pod: `${pod.metadata.namespace}/${pod.metadata.name}` });
  }

  /** Records the newest version of the pod object. */
  update(pod: Pod): void {
    this.pod = pod;
  }

  /** Starts the pod; failures are retried and shown as a waiting reason in the status. */
  async start(): Promise<void> {
    try {
      this.address ??= await this.context.network.attach();
      this.scheduleStatus();
      await this.startContainers(this.address);
      this.waiting = undefined;
    } catch (error) {
      if (this.stopped) return;
      const code = error instanceof StreamClusterError ? error.code : 'StartFailed';
      this.waiting = { reason: reasonOf(code), message: String((error as Error).message) };
      this.logger.warn({ err: error }, 'pod not started; retrying');
      this.retryTimer = setTimeout(() => void this.start(), retryDelayMs);
    }
    this.scheduleStatus();
  }

  /** Stops every container, within gracePeriodMs, and frees the pod's network. */
  async stop(gracePeriodMs: number): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await Promise.all(this.processes.map((process) => process.stop(gracePeriodMs)));
    await this.writes;
    if (this.address !== undefined) await this.context.network.detach(this.address);
    this.logger.info('pod stopped');
  }

  private async startContainers(address: PodAddress): Promise<void> {
    const { pod } = this;
    const podDir = join(
      this.context.podsDir,
      pod.metadata.namespace ?? 'default',
      `${pod.metadata.name}-${pod.metadata.uid.slice(0, 8)}`,
    );
    await mkdir(podDir, { recursive: true });
    const volumes = await preparePodVolumes(pod, podDir, this.context.volumeSources);
    const account = await writeServiceAccountFiles(
      pod,
      join(podDir, 'serviceaccount'),
      this.context.serviceAccount,
    );
    const processes: ContainerProcess[] = [];
    for (const container of pod.spec.containers) {
      const mounts = containerMounts(container, volumes);
      const env = await this.containerEnv(container, address, account.env);
      const rewrite = (text: string): string => rewritePaths(expandReferences(text, env), mounts);
      const command = resolveCommand(this.context.images, container);
      processes.push(
        new ContainerProcess({
          container,
          command: { ...command, file: rewrite(command.file), args: command.args.map(rewrite) },
          env: Object.fromEntries(
            Object.entries(env).map(([name, value]) => [name, rewritePaths(value, mounts)]),
          ),
          netns: address.netns,
          bindMounts: [account.mount],
          podIp: address.ip,
          logFile: join(podDir, `${container.name}.log`),
          restartPolicy: pod.spec.restartPolicy ?? 'Always',
          onChange: () => this.scheduleStatus(),
          logger: this.logger,
        }),
      );
    }
    if (this.stopped) return;
    this.processes = processes;
    for (const process of processes) process.start();
  }

  private async containerEnv(
    container: Container,
    address: PodAddress,
    accountEnv: Record<string, string>,
  ): Promise<Record<string, string>> {
    const addresses = { podIp: address.ip, hostIp: this.context.hostIp };
    const own = await resolveEnvironment(
      this.pod,
      container,
      addresses,
      this.context.volumeSources.lookup,
    );
    return { ...this.context.baseEnv, HOSTNAME: this.pod.metadata.name, ...accountEnv, ...own };
  }

  /** Queues a status write; writes are serial and skipped when nothing changed. */
  private scheduleStatus(): void {
    this.writes = this.writes.then(() => this.writeStatus());
  }

  private async writeStatus(): Promise<void> {
    const status = buildPodStatus(
      {
        podIp: this.address?.ip,
        hostIp: this.context.hostIp,
        startTime: this.startTime,
        containers: this.pod.spec.containers,
        processes: this.processes,
        ...(this.waiting !== undefined ? { waiting: this.waiting } : {}),
      },
      this.clock,
    );
    const serialized = JSON.stringify(status);
    if (serialized === this.lastStatus) return;
    const { namespace = 'default', name } = this.pod.metadata;
    try {
      await this.context.client.mergePatch(`/api/v1/namespaces/${namespace}/pods/${name}/status`, {
        status,
      });
      this.lastStatus = serialized;
    } catch (error) {
      // A pod deleted meanwhile returns 404, which needs no retry.
      if (this.stopped || (error instanceof KubeApiError && error.status === 404)) return;
      this.logger.warn({ err: error }, 'pod status write failed; retrying');
      setTimeout(() => this.scheduleStatus(), retryDelayMs);
    }
  }
}

function reasonOf(code: string): string {
  const reasons: Record<string, string> = {
    IMAGE_NOT_MAPPED: 'ImageNotMapped',
    VOLUME_NOT_READY: 'VolumeNotReady',
    CONFIG_NOT_FOUND: 'CreateContainerConfigError',
  };
  return reasons[code] ?? 'StartFailed';
}

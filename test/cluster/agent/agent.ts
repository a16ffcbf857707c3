import type { Logger } from '../../../server/core/logger.js';
import type { ClusterHosts, Service } from './cluster-hosts.js';
import type { DataLookup } from './container-env.js';
import { runInformer, type InformerHandlers, type KubeObject } from './informer.js';
import type { KubeClient } from './kube-client.js';
import { PodRunner, type PodRunnerContext } from './pod-runner.js';
import { notFoundAsUndefined, type PersistentVolume, type Provisioner } from './provisioner.js';
import type { DataObject, PersistentVolumeClaim, Pod } from './types.js';

/** Settings of {@link Agent}. */
export interface AgentOptions {
  client: KubeClient;
  provisioner: Provisioner;
  /** Name resolution for pods, fed with every pod and Service. */
  hosts: ClusterHosts;
  /** Everything a pod runner needs except the lookups, which the agent supplies. */
  runnerContext: Omit<PodRunnerContext, 'volumeSources'>;
  logger: Logger;
}

/**
 * Plays the kubelet for every node of the cluster: runs each bound pod as local processes,
 * finishes graceful deletions, and provisions claims of the test StorageClass.
 */
export class Agent {
  private readonly runners = new Map<string, PodRunner>();
  private readonly deleting = new Set<string>();
  private readonly context: PodRunnerContext;

  constructor(private readonly options: AgentOptions) {
    const lookup: DataLookup = (kind, namespace, name) =>
      options.client
        .request<DataObject>('GET', `/api/v1/namespaces/${namespace}/${kind}/${name}`)
        .catch(notFoundAsUndefined);
    this.context = {
      ...options.runnerContext,
      volumeSources: {
        lookup,
        claimPath: (namespace, claim) => options.provisioner.claimPath(namespace, claim),
      },
    };
  }

  /** Watches pods, Services, claims and volumes until signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const { provisioner, hosts } = this.options;
    const ignore = (): void => undefined;
    await Promise.all([
      this.watch<Pod>('/api/v1/pods', signal, {
        onUpsert: (pod) => {
          hosts.setPod(pod);
          this.handlePod(pod);
        },
        onDelete: (pod) => {
          hosts.deletePod(pod);
          this.handlePodGone(pod);
        },
      }),
      this.watch<Service>('/api/v1/services', signal, {
        onUpsert: (service) => hosts.setService(service),
        onDelete: (service) => hosts.deleteService(service),
      }),
      this.watch<PersistentVolumeClaim>('/api/v1/persistentvolumeclaims', signal, {
        onUpsert: (claim) =>
          this.guard(provisioner.handleClaim(claim), 'claim', claim.metadata.name),
        onDelete: ignore,
      }),
      this.watch<PersistentVolume>('/api/v1/persistentvolumes', signal, {
        onUpsert: (volume) =>
          this.guard(provisioner.handleVolume(volume), 'volume', volume.metadata.name),
        onDelete: ignore,
      }),
    ]);
  }

  private watch<T extends KubeObject>(
    path: string,
    signal: AbortSignal,
    handlers: InformerHandlers<T>,
  ): Promise<void> {
    return runInformer(this.options.client, path, handlers, this.options.logger, signal);
  }

  /** Stops every pod's processes, allowing each gracePeriodMs. */
  async shutdown(gracePeriodMs: number): Promise<void> {
    await Promise.all([...this.runners.values()].map((runner) => runner.stop(gracePeriodMs)));
    this.runners.clear();
  }

  private handlePod(pod: Pod): void {
    if (!pod.spec.nodeName) return;
    const runner = this.runners.get(pod.metadata.uid);
    if (pod.metadata.deletionTimestamp !== undefined) {
      this.guard(this.finishDeletion(pod, runner), 'pod', pod.metadata.name);
      return;
    }
    if (runner !== undefined) {
      runner.update(pod);
      return;
    }
    // A pod that finished before this agent started stays as it is, as with a kubelet.
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    const created = new PodRunner(pod, this.context);
    this.runners.set(pod.metadata.uid, created);
    void created.start();
  }

  /** Stops the containers within the grace period, then removes the pod object for good. */
  private async finishDeletion(pod: Pod, runner: PodRunner | undefined): Promise<void> {
    const { uid, namespace = 'default', name } = pod.metadata;
    if (this.deleting.has(uid)) return;
    this.deleting.add(uid);
    const graceSeconds =
      pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
    await runner?.stop(graceSeconds * 1000);
    this.runners.delete(uid);
    const options = {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      gracePeriodSeconds: 0,
      preconditions: { uid },
    };
    await this.options.client
      .request('DELETE', `/api/v1/namespaces/${namespace}/pods/${name}`, options)
      .catch(notFoundAsUndefined);
    this.deleting.delete(uid);
  }

  /** Kills the processes of a pod removed without graceful deletion, such as a force delete. */
  private handlePodGone(pod: Pod): void {
    const runner = this.runners.get(pod.metadata.uid);
    if (runner === undefined) return;
    this.runners.delete(pod.metadata.uid);
    this.guard(runner.stop(0), 'pod', pod.metadata.name);
  }

  private guard(work: Promise<void>, kind: string, name: string): void {
    work.catch((error: unknown) =>
      this.options.logger.error({ err: error, kind, name }, 'handling failed'),
    );
  }
}

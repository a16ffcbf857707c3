import { writeFile } from 'node:fs/promises';
import type { Logger } from '../../../server/core/logger.js';
import type { Pod } from './types.js';

/** A Service, as far as name resolution reads it. */
export interface Service {
  metadata: { name: string; namespace?: string; uid: string };
  spec: { selector?: Record<string, string> };
}

const clusterDomain = 'cluster.local';
const writeDelayMs = 100;

/**
 * Replaces cluster DNS with a hosts file that every pod reads as /etc/hosts. A Service name
 * resolves to the addresses of its ready pods, as a headless Service's does, and a pod with
 * hostname and subdomain (as in a StatefulSet) resolves by its own name. With no kube-proxy,
 * a ClusterIP Service is reachable only on its target port, at a pod's address.
 */
export class ClusterHosts {
  private readonly pods = new Map<string, Pod>();
  private readonly services = new Map<string, Service>();
  private timer: NodeJS.Timeout | undefined;
  private written = '';

  constructor(
    private readonly path: string,
    private readonly logger: Logger,
  ) {}

  /** Records a pod's labels, address and readiness. */
  setPod(pod: Pod): void {
    this.pods.set(pod.metadata.uid, pod);
    this.scheduleWrite();
  }

  /** Forgets a pod. */
  deletePod(pod: Pod): void {
    this.pods.delete(pod.metadata.uid);
    this.scheduleWrite();
  }

  /** Records a Service's selector. */
  setService(service: Service): void {
    this.services.set(service.metadata.uid, service);
    this.scheduleWrite();
  }

  /** Forgets a Service. */
  deleteService(service: Service): void {
    this.services.delete(service.metadata.uid);
    this.scheduleWrite();
  }

  /** Returns the hosts file's content. */
  render(): string {
    const lines = ['127.0.0.1 localhost', '::1 localhost'];
    for (const pod of this.pods.values()) {
      const ip = pod.status?.podIP;
      const { hostname, subdomain } = pod.spec;
      if (ip === undefined || hostname === undefined || subdomain === undefined) continue;
      lines.push(`${ip} ${names(`${hostname}.${subdomain}`, pod.metadata.namespace).join(' ')}`);
    }
    for (const service of this.services.values()) {
      const namespace = service.metadata.namespace ?? 'default';
      for (const ip of this.readyAddresses(namespace, service.spec.selector)) {
        lines.push(`${ip} ${names(service.metadata.name, namespace).join(' ')}`);
      }
    }
    return lines.join('\n') + '\n';
  }

  private readyAddresses(
    namespace: string,
    selector: Record<string, string> | undefined,
  ): string[] {
    if (selector === undefined || Object.keys(selector).length === 0) return [];
    const addresses: string[] = [];
    for (const pod of this.pods.values()) {
      if ((pod.metadata.namespace ?? 'default') !== namespace || pod.status?.podIP === undefined)
        continue;
      const labels = pod.metadata.labels ?? {};
      if (!Object.entries(selector).every(([key, value]) => labels[key] === value)) continue;
      if (isReady(pod)) addresses.push(pod.status.podIP);
    }
    return addresses.sort();
  }

  private scheduleWrite(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, writeDelayMs);
  }

  private async write(): Promise<void> {
    const content = this.render();
    if (content === this.written) return;
    // The file is rewritten in place, never replaced, because each pod namespace bind-mounts
    // this very inode over its /etc/hosts.
    try {
      await writeFile(this.path, content);
      this.written = content;
    } catch (error) {
      this.logger.error({ err: error, path: this.path }, 'hosts file write failed');
    }
  }
}

function names(base: string, namespace = 'default'): string[] {
  const qualified = `${base}.${namespace}`;
  return [`${qualified}.svc.${clusterDomain}`, `${qualified}.svc`, qualified, base];
}

function isReady(pod: Pod): boolean {
  const conditions = (pod.status as { conditions?: { type: string; status: string }[] }).conditions;
  return (
    conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ??
    false
  );
}

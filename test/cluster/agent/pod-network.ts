import { execFile } from 'node:child_process';
import { mkdir, rm, symlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { IpPool } from './ip-pool.js';

const run = promisify(execFile);

/** Settings of {@link PodNetwork}. */
export interface PodNetworkOptions {
  /** The cluster's network namespace, where the agent runs and the bridge lives. */
  clusterNetns: string;
  /** Bridge in the cluster namespace that every pod namespace is plugged into. */
  bridge: string;
  /** Prefix length of the pod range, such as 16. */
  prefixLength: number;
  /** Gateway address on the bridge; pods route everything through it. */
  gateway: string;
  /** File every pod reads as /etc/hosts, so cluster names resolve without a DNS server. */
  hostsFile: string;
  pool: IpPool;
}

/** A pod's own network namespace and address. */
export interface PodAddress {
  netns: string;
  ip: string;
}

/**
 * Gives each pod its own network namespace with one address on the cluster's pod bridge, as a
 * CNI plugin would. Own namespaces let several pods listen on the same port, and keep a
 * process's loopback private to its pod.
 */
export class PodNetwork {
  private counter = 0;

  constructor(private readonly options: PodNetworkOptions) {}

  /** Creates a namespace with a fresh address; the caller keeps the result to release it. */
  async attach(): Promise<PodAddress> {
    const index = ++this.counter;
    const address = {
      netns: `${this.options.clusterNetns}-${index}`,
      ip: this.options.pool.allocate(),
    };
    try {
      await this.plumb(address, `veth${index}`);
    } catch (error) {
      // A half-built namespace would leak with its address, so it goes before the retry.
      await this.detach(address);
      throw error;
    }
    return address;
  }

  private async plumb({ netns, ip }: PodAddress, hostSide: string): Promise<void> {
    const { bridge, prefixLength, gateway } = this.options;
    await runIp(['netns', 'add', netns]);
    await runIp(['link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
    await runIp(['link', 'set', hostSide, 'master', bridge, 'up']);
    await runIp(['-n', netns, 'link', 'set', 'lo', 'up']);
    await runIp(['-n', netns, 'addr', 'add', `${ip}/${prefixLength}`, 'dev', 'eth0']);
    await runIp(['-n', netns, 'link', 'set', 'eth0', 'up']);
    await runIp(['-n', netns, 'route', 'add', 'default', 'via', gateway]);
    // `ip netns exec` bind-mounts files of /etc/netns/NAME over /etc, so the pod reads the
    // cluster's hosts file as its own.
    await mkdir(`/etc/netns/${netns}`, { recursive: true });
    await symlink(this.options.hostsFile, `/etc/netns/${netns}/hosts`);
  }

  /** Deletes the namespace (and with it the veth pair) and frees the address. */
  async detach(address: PodAddress): Promise<void> {
    await runIp(['netns', 'delete', address.netns]).catch(() => undefined);
    await rm(`/etc/netns/${address.netns}`, { recursive: true, force: true });
    this.options.pool.release(address.ip);
  }
}

async function runIp(args: string[]): Promise<void> {
  await run('ip', args);
}

// Entry point of the test cluster's agent, which up.sh starts inside the cluster's network
// namespace: `node --import tsx test/cluster/agent.ts CLUSTER_DIR/cluster.json`.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../../server/core/logger.js';
import { Agent } from './agent/agent.js';
import { ClusterHosts } from './agent/cluster-hosts.js';
import { defaultImageTable } from './agent/image-table.js';
import { IpPool } from './agent/ip-pool.js';
import { KubeClient } from './agent/kube-client.js';
import { PodNetwork } from './agent/pod-network.js';
import { Provisioner } from './agent/provisioner.js';

/** cluster.json as up.sh writes it. */
interface ClusterConfig {
  clusterDir: string;
  netns: string;
  repoRoot: string;
  apiServerUrl: string;
  podApiServerHost: string;
  podApiServerPort: number;
  caFile: string;
  certFile: string;
  keyFile: string;
  podCidr: string;
  podGateway: string;
  podBridge: string;
}

/** Host variables passed to every container, so commands and caches resolve as on the host. */
const passedVariables = [
  'PATH',
  'HOME',
  'LANG',
  'TZ',
  'STREAMCLUSTER_CACHE',
  'ONNXRUNTIME_NODE_INSTALL_CUDA',
];
const shutdownGraceMs = 5000;

const configPath = process.argv[2];
if (configPath === undefined) {
  console.error('usage: agent.ts CLUSTER_DIR/cluster.json');
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, 'utf8')) as ClusterConfig;
const logger = createLogger({ name: 'test-agent' });
const client = new KubeClient(config);

const hostsFile = join(config.clusterDir, 'run', 'hosts');
const hosts = new ClusterHosts(hostsFile, logger);
writeFileSync(hostsFile, hosts.render());
const network = new PodNetwork({
  clusterNetns: config.netns,
  bridge: config.podBridge,
  prefixLength: Number(config.podCidr.split('/')[1]),
  gateway: config.podGateway,
  hostsFile,
  pool: new IpPool(config.podCidr, [config.podGateway]),
});
const provisioner = new Provisioner({
  client,
  volumesDir: join(config.clusterDir, 'volumes'),
  storageClasses: ['standard'],
  logger,
});
const baseEnv = Object.fromEntries(
  passedVariables.flatMap((name) =>
    process.env[name] === undefined ? [] : [[name, process.env[name]]],
  ),
) as Record<string, string>;
const agent = new Agent({
  client,
  provisioner,
  hosts,
  logger,
  runnerContext: {
    client,
    network,
    images: defaultImageTable(config.repoRoot),
    serviceAccount: {
      client,
      caFile: config.caFile,
      apiServerHost: config.podApiServerHost,
      apiServerPort: config.podApiServerPort,
    },
    podsDir: join(config.clusterDir, 'pods'),
    hostIp: config.podApiServerHost,
    baseEnv,
    logger,
  },
});

const controller = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'stopping pods');
    controller.abort();
    void agent.shutdown(shutdownGraceMs).finally(() => {
      client.close();
      process.exit(0);
    });
  });
}
logger.info({ netns: config.netns, podCidr: config.podCidr }, 'agent started');
await agent.run(controller.signal);

/* eslint-disable @typescript-eslint/no-explicit-any -- kubectl output is read as untyped JSON */
// Measures autoscaling on the local test cluster (run as root, see docs/test-cluster.md):
// 1. scale-out: the time from opening the connection that crosses the connections target to the
//    added server being ready, with the time to the decision on the way;
// 2. scale-in from 5 to 2 servers while every client asks questions in a loop: answers that fail
//    or differ from the reference count as dropped streams, and the drain's duration.
// Usage: npx tsx scripts/bench/autoscale.ts [clients=20]
import { loadavg } from 'node:os';
import { StreamClusterClient } from '../../client/client.js';
import { createLogger, silentLogger } from '../../server/core/logger.js';
import { resolveConfig } from '../../server/core/config.js';
import { createKubeClients, loadKubeConfig } from '../../operator/kube/client.js';
import type { StatsTarget } from '../../operator/controller/stats.js';
import { startOperator } from '../../operator/main.js';
import { operatorSettings } from '../../operator/settings.js';
import { waitUntil } from '../../operator/testing/wait.js';
import { startTestCluster } from '../../test/cluster/cluster.js';

const clientCount = Number(process.argv[2] ?? 20);
const NAME = 'bench';
const QUESTION = 'When was the lighthouse of Port Alder built?';
const DOCUMENT =
  'The lighthouse of Port Alder was built in 1874 from granite quarried on the island. ' +
  'Its lamp burns colza oil and can be seen twenty-two nautical miles out to sea.';
// With this target, the clients ask for one server more than the two the cluster starts with.
const target = Math.ceil(clientCount / 2.5);

function spec(minReplicas: number, targetConnectionsPerServer = target) {
  return {
    apiVersion: 'streamcluster.io/v1alpha1',
    kind: 'StreamCluster',
    metadata: { name: NAME, namespace: 'default' },
    spec: {
      image: 'streamcluster:0.1.0',
      servers: {
        replicas: minReplicas,
        autoscaling: {
          enabled: true,
          minReplicas,
          maxReplicas: 5,
          targetConnectionsPerServer,
          targetEventLoopUtilization: 1,
          behavior: { scaleDown: { stabilizationWindowSeconds: 5 } },
        },
        scaleIn: { drainTimeoutSeconds: 120, drainSpreadSeconds: 10 },
      },
    },
  };
}

async function answer(client: StreamClusterClient): Promise<string> {
  let text = '';
  for await (const event of client.ask(QUESTION, { timeoutMs: 60_000 })) {
    if (event.type === 'answer.token') text += event.text;
  }
  return text;
}

const cluster = await startTestCluster({ nodes: 2 });
const kubectlJson = async (args: string[]) =>
  JSON.parse(await cluster.kubectl([...args, '-o', 'json'])) as any;
const events = async (reason: string) =>
  (
    await kubectlJson([
      'get',
      'events',
      '--field-selector',
      `involvedObject.name=${NAME},reason=${reason}`,
    ])
  ).items as any[];
const clients: StreamClusterClient[] = [];

try {
  await cluster.kubectl([
    'apply',
    '--server-side',
    '-f',
    'crds/streamcluster.io_streamclusters.yaml',
  ]);
  await cluster.kubectl([
    'wait',
    '--for=condition=Established',
    'crd/streamclusters.streamcluster.io',
  ]);
  const config = resolveConfig(operatorSettings, new Map(), {});
  const operator = await startOperator(
    {
      ...config,
      leaderElect: false,
      metricsPort: 0,
      metricsHost: '127.0.0.1',
      autoscaleIntervalSeconds: 2,
    },
    {
      clients: createKubeClients(loadKubeConfig(cluster.kubeconfig)),
      logger: process.env.BENCH_LOG ? createLogger({ name: 'operator' }) : silentLogger,
      serverAddress: async (pod: StatsTarget) => {
        const { port } = await cluster.forward(pod.ip, pod.port);
        return { ...pod, ip: '127.0.0.1', port };
      },
      controller: { progressMs: 1000 },
    },
  );

  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(spec(2)) });
  await cluster.kubectl(['wait', `stc/${NAME}`, '--for=condition=Ready', '--timeout=600s'], {
    timeoutMs: 610_000,
  });
  const balancer = await kubectlJson([
    'get',
    'pods',
    '-l',
    `app.kubernetes.io/instance=${NAME},app.kubernetes.io/component=balancer`,
  ]);
  const { port } = await cluster.forward(balancer.items[0].status.podIP, 8080);
  const open = async () => {
    const client = new StreamClusterClient({ urls: `ws://127.0.0.1:${port}` });
    await client.connect();
    clients.push(client);
    return client;
  };
  const first = await open();
  await first.ingest(Buffer.from(DOCUMENT), { name: 'harbor.txt' });
  const reference = await answer(first);

  // Scale-out.
  while (clients.length < clientCount) await open();
  const crossedAt = performance.now();
  await waitUntil('ScaledUp', async () => (await events('ScaledUp')).length > 0, 120_000, 250);
  const decidedMs = performance.now() - crossedAt;
  await waitUntil(
    'three ready servers',
    async () => (await kubectlJson(['get', 'stc', NAME])).status?.readyReplicas >= 3,
    600_000,
    250,
  );
  const readyMs = performance.now() - crossedAt;
  console.log(
    `scale-out 2 to 3: decision after ${(decidedMs / 1000).toFixed(1)} s, ` +
      `new server ready after ${(readyMs / 1000).toFixed(1)} s, load average ${loadavg()[0]!.toFixed(1)}`,
  );

  // Five servers, then a scale-in to two under load. The clients reconnect once the five are
  // ready, so that the balancer spreads them over all five and the removed servers carry some.
  for (const client of clients.splice(0)) client.close();
  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(spec(5)) });
  await waitUntil(
    'five ready servers',
    async () => (await kubectlJson(['get', 'stc', NAME])).status?.readyReplicas === 5,
    900_000,
    1000,
  );
  while (clients.length < clientCount) await open();
  const spread = new Map<string, number>();
  for (const client of clients) {
    const server = client.connectedServerId ?? 'unknown';
    spread.set(server, (spread.get(server) ?? 0) + 1);
  }
  const onRemoved = clients.filter(
    (client) => !/-server-[01]$/.test(client.connectedServerId ?? ''),
  ).length;
  console.log(
    `clients per server before the scale-in: ${[...spread].map(([id, n]) => `${id} ${n}`).join(', ')}`,
  );
  let asking = true;
  let completed = 0;
  let failed = 0;
  let differing = 0;
  const loops = clients.map(async (client) => {
    while (asking) {
      try {
        if ((await answer(client)) === reference) completed++;
        else differing++;
      } catch {
        failed++;
      }
    }
  });
  const reconnectsBefore = clients.reduce((sum, client) => sum + client.counters.reconnects, 0);
  const startedAt = performance.now();
  // A target above the load, so that the metrics ask for the minimum of 2.
  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(spec(2, clientCount)) });
  await waitUntil(
    'two servers',
    async () => (await kubectlJson(['get', 'statefulset', `${NAME}-server`])).spec.replicas === 2,
    600_000,
    500,
  );
  const scaleInMs = performance.now() - startedAt;
  await new Promise((resolve) => setTimeout(resolve, 5000));
  asking = false;
  await Promise.all(loops);
  const reconnects =
    clients.reduce((sum, client) => sum + client.counters.reconnects, 0) - reconnectsBefore;
  const forced = (await events('ForcedScaleIn')).length;
  const stranded = clients.filter(
    (client) => !/-server-[01]$/.test(client.connectedServerId ?? ''),
  ).length;
  console.log(
    `scale-in 5 to 2 under load: ${onRemoved} of ${clients.length} clients on removed servers, ` +
      `${(scaleInMs / 1000).toFixed(1)} s from the spec change to 2 replicas, ` +
      `${completed} answers complete, ${failed} failed, ${differing} differing, ` +
      `${reconnects} reconnects, ${forced} forced removals, ${stranded} clients not on the ` +
      `remaining servers, load average ${loadavg()[0]!.toFixed(1)}`,
  );
  await operator.stop();
} finally {
  for (const client of clients) client.close();
  await cluster.stop();
}

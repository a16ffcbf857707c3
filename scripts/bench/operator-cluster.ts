/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read as untyped JSON */
// Measures the operator on the full test cluster (test/cluster: kube-apiserver, etcd,
// controller-manager, scheduler, KWOK nodes, pods run as local processes), with the operator in
// this process as the end-to-end tests run it. It reports:
// - the time from `kubectl apply` of crds/samples/demo.yaml to the Ready condition;
// - the time from `kubectl scale stc/demo --replicas=4` to Ready with four ready servers;
// - the time from a spec change (spec.balancer.healthCheck.intervalSeconds) to the balancer
//   ConfigMap carrying it, over many changes;
// - the status writes an idle, converged, Ready cluster makes per minute, counted both from a
//   watch on the StreamCluster (resourceVersion changes) and from the operator's metric.
// Needs root and `ip netns`, like the tests of test/cluster.
// Usage: npx tsx scripts/bench/operator-cluster.ts [changes=20] [idleSeconds=180]
import { cpus, loadavg } from 'node:os';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { resolveConfig } from '../../server/core/config.js';
import { createLogger, silentLogger } from '../../server/core/logger.js';
import { GROUP, PLURAL, VERSION } from '../../operator/api/streamcluster.js';
import { OperatorMetrics } from '../../operator/controller/metrics.js';
import { httpStatsFetcher, type StatsFetcher } from '../../operator/controller/stats.js';
import { createKubeClients, loadKubeConfig } from '../../operator/kube/client.js';
import { Informer } from '../../operator/kube/informer.js';
import type { KubeResource } from '../../operator/kube/resources.js';
import { startOperator } from '../../operator/main.js';
import { operatorSettings } from '../../operator/settings.js';
import { waitUntil } from '../../operator/testing/wait.js';
import { startTestCluster, testClusterSupport } from '../../test/cluster/cluster.js';

const changes = Number(process.argv[2] ?? 20);
const idleSeconds = Number(process.argv[3] ?? 180);
const namespace = 'default';

const support = testClusterSupport();
if (!support.supported) {
  console.error(support.reason);
  process.exit(1);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const isReady = (stc: any) =>
  stc?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') === true;
const intervalOf = (map: KubeResource | undefined) =>
  map && JSON.parse((map as any).data?.['balancer.json'] ?? '{}').healthCheck?.intervalMs;
const loads: number[] = [];
const sampleLoad = setInterval(() => loads.push(loadavg()[0]!), 5000);

const started = performance.now();
const cluster = await startTestCluster({ nodes: 2 });
console.log(`test cluster up in ${((performance.now() - started) / 1000).toFixed(1)} s`);
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
  const clients = createKubeClients(loadKubeConfig(cluster.kubeconfig));

  // Pod IPs live in the cluster's network namespace; /stats is read through forwarders.
  const fetchStats: StatsFetcher = async (target) => {
    const forward = await cluster.forward(target.ip, target.port);
    return httpStatsFetcher()({ ...target, ip: '127.0.0.1', port: forward.port });
  };
  const metrics = new OperatorMetrics();
  const config = resolveConfig(operatorSettings, new Map(), {});
  const operator = await startOperator(
    { ...config, leaderElect: false, metricsPort: 0, metricsHost: '127.0.0.1' },
    {
      clients,
      logger: process.env.BENCH_LOG ? createLogger({ name: 'operator' }) : silentLogger,
      metrics,
      fetchStats,
    },
  );

  // Separate watches record when the API server stores each change.
  let stc: any;
  let stcVersions = 0;
  let readyAt: number | undefined;
  const streamClusters = new Informer({
    clients,
    type: { apiVersion: `${GROUP}/${VERSION}`, kind: 'StreamCluster', plural: PLURAL },
    namespace,
    onChange: (_change, object) => {
      stc = object;
      stcVersions++;
      if (readyAt === undefined && isReady(object)) readyAt = performance.now();
    },
    logger: silentLogger,
    metrics: new OperatorMetrics(),
  });
  const intervalSeenAt = new Map<number, number>();
  const configMaps = new Informer({
    clients,
    type: { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps' },
    namespace,
    onChange: (_change, object) => {
      const interval = intervalOf(object);
      if (interval !== undefined && !intervalSeenAt.has(interval)) {
        intervalSeenAt.set(interval, performance.now());
      }
    },
    logger: silentLogger,
    metrics: new OperatorMetrics(),
  });
  await streamClusters.start();
  await configMaps.start();

  const applyStarted = performance.now();
  await cluster.kubectl(['apply', '-f', 'crds/samples/demo.yaml']);
  await waitUntil('demo Ready', () => readyAt !== undefined, 600_000, 20);
  const applyToReadyMs = readyAt! - applyStarted;
  console.log(`kubectl apply to Ready: ${(applyToReadyMs / 1000).toFixed(1)} s`);

  readyAt = undefined;
  const scaleStarted = performance.now();
  await cluster.kubectl(['scale', 'stc/demo', '--replicas=4']);
  await waitUntil(
    'four ready servers',
    () => stc?.status?.readyReplicas === 4 && isReady(stc),
    900_000,
    20,
  );
  const scaleToReadyMs = performance.now() - scaleStarted;
  console.log(`kubectl scale to 4 until Ready: ${(scaleToReadyMs / 1000).toFixed(1)} s`);

  const target = { group: GROUP, version: VERSION, namespace, plural: PLURAL, name: 'demo' };
  const latenciesMs: number[] = [];
  for (let i = 1; i <= changes; i++) {
    // Seconds 2..(changes+1): each value is new, so its first sighting marks the update.
    const intervalSeconds = i + 1;
    const changeStarted = performance.now();
    await clients.custom.patchNamespacedCustomObject(
      { ...target, body: { spec: { balancer: { healthCheck: { intervalSeconds } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const intervalMs = intervalSeconds * 1000;
    await waitUntil(`interval ${intervalSeconds}`, () => intervalSeenAt.has(intervalMs), 60_000, 2);
    latenciesMs.push(intervalSeenAt.get(intervalMs)! - changeStarted);
    await sleep(500);
  }
  latenciesMs.sort((a, b) => a - b);

  // Idle: converged and Ready, so the operator only resyncs every --resync-seconds.
  await waitUntil('Ready after the changes', () => isReady(stc), 120_000, 100);
  await sleep(10_000);
  const count = async (name: string) =>
    ((await metrics.registry.getSingleMetric(name)!.get()).values ?? []).reduce(
      (total, value) => total + value.value,
      0,
    );
  const byResult = async () =>
    Object.fromEntries(
      (
        (await metrics.registry.getSingleMetric('streamcluster_operator_reconciles_total')!.get())
          .values ?? []
      ).map((value) => [String(value.labels.result), value.value]),
    );
  const resultsBefore = await byResult();
  const writesBefore = await count('streamcluster_operator_status_writes_total');
  const reconcilesBefore = await count('streamcluster_operator_reconciles_total');
  const versionsBefore = stcVersions;
  await sleep(idleSeconds * 1000);
  const writes = (await count('streamcluster_operator_status_writes_total')) - writesBefore;
  const reconciles = (await count('streamcluster_operator_reconciles_total')) - reconcilesBefore;
  const versions = stcVersions - versionsBefore;
  if (!isReady(stc)) throw new Error('the cluster was not Ready at the end of the idle period');
  const resultsAfter = await byResult();
  const idleResults = Object.entries(resultsAfter)
    .map(([result, total]) => `${result} ${total - (resultsBefore[result] ?? 0)}`)
    .join(', ');
  const conditions = (stc.status.conditions as any[])
    .map((c) => `${c.type}=${c.status} (${c.reason})`)
    .join(', ');

  streamClusters.stop();
  configMaps.stop();
  await operator.stop();
  const perMinute = (value: number) => ((value * 60) / idleSeconds).toFixed(1);
  const mean = loads.reduce((sum, value) => sum + value, 0) / loads.length;
  console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'})`);
  console.log(
    `load average (1 min) during the run: mean ${mean.toFixed(1)}, ` +
      `min ${Math.min(...loads).toFixed(1)}, max ${Math.max(...loads).toFixed(1)}`,
  );
  console.log(`kubectl apply to Ready: ${(applyToReadyMs / 1000).toFixed(1)} s`);
  console.log(`kubectl scale to 4 until Ready: ${(scaleToReadyMs / 1000).toFixed(1)} s`);
  console.log(
    `spec change to balancer ConfigMap updated, ${changes} changes: ` +
      `p50 ${percentile(latenciesMs, 50).toFixed(1)} ms, p99 ${percentile(latenciesMs, 99).toFixed(1)} ms, ` +
      `max ${latenciesMs.at(-1)!.toFixed(1)} ms`,
  );
  console.log(
    `idle for ${idleSeconds} s: ${perMinute(versions)} StreamCluster writes/min (watch), ` +
      `${perMinute(writes)} status writes/min (metric), ${perMinute(reconciles)} reconciles/min`,
  );
  console.log(`idle reconciles by result: ${idleResults}; conditions: ${conditions}`);
} finally {
  clearInterval(sampleLoad);
  await cluster.stop({ keep: process.env.BENCH_KEEP === '1' });
}

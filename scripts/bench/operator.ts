/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are read as untyped JSON */
// Measures the operator on a real kube-apiserver, started from the test cluster's cached etcd and
// kube-apiserver binaries with no controllers or nodes. It reports the time from a spec change to
// the server StatefulSet carrying it, and the writes an unchanging cluster makes per minute.
// Usage: npx tsx scripts/bench/operator.ts [changes=20] [idleSeconds=60]
import { cpus } from 'node:os';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { createLogger, silentLogger } from '../../server/core/logger.js';
import { resolveConfig } from '../../server/core/config.js';
import { GROUP, PLURAL, VERSION } from '../../operator/api/streamcluster.js';
import { OperatorMetrics } from '../../operator/controller/metrics.js';
import { createKubeClients } from '../../operator/kube/client.js';
import { Informer } from '../../operator/kube/informer.js';
import type { KubeResource } from '../../operator/kube/resources.js';
import { startOperator } from '../../operator/main.js';
import { operatorSettings } from '../../operator/settings.js';
import { startTestApiServer } from '../../operator/testing/apiserver.js';
import { waitUntil } from '../../operator/testing/wait.js';

const changes = Number(process.argv[2] ?? 20);
const idleSeconds = Number(process.argv[3] ?? 60);
const namespace = 'bench';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const imageOf = (set: KubeResource | undefined) =>
  (set?.spec as any)?.template?.spec?.containers?.[0]?.image as string | undefined;

const api = await startTestApiServer();
try {
  const clients = createKubeClients(api.kubeConfig);
  await api.kubectl(['apply', '--server-side', '-f', 'crds/streamcluster.io_streamclusters.yaml']);
  await api.kubectl(['wait', '--for=condition=Established', 'crd/streamclusters.streamcluster.io']);
  await clients.core.createNamespace({ body: { metadata: { name: namespace } } });

  const metrics = new OperatorMetrics();
  const config = resolveConfig(operatorSettings, new Map(), {});
  const operator = await startOperator(
    { ...config, leaderElect: false, metricsPort: 0, metricsHost: '127.0.0.1' },
    {
      clients,
      logger: process.env.BENCH_LOG ? createLogger({ name: 'operator' }) : silentLogger,
      metrics,
      fetchStats: async () => Promise.reject(new Error('no pods')),
    },
  );

  // A separate watch records when the API server stores each StatefulSet change.
  const seenAt = new Map<string, number>();
  const sets = new Informer({
    clients,
    type: { apiVersion: 'apps/v1', kind: 'StatefulSet', plural: 'statefulsets' },
    namespace,
    onChange: (_change, object) => {
      const image = imageOf(object);
      if (image && !seenAt.has(image)) seenAt.set(image, performance.now());
    },
    logger: silentLogger,
    metrics: new OperatorMetrics(),
  });
  await sets.start();

  const target = { group: GROUP, version: VERSION, namespace, plural: PLURAL };
  await clients.custom.createNamespacedCustomObject({
    ...target,
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'StreamCluster',
      metadata: { name: 'demo' },
      spec: { image: 'streamcluster:0', servers: { replicas: 2 } },
    },
  });
  await waitUntil('first StatefulSet', () => seenAt.has('streamcluster:0'));

  const latenciesMs: number[] = [];
  for (let i = 1; i <= changes; i++) {
    const image = `streamcluster:${i}`;
    const started = performance.now();
    await clients.custom.patchNamespacedCustomObject(
      { ...target, name: 'demo', body: { spec: { image } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await waitUntil(image, () => seenAt.has(image), 30_000, 2);
    latenciesMs.push(seenAt.get(image)! - started);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  latenciesMs.sort((a, b) => a - b);

  // Idle: the spec no longer changes. With no pods the cluster stays not Ready, so the operator
  // reconciles it every 5 s, which is more often than a Ready cluster's 30 s resync.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const count = async (name: string) =>
    ((await metrics.registry.getSingleMetric(name)!.get()).values ?? []).reduce(
      (total, value) => total + value.value,
      0,
    );
  const writesBefore = await count('streamcluster_operator_status_writes_total');
  const reconcilesBefore = await count('streamcluster_operator_reconciles_total');
  const versionBefore = (
    (await clients.custom.getNamespacedCustomObject({ ...target, name: 'demo' })) as KubeResource
  ).metadata.resourceVersion;
  await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
  const writes = (await count('streamcluster_operator_status_writes_total')) - writesBefore;
  const reconciles = (await count('streamcluster_operator_reconciles_total')) - reconcilesBefore;
  const versionAfter = (
    (await clients.custom.getNamespacedCustomObject({ ...target, name: 'demo' })) as KubeResource
  ).metadata.resourceVersion;

  sets.stop();
  await operator.stop();
  const perMinute = (value: number) => ((value * 60) / idleSeconds).toFixed(1);
  console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'})`);
  console.log(
    `spec change to StatefulSet updated, ${changes} changes: ` +
      `p50 ${percentile(latenciesMs, 50).toFixed(1)} ms, p99 ${percentile(latenciesMs, 99).toFixed(1)} ms, ` +
      `max ${latenciesMs.at(-1)!.toFixed(1)} ms`,
  );
  console.log(
    `idle for ${idleSeconds} s: ${perMinute(writes)} status writes/min over ${perMinute(reconciles)} ` +
      `reconciles/min; StreamCluster resourceVersion ${versionBefore === versionAfter ? 'unchanged' : 'changed'}`,
  );
} finally {
  await api.stop();
}

/* eslint-disable @typescript-eslint/no-explicit-any -- kubectl output is read as untyped JSON */
// End-to-end tests of the operator on the local test cluster (kube-apiserver, etcd,
// controller-manager, scheduler and KWOK nodes whose pods run as local processes). The operator
// runs in this process against the cluster's API server, as `streamcluster operator` would.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../server/core/logger.js';
import { resolveConfig } from '../../server/core/config.js';
import { createKubeClients, loadKubeConfig } from '../../operator/kube/client.js';
import { httpStatsFetcher, type StatsFetcher } from '../../operator/controller/stats.js';
import { startOperator, type OperatorHandle } from '../../operator/main.js';
import { operatorSettings } from '../../operator/settings.js';
import { waitUntil } from '../../operator/testing/wait.js';

/** The parts of the test cluster helper these tests use. */
interface Cluster {
  dir: string;
  kubeconfig: string;
  kubectl(args: string[], options?: { input?: string; timeoutMs?: number }): Promise<string>;
  forward(host: string, port: number): Promise<{ port: number; close(): Promise<void> }>;
  stop(options?: { keep?: boolean }): Promise<void>;
}
interface ClusterModule {
  startTestCluster(options?: { nodes?: number }): Promise<Cluster>;
  testClusterSupport(): { supported: true } | { supported: false; reason: string };
}

const helperPath = new URL('../cluster/cluster.ts', import.meta.url);
const helper: ClusterModule | undefined = existsSync(helperPath)
  ? ((await import(helperPath.href)) as ClusterModule)
  : undefined;
const support = helper?.testClusterSupport();
const skip = !helper
  ? 'the test cluster helper test/cluster/cluster.ts is missing'
  : support && !support.supported
    ? support.reason
    : false;

const CRD = 'crds/streamcluster.io_streamclusters.yaml';

describe('operator on the test cluster', { skip }, () => {
  let cluster: Cluster;
  const operators: OperatorHandle[] = [];
  const forwards = new Map<string, Promise<{ port: number; close(): Promise<void> }>>();

  const kubectlJson = async (args: string[]) =>
    JSON.parse(await cluster.kubectl([...args, '-o', 'json'])) as any;
  const names = async (kind: string) =>
    (await kubectlJson(['get', kind, '-l', 'app.kubernetes.io/instance=demo'])).items.map(
      (item: any) => item.metadata.name as string,
    );

  /** Reads /stats through a forwarder, because pod IPs live in the cluster's namespace. */
  const fetchStats: StatsFetcher = async (target) => {
    const key = `${target.ip}:${target.port}`;
    if (!forwards.has(key)) forwards.set(key, cluster.forward(target.ip, target.port));
    const forward = await forwards.get(key)!;
    return httpStatsFetcher()({ ...target, ip: '127.0.0.1', port: forward.port });
  };

  const startReplica = async (identity: string) => {
    const config = resolveConfig(operatorSettings, new Map(), {});
    const handle = await startOperator(
      { ...config, metricsPort: 0, metricsHost: '127.0.0.1', leaseDurationSeconds: 4 },
      {
        clients: createKubeClients(loadKubeConfig(cluster.kubeconfig)),
        logger: silentLogger,
        fetchStats,
        identity,
        controller: { progressMs: 1000 },
      },
    );
    operators.push(handle);
    return handle;
  };

  before(async () => {
    cluster = await helper!.startTestCluster({ nodes: 2 });
    await cluster.kubectl(['apply', '--server-side', '-f', CRD]);
    await cluster.kubectl([
      'wait',
      '--for=condition=Established',
      'crd/streamclusters.streamcluster.io',
    ]);
  });

  after(async () => {
    for (const handle of operators) await handle.stop();
    for (const forward of forwards.values()) await (await forward).close();
    await cluster?.stop();
  });

  it('one of two replicas leads', async () => {
    const first = await startReplica('replica-a');
    const second = await startReplica('replica-b');
    const leader = await waitUntil('a leader', () => first.controller ?? second.controller);
    assert.ok(leader);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.equal([first, second].filter((handle) => handle.controller).length, 1);
    const lease = await kubectlJson(['get', 'lease', 'streamcluster-operator', '-n', 'default']);
    assert.match(lease.spec.holderIdentity, /^replica-[ab]$/);
  });

  it('applies the demo sample as children', async () => {
    await cluster.kubectl(['apply', '-f', 'crds/samples/demo.yaml']);
    await waitUntil('server StatefulSet', async () => (await names('statefulset')).length === 2);
    const set = await kubectlJson(['get', 'statefulset', 'demo-server']);
    const stc = await kubectlJson(['get', 'stc', 'demo']);
    assert.equal(set.metadata.ownerReferences[0].uid, stc.metadata.uid);
    await waitUntil('server pods', async () => (await names('pod')).length >= 3, 120_000, 1000);
  });

  it('demo sample becomes Ready', async () => {
    await cluster.kubectl(['wait', 'stc/demo', '--for=condition=Ready', '--timeout=300s'], {
      timeoutMs: 310_000,
    });
    const stc = await kubectlJson(['get', 'stc', 'demo']);
    assert.equal(stc.status.readyReplicas, 2);
    assert.equal(stc.status.observedGeneration, stc.metadata.generation);
    const table = await cluster.kubectl(['get', 'stc', 'demo']);
    assert.match(table, /NAME\s+READY\s+REPLICAS\s+CONNECTIONS\s+AGE/);
    assert.match(table, /demo\s+True\s+2\s+\d+/);
  });

  it('kubectl scale brings four ready servers', async () => {
    await cluster.kubectl(['scale', 'stc/demo', '--replicas=4']);
    await waitUntil(
      'four ready servers',
      async () => (await kubectlJson(['get', 'stc', 'demo'])).status?.readyReplicas === 4,
      300_000,
      1000,
    );
    await cluster.kubectl(['wait', 'stc/demo', '--for=condition=Ready', '--timeout=120s']);
  });

  it('rolls out a spec change', async () => {
    await cluster.kubectl([
      'patch',
      'stc/demo',
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { balancer: { algorithm: 'roundRobin' } } }),
    ]);
    await waitUntil('balancer ConfigMap updated', async () => {
      const map = await kubectlJson(['get', 'configmap', 'demo-balancer-config']);
      return JSON.parse(map.data['balancer.json']).algorithm === 'round-robin';
    });
  });

  it('restarted operator converges without duplicates', async () => {
    const leader = operators.find((handle) => handle.controller)!;
    await cluster.kubectl([
      'patch',
      'stc/demo',
      '--type=merge',
      '-p',
      '{"spec":{"servers":{"replicas":3}}}',
    ]);
    // Stop the leader in the middle of the reconcile the patch queued; the other replica takes over.
    await leader.stop();
    operators.splice(operators.indexOf(leader), 1);
    await waitUntil(
      'three servers',
      async () => (await kubectlJson(['get', 'statefulset', 'demo-server'])).spec.replicas === 3,
      120_000,
      500,
    );
    assert.deepEqual((await names('statefulset')).sort(), ['demo-log', 'demo-server']);
    assert.deepEqual((await names('deployment')).sort(), ['demo-balancer']);
    assert.equal((await names('service')).length, 5);
  });

  it('deleting the StreamCluster removes everything', async () => {
    await cluster.kubectl(['delete', 'stc/demo', '--wait=true', '--timeout=120s'], {
      timeoutMs: 130_000,
    });
    for (const kind of [
      'statefulset',
      'deployment',
      'service',
      'configmap',
      'pdb',
      'role',
      'rolebinding',
      'serviceaccount',
    ]) {
      await waitUntil(
        `${kind} removed`,
        async () => (await names(kind)).length === 0,
        120_000,
        1000,
      );
    }
    await waitUntil('pods gone', async () => (await names('pod')).length === 0, 120_000, 1000);
  });
});

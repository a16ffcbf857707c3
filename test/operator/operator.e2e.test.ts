/* eslint-disable @typescript-eslint/no-explicit-any -- kubectl output is read as untyped JSON */
// End-to-end tests of the operator on the local test cluster (kube-apiserver, etcd,
// controller-manager, scheduler and KWOK nodes whose pods run as local processes). The operator
// runs in this process against the cluster's API server, as `streamcluster operator` would.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { StreamClusterClient } from '../../client/client.js';
import type { AnswerEvent, Citation } from '../../client/types.js';
import { buildChildren } from '../../operator/children/index.js';
import type { StreamCluster } from '../../operator/api/streamcluster.js';
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
const PDF_DIR = new URL('../data/pdfs/', import.meta.url);
/** A one-page PDF containing "This font is available from the Google Font Directory". */
const FONT_PDF = 'issue10640.pdf';
/** A second, Hebrew one, so that citing the right document means something. */
const HEBREW_PDF = 'issue11656.pdf';
const QUESTION = 'Where is this font available from?';
/** Kinds of every child the operator creates, as kubectl names them. */
const CHILD_KINDS = 'statefulset,deployment,service,configmap,pdb,role,rolebinding,serviceaccount';

describe('operator on the test cluster', { skip }, () => {
  let cluster: Cluster;
  const operators: OperatorHandle[] = [];

  const kubectlJson = async (args: string[]) =>
    JSON.parse(await cluster.kubectl([...args, '-o', 'json'])) as any;
  const names = async (kind: string) =>
    (await kubectlJson(['get', kind, '-l', 'app.kubernetes.io/instance=demo'])).items.map(
      (item: any) => item.metadata.name as string,
    );

  /** Lists the children of the demo cluster as `Kind/name`, with their uids. */
  const childUids = async () => {
    const list = await kubectlJson(['get', CHILD_KINDS, '-l', 'app.kubernetes.io/instance=demo']);
    return new Map<string, string>(
      (list.items as any[]).map((item) => [
        `${item.kind}/${item.metadata.name}`,
        item.metadata.uid as string,
      ]),
    );
  };

  /** Returns a host port that reaches a pod address inside the cluster's namespace. */
  const forwardTo = async (ip: string, port: number) => (await cluster.forward(ip, port)).port;

  /** Reads /stats through a forwarder. */
  const fetchStats: StatsFetcher = async (target) => {
    const port = await forwardTo(target.ip, target.port);
    return httpStatsFetcher()({ ...target, ip: '127.0.0.1', port });
  };

  /** Lists the ready pods of one component of the demo cluster, sorted by name, with their IPs. */
  const readyPods = async (component: string) => {
    const pods = await kubectlJson([
      'get',
      'pods',
      '-l',
      `app.kubernetes.io/instance=demo,app.kubernetes.io/component=${component}`,
    ]);
    return (pods.items as any[])
      .filter((pod) =>
        pod.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'),
      )
      .map((pod) => ({ name: pod.metadata.name as string, ip: pod.status.podIP as string }))
      .sort((a, b) => a.name.localeCompare(b.name));
  };

  /** Creates a client of the stream protocol for a pod's port 8080. */
  const clientOf = async (ip: string) =>
    new StreamClusterClient({ urls: `ws://127.0.0.1:${await forwardTo(ip, 8080)}` });

  /** Asks the question and returns the answer's text and citations. */
  const ask = async (client: StreamClusterClient, minSeq: number) => {
    let text = '';
    let citations: Citation[] = [];
    for await (const event of client.ask(QUESTION, { minSeq }) as AsyncIterable<AnswerEvent>) {
      if (event.type === 'answer.token') text += event.text;
      if (event.type === 'answer.citations') citations = event.citations;
    }
    return { text, citations };
  };

  /** Log sequence of the ingested PDF, so later reads can ask for it. */
  let ingestedSeq = 0;

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

  it('answers a question about an ingested PDF through the balancer', async () => {
    const [balancer] = await readyPods('balancer');
    assert.ok(balancer, 'a ready balancer pod');
    const client = await clientOf(balancer.ip);
    try {
      for (const name of [HEBREW_PDF, FONT_PDF]) {
        const result = await client.ingest(readFileSync(new URL(name, PDF_DIR)), { name });
        assert.equal(result.pages, 1, name);
        assert.ok(result.chunks >= 1, name);
        ingestedSeq = Math.max(ingestedSeq, result.seq);
      }
      const { text, citations } = await ask(client, ingestedSeq);
      assert.match(text, /Google Font Directory/);
      assert.equal(citations[0]?.documentName, FONT_PDF);
      assert.equal(citations[0]?.pageStart, 1);
      assert.match(client.connectedServerId ?? '', /^demo-server-[01]$/);
    } finally {
      client.close();
    }
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

  it('every one of four servers answers from the replicated log', async () => {
    const servers = await readyPods('server');
    assert.deepEqual(
      servers.map((pod) => pod.name),
      ['demo-server-0', 'demo-server-1', 'demo-server-2', 'demo-server-3'],
    );
    for (const server of servers) {
      const client = await clientOf(server.ip);
      try {
        const { citations } = await ask(client, ingestedSeq);
        assert.equal(client.connectedServerId, server.name);
        assert.equal(citations[0]?.documentName, FONT_PDF, server.name);
        assert.equal(citations[0]?.pageStart, 1, server.name);
      } finally {
        client.close();
      }
    }
  });

  it('balancer routes by per-server priorities', async () => {
    const endpoints = [1, 2, 3].map((ordinal) => ({ ordinal, priority: 1 }));
    await cluster.kubectl([
      'patch',
      'stc/demo',
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { balancer: { endpoints } } }),
    ]);
    await waitUntil('balancer ConfigMap carries the overrides', async () => {
      const map = await kubectlJson(['get', 'configmap', 'demo-balancer-config']);
      return JSON.parse(map.data['balancer.json']).kubernetes.endpointOverrides?.length === 3;
    });
    // The test agent writes ConfigMap volumes only when a pod starts (a kubelet would update
    // them in place), so a new balancer pod is what reads the changed file here.
    const [previous] = await readyPods('balancer');
    await cluster.kubectl(['delete', 'pod', previous!.name, '--wait=false']);
    const balancer = await waitUntil(
      'a new ready balancer pod',
      async () => (await readyPods('balancer')).find((pod) => pod.name !== previous!.name),
      180_000,
      1000,
    );
    // Only demo-server-0 stays in priority 0, and it is healthy, so it takes every connection.
    for (let i = 0; i < 4; i++) {
      const client = await clientOf(balancer.ip);
      try {
        await client.connect();
        assert.equal(client.connectedServerId, 'demo-server-0', `connection ${i}`);
      } finally {
        client.close();
      }
    }
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

  it('kubectl apply of an invalid spec is rejected naming each field', async () => {
    await assert.rejects(
      cluster.kubectl(['apply', '-f', 'test/operator/invalid-streamcluster.yaml']),
      (error: Error) => {
        assert.match(error.message, /spec\.servers\.replicas: Invalid value: -1/);
        assert.match(error.message, /spec\.balancer\.endpoints\[0\]\.weight: Invalid value: 0/);
        return true;
      },
    );
    assert.equal((await kubectlJson(['get', 'stc'])).items.length, 0);
  });

  it('operator killed in the middle of a reconcile converges without duplicates', async () => {
    for (const handle of operators.splice(0)) await handle.stop();
    const killed = spawnOperatorProcess(cluster.kubeconfig);
    try {
      await cluster.kubectl(['apply', '-f', 'crds/samples/demo.yaml']);
      // The operator logs each child it creates as it goes; kill it at the first one.
      await waitForLogLine(killed, /"msg":"child applied"/, 120_000);
      killed.kill('SIGKILL');
      await once(killed, 'exit');
    } finally {
      killed.kill('SIGKILL');
    }
    const stc = (await kubectlJson(['get', 'stc', 'demo'])) as StreamCluster;
    const desired = buildChildren(stc).map((child) => `${child.kind}/${child.metadata.name}`);
    const atKill = await childUids();
    assert.ok(atKill.size >= 1, 'the killed operator created a child');
    assert.ok(atKill.size < desired.length, `killed before all ${desired.length} children existed`);

    await startReplica('replica-c');
    await cluster.kubectl(['wait', 'stc/demo', '--for=condition=Ready', '--timeout=300s'], {
      timeoutMs: 310_000,
    });
    const converged = await childUids();
    assert.deepEqual([...converged.keys()].sort(), desired.sort());
    for (const [child, uid] of atKill) assert.equal(converged.get(child), uid, `${child} kept`);
    assert.equal((await names('replicaset')).length, 1, 'one balancer ReplicaSet');
    assert.equal((await readyPods('server')).length, 2);
  });
});

/**
 * Starts `streamcluster operator` as its own process, so that it can be killed with SIGKILL at
 * any point. Its log lines (JSON on stderr) are kept for {@link waitForLogLine}.
 */
function spawnOperatorProcess(kubeconfig: string): ChildProcess {
  const main = new URL('../../server/cli/main.ts', import.meta.url).pathname;
  const args = ['--kubeconfig', kubeconfig, '--namespace', 'default', '--metrics-port', '0'];
  args.push('--metrics-host', '127.0.0.1', '--lease-duration-seconds', '4');
  return spawn(process.execPath, ['--import', 'tsx', main, 'operator', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'info' },
  });
}

/** Resolves at the first log line of `child` that matches, or rejects when it exits first. */
function waitForLogLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<void> {
  const lines = createInterface({ input: child.stderr! });
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no log line ${pattern} in ${timeoutMs} ms`)),
      timeoutMs,
    );
    lines.on('line', (line) => {
      if (!pattern.test(line)) return;
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the operator exited with ${code} before logging ${pattern}`));
    });
  });
}

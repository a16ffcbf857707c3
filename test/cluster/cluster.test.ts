import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCluster, testClusterSupport, type TestCluster } from './cluster.js';

const support = testClusterSupport();
const skip = support.supported ? false : `skipped: ${support.reason}`;

interface PodView {
  metadata: { name: string };
  status: {
    podIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: {
      restartCount: number;
      lastState?: { terminated?: { exitCode: number } };
    }[];
  };
}

const echoDeployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'echo', namespace: 'default' },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'echo' } },
    template: {
      metadata: { labels: { app: 'echo' } },
      spec: {
        terminationGracePeriodSeconds: 5,
        containers: [
          {
            name: 'echo',
            image: 'docker.io/library/node:20',
            command: ['node', 'test/cluster/fixtures/http-server.mjs'],
            args: ['--port', '$(PORT)'],
            env: [
              { name: 'PORT', value: '8080' },
              {
                name: 'GREETING',
                valueFrom: { configMapKeyRef: { name: 'echo', key: 'greeting' } },
              },
              { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            ],
            ports: [{ name: 'http', containerPort: 8080 }],
            readinessProbe: {
              httpGet: { path: '/healthz', port: 'http' },
              periodSeconds: 1,
              failureThreshold: 1,
            },
          },
        ],
      },
    },
  },
};

const echoService = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'echo', namespace: 'default' },
  spec: { selector: { app: 'echo' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
};

const echoConfig = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'echo', namespace: 'default' },
  data: { greeting: 'hello from a ConfigMap' },
};

const counterStatefulSet = {
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'counter', namespace: 'default' },
  spec: {
    replicas: 1,
    serviceName: 'counter',
    selector: { matchLabels: { app: 'counter' } },
    template: {
      metadata: { labels: { app: 'counter' } },
      spec: {
        terminationGracePeriodSeconds: 5,
        containers: [
          {
            name: 'counter',
            image: 'node:20-slim',
            command: ['node', 'test/cluster/fixtures/http-server.mjs', '--data=/var/lib/counter'],
            volumeMounts: [{ name: 'data', mountPath: '/var/lib/counter' }],
            readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
          },
        ],
      },
    },
    volumeClaimTemplates: [
      {
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
    ],
  },
};

describe('test cluster', { skip, timeout: 15 * 60_000 }, () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await startTestCluster({ nodes: 2 });
  });

  after(async () => {
    await cluster?.stop();
  });

  async function apply(...objects: object[]): Promise<void> {
    const list = { apiVersion: 'v1', kind: 'List', items: objects };
    await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(list) });
  }

  async function pods(selector: string): Promise<PodView[]> {
    const output = await cluster.kubectl(['get', 'pods', '-l', selector, '-o', 'json']);
    return (JSON.parse(output) as { items: PodView[] }).items;
  }

  async function readyEndpoints(service: string): Promise<string[]> {
    const output = await cluster.kubectl([
      'get',
      'endpointslices',
      '-l',
      `kubernetes.io/service-name=${service}`,
      '-o',
      'json',
    ]);
    const slices = JSON.parse(output) as {
      items: { endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] }[];
    };
    const endpoints = slices.items.flatMap((slice) => slice.endpoints ?? []);
    return endpoints
      .filter((endpoint) => endpoint.conditions?.ready === true)
      .flatMap((endpoint) => endpoint.addresses)
      .sort();
  }

  async function fetchInNamespace(url: string, method = 'GET'): Promise<string> {
    const script = `fetch(${JSON.stringify(url)}, { method: ${JSON.stringify(method)} }).then((r) => r.text()).then((t) => process.stdout.write(t))`;
    return cluster.execInNamespace([process.execPath, '-e', script]);
  }

  it('reports the pinned Kubernetes version', async () => {
    const output = JSON.parse(await cluster.kubectl(['version', '-o', 'json'])) as {
      clientVersion: { gitVersion: string };
      serverVersion: { gitVersion: string };
    };
    assert.equal(output.clientVersion.gitVersion, 'v1.36.3');
    assert.equal(output.serverVersion.gitVersion, 'v1.36.3');
  });

  it('registers KWOK nodes as Ready', async () => {
    const output = await cluster.kubectl([
      'get',
      'nodes',
      '-o',
      'jsonpath={.items[*].metadata.name}',
    ]);
    assert.deepEqual(output.split(' ').sort(), ['kwok-node-0', 'kwok-node-1']);
  });

  it('renews a Lease for every node', async () => {
    // Without renewed Leases the node lifecycle controller marks the nodes NotReady after its
    // grace period, and with them every pod, which the agent never sets ready again.
    const leases = JSON.parse(
      await cluster.kubectl(['get', 'leases', '-n', 'kube-node-lease', '-o', 'json']),
    ) as { items: { metadata: { name: string }; spec: { renewTime?: string } }[] };
    const names = leases.items.map((lease) => lease.metadata.name).sort();
    assert.deepEqual(names, ['kwok-node-0', 'kwok-node-1']);
    for (const lease of leases.items) {
      const ageMs = Date.now() - Date.parse(lease.spec.renewTime ?? '');
      assert.ok(ageMs < 40_000, `${lease.metadata.name} renewed ${ageMs} ms ago`);
    }
  });

  it('runs a Deployment pod as a local process', async () => {
    await apply(echoConfig, echoDeployment, echoService);
    await cluster.kubectl(['rollout', 'status', 'deployment/echo', '--timeout=120s'], {
      timeoutMs: 130_000,
    });
    const [pod] = await pods('app=echo');
    assert.ok(pod?.status.podIP, 'pod has an IP');
    assert.match(pod.status.podIP, /^10\.244\./);
    const ready = pod.status.conditions?.find((condition) => condition.type === 'Ready');
    assert.equal(ready?.status, 'True');

    const answer = JSON.parse(await fetchInNamespace(`http://${pod.status.podIP}:8080/`)) as Record<
      string,
      unknown
    >;
    assert.equal(answer.pod, pod.metadata.name);
    assert.equal(answer.podIp, pod.status.podIP);
    assert.equal(answer.greeting, 'hello from a ConfigMap');
  });

  it('gives pods their service account token', async () => {
    const [pod] = await pods('app=echo');
    const user = await fetchInNamespace(`http://${pod!.status.podIP}:8080/whoami`);
    assert.equal(user, 'system:serviceaccount:default:default');
  });

  it('lists the ready pod in EndpointSlices', async () => {
    const [pod] = await pods('app=echo');
    await waitFor(async () => (await readyEndpoints('echo')).join() === pod?.status.podIP);
  });

  it('reaches a pod through a host port forward', async () => {
    const [pod] = await pods('app=echo');
    const forward = await cluster.forward(pod!.status.podIP!, 8080);
    try {
      const response = await fetch(`http://127.0.0.1:${forward.port}/healthz`);
      assert.equal(response.status, 200);
      assert.equal(await response.text(), 'ok\n');
    } finally {
      await forward.close();
    }
  });

  it('scales with kubectl scale', async () => {
    await cluster.kubectl(['scale', 'deployment/echo', '--replicas=3']);
    await cluster.kubectl(['rollout', 'status', 'deployment/echo', '--timeout=120s'], {
      timeoutMs: 130_000,
    });
    const addresses = (await pods('app=echo')).map((pod) => pod.status.podIP);
    assert.equal(new Set(addresses).size, 3, `three distinct pod IPs, got ${addresses.join(', ')}`);
    await waitFor(async () => (await readyEndpoints('echo')).length === 3);
  });

  it('follows the readiness probe', async () => {
    const [pod] = await pods('app=echo');
    const ip = pod!.status.podIP!;
    await fetchInNamespace(`http://${ip}:8080/unready`, 'POST');
    await waitFor(async () => !(await readyEndpoints('echo')).includes(ip));
    await fetchInNamespace(`http://${ip}:8080/ready`, 'POST');
    await waitFor(async () => (await readyEndpoints('echo')).includes(ip));
  });

  it('reports a container exit and restarts it', async () => {
    const [pod] = await pods('app=echo');
    await fetchInNamespace(`http://${pod!.status.podIP}:8080/exit?code=3`, 'POST');
    await waitFor(async () => {
      const current = (await pods('app=echo')).find(
        (entry) => entry.metadata.name === pod!.metadata.name,
      );
      const status = current?.status.containerStatuses?.[0];
      return status?.restartCount === 1 && status.lastState?.terminated?.exitCode === 3;
    });
  });

  it('keeps claim data across pod restarts', async () => {
    await apply(counterStatefulSet);
    await cluster.kubectl(['rollout', 'status', 'statefulset/counter', '--timeout=120s'], {
      timeoutMs: 130_000,
    });
    const first = (await pods('app=counter'))[0]!;
    const before = JSON.parse(await fetchInNamespace(`http://${first.status.podIP}:8080/`)) as {
      boots: number;
    };
    assert.equal(before.boots, 1);

    await cluster.kubectl(['delete', 'pod', 'counter-0', '--wait=true']);
    await cluster.kubectl(['rollout', 'status', 'statefulset/counter', '--timeout=120s'], {
      timeoutMs: 130_000,
    });
    let boots = 0;
    await waitFor(async () => {
      const [pod] = await pods('app=counter');
      if (pod?.status.podIP === undefined) return false;
      const ready = pod.status.conditions?.some(
        (condition) => condition.type === 'Ready' && condition.status === 'True',
      );
      if (ready !== true) return false;
      boots = (
        JSON.parse(await fetchInNamespace(`http://${pod.status.podIP}:8080/`)) as { boots: number }
      ).boots;
      return true;
    });
    assert.equal(boots, 2);
  });

  it('removes pods and their processes on delete', async () => {
    await cluster.kubectl(['delete', 'deployment/echo', 'statefulset/counter', '--wait=true']);
    await waitFor(async () => (await pods('app in (echo,counter)')).length === 0);
    await waitFor(async () => (await podNamespaces(cluster)).length === 0);
  });
});

/** Network namespaces of the cluster's pods that still exist. */
async function podNamespaces(cluster: TestCluster): Promise<string[]> {
  const { execFile } = await import('node:child_process');
  const output = await new Promise<string>((resolve, reject) =>
    execFile('ip', ['netns', 'list'], (error, stdout) => (error ? reject(error) : resolve(stdout))),
  );
  return output
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(`${cluster.netns}-`));
}

/** Polls check every 250 ms until it returns true; fails after timeoutMs. */
async function waitFor(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.fail(
    `condition not met within ${timeoutMs} ms${lastError ? `; last error: ${String(lastError)}` : ''}`,
  );
}

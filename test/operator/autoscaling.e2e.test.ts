/* eslint-disable @typescript-eslint/no-explicit-any -- kubectl output is read as untyped JSON */
// Autoscaling on the local test cluster: real stream servers, the balancer and managed NATS run
// as pods, and the operator runs in this process. Clients connect through the balancer's pod IP
// (reached from the host through a forwarder), cross the connections target, and the test
// watches a server being added; then most clients leave and the test watches the added server
// drain and go while the remaining clients keep asking, every answer complete and in order.
// Last, CPU-heavy ingestion alone, with few connections, adds a server again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StreamClusterClient } from '../../client/client.js';
import { createLogger, silentLogger } from '../../server/core/logger.js';
import { resolveConfig } from '../../server/core/config.js';
import { createKubeClients, loadKubeConfig } from '../../operator/kube/client.js';
import type { StatsTarget } from '../../operator/controller/stats.js';
import { startOperator, type OperatorHandle } from '../../operator/main.js';
import { operatorSettings } from '../../operator/settings.js';
import { waitUntil } from '../../operator/testing/wait.js';
import { startTestCluster, testClusterSupport, type TestCluster } from '../cluster/cluster.js';

const support = testClusterSupport();
const skip = support.supported ? false : support.reason;

const CRD = 'crds/streamcluster.io_streamclusters.yaml';
const NAME = 'elastic';
const QUESTION = 'When was the lighthouse of Port Alder built?';
const DOCUMENT = [
  'The lighthouse of Port Alder was built in 1874 from granite quarried on the island.',
  'Its lamp burns colza oil and can be seen twenty-two nautical miles out to sea.',
  'Keepers lived in the cottage at the foot of the tower until automation in 1981.',
].join(' ');

const STREAM_CLUSTER = {
  apiVersion: 'streamcluster.io/v1alpha1',
  kind: 'StreamCluster',
  metadata: { name: NAME, namespace: 'default' },
  spec: {
    image: 'streamcluster:0.1.0',
    servers: {
      replicas: 1,
      autoscaling: {
        enabled: true,
        minReplicas: 1,
        maxReplicas: 2,
        targetConnectionsPerServer: 3,
        // The servers of the test cluster share two cores with everything else.
        targetEventLoopUtilization: 1,
        behavior: { scaleDown: { stabilizationWindowSeconds: 5 } },
      },
      scaleIn: { drainTimeoutSeconds: 120, drainSpreadSeconds: 2 },
    },
  },
};

/** Asks the question and returns the answer's text, checking that it ended with answer.done. */
async function answerText(client: StreamClusterClient): Promise<string> {
  let text = '';
  let done = false;
  for await (const event of client.ask(QUESTION, { timeoutMs: 60_000 })) {
    if (event.type === 'answer.token') text += event.text;
    if (event.type === 'answer.done') done = true;
  }
  assert.ok(done, 'the answer ended with answer.done');
  return text;
}

describe('autoscaling on the test cluster', { skip }, () => {
  let cluster: TestCluster;
  let operator: OperatorHandle;
  let balancerUrl: string;
  let reference = '';
  const clients: StreamClusterClient[] = [];

  const kubectlJson = async (args: string[]) =>
    JSON.parse(await cluster.kubectl([...args, '-o', 'json'])) as any;
  const stc = () => kubectlJson(['get', 'stc', NAME]);
  const openClient = async () => {
    const client = new StreamClusterClient({
      urls: balancerUrl,
      reconnect: { initialDelayMs: 100, maxDelayMs: 1000 },
    });
    await client.connect();
    clients.push(client);
    return client;
  };
  const eventsOf = async (reason: string) =>
    (
      await kubectlJson([
        'get',
        'events',
        '--field-selector',
        `involvedObject.name=${NAME},reason=${reason}`,
      ])
    ).items as any[];

  before(async () => {
    cluster = await startTestCluster({ nodes: 2 });
    await cluster.kubectl(['apply', '--server-side', '-f', CRD]);
    await cluster.kubectl([
      'wait',
      '--for=condition=Established',
      'crd/streamclusters.streamcluster.io',
    ]);
    const config = resolveConfig(operatorSettings, new Map(), {});
    operator = await startOperator(
      {
        ...config,
        leaderElect: false,
        metricsPort: 0,
        metricsHost: '127.0.0.1',
        autoscaleIntervalSeconds: 2,
      },
      {
        clients: createKubeClients(loadKubeConfig(cluster.kubeconfig)),
        logger: process.env.TEST_LOG ? createLogger({ name: 'operator' }) : silentLogger,
        // Pod IPs live in the cluster's namespace; the operator reaches them through forwarders.
        serverAddress: async (target: StatsTarget) => {
          const { port } = await cluster.forward(target.ip, target.port);
          return { ...target, ip: '127.0.0.1', port };
        },
        controller: { progressMs: 1000 },
      },
    );
  });

  after(async () => {
    for (const client of clients) client.close();
    await operator?.stop();
    // TEST_KEEP_CLUSTER=1 keeps the folder with the pod logs for a failed run.
    await cluster?.stop({ keep: process.env.TEST_KEEP_CLUSTER === '1' });
  });

  it('starts one server behind the balancer', async () => {
    await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(STREAM_CLUSTER) });
    await cluster.kubectl(['wait', `stc/${NAME}`, '--for=condition=Ready', '--timeout=300s'], {
      timeoutMs: 310_000,
    });
    const pods = await kubectlJson([
      'get',
      'pods',
      '-l',
      `app.kubernetes.io/instance=${NAME},app.kubernetes.io/component=balancer`,
    ]);
    const ip = pods.items[0].status.podIP as string;
    const { port } = await cluster.forward(ip, 8080);
    balancerUrl = `ws://127.0.0.1:${port}`;
    const client = await openClient();
    await client.ingest(Buffer.from(DOCUMENT), { name: 'harbor.txt' });
    reference = await answerText(client);
    assert.match(reference, /1874/);
  });

  it('adds a server when connections cross the target', async () => {
    while (clients.length < 6) await openClient();
    const crossedAt = Date.now();
    const scaled = await waitUntil('ScaledUp event', async () => (await eventsOf('ScaledUp'))[0]);
    assert.match(scaled.message, /^Scaled from 1 to 2: connections \d+ .* over target 3/);
    await waitUntil(
      'two ready servers',
      async () => (await stc()).status?.readyReplicas === 2,
      300_000,
      1000,
    );
    const seconds = (Date.now() - crossedAt) / 1000;
    console.log(`# from crossing the target to a second ready server: ${seconds.toFixed(1)} s`);
    const status = (await stc()).status;
    assert.equal(status.autoscaling.desiredReplicas, 2);
  });

  it('moves clients onto the added server', async () => {
    await waitUntil(
      'clients on the added server',
      () => clients.filter((client) => client.connectedServerId === `${NAME}-server-1`).length >= 2,
      60_000,
      500,
    );
  });

  it('removes the server again without losing an answer', async () => {
    const onAdded = clients.filter((client) => client.connectedServerId === `${NAME}-server-1`);
    const kept = onAdded.slice(0, 2);
    for (const client of clients) if (!kept.includes(client)) client.close();

    // Ask continuously, so that answers are in flight while the server drains.
    let asking = true;
    const answers: string[] = [];
    const loops = kept.map(async (client) => {
      while (asking) answers.push(await answerText(client));
    });
    try {
      const drained = await waitUntil(
        'DrainedServers event',
        async () => (await eventsOf('DrainedServers'))[0],
        120_000,
        1000,
      );
      assert.match(drained.message, /scaling in from 2 to 1 servers/);
      await waitUntil(
        'one server',
        async () =>
          (await kubectlJson(['get', 'statefulset', `${NAME}-server`])).spec.replicas === 1,
        60_000,
        1000,
      );
      // A few more answers after the scale-in, from the remaining server.
      const count = answers.length;
      await waitUntil('answers after the scale-in', () => answers.length >= count + 4, 60_000);
    } finally {
      asking = false;
      await Promise.all(loops);
    }
    assert.equal((await eventsOf('ForcedScaleIn')).length, 0);
    for (const text of answers) assert.equal(text, reference);
    for (const client of kept) {
      assert.equal(client.connectedServerId, `${NAME}-server-0`);
      assert.ok(client.counters.reconnects >= 1, 'the client moved off the drained server');
    }
  });

  it('adds a server for CPU-heavy ingestion', async () => {
    // Connections stay far below their target, so only the embedding workers' load can scale.
    await cluster.kubectl([
      'patch',
      'stc',
      NAME,
      '--type=merge',
      '-p',
      JSON.stringify({
        spec: {
          servers: {
            autoscaling: { targetConnectionsPerServer: 100, targetEventLoopUtilization: 0.3 },
          },
        },
      }),
    ]);

    const byIngestion = async () =>
      (await eventsOf('ScaledUp')).find((event) => /: utilization /.test(event.message));
    const client = await openClient();
    let ingested = 0;
    let scaled: any;

    // Distinct documents, so none is skipped as a duplicate, until the autoscaler reacts.
    for (let round = 0; !scaled && round < 20; round++) {
      const text = Array.from(
        { length: 400 },
        (_, index) =>
          `Round ${round} entry ${index}: the keeper logged tide ${index % 13} ` +
          `and wind ${(index * 7) % 11} at the light of Port Alder on day ${index % 365}.`,
      ).join(' ');
      const result = await client.ingest(Buffer.from(text), { name: `logbook-${round}.txt` });
      assert.ok(result.chunks > 10, `logbook ${round} made ${result.chunks} chunks`);
      ingested++;
      scaled = await byIngestion();
    }

    scaled ??= await waitUntil('ScaledUp event for ingestion', byIngestion, 30_000, 1000);
    assert.match(scaled.message, /^Scaled from 1 to 2: utilization \d\.\d\d over target 0\.30/);
    await waitUntil(
      'two ready servers',
      async () => (await stc()).status?.readyReplicas === 2,
      300_000,
      1000,
    );
    console.log(`# ingested ${ingested} documents before the ingestion load added a server`);
  });
});

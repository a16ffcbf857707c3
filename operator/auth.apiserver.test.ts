/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read back as untyped JSON */
// Scale-in of a StreamCluster whose servers require a bearer token, against a real etcd and
// kube-apiserver. As in autoscaling.apiserver.test.ts, no kubelet runs: the test creates a pod
// for each StatefulSet replica, reports it ready from a real stream server's /readyz, and maps
// each pod to a stream server on loopback started with that token.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import type { DataPlane } from '../server/stream/data-plane.js';
import { SUBPROTOCOL } from '../server/stream/protocol.js';
import { StreamServer } from '../server/stream/server.js';
import { GROUP, VERSION } from './api/streamcluster.js';
import { OperatorMetrics } from './controller/metrics.js';
import type { StatsTarget } from './controller/stats.js';
import { httpStatusOf, type KubeClients } from './kube/client.js';
import { startOperator, type OperatorHandle } from './main.js';
import { apiServerUnavailable, type TestApiServer } from './testing/apiserver.js';
import {
  mergePatch,
  startTestEnvironment,
  streamClusterRef,
  testLogger,
  testOperatorConfig,
} from './testing/environment.js';
import { waitUntil } from './testing/wait.js';

const NAMESPACE = 'auth-test';
const NAME = 'secured';
const TOKEN = 'cluster-s3cret';
const unavailable = apiServerUnavailable();

/** Returns a data plane with no documents: enough for connections, `/stats` and readiness. */
function emptyDataPlane(): DataPlane {
  const unused = () => {
    throw new Error('the auth test sends no document requests');
  };
  return {
    findDocument: () => undefined,
    ingest: unused,
    search: unused,
    ask: unused,
    deleteDocument: unused,
    listDocuments: () => [],
    stats: () => ({ documents: 0, chunks: 0, lastAppliedSeq: 0 }),
    readiness: () => ({ ready: true }),
  };
}

describe('scale-in with a server token', { skip: unavailable }, () => {
  let api: TestApiServer;
  let clients: KubeClients;
  let operator: OperatorHandle;
  let kubelet: NodeJS.Timeout;
  const servers: StreamServer[] = [];
  const serverLog: string[] = [];
  const ports = new Map<string, number>();

  const custom = streamClusterRef(NAMESPACE, NAME);
  const getStc = async () => (await clients.custom.getNamespacedCustomObject(custom)) as any;
  const degraded = async () =>
    (await getStc()).status?.conditions?.find((c: any) => c.type === 'Degraded');
  const statefulSetReplicas = async () => {
    try {
      const set = (await clients.objects.read({
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: `${NAME}-server`, namespace: NAMESPACE },
      })) as any;
      return set.spec.replicas as number;
    } catch (error) {
      if (httpStatusOf(error) === 404) return undefined;
      throw error;
    }
  };
  const events = async () =>
    (
      await clients.core.listNamespacedEvent({
        namespace: NAMESPACE,
        fieldSelector: `involvedObject.name=${NAME}`,
      })
    ).items;
  const findEvent = (reason: string) =>
    waitUntil(`event ${reason}`, async () =>
      (await events()).find((event) => event.reason === reason),
    );

  /** Creates a pod per StatefulSet replica, deletes those above it and reports readiness. */
  const syncPods = async () => {
    const replicas = await statefulSetReplicas();
    if (replicas === undefined) return;
    const pods = await clients.core.listNamespacedPod({
      namespace: NAMESPACE,
      labelSelector: `app.kubernetes.io/instance=${NAME}`,
    });
    const existing = new Set(pods.items.map((pod) => pod.metadata!.name!));
    for (const name of existing) {
      if (Number(name.slice(`${NAME}-server-`.length)) < replicas) continue;
      await clients.core.deleteNamespacedPod({ name, namespace: NAMESPACE, gracePeriodSeconds: 0 });
    }
    for (let ordinal = 0; ordinal < replicas; ordinal++) {
      const podName = `${NAME}-server-${ordinal}`;
      if (!existing.has(podName)) await createPod(podName);
      await reportReadiness(podName);
    }
  };
  const createPod = async (podName: string) => {
    await clients.core.createNamespacedPod({
      namespace: NAMESPACE,
      body: {
        metadata: {
          name: podName,
          labels: {
            'app.kubernetes.io/name': 'streamcluster',
            'app.kubernetes.io/instance': NAME,
            'app.kubernetes.io/component': 'server',
          },
        },
        spec: { containers: [{ name: 'server', image: 'x' }] },
      },
    });
  };
  const reportReadiness = async (podName: string) => {
    const port = ports.get(podName) ?? 1;
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    await clients.core.patchNamespacedPodStatus(
      {
        name: podName,
        namespace: NAMESPACE,
        body: {
          status: {
            phase: 'Running',
            podIP: '127.0.0.1',
            conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
          },
        },
      },
      mergePatch(),
    );
  };

  before(async () => {
    ({ api, clients } = await startTestEnvironment(NAMESPACE));
    const logger = pino({ level: 'info' }, { write: (line: string) => serverLog.push(line) });
    for (let index = 0; index < 2; index++) {
      const server = new StreamServer({
        dataPlane: emptyDataPlane(),
        serverId: `${NAME}-server-${index}`,
        authToken: TOKEN,
        logger,
      });
      const { port } = await server.listen(0, '127.0.0.1');
      servers.push(server);
      ports.set(`${NAME}-server-${index}`, port);
    }
    const serverAddress = async (target: StatsTarget) => ({
      ...target,
      ip: '127.0.0.1',
      port: ports.get(target.podName) ?? 1,
    });
    operator = await startOperator(testOperatorConfig(), {
      clients,
      logger: testLogger('operator'),
      metrics: new OperatorMetrics(),
      serverAddress,
      controller: { progressMs: 300, drainStepMs: 200 },
    });
    let syncing = false;
    kubelet = setInterval(() => {
      if (syncing) return;
      syncing = true;
      syncPods()
        .catch(() => {})
        .finally(() => (syncing = false));
    }, 100);
  });

  after(async () => {
    clearInterval(kubelet);
    await operator?.stop();
    for (const server of servers) await server.close();
    await api?.stop();
  });

  it('reports a missing token Secret', async () => {
    await clients.custom.createNamespacedCustomObject({
      ...streamClusterRef(NAMESPACE, ''),
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'StreamCluster',
        metadata: { name: NAME, namespace: NAMESPACE },
        spec: {
          image: 'streamcluster:test',
          servers: { replicas: 2, scaleIn: { drainTimeoutSeconds: 7, drainSpreadSeconds: 1 } },
          log: { mode: 'external', externalUrl: 'nats://nats.invalid:4222' },
          auth: { tokenSecretRef: { name: 'stream-auth' } },
        },
      },
    });
    const condition = await waitUntil('Degraded for the Secret', async () => {
      const current = await degraded();
      return current?.reason === 'AuthSecretNotFound' && current;
    });
    assert.equal(condition.status, 'True');
    assert.match(
      condition.message,
      /^Secret auth-test\/stream-auth of spec.auth.tokenSecretRef is not found\. /,
    );
    const stc = await getStc();
    assert.deepEqual(stc.spec.auth.tokenSecretRef, { name: 'stream-auth', key: 'token' });
    const warning = await findEvent('AuthSecretNotFound');
    assert.equal(warning.type, 'Warning');
  });

  it('holds the count without the Secret', async () => {
    await waitUntil('two ready pods', async () => {
      const pods = await clients.core.listNamespacedPod({ namespace: NAMESPACE });
      return pods.items.length === 2;
    });
    await clients.custom.patchNamespacedCustomObject(
      { ...custom, body: { spec: { servers: { replicas: 1 } } } },
      mergePatch(),
    );
    const blocked = await findEvent('ScaleInBlocked');
    assert.equal(blocked.type, 'Warning');
    assert.match(blocked.message ?? '', /^Not scaling in from 2 to 1 servers/);

    // Longer than the 7 s drain timeout: a drain would have been forced by now.
    await new Promise((resolve) => setTimeout(resolve, 8000));
    assert.equal(await statefulSetReplicas(), 2);
    assert.equal(servers[1]!.isDraining, false, 'no drain was started');
    const reasons = (await events()).map((event) => event.reason);
    assert.equal(reasons.includes('DrainingServers'), false);
    assert.equal(reasons.includes('ForcedScaleIn'), false);
  });

  it('drains with the token from the Secret', async () => {
    const client = new WebSocket(`ws://127.0.0.1:${ports.get(`${NAME}-server-1`)}`, SUBPROTOCOL, {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    client.on('error', () => {});
    await once(client, 'message');
    const closed = once(client, 'close');

    await clients.core.createNamespacedSecret({
      namespace: NAMESPACE,
      body: {
        metadata: { name: 'stream-auth' },
        data: { token: Buffer.from(TOKEN).toString('base64') },
      },
    });
    await findEvent('DrainingServers');
    const [code] = (await closed) as [number];
    assert.equal(code, 1012, 'the server shed its client on the operator request');
    await findEvent('DrainedServers');
    await waitUntil('one replica', async () => (await statefulSetReplicas()) === 1);

    const condition = await waitUntil('Degraded cleared', async () => {
      const current = await degraded();
      return current?.status === 'False' && current;
    });
    assert.equal(condition.reason, 'AsExpected');
    const rejections = serverLog.filter((line) => line.includes('rejected admin request'));
    assert.deepEqual(rejections, [], 'every admin request carried the token');
    for (const line of serverLog) assert.doesNotMatch(line, new RegExp(TOKEN), line);
  });
});

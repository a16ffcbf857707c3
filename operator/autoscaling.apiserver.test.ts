/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read back as untyped JSON */
// The autoscaler and graceful scale-in against a real etcd and kube-apiserver. No kubelet or
// StatefulSet controller runs, so the test plays both: it creates a pod for every StatefulSet
// replica, reports it ready from the server's real /readyz, and maps each pod to a real stream
// server on loopback. Clients closed with 1012 reconnect to the least loaded ready server, as the
// balancer would send them.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import type { DataPlane } from '../server/stream/data-plane.js';
import { SUBPROTOCOL } from '../server/stream/protocol.js';
import { StreamServer } from '../server/stream/server.js';
import { GROUP, VERSION } from './api/streamcluster.js';
import { OperatorMetrics } from './controller/metrics.js';
import { httpStatsFetcher, type StatsTarget } from './controller/stats.js';
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

const NAMESPACE = 'autoscale-test';
const unavailable = apiServerUnavailable();

/** Returns a data plane with no documents: enough for connections, `/stats` and readiness. */
function emptyDataPlane(): DataPlane {
  const unused = () => {
    throw new Error('the autoscaling test sends no document requests');
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

/** One client connection of the pool, with every close code it received. */
interface PoolClient {
  ws: WebSocket;
  server: number;
  closeCodes: number[];
  open: boolean;
}

describe('autoscaling on a real API server', { skip: unavailable }, () => {
  let api: TestApiServer;
  let clients: KubeClients;
  let operator: OperatorHandle;
  let kubelet: NodeJS.Timeout;
  let stubborn: Server;
  const servers: StreamServer[] = [];
  const ports = new Map<string, number>();
  const pool: PoolClient[] = [];
  /** Ready pod names, as the test's kubelet last saw them. */
  const readyPods = new Set<string>();
  /** Pods whose readiness the test's kubelet has reported at least once. */
  const reportedPods = new Set<string>();
  /** StatefulSet replica counts seen, with the connections of each server at that moment. */
  const replicaLog: { name: string; replicas: number; connections: number[] }[] = [];
  const stubbornRequests: string[] = [];
  let stubbornDraining = false;

  const custom = (name: string) => streamClusterRef(NAMESPACE, name);
  const getStc = async (name: string) =>
    (await clients.custom.getNamespacedCustomObject(custom(name))) as any;
  const statefulSetReplicas = async (name: string) => {
    try {
      const set = (await clients.objects.read({
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: `${name}-server`, namespace: NAMESPACE },
      })) as any;
      return set.spec.replicas as number;
    } catch (error) {
      if (httpStatusOf(error) === 404) return undefined;
      throw error;
    }
  };
  const events = async (name: string) =>
    (
      await clients.core.listNamespacedEvent({
        namespace: NAMESPACE,
        fieldSelector: `involvedObject.name=${name}`,
      })
    ).items;
  const findEvent = (name: string, reason: string, pattern?: RegExp) =>
    waitUntil(`event ${reason} on ${name}`, async () =>
      (await events(name)).find(
        (event) => event.reason === reason && (!pattern || pattern.test(event.message ?? '')),
      ),
    );
  const connectionsOf = (index: number) =>
    pool.filter((client) => client.open && client.server === index).length;
  const metricValue = async (name: string) => {
    const metric = await operator.metrics.registry.getSingleMetric(name)!.get();
    return metric.values.reduce((total, value) => total + value.value, 0);
  };

  /** Connects one client to server `index`; a 1012 close makes it reconnect elsewhere. */
  const connect = async (index: number): Promise<PoolClient> => {
    const ws = new WebSocket(`ws://127.0.0.1:${servers[index]!.address().port}`, SUBPROTOCOL);
    const client: PoolClient = { ws, server: index, closeCodes: [], open: false };
    ws.on('error', () => {});
    ws.on('close', (code) => {
      client.open = false;
      client.closeCodes.push(code);
      if (code === 1012) setTimeout(() => void reconnect(client), 20);
    });
    await once(ws, 'message');
    client.open = true;
    return client;
  };
  const reconnect = async (client: PoolClient): Promise<void> => {
    const candidates = [...readyPods]
      .filter((pod) => pod.startsWith('auto-server-'))
      .map((pod) => Number(pod.slice('auto-server-'.length)))
      .filter((index) => !servers[index]!.isDraining)
      .sort((a, b) => connectionsOf(a) - connectionsOf(b));
    let next: PoolClient;
    try {
      next = await connect(candidates[0] ?? 0);
    } catch {
      // The server began draining before this client's kubelet view caught up; try again.
      setTimeout(() => void reconnect(client), 50);
      return;
    }
    client.ws = next.ws;
    client.server = next.server;
    client.open = true;
    next.ws.removeAllListeners('close');
    next.ws.on('close', (code) => {
      client.open = false;
      client.closeCodes.push(code);
      if (code === 1012) setTimeout(() => void reconnect(client), 20);
    });
  };
  const openClients = async (counts: number[]) => {
    for (const [index, count] of counts.entries()) {
      for (let i = 0; i < count; i++) pool.push(await connect(index));
    }
  };

  /** Runs one round of the test's kubelet and StatefulSet controller for StreamCluster `name`. */
  const syncPods = async (name: string) => {
    const replicas = await statefulSetReplicas(name);
    if (replicas === undefined) return;
    const last = replicaLog.findLast((entry) => entry.name === name);
    if (last?.replicas !== replicas) {
      const connections = servers.map((_server, index) => connectionsOf(index));
      replicaLog.push({ name, replicas, connections });
    }
    const pods = await clients.core.listNamespacedPod({
      namespace: NAMESPACE,
      labelSelector: `app.kubernetes.io/instance=${name}`,
    });
    const existing = new Set(pods.items.map((pod) => pod.metadata!.name!));
    for (const pod of pods.items) {
      const ordinal = Number(pod.metadata!.name!.slice(`${name}-server-`.length));
      if (ordinal < replicas) continue;
      readyPods.delete(pod.metadata!.name!);
      reportedPods.delete(pod.metadata!.name!);
      await clients.core.deleteNamespacedPod({
        name: pod.metadata!.name!,
        namespace: NAMESPACE,
        gracePeriodSeconds: 0,
      });
    }
    for (let ordinal = 0; ordinal < replicas; ordinal++) {
      const podName = `${name}-server-${ordinal}`;
      if (!existing.has(podName)) await createPod(name, podName);
      await reportReadiness(podName);
    }
  };
  const createPod = async (name: string, podName: string) => {
    await clients.core.createNamespacedPod({
      namespace: NAMESPACE,
      body: {
        metadata: {
          name: podName,
          labels: {
            'app.kubernetes.io/name': 'streamcluster',
            'app.kubernetes.io/instance': name,
            'app.kubernetes.io/component': 'server',
          },
        },
        spec: { containers: [{ name: 'server', image: 'x' }] },
      },
    });
  };
  /** Sets the Ready condition from the server's /readyz, as a kubelet's readiness probe does. */
  const reportReadiness = async (podName: string) => {
    const port = ports.get(podName) ?? 1;
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready === readyPods.has(podName) && reportedPods.has(podName)) return;
    reportedPods.add(podName);
    if (ready) readyPods.add(podName);
    else readyPods.delete(podName);
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

  const createStc = async (name: string, servers: object) => {
    await clients.custom.createNamespacedCustomObject({
      ...custom(''),
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'StreamCluster',
        metadata: { name, namespace: NAMESPACE },
        spec: {
          image: 'streamcluster:test',
          servers,
          log: { mode: 'external', externalUrl: 'nats://nats.invalid:4222' },
        },
      },
    });
  };

  before(async () => {
    ({ api, clients } = await startTestEnvironment(NAMESPACE));

    for (let index = 0; index < 4; index++) {
      const server = new StreamServer({
        dataPlane: emptyDataPlane(),
        serverId: `auto-server-${index}`,
      });
      const { port } = await server.listen(0, '127.0.0.1');
      servers.push(server);
      ports.set(`auto-server-${index}`, port);
    }
    // A server whose clients never leave: it reports 4 connections whatever it is asked.
    stubborn = createServer((request, response) => {
      const path = (request.url ?? '').split('?')[0];
      stubbornRequests.push(`${request.method} ${path}`);
      if (path === '/draining') stubbornDraining = request.method === 'POST';
      if (path === '/readyz') response.statusCode = stubbornDraining ? 503 : 200;
      if (path === '/drain') response.statusCode = 202;
      response.end(
        path === '/stats'
          ? JSON.stringify({
              connections: 4,
              inflightIngests: 0,
              eventLoopUtilization: 0.01,
              draining: stubbornDraining,
              documents: 0,
              chunks: 0,
            })
          : JSON.stringify({ accepted: 0, draining: stubbornDraining }),
      );
    });
    await new Promise<void>((resolve) => stubborn.listen(0, '127.0.0.1', resolve));
    ports.set('manual-server-0', servers[0]!.address().port);
    ports.set('manual-server-1', (stubborn.address() as AddressInfo).port);

    // Every pod maps to a local server; a pod without one maps to a closed port.
    const serverAddress = async (target: StatsTarget) => ({
      ...target,
      ip: '127.0.0.1',
      port: ports.get(target.podName) ?? 1,
    });
    // The servers report the event-loop utilization of this process, which the API server
    // calls and the machine's load drive. A fixed low value leaves connections as the only
    // metric the autoscaler acts on.
    const readStats = httpStatsFetcher();
    const fetchStats = async (target: StatsTarget) => ({
      ...(await readStats(await serverAddress(target))),
      eventLoopUtilization: 0.01,
    });
    operator = await startOperator(
      { ...testOperatorConfig(), autoscaleIntervalSeconds: 1 },
      {
        clients,
        logger: testLogger('operator'),
        metrics: new OperatorMetrics(),
        serverAddress,
        fetchStats,
        controller: { progressMs: 300, drainStepMs: 200 },
      },
    );
    let syncing = false;
    kubelet = setInterval(() => {
      if (syncing) return;
      syncing = true;
      Promise.all(['auto', 'manual', 'blind'].map(syncPods))
        .catch(() => {})
        .finally(() => (syncing = false));
    }, 100);
  });

  after(async () => {
    clearInterval(kubelet);
    for (const client of pool) {
      client.ws.removeAllListeners('close');
      client.ws.terminate();
    }
    await operator?.stop();
    for (const server of servers) await server.close();
    await new Promise<void>((resolve) => (stubborn ? stubborn.close(() => resolve()) : resolve()));
    await api?.stop();
  });

  it('scales out when connections cross the target', async () => {
    await createStc('auto', {
      replicas: 2,
      autoscaling: {
        enabled: true,
        minReplicas: 2,
        maxReplicas: 4,
        targetConnectionsPerServer: 3,
        targetEventLoopUtilization: 1,
        behavior: { scaleDown: { stabilizationWindowSeconds: 2 } },
      },
      scaleIn: { drainTimeoutSeconds: 30, drainSpreadSeconds: 1 },
    });
    await waitUntil('two ready servers', () => readyPods.has('auto-server-1'));
    await openClients([5, 4]);

    const event = await findEvent('auto', 'ScaledUp');
    assert.equal(
      event.message,
      'Scaled from 2 to 3: connections 9 (4.5 per server) over target 3 per server.',
    );
    await waitUntil('three replicas', async () => (await statefulSetReplicas('auto')) === 3);
    const stc = await waitUntil('autoscaling status', async () => {
      const current = await getStc('auto');
      return current.status?.autoscaling?.desiredReplicas === 3 && current;
    });
    assert.equal(stc.spec.servers.replicas, 3);
    assert.match(stc.status.autoscaling.lastScaleReason, /^scaled from 2 to 3: connections 9/);
    assert.ok(stc.status.autoscaling.lastScaleTime);
  });

  it('moves connections onto the new server', async () => {
    await waitUntil('new server has clients', () => connectionsOf(2) >= 2, 30_000);
    assert.ok(connectionsOf(0) <= 4, `server 0 still has ${connectionsOf(0)} clients`);
    assert.equal(pool.filter((client) => client.open).length, 9, 'every moved client reconnected');
    const codes = pool.flatMap((client) => client.closeCodes);
    assert.ok(codes.length >= 2, 'the busiest servers shed connections');
    assert.ok(
      codes.every((code) => code === 1012),
      `close codes: ${codes.join(', ')}`,
    );
  });

  it('reports ScalingLimited at maxReplicas', async () => {
    await openClients([3, 3]);
    const stc = await waitUntil('ScalingLimited', async () => {
      const current = await getStc('auto');
      const condition = current.status?.conditions?.find((c: any) => c.type === 'ScalingLimited');
      return condition?.status === 'True' && current;
    });
    const condition = stc.status.conditions.find((c: any) => c.type === 'ScalingLimited');
    assert.equal(condition.reason, 'TooManyReplicas');
    assert.equal(condition.message, 'The metrics ask for 5 servers, but maxReplicas is 4.');
    await waitUntil('four replicas', async () => (await statefulSetReplicas('auto')) === 4);
  });

  it('drains servers before scaling in', async () => {
    await waitUntil('a client on the last server', () => connectionsOf(3) >= 1, 30_000);
    // Keep one client on the last server and two others: 3 connections ask for 1 server.
    const onLast = pool.find((client) => client.open && client.server === 3)!;
    const others = pool.filter((client) => client.open && client !== onLast).slice(0, 2);
    const open = [onLast, ...others];
    for (const client of pool) {
      if (open.includes(client)) continue;
      client.ws.removeAllListeners('close');
      client.open = false;
      client.ws.close();
    }

    await findEvent('auto', 'DrainingServers', /auto-server-2 and auto-server-3/);
    await findEvent('auto', 'DrainedServers');
    await waitUntil('two replicas', async () => (await statefulSetReplicas('auto')) === 2);

    const shrink = replicaLog.find((entry) => entry.name === 'auto' && entry.replicas === 2)!;
    assert.equal(shrink.connections[2], 0, 'server 2 had no clients when it was removed');
    assert.equal(shrink.connections[3], 0, 'server 3 had no clients when it was removed');
    for (const client of open) {
      assert.ok(client.open, 'a moved client reconnected');
      assert.ok(client.server < 2, `client on server ${client.server}`);
      assert.ok(client.closeCodes.every((code) => code === 1012));
    }
    assert.equal((await events('auto')).filter((e) => e.reason === 'ForcedScaleIn').length, 0);
  });

  it('clamps kubectl scale into the bounds', async () => {
    await clients.custom.patchNamespacedCustomObjectScale(
      { ...custom('auto'), body: { spec: { replicas: 10 } } },
      mergePatch(),
    );
    const event = await findEvent('auto', 'ScaledDown', /from 10 to 4/);
    assert.match(event.message ?? '', /the count 10 is above maxReplicas 4/);
    const largest = Math.max(
      ...replicaLog.filter((entry) => entry.name === 'auto').map((entry) => entry.replicas),
    );
    assert.ok(largest <= 4, `the StatefulSet reached ${largest} replicas`);
    // The count set by hand stands for one scale-down window, then the metrics win again.
    await waitUntil('back to two', async () => (await statefulSetReplicas('auto')) === 2, 60_000);
  });

  it('makes no writes while an autoscaled cluster idles', async () => {
    await waitUntil(
      'drain finished',
      async () => (await getStc('auto')).status?.autoscaling?.desiredReplicas === 2,
    );
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const before = (await getStc('auto')).metadata.resourceVersion;
    const writes = await metricValue('streamcluster_operator_status_writes_total');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.equal((await getStc('auto')).metadata.resourceVersion, before);
    assert.equal(await metricValue('streamcluster_operator_status_writes_total'), writes);
  });

  it('removes a server whose clients stay after the drain timeout', async () => {
    await createStc('manual', {
      replicas: 2,
      // Closes start 5 s after a server begins draining, so the timeout must be longer.
      scaleIn: { drainTimeoutSeconds: 7, drainSpreadSeconds: 1 },
    });
    await waitUntil('two manual pods', () => readyPods.has('manual-server-1'));
    await clients.custom.patchNamespacedCustomObject(
      { ...custom('manual'), body: { spec: { servers: { replicas: 1 } } } },
      mergePatch(),
    );
    await findEvent('manual', 'DrainingServers', /manual-server-1/);
    const started = Date.now();
    const forced = await findEvent('manual', 'ForcedScaleIn');
    assert.equal(forced.type, 'Warning');
    assert.match(forced.message ?? '', /manual-server-1 with 4 open connections/);
    await waitUntil('one replica', async () => (await statefulSetReplicas('manual')) === 1);
    assert.ok(Date.now() - started <= 10_000, 'removed soon after the timeout');
    assert.ok(stubbornRequests.includes('POST /draining'));
    assert.ok(stubbornRequests.includes('POST /drain'));
  });

  it('applies the fallback while no metrics can be read', async () => {
    await createStc('blind', {
      replicas: 1,
      autoscaling: {
        enabled: true,
        minReplicas: 1,
        maxReplicas: 3,
        targetEventLoopUtilization: 1,
        fallback: { failureThreshold: 2, replicas: 3 },
      },
    });
    const event = await findEvent('blind', 'ScaledUp');
    assert.match(event.message ?? '', /fallback of at least 3 servers applies/);
    await waitUntil('three replicas', async () => (await statefulSetReplicas('blind')) === 3);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.equal(await statefulSetReplicas('blind'), 3, 'missing metrics never scale in');
    const stc = await getStc('blind');
    assert.ok(stc.status.autoscaling.failedReadings >= 2);
    assert.equal(stc.status.autoscaling.currentMetrics.sampledServers, 0);
  });
});

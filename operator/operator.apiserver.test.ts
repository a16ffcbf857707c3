/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read back as untyped JSON */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { silentLogger } from '../server/core/logger.js';
import { GROUP, VERSION, type StreamCluster } from './api/streamcluster.js';
import { buildChildren } from './children/index.js';
import { LeaderElector } from './controller/leader.js';
import { OperatorMetrics } from './controller/metrics.js';
import { Reconciler } from './controller/reconciler.js';
import { EventRecorder } from './controller/events.js';
import { httpStatsFetcher } from './controller/stats.js';
import { httpStatusOf, type KubeClients } from './kube/client.js';
import { Informer } from './kube/informer.js';
import { startOperator, type OperatorHandle } from './main.js';
import { apiServerUnavailable, type TestApiServer } from './testing/apiserver.js';
import {
  mergePatch,
  startTestEnvironment,
  streamClusterRef,
  testLogger,
  testOperatorConfig,
} from './testing/environment.js';
import { withDefaults } from './testing/samples.js';
import { waitUntil } from './testing/wait.js';

const NAMESPACE = 'stc-test';
const unavailable = apiServerUnavailable();

function sample(name: string): StreamCluster {
  return parse(readFileSync(`crds/samples/${name}.yaml`, 'utf8')) as StreamCluster;
}

describe('operator on a real API server', { skip: unavailable }, () => {
  let api: TestApiServer;
  let clients: KubeClients;
  let operator: OperatorHandle;
  let statsServer: Server;
  let statsBody = {
    connections: 0,
    inflightIngests: 0,
    eventLoopUtilization: 0,
    workerUtilization: 0,
    draining: false,
    documents: 0,
    chunks: 0,
  };

  const custom = (name: string) => streamClusterRef(NAMESPACE, name);
  const getStc = async (name: string) =>
    (await clients.custom.getNamespacedCustomObject(custom(name))) as StreamCluster;
  const createStc = (body: StreamCluster) =>
    clients.custom.createNamespacedCustomObject({
      ...custom(''),
      body: { ...body, metadata: { ...body.metadata, namespace: NAMESPACE } },
    });
  const mergePatchStc = (name: string, body: object) =>
    clients.custom.patchNamespacedCustomObject({ ...custom(name), body }, mergePatch());
  const read = async (apiVersion: string, kind: string, name: string) => {
    try {
      return (await clients.objects.read({
        apiVersion,
        kind,
        metadata: { name, namespace: NAMESPACE },
      })) as any;
    } catch (error) {
      if (httpStatusOf(error) === 404) return undefined;
      throw error;
    }
  };
  const metricValue = async (name: string, labels: Record<string, string> = {}) => {
    const metric = await operator.metrics.registry.getSingleMetric(name)!.get();
    return metric.values
      .filter((value) => Object.entries(labels).every(([k, v]) => value.labels[k] === v))
      .reduce((total, value) => total + value.value, 0);
  };

  before(async () => {
    ({ api, clients } = await startTestEnvironment(NAMESPACE));

    statsServer = createServer((_request, response) => response.end(JSON.stringify(statsBody)));
    await new Promise<void>((resolve) => statsServer.listen(0, '127.0.0.1', resolve));
    const statsPort = (statsServer.address() as AddressInfo).port;
    const fetchStats = httpStatsFetcher();

    operator = await startOperator(testOperatorConfig(), {
      clients,
      logger: testLogger('operator'),
      metrics: new OperatorMetrics(),
      // Pods of this API server have no network, so a real local HTTP server serves their /stats.
      fetchStats: (target) => fetchStats({ ...target, port: statsPort }),
      controller: { progressMs: 300 },
    });
    await createStc(sample('demo'));
  });

  after(async () => {
    await operator?.stop();
    await new Promise<void>((resolve) =>
      statsServer ? statsServer.close(() => resolve()) : resolve(),
    );
    await api?.stop();
  });

  it('API server defaults match the schema defaults', async () => {
    const stored = await getStc('demo');
    assert.deepEqual(stored.spec, withDefaults(sample('demo')).spec);
  });

  it('creates every child with an owner reference', async () => {
    const stc = await getStc('demo');
    for (const child of buildChildren(withDefaults(stc, NAMESPACE))) {
      const object = await waitUntil(`${child.kind} ${child.metadata.name}`, () =>
        read(child.apiVersion, child.kind, child.metadata.name),
      );
      assert.equal(object.metadata.ownerReferences?.[0]?.uid, stc.metadata.uid);
      assert.equal(object.metadata.ownerReferences?.[0]?.controller, true);
    }
    const set = await read('apps/v1', 'StatefulSet', 'demo-server');
    const retention = set.spec.persistentVolumeClaimRetentionPolicy;
    assert.equal(retention.whenScaled, 'Retain');
    assert.equal(retention.whenDeleted, 'Retain');
    assert.equal(set.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '1Gi');
    assert.equal(set.spec.template.spec.containers[0].readinessProbe.httpGet.path, '/readyz');
  });

  it('writes status with observedGeneration and conditions', async () => {
    const stc = await waitUntil('status', async () => {
      const current = await getStc('demo');
      return current.status?.observedGeneration === current.metadata.generation && current;
    });
    const types = stc.status?.conditions?.map((c) => c.type).sort();
    assert.deepEqual(types, ['Degraded', 'Progressing', 'Ready']);
    const ready = stc.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.reason, 'ServersNotReady');
    assert.match(stc.status?.selector ?? '', /app.kubernetes.io\/instance=demo/);
  });

  it('records Events for created children', async () => {
    const events = await waitUntil('events', async () => {
      const list = await clients.core.listNamespacedEvent({
        namespace: NAMESPACE,
        fieldSelector: 'involvedObject.name=demo',
      });
      return list.items.length > 0 && list.items;
    });
    const reasons = new Set(events.map((event) => event.reason));
    assert.ok(reasons.has('CreatedChild'), `reasons: ${[...reasons].join(', ')}`);
  });

  it('accepts every sample', async () => {
    const output = await api.kubectl([
      'apply',
      '--dry-run=server',
      '-n',
      NAMESPACE,
      '-f',
      'crds/samples/',
    ]);
    assert.match(
      output,
      /streamcluster.streamcluster.io\/demo (created|configured) \(server dry run\)/,
    );
    assert.match(output, /streamcluster.streamcluster.io\/production created \(server dry run\)/);
    assert.match(output, /streamcluster.streamcluster.io\/external created \(server dry run\)/);
  });

  it('rejects invalid specs naming the field', async () => {
    const cases: [object, RegExp][] = [
      [
        { servers: { autoscaling: { minReplicas: 5, maxReplicas: 2 } } },
        /spec\.servers\.autoscaling\.minReplicas.*minReplicas must be at most maxReplicas/,
      ],
      [
        { generator: { type: 'openai', openai: { baseUrl: 'http://llm:8000/v1', model: 'm' } } },
        /spec\.generator\.openai\.apiKeySecretRef.*required when generator.type is openai/,
      ],
      [{ log: { mode: 'external' } }, /spec\.log\.externalUrl.*required when log.mode is external/],
      [{ log: { managed: { replicas: 2 } } }, /spec\.log\.managed\.replicas.*must be odd/],
      [
        { balancer: { algorithm: 'random' } },
        /spec\.balancer\.algorithm.*Unsupported value: "random"/,
      ],
      [{ servers: { replicas: -1 } }, /spec\.servers\.replicas/],
    ];
    for (const [spec, expected] of cases) {
      const body = {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'StreamCluster',
        metadata: { name: 'invalid' },
        spec: { image: 'x', ...spec },
      };
      await assert.rejects(createStc(body as StreamCluster), (error: any) => {
        assert.equal(httpStatusOf(error), 422, JSON.stringify(spec));
        assert.match(JSON.parse(error.body).message, expected);
        return true;
      });
    }
  });

  it('rejects names children cannot carry', async () => {
    const cases: [string, RegExp][] = [
      ['docs.prod', /metadata\.name must be at most 40 lowercase letters.*'docs-prod'/],
      ['a'.repeat(41), /metadata\.name must be at most 40/],
    ];
    for (const [name, expected] of cases) {
      const body = {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'StreamCluster',
        metadata: { name },
        spec: { image: 'x' },
      };
      await assert.rejects(createStc(body as StreamCluster), (error: any) => {
        assert.equal(httpStatusOf(error), 422, name);
        assert.match(JSON.parse(error.body).message, expected);
        return true;
      });
    }
  });

  it('rejects a storage size change', async () => {
    await assert.rejects(
      mergePatchStc('demo', { spec: { servers: { storage: { size: '5Gi' } } } }),
      (error: any) => {
        assert.match(JSON.parse(error.body).message, /storage.size cannot change after creation/);
        return true;
      },
    );
  });

  it('scale subresource changes the StatefulSet', async () => {
    await clients.custom.patchNamespacedCustomObjectScale(
      { ...custom('demo'), body: { spec: { replicas: 4 } } },
      mergePatch(),
    );
    const set = await waitUntil('4 replicas', async () => {
      const current = await read('apps/v1', 'StatefulSet', 'demo-server');
      return current?.spec.replicas === 4 && current;
    });
    assert.equal(set.spec.replicas, 4);
    const scale = (await clients.custom.getNamespacedCustomObjectScale(custom('demo'))) as any;
    assert.match(scale.status.selector, /app.kubernetes.io\/component=server/);
  });

  it('rolls out a spec change', async () => {
    await mergePatchStc('demo', { spec: { image: 'streamcluster:0.2.0' } });
    await waitUntil('server image', async () => {
      const set = await read('apps/v1', 'StatefulSet', 'demo-server');
      return set?.spec.template.spec.containers[0].image === 'streamcluster:0.2.0';
    });
    await waitUntil('balancer image', async () => {
      const deployment = await read('apps/v1', 'Deployment', 'demo-balancer');
      return deployment?.spec.template.spec.containers[0].image === 'streamcluster:0.2.0';
    });
  });

  it('reverts a manual edit of a child', async () => {
    const set = await read('apps/v1', 'StatefulSet', 'demo-server');
    const desired = set.spec.replicas;
    await clients.objects.patch(
      {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'demo-server', namespace: NAMESPACE },
        spec: { replicas: 9 },
      } as KubernetesObject,
      undefined,
      undefined,
      'kubectl-edit',
      undefined,
      PatchStrategy.MergePatch,
    );
    await waitUntil('replicas reverted', async () => {
      const current = await read('apps/v1', 'StatefulSet', 'demo-server');
      return current?.spec.replicas === desired;
    });
  });

  it('fills connections from server stats', async () => {
    statsBody = {
      connections: 7,
      inflightIngests: 0,
      eventLoopUtilization: 0.1,
      workerUtilization: 0,
      draining: false,
      documents: 2,
      chunks: 30,
    };
    const labels = Object.fromEntries(
      (await getStc('demo')).status!.selector!.split(',').map((pair) => pair.split('=')),
    );
    await clients.core.createNamespacedPod({
      namespace: NAMESPACE,
      body: {
        metadata: { name: 'demo-server-0', labels },
        spec: { containers: [{ name: 'server', image: 'x' }] },
      },
    });
    // No kubelet runs here, so the test reports the pod ready the way a kubelet would.
    await clients.core.patchNamespacedPodStatus(
      {
        name: 'demo-server-0',
        namespace: NAMESPACE,
        body: { status: { podIP: '127.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] } },
      },
      mergePatch(),
    );
    const stc = await waitUntil('connections', async () => {
      const current = await getStc('demo');
      return current.status?.connections === 7 && current;
    });
    assert.equal(stc.status?.documents, 2);
    assert.equal(stc.status?.chunks, 30);
  });

  it('makes no writes while nothing changes', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const versions = async () => {
      const stc = await getStc('demo');
      const children = await Promise.all(
        buildChildren(withDefaults(stc, NAMESPACE)).map((c) =>
          read(c.apiVersion, c.kind, c.metadata.name),
        ),
      );
      return [stc.metadata.resourceVersion, ...children.map((c) => c?.metadata.resourceVersion)];
    };
    const before = await versions();
    const writesBefore = await metricValue('streamcluster_operator_status_writes_total');
    const reconcilesBefore = await metricValue('streamcluster_operator_reconciles_total');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.deepEqual(await versions(), before);
    assert.equal(await metricValue('streamcluster_operator_status_writes_total'), writesBefore);
    const reconciles =
      (await metricValue('streamcluster_operator_reconciles_total')) - reconcilesBefore;
    assert.ok(reconciles >= 3, `only ${reconciles} reconciles ran while idle`);
  });

  it('retries a status conflict from a fresh read', async () => {
    const stale = await getStc('demo');
    await mergePatchStc('demo', { metadata: { labels: { touched: 'yes' } } });
    const metrics = new OperatorMetrics();
    const reconciler = new Reconciler({
      clients,
      streamClusters: { get: () => ({ ...stale, status: undefined }) as any, list: () => [] },
      children: operator.controller!.children,
      events: new EventRecorder({ core: clients.core, logger: silentLogger, instance: 'test' }),
      metrics,
      logger: silentLogger,
      fetchStats: async () => statsBody,
      ownWrites: new Set(),
    });
    await reconciler.reconcile(`${NAMESPACE}/demo`);
    const conflicts = await metrics.registry
      .getSingleMetric('streamcluster_operator_status_conflicts_total')!
      .get();
    assert.equal(conflicts.values[0]?.value, 1);
    assert.equal((await getStc('demo')).status?.connections, 7);
  });

  it('relists exactly once after 410 Gone', async () => {
    const informer = operator.controller!.streamClusters;
    const relists = informer.relistCount;
    const gone = await metricValue('streamcluster_operator_watch_restarts_total', {
      reason: 'gone',
    });
    informer.resumeFrom('1');
    await waitUntil('relist', () => informer.relistCount === relists + 1);
    await mergePatchStc('demo', { metadata: { labels: { after: 'relist' } } });
    await waitUntil(
      'watch resumed',
      () => informer.get(NAMESPACE, 'demo')?.metadata.labels?.after === 'relist',
    );
    assert.equal(informer.relistCount, relists + 1);
    assert.equal(
      await metricValue('streamcluster_operator_watch_restarts_total', { reason: 'gone' }),
      gone + 1,
    );
  });

  it('restarts a silent watch', async () => {
    const metrics = new OperatorMetrics();
    const seen: string[] = [];
    const informer = new Informer({
      clients,
      type: { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps' },
      namespace: NAMESPACE,
      labelSelector: 'silence=test',
      onChange: (_change, object) => seen.push(object.metadata.name),
      logger: silentLogger,
      metrics,
      silenceTimeoutMs: 800,
    });
    await informer.start();
    try {
      await waitUntil('silent restart', async () => {
        const restarts = await metrics.registry
          .getSingleMetric('streamcluster_operator_watch_restarts_total')!
          .get();
        return restarts.values.some((value) => value.labels.reason === 'silent');
      });
      await clients.core.createNamespacedConfigMap({
        namespace: NAMESPACE,
        body: { metadata: { name: 'quiet', labels: { silence: 'test' } } },
      });
      await waitUntil('event after restart', () => seen.includes('quiet'));
    } finally {
      informer.stop();
    }
  });

  it('deletes NATS children when the log becomes external', async () => {
    await mergePatchStc('demo', {
      spec: { log: { mode: 'external', externalUrl: 'nats://nats.infra:4222' } },
    });
    for (const [apiVersion, kind, name] of [
      ['apps/v1', 'StatefulSet', 'demo-log'],
      ['v1', 'Service', 'demo-log'],
      ['v1', 'Service', 'demo-log-headless'],
      ['policy/v1', 'PodDisruptionBudget', 'demo-log'],
    ] as const) {
      await waitUntil(
        `${kind} ${name} deleted`,
        async () => (await read(apiVersion, kind, name)) === undefined,
      );
    }
    const set = await read('apps/v1', 'StatefulSet', 'demo-server');
    const env = set.spec.template.spec.containers[0].env;
    assert.equal(
      env.find((e: any) => e.name === 'STREAMCLUSTER_NATS_URL').value,
      'nats://nats.infra:4222',
    );
  });

  it('serves metrics', async () => {
    const response = await fetch(`http://127.0.0.1:${operator.metricsPort}/metrics`);
    const text = await response.text();
    assert.match(text, /streamcluster_operator_reconciles_total\{result="requeue"\} \d+/);
    assert.match(text, /streamcluster_operator_queue_depth/);
    assert.match(text, /streamcluster_operator_watch_restarts_total/);
    assert.match(text, /streamcluster_operator_reconcile_duration_seconds_bucket/);
  });

  it('hands the Lease over between replicas', async () => {
    const elector = (identity: string) =>
      new LeaderElector({
        coordination: clients.coordination,
        namespace: NAMESPACE,
        identity,
        leaseDurationSeconds: 2,
        retryPeriodMs: 100,
        logger: testLogger('operator'),
        metrics: new OperatorMetrics(),
      });
    const first = elector('first');
    const second = elector('second');
    const stopFirst = new AbortController();
    let firstLeads = false;
    const running = first.run(
      stopFirst.signal,
      () => (firstLeads = true),
      () => (firstLeads = false),
    );
    await waitUntil('first leads', () => firstLeads);
    assert.equal(await second.tryAcquireOrRenew(), false);
    stopFirst.abort();
    await running;
    assert.equal(await second.tryAcquireOrRenew(), true);
    const lease = await clients.coordination.readNamespacedLease({
      name: 'streamcluster-operator',
      namespace: NAMESPACE,
    });
    assert.equal(lease.spec?.holderIdentity, 'second');
    assert.equal(lease.spec?.leaseTransitions, 1);
  });
});

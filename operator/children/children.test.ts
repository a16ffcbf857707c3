/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are read as untyped JSON */
import {
  defaultBalancerConfig,
  mergeConfig,
  validateConfig,
} from '../../server/balancer/balancer-config.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildChildren, type KubeObject } from './index.js';
import { BALANCER_CONFIG_FILE } from './balancer-config.js';
import { serverSelector } from './names.js';
import { loadSample } from '../testing/samples.js';
import type { StreamCluster } from '../api/streamcluster.js';

function find(objects: KubeObject[], kind: string, name: string): Record<string, any> {
  const object = objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(object, `${kind} ${name} not built`);
  return object;
}

function serverContainer(objects: KubeObject[], name = 'demo') {
  return find(objects, 'StatefulSet', `${name}-server`).spec.template.spec.containers[0];
}

function envOf(container: { env: { name: string; value?: string; valueFrom?: unknown }[] }) {
  return new Map(container.env.map((variable) => [variable.name, variable]));
}

describe('buildChildren', () => {
  it('builds every child of the minimal sample', () => {
    const kinds = buildChildren(loadSample('demo')).map((o) => `${o.kind}/${o.metadata.name}`);
    assert.deepEqual(kinds.sort(), [
      'ConfigMap/demo-balancer-config',
      'Deployment/demo-balancer',
      'PodDisruptionBudget/demo-balancer',
      'PodDisruptionBudget/demo-log',
      'PodDisruptionBudget/demo-server',
      'Role/demo-balancer',
      'RoleBinding/demo-balancer',
      'Service/demo-balancer',
      'Service/demo-log',
      'Service/demo-log-headless',
      'Service/demo-server',
      'Service/demo-server-headless',
      'ServiceAccount/demo-balancer',
      'StatefulSet/demo-log',
      'StatefulSet/demo-server',
    ]);
  });

  it('sets owner, namespace and labels on every child', () => {
    const stc = loadSample('demo', 'team-a');
    for (const object of buildChildren(stc)) {
      const where = `${object.kind} ${object.metadata.name}`;
      assert.equal(object.metadata.namespace, 'team-a', where);
      assert.deepEqual(object.metadata.ownerReferences, [
        {
          apiVersion: 'streamcluster.io/v1alpha1',
          kind: 'StreamCluster',
          name: 'demo',
          uid: 'uid-demo',
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      assert.equal(object.metadata.labels?.['app.kubernetes.io/instance'], 'demo', where);
      assert.equal(
        object.metadata.labels?.['app.kubernetes.io/managed-by'],
        'streamcluster-operator',
        where,
      );
    }
  });

  it('is deterministic', () => {
    const stc = loadSample('production');
    assert.deepEqual(buildChildren(stc), buildChildren(stc));
  });

  it('server StatefulSet follows the spec', () => {
    const stc = loadSample('production');
    const set = find(buildChildren(stc), 'StatefulSet', 'production-server');
    assert.equal(set.spec.replicas, 3);
    assert.equal(set.spec.serviceName, 'production-server-headless');
    assert.deepEqual(set.spec.persistentVolumeClaimRetentionPolicy, {
      whenScaled: 'Retain',
      whenDeleted: 'Delete',
    });
    const claim = set.spec.volumeClaimTemplates[0];
    assert.equal(claim.metadata.name, 'index');
    assert.equal(claim.spec.resources.requests.storage, '10Gi');
    const container = set.spec.template.spec.containers[0];
    assert.equal(container.command, undefined, 'the image entry point must run');
    assert.deepEqual(container.args, ['server']);
    assert.equal(container.image, 'streamcluster:0.1.0');
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    assert.equal(container.livenessProbe.httpGet.path, '/healthz');
    assert.deepEqual(container.resources, {
      requests: { cpu: '500m', memory: '1Gi' },
      limits: { memory: '2Gi' },
    });
    assert.deepEqual(container.volumeMounts, [
      { name: 'index', mountPath: '/var/lib/streamcluster' },
    ]);
  });

  it('server pods match the status selector', () => {
    const stc = loadSample('demo');
    const labels = find(buildChildren(stc), 'StatefulSet', 'demo-server').spec.template.metadata
      .labels as Record<string, string>;
    for (const requirement of serverSelector(stc).split(',')) {
      const [key, value] = requirement.split('=');
      assert.equal(labels[key!], value, requirement);
    }
  });

  it('managed log gives servers the NATS Service URL', () => {
    const env = envOf(serverContainer(buildChildren(loadSample('demo', 'ns1'))));
    assert.equal(env.get('STREAMCLUSTER_NATS_URL')?.value, 'nats://demo-log.ns1.svc:4222');
    assert.equal(env.get('STREAMCLUSTER_NATS_STREAM')?.value, 'demo');
    assert.equal(env.get('STREAMCLUSTER_ANSWER_GENERATOR')?.value, 'extractive');
  });

  it('external log builds no NATS objects', () => {
    const objects = buildChildren(loadSample('external'));
    assert.equal(objects.filter((o) => o.metadata.name.startsWith('external-log')).length, 0);
    const env = envOf(serverContainer(objects, 'external'));
    assert.equal(env.get('STREAMCLUSTER_NATS_URL')?.value, 'nats://nats.infra.svc:4222');
    assert.equal(env.get('STREAMCLUSTER_NATS_STREAM')?.value, 'documents');
  });

  it('openai generator reads its key from the Secret', () => {
    const env = envOf(serverContainer(buildChildren(loadSample('external')), 'external'));
    assert.equal(env.get('STREAMCLUSTER_ANSWER_GENERATOR')?.value, 'openai');
    assert.equal(env.get('STREAMCLUSTER_OPENAI_BASE_URL')?.value, 'https://api.openai.com/v1');
    assert.equal(env.get('STREAMCLUSTER_OPENAI_MODEL')?.value, 'gpt-4o-mini');
    assert.deepEqual(env.get('STREAMCLUSTER_OPENAI_API_KEY')?.valueFrom, {
      secretKeyRef: { name: 'openai', key: 'apiKey' },
    });
  });

  it('auth token reaches servers and balancer', () => {
    const stc: StreamCluster = loadSample('demo');
    stc.spec.auth = { tokenSecretRef: { name: 'stream-auth', key: 'token' } };
    const objects = buildChildren(stc);
    const fromSecret = { secretKeyRef: { name: 'stream-auth', key: 'token' } };
    const serverEnv = envOf(serverContainer(objects));
    assert.deepEqual(serverEnv.get('STREAMCLUSTER_AUTH_TOKEN')?.valueFrom, fromSecret);
    assert.equal(serverEnv.get('STREAMCLUSTER_AUTH_TOKEN')?.value, undefined);
    const balancer = find(objects, 'Deployment', 'demo-balancer').spec.template.spec.containers[0];
    const balancerEnv = envOf(balancer);
    assert.deepEqual(balancerEnv.get('STREAMCLUSTER_BALANCER_SERVER_TOKEN')?.valueFrom, fromSecret);
    // The operator's balancer serves no web page, and a web token without one stops it.
    assert.equal(balancerEnv.has('STREAMCLUSTER_BALANCER_WEB_TOKEN'), false);
    assert.equal(objects.filter((object) => object.kind === 'Secret').length, 0);
  });

  it('no auth sets no token variables', () => {
    const objects = buildChildren(loadSample('demo'));
    assert.equal(envOf(serverContainer(objects)).has('STREAMCLUSTER_AUTH_TOKEN'), false);
    const balancer = find(objects, 'Deployment', 'demo-balancer').spec.template.spec.containers[0];
    assert.equal(envOf(balancer).has('STREAMCLUSTER_BALANCER_SERVER_TOKEN'), false);
  });

  it('model volume is mounted read-only', () => {
    const stc: StreamCluster = loadSample('demo');
    stc.spec.embedding = { volume: { claimName: 'models', path: 'minilm' } };
    const set = find(buildChildren(stc), 'StatefulSet', 'demo-server');
    assert.deepEqual(set.spec.template.spec.volumes, [
      { name: 'model', persistentVolumeClaim: { claimName: 'models', readOnly: true } },
    ]);
    const env = envOf(set.spec.template.spec.containers[0]);
    assert.equal(env.get('STREAMCLUSTER_MODEL')?.value, '/models/minilm');
  });

  it('hub model id is passed to servers', () => {
    const env = envOf(serverContainer(buildChildren(loadSample('production')), 'production'));
    assert.equal(env.get('STREAMCLUSTER_MODEL')?.value, 'Xenova/all-MiniLM-L6-v2');
  });

  it('balancer ConfigMap carries routing and breaker settings', () => {
    const objects = buildChildren(loadSample('production'));
    const map = find(objects, 'ConfigMap', 'production-balancer-config');
    const config = JSON.parse(map.data[BALANCER_CONFIG_FILE]);
    assert.equal(config.algorithm, 'least-connections');
    assert.deepEqual(config.circuitBreaker, { maxConnections: 2000, maxPendingUpgrades: 200 });
    assert.equal(config.outlierDetection.maxEjectionPercent, 34);
    assert.equal(config.slowStart.windowMs, 60_000);
    assert.equal(config.drain.timeoutMs, 120_000);
    assert.equal(config.kubernetes.service, 'production-server');
    // The balancer itself must accept the file the operator writes.
    for (const sample of ['demo', 'production', 'external']) {
      const written = find(
        buildChildren(loadSample(sample)),
        'ConfigMap',
        `${loadSample(sample).metadata.name}-balancer-config`,
      );
      assert.doesNotThrow(() =>
        validateConfig(
          mergeConfig(defaultBalancerConfig, JSON.parse(written.data[BALANCER_CONFIG_FILE])),
        ),
      );
    }
    const pod = find(objects, 'Deployment', 'production-balancer').spec.template.spec;
    assert.equal(pod.terminationGracePeriodSeconds, 130);
    assert.equal(pod.serviceAccountName, 'production-balancer');
    assert.deepEqual(pod.containers[0].resources, { requests: { cpu: '250m', memory: '256Mi' } });
  });

  it('per-ordinal weights and priorities reach the balancer by pod name', () => {
    const demo = loadSample('demo');
    const mapOf = (stc: StreamCluster) =>
      JSON.parse(
        find(buildChildren(stc), 'ConfigMap', 'demo-balancer-config').data[BALANCER_CONFIG_FILE],
      );
    assert.equal(mapOf(demo).kubernetes.endpointOverrides, undefined);

    const endpoints = [
      { ordinal: 0, weight: 300, priority: 0 },
      { ordinal: 3, weight: 100, priority: 1 },
    ];
    const weighted = {
      ...demo,
      spec: { ...demo.spec, balancer: { ...demo.spec.balancer, endpoints } },
    };
    const config = mapOf(weighted);
    assert.deepEqual(config.kubernetes.endpointOverrides, [
      { pod: 'demo-server-0', weight: 3, priority: 0 },
      { pod: 'demo-server-3', weight: 1, priority: 1 },
    ]);
    assert.doesNotThrow(() => validateConfig(mergeConfig(defaultBalancerConfig, config)));
  });

  it('balancer Role only reads EndpointSlices', () => {
    const role = find(buildChildren(loadSample('demo')), 'Role', 'demo-balancer');
    assert.deepEqual(role.rules, [
      {
        apiGroups: ['discovery.k8s.io'],
        resources: ['endpointslices'],
        verbs: ['get', 'list', 'watch'],
      },
    ]);
  });

  it('three NATS servers route to each other', () => {
    const set = find(
      buildChildren(loadSample('production', 'ns1')),
      'StatefulSet',
      'production-log',
    );
    const args: string[] = set.spec.template.spec.containers[0].args;
    assert.ok(args.includes('--jetstream'));
    assert.ok(args.includes('--cluster_name=production-log'));
    const routes = args.find((arg) => arg.startsWith('--routes='));
    assert.equal(routes?.split(',').length, 3);
    assert.match(routes ?? '', /production-log-2\.production-log-headless\.ns1\.svc:6222/);
  });

  it('budgets allow one disruption per component', () => {
    const budget = find(buildChildren(loadSample('demo')), 'PodDisruptionBudget', 'demo-server');
    assert.equal(budget.spec.maxUnavailable, 1);
    assert.equal(budget.spec.selector.matchLabels['app.kubernetes.io/component'], 'server');
  });
});

/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read back as untyped JSON */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { resolveConfig } from '../../server/core/config.js';
import { silentLogger } from '../../server/core/logger.js';
import { GROUP, PLURAL, VERSION } from '../../operator/api/streamcluster.js';
import { OperatorMetrics } from '../../operator/controller/metrics.js';
import { createKubeClients, httpStatusOf, type KubeClients } from '../../operator/kube/client.js';
import { startOperator, type OperatorHandle } from '../../operator/main.js';
import { operatorSettings } from '../../operator/settings.js';
import {
  apiServerUnavailable,
  startTestApiServer,
  type TestApiServer,
} from '../../operator/testing/apiserver.js';
import { waitUntil } from '../../operator/testing/wait.js';
import { INSTALL_YAML_PATH } from '../../cdk8s/generate.js';
import { helmUnavailable, renderChart } from './helm.js';
import { MONITORING_PLURALS, monitoringCrdPaths, monitoringCrdsUnavailable } from './prometheus.js';

const OPERATOR_NAMESPACE = 'streamcluster-system';
const ACCOUNT = `system:serviceaccount:${OPERATOR_NAMESPACE}:streamcluster-operator`;
const APPS = 'apps';

/**
 * API version of the Prometheus Operator's kinds. Their CRDs are installed only when
 * scripts/setup/60-prometheus-operator-crds.sh has cached them, so the chart cases leave them out.
 */
const MONITORING_GROUP = 'monitoring.coreos.com/v1';

/** Chart values that turn on every monitoring object. */
const MONITORING_VALUES = [
  'monitoring.serviceMonitor.enabled=true',
  'monitoring.podMonitor.enabled=true',
  'monitoring.prometheusRule.enabled=true',
  'monitoring.dashboard.enabled=true',
];

describe('installation on a real API server', { skip: apiServerUnavailable() }, () => {
  let api: TestApiServer;
  let admin: KubeClients;
  let dir: string;

  const dryRun = async (objects: object[] | string) => {
    const file = join(dir, `manifest-${Math.random().toString(36).slice(2)}.yaml`);
    const text =
      typeof objects === 'string' ? objects : objects.map((o) => stringify(o)).join('---\n');
    writeFileSync(file, text);
    return api.kubectl(['apply', '--dry-run=server', '-f', file]);
  };

  before(async () => {
    api = await startTestApiServer();
    admin = createKubeClients(api.kubeConfig);
    dir = mkdtempSync(join(tmpdir(), 'streamcluster-install-'));
    // A real apply validates install.yaml more strictly than a dry run: every object is stored.
    await api.kubectl(['apply', '--server-side', '-f', INSTALL_YAML_PATH]);
    await api.kubectl(['wait', '--for=condition=Established', `crd/${PLURAL}.${GROUP}`]);
    for (const name of [APPS, 'team-a']) {
      await admin.core.createNamespace({ body: { metadata: { name } } });
    }
    if (!monitoringCrdsUnavailable()) {
      for (const path of monitoringCrdPaths()) {
        await api.kubectl(['apply', '--server-side', '-f', path]);
      }
      const crds = MONITORING_PLURALS.map((plural) => `crd/${plural}.monitoring.coreos.com`);
      await api.kubectl(['wait', '--for=condition=Established', ...crds]);
    }
  });

  after(async () => {
    await api?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('stores every install.yaml object', async () => {
    const output = await api.kubectl(['get', '-f', INSTALL_YAML_PATH, '-o', 'name']);
    assert.match(output, /customresourcedefinition.apiextensions.k8s.io\/streamclusters/);
    assert.match(output, /deployment.apps\/streamcluster-operator/);
    assert.match(output, /clusterrole.rbac.authorization.k8s.io\/streamcluster-operator/);
  });

  it('accepts every sample', async () => {
    const output = await api.kubectl([
      'apply',
      '--dry-run=server',
      '-n',
      APPS,
      '-f',
      'crds/samples/',
    ]);
    for (const name of ['demo', 'production', 'external']) {
      assert.match(
        output,
        new RegExp(`streamcluster.streamcluster.io/${name} created \\(server dry run\\)`),
      );
    }
  });

  const chartCases: [string, string[]][] = [
    ['defaults', []],
    ['watch namespace', ['watchNamespace=team-a', 'extraLabels.team=search']],
    ['metrics off', ['metrics.enabled=false']],
    ['monitoring', MONITORING_VALUES],
  ];
  for (const [name, values] of chartCases) {
    it(`accepts the chart with ${name}`, { skip: helmUnavailable() }, async () => {
      const objects = (await renderChart(values)) as any[];
      const core = objects.filter((object) => object.apiVersion !== MONITORING_GROUP);
      const output = await dryRun(core);
      const lines = output.trim().split('\n');
      assert.equal(lines.length, core.length, output);
      for (const line of lines) assert.match(line, /\(server dry run\)$/);
    });
  }

  describe('Prometheus Operator objects', { skip: monitoringCrdsUnavailable() }, () => {
    const monitoringCases: [string, string[]][] = [
      ['every namespace', MONITORING_VALUES],
      [
        'one namespace',
        [
          ...MONITORING_VALUES,
          'watchNamespace=team-a',
          'monitoring.podMonitor.interval=15s',
          'monitoring.podMonitor.labels.release=prometheus',
          'monitoring.prometheusRule.labels.release=prometheus',
        ],
      ],
    ];
    const renderMonitoring = async (values: string[]) => {
      const objects = (await renderChart(values)) as any[];
      return objects.filter((object) => object.apiVersion === MONITORING_GROUP);
    };

    for (const [name, values] of monitoringCases) {
      it(`accepts monitoring objects for ${name}`, { skip: helmUnavailable() }, async () => {
        const objects = await renderMonitoring(values);
        const kinds = objects.map((object) => object.kind).sort();
        assert.deepEqual(kinds, ['PodMonitor', 'PodMonitor', 'PrometheusRule', 'ServiceMonitor']);
        const output = await dryRun(objects);
        const lines = output.trim().split('\n');
        assert.equal(lines.length, objects.length, output);
        for (const line of lines) assert.match(line, /created \(server dry run\)$/);
      });
    }

    // Each case breaks one rendered object, so its rejection shows that the CRD's schema applies.
    const invalidCases: [string, string, (object: any) => void, RegExp][] = [
      [
        'a PodMonitor interval',
        'PodMonitor',
        (object) => (object.spec.podMetricsEndpoints[0].interval = '30 seconds'),
        /spec\.podMetricsEndpoints\[0\]\.interval/,
      ],
      [
        'a misspelt PodMonitor field',
        'PodMonitor',
        (object) => (object.spec.podMetricEndpoints = object.spec.podMetricsEndpoints),
        /unknown field "spec\.podMetricEndpoints"/,
      ],
      [
        'a PrometheusRule duration',
        'PrometheusRule',
        (object) => (object.spec.groups[0].rules[0].for = '10 minutes'),
        /spec\.groups\[0\]\.rules\[0\]\.for/,
      ],
    ];
    for (const [name, kind, breakObject, expected] of invalidCases) {
      it(`rejects ${name}`, { skip: helmUnavailable() }, async () => {
        const object = (await renderMonitoring(MONITORING_VALUES)).find((o) => o.kind === kind);
        breakObject(object);
        await assert.rejects(dryRun([object]), expected);
      });
    }
  });

  it('denies what the operator does not need', async () => {
    const cases: [string[], string][] = [
      // Only the Secret a StreamCluster names, read by name for its server token.
      [['get', 'secrets', '-n', APPS], 'yes'],
      [['list', 'secrets', '-A'], 'no'],
      [['watch', 'secrets', '-n', APPS], 'no'],
      [['update', 'streamclusters', '-n', APPS], 'no'],
      [['delete', 'streamclusters', '-n', APPS], 'no'],
      [['update', 'leases/other', '-n', OPERATOR_NAMESPACE], 'no'],
      [['create', 'pods', '-n', APPS], 'no'],
      [['patch', 'statefulsets', '-n', APPS], 'yes'],
      [['patch', 'streamclusters', '-n', APPS], 'yes'],
      [['update', 'streamclusters', '--subresource=status', '-n', APPS], 'yes'],
    ];
    for (const [args, expected] of cases) {
      const answer = await api
        .kubectl(['auth', 'can-i', ...args, `--as=${ACCOUNT}`])
        .catch((error: { stdout?: string }) => error.stdout ?? '');
      assert.equal(answer.trim(), expected, args.join(' '));
    }
  });

  describe('operator under its service account', () => {
    let operator: OperatorHandle;
    let metrics: OperatorMetrics;

    const stcPath = { group: GROUP, version: VERSION, namespace: APPS, plural: PLURAL };
    const read = async (apiVersion: string, kind: string, name: string) => {
      try {
        return (await admin.objects.read({
          apiVersion,
          kind,
          metadata: { name, namespace: APPS },
        })) as any;
      } catch (error) {
        if (httpStatusOf(error) === 404) return undefined;
        throw error;
      }
    };
    const count = async (name: string, labels: Record<string, string>) => {
      const metric = await metrics.registry.getSingleMetric(name)!.get();
      return metric.values
        .filter((value) => Object.entries(labels).every(([k, v]) => value.labels[k] === v))
        .reduce((total, value) => total + value.value, 0);
    };

    before(async () => {
      const token = await api.kubectl([
        'create',
        'token',
        'streamcluster-operator',
        '-n',
        OPERATOR_NAMESPACE,
      ]);
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromOptions({
        clusters: [{ name: 'test', server: api.url, skipTLSVerify: true }],
        users: [{ name: 'operator', token: token.trim() }],
        contexts: [{ name: 'test', cluster: 'test', user: 'operator' }],
        currentContext: 'test',
      });
      metrics = new OperatorMetrics();
      const config = resolveConfig(operatorSettings, new Map(), {});
      operator = await startOperator(
        {
          ...config,
          leaderElect: true,
          leaseNamespace: OPERATOR_NAMESPACE,
          metricsPort: 0,
          metricsHost: '127.0.0.1',
        },
        {
          clients: createKubeClients(kubeConfig),
          logger: silentLogger,
          metrics,
          identity: 'install-test',
          controller: { progressMs: 300 },
        },
      );
      const demo = parse(readFileSync('crds/samples/demo.yaml', 'utf8'));
      await admin.custom.createNamespacedCustomObject({ ...stcPath, body: demo });
    });

    after(async () => {
      await operator?.stop();
    });

    it('takes the Lease', async () => {
      const lease = await waitUntil('lease', async () => {
        const current = await admin.coordination.readNamespacedLease({
          name: 'streamcluster-operator',
          namespace: OPERATOR_NAMESPACE,
        });
        return current.spec?.holderIdentity === 'install-test' && current;
      });
      assert.equal(lease.spec?.holderIdentity, 'install-test');
    });

    it('applies children and writes status', async () => {
      for (const [apiVersion, kind, name] of [
        ['apps/v1', 'StatefulSet', 'demo-server'],
        ['apps/v1', 'Deployment', 'demo-balancer'],
        ['rbac.authorization.k8s.io/v1', 'Role', 'demo-balancer'],
        ['rbac.authorization.k8s.io/v1', 'RoleBinding', 'demo-balancer'],
        ['policy/v1', 'PodDisruptionBudget', 'demo-server'],
        ['apps/v1', 'StatefulSet', 'demo-log'],
      ]) {
        const object = await waitUntil(`${kind} ${name}`, () => read(apiVersion!, kind!, name!));
        assert.equal(object.metadata.name, name);
      }
      const stc = await waitUntil('status', async () => {
        const current = (await admin.custom.getNamespacedCustomObject({
          ...stcPath,
          name: 'demo',
        })) as any;
        return current.status?.observedGeneration === current.metadata.generation && current;
      });
      assert.equal(
        stc.status.conditions.find((c: any) => c.type === 'Ready').reason,
        'ServersNotReady',
      );
    });

    it('records Events', async () => {
      const events = await waitUntil('events', async () => {
        const list = await admin.core.listNamespacedEvent({ namespace: APPS });
        return list.items.length > 0 && list.items;
      });
      assert.ok(events.some((event) => event.reason === 'CreatedChild'));
    });

    it('deletes children the spec drops', async () => {
      await admin.custom.patchNamespacedCustomObject(
        {
          ...stcPath,
          name: 'demo',
          body: { spec: { log: { mode: 'external', externalUrl: 'nats://nats.infra:4222' } } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await waitUntil(
        'NATS StatefulSet gone',
        async () => !(await read('apps/v1', 'StatefulSet', 'demo-log')) && true,
      );
    });

    it('exports cluster gauges and no failed reconciles', async () => {
      await waitUntil(
        'desired servers',
        async () =>
          (await count('streamcluster_operator_cluster_servers', {
            streamcluster: 'demo',
            state: 'desired',
          })) === 2,
      );
      const ready = await count('streamcluster_operator_cluster_condition', {
        namespace: APPS,
        streamcluster: 'demo',
        type: 'Ready',
      });
      assert.equal(ready, 0);
      assert.equal(await count('streamcluster_operator_reconciles_total', { result: 'error' }), 0);
      assert.equal(
        await count('streamcluster_operator_reconciles_total', { result: 'terminal' }),
        0,
      );
    });
  });
});

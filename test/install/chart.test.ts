/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are read as untyped JSON */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildInstallation } from '../../cdk8s/install.js';
import { defaultInstallOptions, type InstallOptions } from '../../cdk8s/options.js';
import { INSTALL_YAML_PATH, RULES_PATH } from '../../cdk8s/generate.js';
import { helm, helmUnavailable, parseManifests, renderChart } from './helm.js';
import { parse } from 'yaml';

/** Labels Helm adds to record the release; cdk8s has no release to record. */
const HELM_LABELS = ['helm.sh/chart', 'app.kubernetes.io/managed-by'];

/** Drops Helm's own labels from every `labels` map, at any depth. */
function withoutHelmLabels(value: any): any {
  if (Array.isArray(value)) return value.map(withoutHelmLabels);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => {
      if (key !== 'labels' || typeof child !== 'object') return [key, withoutHelmLabels(child)];
      const labels = { ...(child as Record<string, string>) };
      for (const name of HELM_LABELS) delete labels[name];
      return [key, labels];
    }),
  );
}

/** Objects by `kind/namespace/name`, so that order does not matter. */
function byKey(objects: any[]): Map<string, any> {
  return new Map(
    objects.map((object) => [
      `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`,
      withoutHelmLabels(object),
    ]),
  );
}

/** Builds the cdk8s objects less the Namespace, which `helm install --create-namespace` creates. */
function expectedObjects(options: InstallOptions): Map<string, any> {
  return byKey(buildInstallation(options).filter((object) => object.kind !== 'Namespace'));
}

function assertSameObjects(rendered: any[], expected: Map<string, any>): void {
  const actual = byKey(rendered);
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
  for (const [key, object] of expected) assert.deepEqual(actual.get(key), object, key);
}

describe('Helm chart', { skip: helmUnavailable() }, () => {
  it('passes helm lint', async () => {
    const output = await helm(['lint', '--strict', 'charts/streamcluster-operator']);
    assert.match(output, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('defaults render install.yaml', async () => {
    const committed = parseManifests(readFileSync(INSTALL_YAML_PATH, 'utf8'));
    const expected = byKey(committed.filter((object) => object.kind !== 'Namespace'));
    assertSameObjects(await renderChart(), expected);
  });

  const cases: { name: string; values: string[]; options: InstallOptions }[] = [
    {
      name: 'watch namespace',
      values: ['watchNamespace=team-a'],
      options: { ...defaultInstallOptions, watchNamespace: 'team-a' },
    },
    {
      name: 'image, replicas, log level, labels',
      values: [
        'image.repository=registry.example/streamcluster',
        'image.tag=0.2.0',
        'image.pullPolicy=Always',
        'replicas=2',
        'logLevel=debug',
        'extraLabels.team=search',
      ],
      options: {
        ...defaultInstallOptions,
        image: { repository: 'registry.example/streamcluster', tag: '0.2.0', pullPolicy: 'Always' },
        replicas: 2,
        logLevel: 'debug',
        labels: { team: 'search' },
      },
    },
    {
      name: 'metrics off',
      values: ['metrics.enabled=false', 'metrics.port=9100'],
      options: { ...defaultInstallOptions, metrics: { enabled: false, port: 9100 } },
    },
    {
      name: 'resources',
      values: ['resources.requests.cpu=250m', 'resources.limits.memory=512Mi'],
      options: {
        ...defaultInstallOptions,
        resources: { requests: { cpu: '250m', memory: '128Mi' }, limits: { memory: '512Mi' } },
      },
    },
  ];
  for (const { name, values, options } of cases) {
    it(`${name} renders the cdk8s objects`, async () => {
      assertSameObjects(await renderChart(values), expectedObjects(options));
    });
  }

  it('monitoring renders monitors, rules and dashboard', async () => {
    const objects = await renderChart([
      'monitoring.serviceMonitor.enabled=true',
      'monitoring.podMonitor.enabled=true',
      'monitoring.prometheusRule.enabled=true',
      'monitoring.prometheusRule.labels.release=prometheus',
      'monitoring.dashboard.enabled=true',
    ]);
    const kinds = objects.map((object: any) => object.kind);
    assert.equal(kinds.filter((kind) => kind === 'PodMonitor').length, 2);
    assert.ok(kinds.includes('ServiceMonitor'));

    const rule = objects.find((object: any) => object.kind === 'PrometheusRule') as any;
    assert.equal(rule.metadata.labels.release, 'prometheus');
    // Alert templates such as {{ $labels.namespace }} must reach Prometheus unrendered.
    assert.deepEqual(rule.spec, parse(readFileSync(RULES_PATH, 'utf8')));

    const dashboard = objects.find((object: any) => object.kind === 'ConfigMap') as any;
    assert.equal(dashboard.metadata.labels.grafana_dashboard, '1');
    const json = JSON.parse(dashboard.data['streamcluster.json']);
    assert.equal(json.uid, 'streamcluster');
  });

  it('monitoring is off by default', async () => {
    const kinds = (await renderChart()).map((object: any) => object.kind);
    for (const kind of ['ServiceMonitor', 'PodMonitor', 'PrometheusRule', 'ConfigMap']) {
      assert.ok(!kinds.includes(kind), kind);
    }
  });
});

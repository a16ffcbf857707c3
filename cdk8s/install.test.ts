/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are read as untyped JSON */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { CHILD_TYPES } from '../operator/kube/resources.js';
import { defaultImageTable } from '../test/cluster/agent/image-table.js';
import { CHART_DIR, generatedInstallFiles, INSTALL_YAML_PATH } from './generate.js';
import { buildInstallation } from './install.js';
import { APP_VERSION, defaultInstallOptions } from './options.js';

function find(objects: any[], kind: string, name?: string) {
  return objects.find((object) => object.kind === kind && (!name || object.metadata.name === name));
}

/** Reads the ENTRYPOINT of the Dockerfile's final stage, in exec form. */
function dockerEntrypoint(): string[] {
  const lines = readFileSync('Dockerfile', 'utf8').split('\n');
  const entrypoint = lines.filter((line) => line.startsWith('ENTRYPOINT ')).at(-1);
  assert.ok(entrypoint, 'Dockerfile has no ENTRYPOINT');
  return JSON.parse(entrypoint.slice('ENTRYPOINT '.length)) as string[];
}

describe('operator installation', () => {
  it('generated files match the sources', async () => {
    for (const [path, content] of await generatedInstallFiles()) {
      assert.equal(readFileSync(path, 'utf8'), content, `${path}: run npm run gen:install`);
    }
  });

  it('install.yaml contains the CRD of crds/', () => {
    const documents = parseAllDocuments(readFileSync(INSTALL_YAML_PATH, 'utf8'));
    const crd = documents
      .map((document) => document.toJS())
      .find((o) => o?.kind === 'CustomResourceDefinition');
    const committed = parse(readFileSync('crds/streamcluster.io_streamclusters.yaml', 'utf8'));
    assert.deepEqual(crd, committed);
  });

  it('grants apply, delete and watch on every child kind', () => {
    const role = find(buildInstallation(), 'ClusterRole');
    for (const type of CHILD_TYPES) {
      const group = type.apiVersion.includes('/') ? type.apiVersion.split('/')[0] : '';
      const rule = role.rules.find(
        (r: any) => r.apiGroups.includes(group) && r.resources.includes(type.plural),
      );
      assert.ok(rule, `no rule for ${type.plural}`);
      assert.deepEqual([...rule.verbs].sort(), ['create', 'delete', 'list', 'patch', 'watch']);
    }
  });

  it('grants only get on secrets, no wildcards', () => {
    const role = find(buildInstallation(), 'ClusterRole');
    for (const rule of role.rules) {
      if (rule.resources.includes('secrets')) {
        // The auth token is read by name; list or watch would expose every Secret's value.
        assert.deepEqual(rule.resources, ['secrets'], JSON.stringify(rule));
        assert.deepEqual(rule.verbs, ['get'], JSON.stringify(rule));
      }
      assert.ok(!rule.resources.includes('*'), JSON.stringify(rule));
      assert.ok(!rule.verbs.includes('*'), JSON.stringify(rule));
    }
  });

  it('watch namespace gives a Role there only', () => {
    const objects = buildInstallation({ ...defaultInstallOptions, watchNamespace: 'team-a' });
    assert.equal(find(objects, 'ClusterRole'), undefined);
    assert.equal(find(objects, 'ClusterRoleBinding'), undefined);
    const role = find(objects, 'Role', 'streamcluster-operator');
    assert.equal(role.metadata.namespace, 'team-a');
    const binding = find(objects, 'RoleBinding', 'streamcluster-operator');
    assert.equal(binding.metadata.namespace, 'team-a');
    assert.deepEqual(binding.subjects, [
      { kind: 'ServiceAccount', name: 'streamcluster-operator', namespace: 'streamcluster-system' },
    ]);
    const env = find(objects, 'Deployment').spec.template.spec.containers[0].env;
    const watch = env.find((variable: any) => variable.name === 'STREAMCLUSTER_WATCH_NAMESPACE');
    assert.equal(watch.value, 'team-a');
  });

  it('metrics off drops the Service only', () => {
    const objects = buildInstallation({
      ...defaultInstallOptions,
      metrics: { enabled: false, port: 9100 },
    });
    assert.equal(find(objects, 'Service'), undefined);
    const container = find(objects, 'Deployment').spec.template.spec.containers[0];
    assert.equal(container.ports[0].containerPort, 9100);
    assert.equal(container.livenessProbe.httpGet.port, 'metrics');
  });

  it('operator pod runs as non-root with leader election', () => {
    const pod = find(buildInstallation(), 'Deployment').spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.notEqual(pod.securityContext.runAsUser, 0);
    const container = pod.containers[0];
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
    const env = Object.fromEntries(container.env.map((v: any) => [v.name, v.value ?? v.valueFrom]));
    assert.equal(env.STREAMCLUSTER_LEADER_ELECT, 'true');
    assert.deepEqual(env.POD_NAMESPACE, { fieldRef: { fieldPath: 'metadata.namespace' } });
  });

  it('versions agree across package, chart and image', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    const chart = parse(readFileSync(`${CHART_DIR}/Chart.yaml`, 'utf8'));
    assert.equal(APP_VERSION, pkg.version);
    assert.equal(chart.appVersion, pkg.version);
    for (const sample of ['demo', 'production', 'external']) {
      const stc = parse(readFileSync(`crds/samples/${sample}.yaml`, 'utf8'));
      assert.equal(stc.spec.image, `streamcluster:${pkg.version}`, sample);
    }
  });

  it('image entry point matches the test cluster', () => {
    const image = defaultImageTable('/repo').find((entry) => entry.pattern.test('streamcluster'));
    assert.deepEqual(dockerEntrypoint(), image?.entrypoint);
  });
});

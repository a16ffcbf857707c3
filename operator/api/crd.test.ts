/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are read as untyped JSON */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildCrd } from './crd.js';
import { renderCrdYaml, renderReferenceInto } from './generate.js';
import type { JsonSchema } from './schema.js';
import { loadSample } from '../testing/samples.js';

/** Lists the paths where a schema breaks the structural rules that CRDs require. */
function structuralProblems(schema: JsonSchema, path: string): string[] {
  const problems: string[] = [];
  if (!schema.type && !schema['x-kubernetes-int-or-string']) problems.push(`${path} has no type`);
  if (schema.type === 'object' && !schema.properties && !schema.additionalProperties) {
    if (path !== '.metadata') problems.push(`${path} is an object with no properties`);
  }
  if (schema.type === 'array' && !schema.items) problems.push(`${path} is an array with no items`);
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    problems.push(...structuralProblems(child, `${path}.${name}`));
  }
  if (schema.items) problems.push(...structuralProblems(schema.items, `${path}[]`));
  if (schema.additionalProperties) {
    problems.push(...structuralProblems(schema.additionalProperties, `${path}.*`));
  }
  return problems;
}

function version() {
  const crd = buildCrd() as { spec: { versions: Record<string, any>[] } };
  return crd.spec.versions[0]!;
}

describe('StreamCluster CRD', () => {
  it('generated YAML matches the TypeScript source', () => {
    const committed = readFileSync('crds/streamcluster.io_streamclusters.yaml', 'utf8');
    assert.equal(committed, renderCrdYaml(), 'run npm run gen:crd and commit the result');
  });

  it('field reference in docs matches the source', async () => {
    const committed = readFileSync('docs/operator.md', 'utf8');
    const rendered = await renderReferenceInto(committed, 'docs/operator.md');
    assert.equal(committed, rendered, 'run npm run gen:crd and commit the result');
  });

  it('schema is structural', () => {
    const schema = version().schema.openAPIV3Schema as JsonSchema;
    assert.deepEqual(structuralProblems(schema, ''), []);
  });

  it('scale subresource points at schema fields', () => {
    const { scale } = version().subresources;
    assert.equal(scale.specReplicasPath, '.spec.servers.replicas');
    assert.equal(scale.statusReplicasPath, '.status.replicas');
    assert.equal(scale.labelSelectorPath, '.status.selector');
    const spec = version().schema.openAPIV3Schema.properties.spec as JsonSchema;
    assert.equal(spec.properties?.servers?.properties?.replicas?.type, 'integer');
  });

  it('printer columns include Ready, Replicas, Connections, Age', () => {
    const names = version().additionalPrinterColumns.map((column: { name: string }) => column.name);
    for (const name of ['Ready', 'Replicas', 'Connections', 'Age']) {
      assert.ok(names.includes(name), `missing printer column ${name}`);
    }
  });

  it('defaults fill the minimal sample', () => {
    const stc = loadSample('demo');
    assert.equal(stc.spec.servers.replicas, 2);
    assert.equal(stc.spec.servers.storage.size, '1Gi');
    assert.equal(stc.spec.servers.storage.whenScaled, 'Retain');
    assert.equal(stc.spec.balancer.algorithm, 'leastConnections');
    assert.equal(stc.spec.balancer.healthCheck.path, '/readyz');
    assert.equal(stc.spec.log.mode, 'managed');
    assert.equal(stc.spec.log.managed.replicas, 1);
    assert.equal(stc.spec.generator.type, 'extractive');
    assert.equal(stc.spec.servers.autoscaling.behavior.scaleDown.stabilizationWindowSeconds, 300);
    assert.equal(stc.spec.servers.autoscaling.behavior.scaleUp.policies.length, 2);
  });
});

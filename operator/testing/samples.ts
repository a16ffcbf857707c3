import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { applyDefaults } from '../api/defaults.js';
import { streamClusterSpec, type StreamCluster } from '../api/streamcluster.js';

/** Folder of the sample StreamClusters, relative to the repository root. */
export const SAMPLES_DIR = 'crds/samples';

/** Reads a sample as the operator would see it: defaults applied, namespace and uid set. */
export function loadSample(name: string, namespace = 'default'): StreamCluster {
  const raw = parse(readFileSync(`${SAMPLES_DIR}/${name}.yaml`, 'utf8')) as StreamCluster;
  return withDefaults(raw, namespace);
}

/** Applies schema defaults to a StreamCluster written by hand. */
export function withDefaults(raw: StreamCluster, namespace = 'default'): StreamCluster {
  return {
    ...raw,
    metadata: { ...raw.metadata, uid: raw.metadata.uid ?? `uid-${raw.metadata.name}`, namespace },
    spec: applyDefaults(streamClusterSpec.schema, raw.spec) as StreamCluster['spec'],
  };
}

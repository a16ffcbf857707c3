import type { k8s } from 'cdk8s-plus-27';
import type { StreamCluster } from '../api/streamcluster.js';
import { PORTS, childNames } from './names.js';

/** Where a model volume is mounted in a server container. */
const MODEL_MOUNT = '/models';

/** URL of the document log the servers use: the managed NATS Service, or the external URL. */
export function logUrl(stc: StreamCluster): string {
  const log = stc.spec.log;
  if (log.mode === 'external' && log.externalUrl) return log.externalUrl;
  const { log: service } = childNames(stc.metadata.name);
  return `nats://${service}.${stc.metadata.namespace}.svc:${PORTS.natsClient}`;
}

/** The pod volume that holds the embedding model, when the spec names one. */
export function modelVolume(stc: StreamCluster): k8s.Volume | undefined {
  const volume = stc.spec.embedding.volume;
  if (!volume) return undefined;
  return { name: 'model', persistentVolumeClaim: { claimName: volume.claimName, readOnly: true } };
}

function fieldRef(name: string, fieldPath: string): k8s.EnvVar {
  return { name, valueFrom: { fieldRef: { fieldPath } } };
}

function embeddingEnv(stc: StreamCluster): k8s.EnvVar[] {
  const { hubId, volume } = stc.spec.embedding;
  if (volume) {
    return [{ name: 'STREAMCLUSTER_MODEL', value: `${MODEL_MOUNT}/${volume.path}` }];
  }
  return hubId ? [{ name: 'STREAMCLUSTER_MODEL', value: hubId }] : [];
}

function generatorEnv(stc: StreamCluster): k8s.EnvVar[] {
  const generator = stc.spec.generator;
  const env: k8s.EnvVar[] = [{ name: 'STREAMCLUSTER_ANSWER_GENERATOR', value: generator.type }];
  if (generator.type !== 'openai' || !generator.openai) return env;
  const { baseUrl, model, apiKeySecretRef } = generator.openai;
  env.push({ name: 'STREAMCLUSTER_OPENAI_BASE_URL', value: baseUrl });
  env.push({ name: 'STREAMCLUSTER_OPENAI_MODEL', value: model });
  if (apiKeySecretRef) {
    // The server reads the key from the variable that STREAMCLUSTER_OPENAI_API_KEY_ENV names.
    env.push({ name: 'STREAMCLUSTER_OPENAI_API_KEY_ENV', value: 'STREAMCLUSTER_OPENAI_API_KEY' });
    env.push({
      name: 'STREAMCLUSTER_OPENAI_API_KEY',
      valueFrom: { secretKeyRef: { name: apiKeySecretRef.name, key: apiKeySecretRef.key } },
    });
  }
  return env;
}

/** Builds the variable `name` from the key of `spec.auth.tokenSecretRef`, when the spec sets one. */
export function authTokenEnv(stc: StreamCluster, name: string): k8s.EnvVar[] {
  const ref = stc.spec.auth?.tokenSecretRef;
  if (!ref) return [];
  return [{ name, valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } }];
}

/**
 * Environment of a server container. Settings go through `STREAMCLUSTER_*` variables rather than
 * flags so that an image that lacks a setting ignores it instead of refusing to start. The server
 * binds to its pod IP, because pods of the local test cluster share one network namespace.
 */
export function serverEnv(stc: StreamCluster): k8s.EnvVar[] {
  return [
    fieldRef('STREAMCLUSTER_SERVER_ID', 'metadata.name'),
    fieldRef('STREAMCLUSTER_HOST', 'status.podIP'),
    { name: 'STREAMCLUSTER_PORT', value: String(PORTS.http) },
    { name: 'STREAMCLUSTER_DATA_DIR', value: '/var/lib/streamcluster' },
    { name: 'STREAMCLUSTER_LOG', value: 'nats' },
    { name: 'STREAMCLUSTER_NATS_URL', value: logUrl(stc) },
    { name: 'STREAMCLUSTER_NATS_STREAM', value: stc.spec.log.stream ?? stc.metadata.name },
    ...embeddingEnv(stc),
    ...generatorEnv(stc),
    ...authTokenEnv(stc, 'STREAMCLUSTER_AUTH_TOKEN'),
  ];
}

import { StreamClusterError } from '../../../server/core/errors.js';
import type { Container, DataObject, EnvVar, Pod } from './types.js';

/** The pod's address and its node's, for status.podIP and status.hostIP field references. */
export interface PodAddresses {
  podIp: string;
  hostIp: string;
}

/** Reads a ConfigMap or Secret; resolves to undefined when it does not exist. */
export type DataLookup = (
  kind: 'configmaps' | 'secrets',
  namespace: string,
  name: string,
) => Promise<DataObject | undefined>;

/**
 * Builds a container's environment as the kubelet does: envFrom first, then env in order, with
 * $(NAME) references to earlier variables expanded. Field references read the pod, and the
 * addresses are given because the agent assigns them before the pod status shows them.
 */
export async function resolveEnvironment(
  pod: Pod,
  container: Container,
  addresses: PodAddresses,
  lookup: DataLookup,
): Promise<Record<string, string>> {
  const namespace = pod.metadata.namespace ?? 'default';
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const ref = source.configMapRef ?? source.secretRef;
    if (ref === undefined) continue;
    const kind = source.configMapRef !== undefined ? 'configmaps' : 'secrets';
    const object = await lookup(kind, namespace, ref.name);
    if (object === undefined && ref.optional !== true) throw missing(kind, namespace, ref.name);
    for (const [key, value] of Object.entries(object?.data ?? {})) {
      env[(source.prefix ?? '') + key] = kind === 'secrets' ? decode(value) : value;
    }
  }
  for (const variable of container.env ?? []) {
    const value = await resolveVariable(pod, variable, addresses, lookup);
    if (value !== undefined) env[variable.name] = expandReferences(value, env);
  }
  return env;
}

/** Expands $(NAME) with Kubernetes' rules: $$ escapes, and unknown names stay as written. */
export function expandReferences(text: string, env: Record<string, string>): string {
  return text.replace(
    /\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g,
    (match, name: string | undefined) => {
      if (name === undefined) return '$';
      return env[name] ?? match;
    },
  );
}

async function resolveVariable(
  pod: Pod,
  variable: EnvVar,
  addresses: PodAddresses,
  lookup: DataLookup,
): Promise<string | undefined> {
  const source = variable.valueFrom;
  if (source === undefined) return variable.value ?? '';
  if (source.fieldRef !== undefined) return readField(pod, source.fieldRef.fieldPath, addresses);
  const namespace = pod.metadata.namespace ?? 'default';
  const ref = source.configMapKeyRef ?? source.secretKeyRef;
  if (ref === undefined) return undefined;
  const kind = source.configMapKeyRef !== undefined ? 'configmaps' : 'secrets';
  const value = (await lookup(kind, namespace, ref.name))?.data?.[ref.key];
  if (value === undefined) {
    if (ref.optional === true) return undefined;
    throw missing(kind, namespace, `${ref.name} key ${ref.key}`);
  }
  return kind === 'secrets' ? decode(value) : value;
}

function readField(pod: Pod, path: string, addresses: PodAddresses): string {
  const label = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (label !== null) return pod.metadata[label[1] as 'labels' | 'annotations']?.[label[2]!] ?? '';
  const fields: Record<string, string | undefined> = {
    'metadata.name': pod.metadata.name,
    'metadata.namespace': pod.metadata.namespace ?? 'default',
    'metadata.uid': pod.metadata.uid,
    'spec.nodeName': pod.spec.nodeName,
    'spec.serviceAccountName': pod.spec.serviceAccountName ?? 'default',
    'status.podIP': addresses.podIp,
    'status.podIPs': addresses.podIp,
    'status.hostIP': addresses.hostIp,
    'status.hostIPs': addresses.hostIp,
  };
  if (!(path in fields)) {
    throw new StreamClusterError(
      'FIELD_NOT_SUPPORTED',
      `fieldRef ${path} is not supported by the test agent`,
    );
  }
  return fields[path] ?? '';
}

function decode(base64: string): string {
  return Buffer.from(base64, 'base64').toString('utf8');
}

function missing(kind: string, namespace: string, name: string): StreamClusterError {
  return new StreamClusterError('CONFIG_NOT_FOUND', `${kind} ${namespace}/${name} not found`);
}

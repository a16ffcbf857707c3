import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeClient } from './kube-client.js';
import type { Mount } from './pod-volumes.js';
import type { Pod } from './types.js';

/** Where Kubernetes mounts a pod's service account credentials. */
export const serviceAccountMountPath = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Settings of {@link writeServiceAccountFiles}. */
export interface ServiceAccountOptions {
  client: KubeClient;
  /** CA bundle that signed the API server's certificate. */
  caFile: string;
  /** The API server's address as pods reach it. */
  apiServerHost: string;
  apiServerPort: number;
  /** Token lifetime; default one day, longer than any test. */
  expirationSeconds?: number;
}

/** Credentials of a pod: the mount that stands for the token folder and the env to add. */
export interface ServiceAccountFiles {
  mount: Mount;
  env: Record<string, string>;
}

/**
 * Writes the pod's service account token, CA and namespace into folder, as the kubelet's
 * projected volume does, plus a kubeconfig named by KUBECONFIG. Client libraries read the
 * in-cluster files from a fixed path that a local process cannot have, so KUBECONFIG is how
 * they find the credentials here.
 */
export async function writeServiceAccountFiles(
  pod: Pod,
  folder: string,
  options: ServiceAccountOptions,
): Promise<ServiceAccountFiles> {
  const namespace = pod.metadata.namespace ?? 'default';
  const account = pod.spec.serviceAccountName ?? 'default';
  const request = {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: {
      expirationSeconds: options.expirationSeconds ?? 86_400,
      boundObjectRef: {
        apiVersion: 'v1',
        kind: 'Pod',
        name: pod.metadata.name,
        uid: pod.metadata.uid,
      },
    },
  };
  const path = `/api/v1/namespaces/${namespace}/serviceaccounts/${account}/token`;
  const answer = await options.client.request<{ status: { token: string } }>('POST', path, request);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'token'), answer.status.token, { mode: 0o600 });
  await writeFile(join(folder, 'namespace'), namespace);
  await copyFile(options.caFile, join(folder, 'ca.crt'));
  const server = `https://${options.apiServerHost}:${options.apiServerPort}`;
  await writeFile(join(folder, 'kubeconfig'), kubeconfig(server, folder, namespace), {
    mode: 0o600,
  });
  return {
    mount: { mountPath: serviceAccountMountPath, localPath: folder },
    env: {
      KUBECONFIG: join(folder, 'kubeconfig'),
      KUBERNETES_SERVICE_HOST: options.apiServerHost,
      KUBERNETES_SERVICE_PORT: String(options.apiServerPort),
    },
  };
}

function kubeconfig(server: string, folder: string, namespace: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'cluster', cluster: { server, 'certificate-authority': join(folder, 'ca.crt') } },
    ],
    users: [{ name: 'pod', user: { tokenFile: join(folder, 'token') } }],
    contexts: [{ name: 'pod', context: { cluster: 'cluster', user: 'pod', namespace } }],
    'current-context': 'pod',
  });
}

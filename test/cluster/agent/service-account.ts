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

/** Credentials of a pod: the folder to bind-mount at the in-cluster path and the env to add. */
export interface ServiceAccountFiles {
  mount: Mount;
  env: Record<string, string>;
}

/**
 * Writes the pod's service account token, CA and namespace into folder, as the kubelet's
 * projected volume does. The container process gets the folder bind-mounted at the in-cluster
 * path, and KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT name the API server.
 */
export async function writeServiceAccountFiles(
  pod: Pod,
  folder: string,
  options: ServiceAccountOptions,
): Promise<ServiceAccountFiles> {
  const namespace = pod.metadata.namespace ?? 'default';
  const token = await requestToken(pod, options);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'token'), token, { mode: 0o600 });
  await writeFile(join(folder, 'namespace'), namespace);
  await copyFile(options.caFile, join(folder, 'ca.crt'));
  return {
    mount: { mountPath: serviceAccountMountPath, localPath: folder },
    env: {
      KUBERNETES_SERVICE_HOST: options.apiServerHost,
      KUBERNETES_SERVICE_PORT: String(options.apiServerPort),
    },
  };
}

/** Requests a token bound to the pod, so it stops working once the pod is deleted. */
async function requestToken(pod: Pod, options: ServiceAccountOptions): Promise<string> {
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
  const response = await options.client.request<{ status: { token: string } }>(
    'POST',
    path,
    request,
  );
  return response.status.token;
}

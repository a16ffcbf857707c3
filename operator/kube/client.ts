import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
} from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

import { ValidationError } from '../../server/core/errors.js';

/** The API clients the operator uses, all built from one kubeconfig. */
export interface KubeClients {
  config: KubeConfig;
  /** Generic objects: server-side apply, list and delete of children. */
  objects: KubernetesObjectApi;
  /** StreamCluster reads and status updates. */
  custom: CustomObjectsApi;
  /** Pods and Events. */
  core: CoreV1Api;
  /** Leader election Leases. */
  coordination: CoordinationV1Api;
}

/**
 * Loads a kubeconfig: the given file, else `KUBECONFIG`, `~/.kube/config` or the in-cluster
 * service account, in the order client-node's loadFromDefault tries them.
 */
export function loadKubeConfig(path?: string, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const config = new KubeConfig();
  if (path) {
    config.loadFromFile(path);
    return config;
  }
  // Without any of these, loadFromDefault falls back to http://localhost:8080, and every call
  // then fails with a warning about TLS, so the operator would start and never work.
  const home = env.HOME ?? homedir();
  const found =
    Boolean(env.KUBECONFIG) ||
    existsSync(join(home, '.kube', 'config')) ||
    Boolean(env.KUBERNETES_SERVICE_HOST);
  if (!found) {
    throw new ValidationError([
      'no kubeconfig found: set --kubeconfig or KUBECONFIG, put one at ~/.kube/config, or run ' +
        'the operator in a pod with a service account',
    ]);
  }
  config.loadFromDefault();
  return config;
}

/** Builds every client from one kubeconfig. */
export function createKubeClients(config: KubeConfig): KubeClients {
  return {
    config,
    objects: KubernetesObjectApi.makeApiClient(config),
    custom: config.makeApiClient(CustomObjectsApi),
    core: config.makeApiClient(CoreV1Api),
    coordination: config.makeApiClient(CoordinationV1Api),
  };
}

/** HTTP status of a failed API call, or undefined for network and other errors. */
export function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
  if (typeof code === 'number') return code;
  if (typeof statusCode === 'number') return statusCode;
  return undefined;
}

/** Message of a failed API call: the API server's Status message when there is one. */
export function apiMessageOf(error: unknown): string {
  const body = (error as { body?: unknown } | null)?.body;
  if (typeof body === 'string') {
    try {
      const status = JSON.parse(body) as { message?: string };
      if (status.message) return status.message;
    } catch {
      return body;
    }
  }
  if (body && typeof body === 'object' && 'message' in body) return String(body.message);
  return error instanceof Error ? error.message : String(error);
}

import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
} from '@kubernetes/client-node';

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
export function loadKubeConfig(path?: string): KubeConfig {
  const config = new KubeConfig();
  if (path) config.loadFromFile(path);
  else config.loadFromDefault();
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

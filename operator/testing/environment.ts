// Sets up a real API server with the StreamCluster CRD and a namespace for the operator's tests,
// and provides the settings and request options those tests share.
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { resolveConfig } from '../../server/core/config.js';
import { createLogger, silentLogger, type Logger } from '../../server/core/logger.js';
import { GROUP, PLURAL, VERSION } from '../api/streamcluster.js';
import { createKubeClients, type KubeClients } from '../kube/client.js';
import type { OperatorConfig } from '../main.js';
import { operatorSettings } from '../settings.js';
import { startTestApiServer, type TestApiServer } from './apiserver.js';

const CRD_PATH = 'crds/streamcluster.io_streamclusters.yaml';

/** A test API server with the StreamCluster CRD established, and admin clients for it. */
export interface TestEnvironment {
  api: TestApiServer;
  clients: KubeClients;
}

/**
 * Starts a test API server, installs the StreamCluster CRD and waits until it is Established,
 * then creates `namespace` with its default service account. Stops the API server when a step
 * fails.
 */
export async function startTestEnvironment(namespace: string): Promise<TestEnvironment> {
  const api = await startTestApiServer();
  try {
    const clients = createKubeClients(api.kubeConfig);
    // kubectl, because client-node's typed serializer drops `default` and `x-kubernetes-*`.
    await api.kubectl(['apply', '--server-side', '-f', CRD_PATH]);
    await api.kubectl(['wait', '--for=condition=Established', `crd/${PLURAL}.${GROUP}`]);
    await clients.core.createNamespace({ body: { metadata: { name: namespace } } });
    // No kube-controller-manager runs, so its service account controller does not create the
    // namespace's default account.
    await clients.core.createNamespacedServiceAccount({
      namespace,
      body: { metadata: { name: 'default' } },
    });
    return { api, clients };
  } catch (error) {
    await api.stop();
    throw error;
  }
}

/** Parameters of the custom objects API that address StreamCluster `name` in `namespace`. */
export function streamClusterRef(namespace: string, name: string) {
  return { group: GROUP, version: VERSION, namespace, plural: PLURAL, name };
}

/** Request options that send a patch as a JSON merge patch. */
export function mergePatch() {
  return setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
}

/**
 * Returns the default operator settings with leader election off, metrics on a free loopback
 * port and a resync every second.
 */
export function testOperatorConfig(): OperatorConfig {
  const config = resolveConfig(operatorSettings, new Map(), {});
  return {
    ...config,
    leaderElect: false,
    metricsPort: 0,
    metricsHost: '127.0.0.1',
    resyncSeconds: 1,
  };
}

/** Creates a logger named `name` when TEST_LOG is set, and returns the silent logger otherwise. */
export function testLogger(name: string): Logger {
  return process.env.TEST_LOG ? createLogger({ name }) : silentLogger;
}

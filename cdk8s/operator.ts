import { k8s } from 'cdk8s-plus-27';
import type { Construct } from 'constructs';
import type { InstallOptions } from './options.js';

/** Name of the container port of /metrics, /healthz and /readyz. */
const METRICS_PORT_NAME = 'metrics';

function quantities(values: Record<string, string>) {
  return Object.fromEntries(
    Object.entries(values).map(([name, value]) => [name, k8s.Quantity.fromString(value)]),
  );
}

function operatorEnv(options: InstallOptions): k8s.EnvVar[] {
  return [
    // The Lease lives in the operator's own namespace.
    { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    { name: 'STREAMCLUSTER_WATCH_NAMESPACE', value: options.watchNamespace },
    { name: 'STREAMCLUSTER_LEADER_ELECT', value: 'true' },
    { name: 'STREAMCLUSTER_LEASE_NAME', value: options.name },
    { name: 'STREAMCLUSTER_METRICS_PORT', value: String(options.metrics.port) },
    { name: 'LOG_LEVEL', value: options.logLevel },
  ];
}

function operatorContainer(options: InstallOptions): k8s.Container {
  const port = k8s.IntOrString.fromString(METRICS_PORT_NAME);
  return {
    name: 'operator',
    image: `${options.image.repository}:${options.image.tag}`,
    imagePullPolicy: options.image.pullPolicy,
    // The image's entry point is the `streamcluster` command; the subcommand picks the role.
    args: ['operator'],
    env: operatorEnv(options),
    ports: [{ name: METRICS_PORT_NAME, containerPort: options.metrics.port, protocol: 'TCP' }],
    livenessProbe: {
      httpGet: { path: '/healthz', port },
      initialDelaySeconds: 10,
      periodSeconds: 10,
      failureThreshold: 3,
    },
    // A standby replica reports ready too, because it is ready to take the Lease over.
    readinessProbe: { httpGet: { path: '/readyz', port }, periodSeconds: 5, failureThreshold: 3 },
    resources: {
      requests: quantities(options.resources.requests),
      limits: quantities(options.resources.limits),
    },
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    },
  };
}

/**
 * Adds the operator Deployment: leader election on, probes on the health endpoint, a non-root
 * restricted security context. The UID is the image's `node` user (1000), given numerically so
 * that the kubelet can verify runAsNonRoot.
 */
export function addOperatorDeployment(
  scope: Construct,
  options: InstallOptions,
  labels: Record<string, string>,
  selector: Record<string, string>,
): void {
  new k8s.KubeDeployment(scope, 'deployment', {
    metadata: { name: options.name, namespace: options.namespace, labels },
    spec: {
      replicas: options.replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: options.name,
          automountServiceAccountToken: true,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 1000,
            runAsGroup: 1000,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          terminationGracePeriodSeconds: 30,
          containers: [operatorContainer(options)],
        },
      },
    },
  });
}

/** Adds the Service in front of the operator's /metrics, for Prometheus to scrape. */
export function addMetricsService(
  scope: Construct,
  options: InstallOptions,
  labels: Record<string, string>,
  selector: Record<string, string>,
): void {
  new k8s.KubeService(scope, 'metrics-service', {
    metadata: { name: `${options.name}-metrics`, namespace: options.namespace, labels },
    spec: {
      type: 'ClusterIP',
      selector,
      ports: [
        {
          name: METRICS_PORT_NAME,
          port: options.metrics.port,
          targetPort: k8s.IntOrString.fromString(METRICS_PORT_NAME),
          protocol: 'TCP',
        },
      ],
    },
  });
}

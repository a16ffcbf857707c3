/** Settings of the operator installation; the Helm chart's values.yaml has the same defaults. */
export interface InstallOptions {
  /** Namespace of the operator's own objects; default `streamcluster-system`. */
  namespace: string;
  /** Name of the Deployment, ServiceAccount, RBAC objects and Lease; default `streamcluster-operator`. */
  name: string;
  image: {
    /** Default `streamcluster`, the image the Dockerfile builds. */
    repository: string;
    /** Default the package version, `0.1.0`. */
    tag: string;
    /** Default `IfNotPresent`, so an image loaded into kind is used as is. */
    pullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  };
  /** Operator pods; one leads through the Lease and the others stand by. Default 1. */
  replicas: number;
  /** Compute resources of the operator container, as quantities. */
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  /**
   * Namespace whose StreamClusters are reconciled. Empty (the default) means all namespaces,
   * with a ClusterRole; otherwise the operator gets a Role in that namespace only.
   */
  watchNamespace: string;
  /** pino level of the operator's log; default `info`. */
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  metrics: {
    /** Whether the metrics Service exists; the port serves the health probes either way. */
    enabled: boolean;
    /** Port of /metrics, /healthz and /readyz; default 9090. */
    port: number;
  };
  /** Labels added to every object and to the operator pods. */
  labels: Record<string, string>;
}

/** Version of the operator image that this checkout builds. */
export const APP_VERSION = '0.1.0';

/** Defaults of every option; `dist/install.yaml` is rendered with exactly these. */
export const defaultInstallOptions: InstallOptions = {
  namespace: 'streamcluster-system',
  name: 'streamcluster-operator',
  image: { repository: 'streamcluster', tag: APP_VERSION, pullPolicy: 'IfNotPresent' },
  replicas: 1,
  resources: {
    requests: { cpu: '100m', memory: '128Mi' },
    limits: { memory: '256Mi' },
  },
  watchNamespace: '',
  logLevel: 'info',
  metrics: { enabled: true, port: 9090 },
  labels: {},
};

// The subset of Kubernetes core/v1 objects the agent reads. Field names follow the API.

/** Object metadata. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
}

/** Env var source, of which the agent resolves field, ConfigMap and Secret references. */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    secretKeyRef?: { name: string; key: string; optional?: boolean };
  };
}

/** An HTTP GET probe; other probe kinds count as passing. */
export interface Probe {
  httpGet?: { path?: string; port: number | string; scheme?: string };
  tcpSocket?: { port: number | string };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  successThreshold?: number;
}

/** A container of a pod spec. */
export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  envFrom?: {
    prefix?: string;
    configMapRef?: { name: string; optional?: boolean };
    secretRef?: { name: string; optional?: boolean };
  }[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: Probe;
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
}

/** A pod volume; the kinds the agent backs with folders. */
export interface Volume {
  name: string;
  persistentVolumeClaim?: { claimName: string };
  emptyDir?: object;
  configMap?: { name: string; optional?: boolean };
  secret?: { secretName: string; optional?: boolean };
}

/** A pod. */
export interface Pod {
  metadata: ObjectMeta;
  spec: {
    nodeName?: string;
    containers: Container[];
    volumes?: Volume[];
    restartPolicy?: 'Always' | 'OnFailure' | 'Never';
    terminationGracePeriodSeconds?: number;
    serviceAccountName?: string;
    hostname?: string;
    subdomain?: string;
  };
  status?: { phase?: string; podIP?: string };
}

/** A PersistentVolumeClaim. */
export interface PersistentVolumeClaim {
  metadata: ObjectMeta;
  spec: {
    storageClassName?: string;
    accessModes?: string[];
    resources?: { requests?: { storage?: string } };
    volumeName?: string;
  };
  status?: { phase?: string };
}

/** A ConfigMap or a Secret; Secret values are base64. */
export interface DataObject {
  metadata: ObjectMeta;
  data?: Record<string, string>;
}

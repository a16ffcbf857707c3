import type { Construct } from 'constructs';
import { k8s } from 'cdk8s-plus-27';
import * as kplus from 'cdk8s-plus-27';
import type { StreamCluster } from '../api/streamcluster.js';
import { serverEnv, modelVolume } from './server-env.js';
import { PORTS, childNames, commonLabels, selectorLabels } from './names.js';
import { toResources } from './resources.js';

/** Mount path of the index volume inside a server container. */
export const DATA_DIR = '/var/lib/streamcluster';

function indexClaimTemplate(stc: StreamCluster): k8s.KubePersistentVolumeClaimProps {
  const storage = stc.spec.servers.storage;
  return {
    metadata: { name: 'index', labels: commonLabels(stc, 'server') },
    spec: {
      accessModes: ['ReadWriteOnce'],
      storageClassName: storage.className,
      resources: { requests: { storage: k8s.Quantity.fromString(storage.size) } },
    },
  };
}

function serverContainer(stc: StreamCluster): k8s.Container {
  const model = modelVolume(stc);
  const http = k8s.IntOrString.fromString('http');
  return {
    name: 'server',
    image: stc.spec.image,
    // No command: the image's entry point is `streamcluster`, and this selects its subcommand.
    args: ['server'],
    env: serverEnv(stc),
    ports: [{ name: 'http', containerPort: PORTS.http }],
    readinessProbe: {
      httpGet: { path: '/readyz', port: http },
      periodSeconds: 5,
      failureThreshold: 2,
    },
    livenessProbe: {
      httpGet: { path: '/healthz', port: http },
      periodSeconds: 10,
      failureThreshold: 6,
    },
    resources: toResources(stc.spec.servers.resources),
    volumeMounts: [
      { name: 'index', mountPath: DATA_DIR },
      ...(model ? [{ name: 'model', mountPath: '/models', readOnly: true }] : []),
    ],
  };
}

/** Adds the server StatefulSet, with one index volume claim per server. */
export function addServerStatefulSet(scope: Construct, stc: StreamCluster): void {
  const names = childNames(stc.metadata.name);
  const model = modelVolume(stc);
  const { whenScaled, whenDeleted } = stc.spec.servers.storage;
  new k8s.KubeStatefulSet(scope, 'server', {
    metadata: { name: names.server, labels: commonLabels(stc, 'server') },
    spec: {
      replicas: stc.spec.servers.replicas,
      serviceName: names.serverHeadless,
      // Servers rebuild their index from the log, so they need no start order.
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: selectorLabels(stc, 'server') },
      persistentVolumeClaimRetentionPolicy: { whenScaled, whenDeleted },
      template: {
        metadata: { labels: commonLabels(stc, 'server') },
        spec: {
          // The image runs as UID and GID 1000. fsGroup gives that group the index volume, because
          // many provisioners create its root directory owned by root.
          securityContext: { fsGroup: 1000, fsGroupChangePolicy: 'OnRootMismatch' },
          containers: [serverContainer(stc)],
          terminationGracePeriodSeconds: 60,
          volumes: model ? [model] : undefined,
        },
      },
      volumeClaimTemplates: [indexClaimTemplate(stc)],
    },
  });
}

/** Adds the headless Service that gives servers stable names, and the client Service. */
export function addServerServices(scope: Construct, stc: StreamCluster): void {
  const names = childNames(stc.metadata.name);
  const ports = [{ name: 'http', port: PORTS.http, targetPort: PORTS.http }];
  const headless = new kplus.Service(scope, 'server-headless', {
    metadata: { name: names.serverHeadless, labels: commonLabels(stc, 'server') },
    clusterIP: 'None',
    ports,
  });
  const client = new kplus.Service(scope, 'server-client', {
    metadata: { name: names.server, labels: commonLabels(stc, 'server') },
    ports,
  });
  for (const service of [headless, client]) {
    for (const [key, value] of Object.entries(selectorLabels(stc, 'server'))) {
      service.selectLabel(key, value);
    }
  }
}

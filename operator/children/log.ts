import type { Construct } from 'constructs';
import { ApiObject, JsonPatch } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import * as kplus from 'cdk8s-plus-27';
import type { StreamCluster } from '../api/streamcluster.js';
import { PORTS, childNames, commonLabels, selectorLabels } from './names.js';
import { toResources } from './resources.js';

/** Arguments of nats-server: JetStream on, bound to the pod IP, routes to every peer. */
function natsArgs(stc: StreamCluster): string[] {
  const names = childNames(stc.metadata.name);
  const replicas = stc.spec.log.managed.replicas;
  const args = [
    '--jetstream',
    '--store_dir=/data',
    '--addr=$(POD_IP)',
    `--port=${PORTS.natsClient}`,
    `--http_port=${PORTS.natsMonitor}`,
    '--server_name=$(POD_NAME)',
  ];
  if (replicas < 2) return args;

  const domain = `${names.logHeadless}.${stc.metadata.namespace}.svc`;
  const routes = Array.from(
    { length: replicas },
    (_, ordinal) => `nats://${names.log}-${ordinal}.${domain}:${PORTS.natsCluster}`,
  );
  return [
    ...args,
    `--cluster_name=${names.log}`,
    `--cluster=nats://$(POD_IP):${PORTS.natsCluster}`,
    `--routes=${routes.join(',')}`,
  ];
}

function natsContainer(stc: StreamCluster): k8s.Container {
  const managed = stc.spec.log.managed;
  return {
    name: 'nats',
    image: managed.image,
    args: natsArgs(stc),
    env: [
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
    ],
    ports: [
      { name: 'client', containerPort: PORTS.natsClient },
      { name: 'cluster', containerPort: PORTS.natsCluster },
      { name: 'monitor', containerPort: PORTS.natsMonitor },
    ],
    readinessProbe: {
      httpGet: {
        path: '/healthz?js-enabled-only=true',
        port: k8s.IntOrString.fromString('monitor'),
      },
      periodSeconds: 5,
    },
    livenessProbe: {
      tcpSocket: { port: k8s.IntOrString.fromString('client') },
      periodSeconds: 10,
      failureThreshold: 6,
    },
    resources: toResources(managed.resources),
    volumeMounts: [{ name: 'data', mountPath: '/data' }],
  };
}

function addLogStatefulSet(scope: Construct, stc: StreamCluster): void {
  const names = childNames(stc.metadata.name);
  const managed = stc.spec.log.managed;
  new k8s.KubeStatefulSet(scope, 'log', {
    metadata: { name: names.log, labels: commonLabels(stc, 'log') },
    spec: {
      replicas: managed.replicas,
      serviceName: names.logHeadless,
      // Peers must find each other to form the JetStream quorum, so all start together.
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: selectorLabels(stc, 'log') },
      template: {
        metadata: { labels: commonLabels(stc, 'log') },
        spec: { containers: [natsContainer(stc)], terminationGracePeriodSeconds: 60 },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'data', labels: commonLabels(stc, 'log') },
          spec: {
            accessModes: ['ReadWriteOnce'],
            storageClassName: managed.storageClassName,
            resources: { requests: { storage: k8s.Quantity.fromString(managed.storageSize) } },
          },
        },
      ],
    },
  });
}

function addLogServices(scope: Construct, stc: StreamCluster): void {
  const names = childNames(stc.metadata.name);
  const client = new kplus.Service(scope, 'log-client', {
    metadata: { name: names.log, labels: commonLabels(stc, 'log') },
    ports: [{ name: 'client', port: PORTS.natsClient, targetPort: PORTS.natsClient }],
  });
  const headless = new kplus.Service(scope, 'log-headless', {
    metadata: { name: names.logHeadless, labels: commonLabels(stc, 'log') },
    clusterIP: 'None',
    ports: [
      { name: 'client', port: PORTS.natsClient, targetPort: PORTS.natsClient },
      { name: 'cluster', port: PORTS.natsCluster, targetPort: PORTS.natsCluster },
      { name: 'monitor', port: PORTS.natsMonitor, targetPort: PORTS.natsMonitor },
    ],
  });
  // Routes resolve peers by name before they are ready, or the quorum could never form.
  ApiObject.of(headless).addJsonPatch(JsonPatch.add('/spec/publishNotReadyAddresses', true));
  for (const service of [client, headless]) {
    for (const [key, value] of Object.entries(selectorLabels(stc, 'log'))) {
      service.selectLabel(key, value);
    }
  }
}

/** Adds the managed NATS JetStream StatefulSet and its Services, when the spec asks for them. */
export function addManagedLog(scope: Construct, stc: StreamCluster): void {
  if (stc.spec.log.mode !== 'managed') return;
  addLogStatefulSet(scope, stc);
  addLogServices(scope, stc);
}

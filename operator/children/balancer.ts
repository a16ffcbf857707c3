import type { Construct } from 'constructs';
import { ApiObject, Duration, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { StreamCluster } from '../api/streamcluster.js';
import { BALANCER_CONFIG_FILE, balancerConfig } from './balancer-config.js';
import { toResources } from './resources.js';
import { PORTS, childNames, commonLabels, selectorLabels } from './names.js';

/** Folder of the mounted balancer ConfigMap. */
const CONFIG_DIR = '/etc/streamcluster/balancer';

function addConfigMap(scope: Construct, stc: StreamCluster): kplus.ConfigMap {
  const names = childNames(stc.metadata.name);
  return new kplus.ConfigMap(scope, 'balancer-config', {
    metadata: { name: names.balancerConfig, labels: commonLabels(stc, 'balancer') },
    data: { [BALANCER_CONFIG_FILE]: JSON.stringify(balancerConfig(stc), null, 2) + '\n' },
  });
}

function addAccess(scope: Construct, stc: StreamCluster): kplus.ServiceAccount {
  const names = childNames(stc.metadata.name);
  const metadata = { name: names.balancer, labels: commonLabels(stc, 'balancer') };
  const account = new kplus.ServiceAccount(scope, 'balancer-account', {
    metadata,
    automountToken: true,
  });
  const role = new kplus.Role(scope, 'balancer-role', { metadata });
  const endpointSlices = kplus.ApiResource.custom({
    apiGroup: 'discovery.k8s.io',
    resourceType: 'endpointslices',
  });
  role.allow(['get', 'list', 'watch'], endpointSlices);
  const binding = new kplus.RoleBinding(scope, 'balancer-binding', { metadata, role });
  binding.addSubjects(account);
  return account;
}

/**
 * Builds the variable of the token the balancer sends with its shed requests, from
 * `spec.auth.tokenSecretRef`. STREAMCLUSTER_BALANCER_WEB_TOKEN stays unset, because this
 * balancer serves no web page and the balancer rejects a web token without `--web-root`.
 */
function serverTokenEnv(scope: Construct, stc: StreamCluster): Record<string, kplus.EnvValue> {
  const ref = stc.spec.auth?.tokenSecretRef;
  if (!ref) return {};
  const secret = kplus.Secret.fromSecretName(scope, 'auth-token-secret', ref.name);
  const value = kplus.EnvValue.fromSecretValue({ secret, key: ref.key });
  return { STREAMCLUSTER_BALANCER_SERVER_TOKEN: value };
}

function addDeployment(
  scope: Construct,
  stc: StreamCluster,
  account: kplus.ServiceAccount,
  config: kplus.ConfigMap,
): void {
  const spec = stc.spec.balancer;
  const configVolume = kplus.Volume.fromConfigMap(scope, 'balancer-config-volume', config);
  const deployment = new kplus.Deployment(scope, 'balancer', {
    metadata: {
      name: childNames(stc.metadata.name).balancer,
      labels: commonLabels(stc, 'balancer'),
    },
    replicas: spec.replicas,
    select: false,
    podMetadata: { labels: commonLabels(stc, 'balancer') },
    serviceAccount: account,
    automountServiceAccountToken: true,
    // Open WebSockets get the drain time to finish before the pod is killed.
    terminationGracePeriod: Duration.seconds(spec.drainSeconds + 10),
    securityContext: { ensureNonRoot: true },
    containers: [
      {
        name: 'balancer',
        image: stc.spec.image,
        imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
        args: ['balancer', '--config', `${CONFIG_DIR}/${BALANCER_CONFIG_FILE}`],
        envVariables: {
          STREAMCLUSTER_BALANCER_HOST: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_IP),
          STREAMCLUSTER_BALANCER_PORT: kplus.EnvValue.fromValue(String(PORTS.http)),
          STREAMCLUSTER_BALANCER_ADMIN_PORT: kplus.EnvValue.fromValue(String(PORTS.balancerAdmin)),
          ...serverTokenEnv(scope, stc),
        },
        ports: [
          { name: 'http', number: PORTS.http },
          { name: 'admin', number: PORTS.balancerAdmin },
        ],
        readiness: kplus.Probe.fromHttpGet('/readyz', { port: PORTS.balancerAdmin }),
        liveness: kplus.Probe.fromHttpGet('/healthz', { port: PORTS.balancerAdmin }),
        // Empty, so cdk8s-plus adds no default requests; spec resources are patched in below.
        resources: {},
        securityContext: { ensureNonRoot: true, readOnlyRootFilesystem: true },
        volumeMounts: [{ path: CONFIG_DIR, volume: configVolume, readOnly: true }],
      },
    ],
  });
  deployment.select(kplus.LabelSelector.of({ labels: selectorLabels(stc, 'balancer') }));
  // The generated Deployment serializer reads quantities as Quantity objects, hence toResources.
  const resources = toResources(spec.resources);
  if (resources) {
    ApiObject.of(deployment).addJsonPatch(
      JsonPatch.add('/spec/template/spec/containers/0/resources', resources),
    );
  }
}

/** Adds the balancer: ConfigMap, access to EndpointSlices, Deployment and Service. */
export function addBalancer(scope: Construct, stc: StreamCluster): void {
  const config = addConfigMap(scope, stc);
  const account = addAccess(scope, stc);
  addDeployment(scope, stc, account, config);
  const service = new kplus.Service(scope, 'balancer-service', {
    metadata: {
      name: childNames(stc.metadata.name).balancer,
      labels: commonLabels(stc, 'balancer'),
    },
    ports: [{ name: 'http', port: PORTS.http, targetPort: PORTS.http }],
  });
  for (const [key, value] of Object.entries(selectorLabels(stc, 'balancer'))) {
    service.selectLabel(key, value);
  }
}

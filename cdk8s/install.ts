import { ApiObject, App, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import type { Construct } from 'constructs';
import { buildCrd } from '../operator/api/crd.js';
import type { KubeObject } from '../operator/children/index.js';
import { defaultInstallOptions, type InstallOptions } from './options.js';
import { addOperatorDeployment, addMetricsService } from './operator.js';
import { leaderElectionRules, operatorRules } from './rbac.js';

/** Labels of every object of the installation, the user's extra labels last. */
export function installLabels(options: InstallOptions): Record<string, string> {
  return {
    ...selectorLabels(options),
    'app.kubernetes.io/version': options.image.tag,
    'app.kubernetes.io/component': 'operator',
    'app.kubernetes.io/part-of': 'streamcluster',
    ...options.labels,
  };
}

/** Labels that select the operator pods; they never change after installation. */
export function selectorLabels(options: InstallOptions): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'streamcluster-operator',
    'app.kubernetes.io/instance': options.name,
  };
}

function addNamespace(scope: Construct, options: InstallOptions): void {
  new k8s.KubeNamespace(scope, 'namespace', {
    metadata: {
      name: options.namespace,
      // The operator pod meets the restricted Pod Security Standard; enforce it.
      labels: { ...installLabels(options), 'pod-security.kubernetes.io/enforce': 'restricted' },
    },
  });
}

/**
 * Grants the operator its rules: cluster-wide when it watches every namespace, else a Role in
 * the watched namespace. Leader election always gets a Role in the operator's namespace.
 */
function addAccess(scope: Construct, options: InstallOptions): void {
  const { name, namespace } = options;
  const labels = installLabels(options);
  const subjects = [{ kind: 'ServiceAccount', name, namespace }];
  new k8s.KubeServiceAccount(scope, 'service-account', {
    metadata: { name, namespace, labels },
    automountServiceAccountToken: true,
  });

  if (options.watchNamespace === '') {
    new k8s.KubeClusterRole(scope, 'cluster-role', {
      metadata: { name, labels },
      rules: operatorRules(),
    });
    new k8s.KubeClusterRoleBinding(scope, 'cluster-role-binding', {
      metadata: { name, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects,
    });
  } else {
    const metadata = { name, namespace: options.watchNamespace, labels };
    new k8s.KubeRole(scope, 'role', { metadata, rules: operatorRules() });
    new k8s.KubeRoleBinding(scope, 'role-binding', {
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects,
    });
  }

  const leaderElection = { name: `${name}-leader-election`, namespace, labels };
  new k8s.KubeRole(scope, 'leader-election-role', {
    metadata: leaderElection,
    rules: leaderElectionRules(name),
  });
  new k8s.KubeRoleBinding(scope, 'leader-election-role-binding', {
    metadata: leaderElection,
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: leaderElection.name },
    subjects,
  });
}

/**
 * Builds every object of the operator installation: the StreamCluster CRD (from the same
 * source as crds/), the namespace, the service account and its RBAC, the operator Deployment
 * and its metrics Service. Synthesised in memory with cdk8s.
 */
export function buildInstallation(options: InstallOptions = defaultInstallOptions): KubeObject[] {
  const chart = new Chart(new App(), 'streamcluster-operator', {
    disableResourceNameHashes: true,
  });
  new ApiObject(chart, 'crd', buildCrd() as ConstructorParameters<typeof ApiObject>[2]);
  addNamespace(chart, options);
  addAccess(chart, options);
  addOperatorDeployment(chart, options, installLabels(options), selectorLabels(options));
  if (options.metrics.enabled) {
    addMetricsService(chart, options, installLabels(options), selectorLabels(options));
  }
  return chart.toJson() as KubeObject[];
}

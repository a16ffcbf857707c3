import type { Construct } from 'constructs';
import { k8s } from 'cdk8s-plus-27';
import type { StreamCluster } from '../api/streamcluster.js';
import { childNames, commonLabels, selectorLabels, type Component } from './names.js';

function addBudget(scope: Construct, stc: StreamCluster, component: Component, name: string) {
  new k8s.KubePodDisruptionBudget(scope, `${component}-budget`, {
    metadata: { name, labels: commonLabels(stc, component) },
    spec: {
      maxUnavailable: k8s.IntOrString.fromNumber(1),
      selector: { matchLabels: selectorLabels(stc, component) },
    },
  });
}

/**
 * Adds PodDisruptionBudgets that let voluntary evictions (node drains) take one pod of a
 * component at a time, so servers keep serving and a NATS quorum survives.
 */
export function addDisruptionBudgets(scope: Construct, stc: StreamCluster): void {
  const names = childNames(stc.metadata.name);
  addBudget(scope, stc, 'server', names.server);
  addBudget(scope, stc, 'balancer', names.balancer);
  if (stc.spec.log.mode === 'managed') addBudget(scope, stc, 'log', names.log);
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StreamCluster } from '../api/streamcluster.js';
import { loadSample } from '../testing/samples.js';
import type { Observation, WorkloadState } from './observe.js';
import { computeStatus } from './status.js';

const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-01-01T00:05:00Z');

function workload(replicas: number, ready: number, overrides: Partial<WorkloadState> = {}) {
  return {
    generation: 1,
    observedGeneration: 1,
    replicas,
    currentReplicas: replicas,
    readyReplicas: ready,
    updatedReplicas: replicas,
    availableReplicas: ready,
    revisionsMatch: true,
    ...overrides,
  };
}

function observed(overrides: Partial<Observation> = {}): Observation {
  return {
    servers: workload(2, 2),
    balancer: workload(1, 1),
    log: workload(1, 1),
    stats: new Map(),
    readyServerPods: 0,
    ...overrides,
  };
}

function demo(): StreamCluster {
  const stc = loadSample('demo');
  stc.metadata.generation = 3;
  return stc;
}

function condition(status: ReturnType<typeof computeStatus>, type: string) {
  const found = status.conditions?.find((c) => c.type === type);
  assert.ok(found, `condition ${type} missing`);
  return found;
}

describe('computeStatus', () => {
  it('ready cluster reports AllComponentsReady', () => {
    const status = computeStatus(demo(), observed(), t0);
    assert.equal(condition(status, 'Ready').status, 'True');
    assert.equal(condition(status, 'Ready').reason, 'AllComponentsReady');
    assert.equal(condition(status, 'Progressing').status, 'False');
    assert.equal(condition(status, 'Degraded').status, 'False');
    assert.equal(status.observedGeneration, 3);
    assert.equal(condition(status, 'Ready').observedGeneration, 3);
    assert.equal(status.readyReplicas, 2);
    assert.equal(
      status.selector,
      'app.kubernetes.io/component=server,app.kubernetes.io/instance=demo,app.kubernetes.io/name=streamcluster',
    );
  });

  it('same observation gives an equal status later', () => {
    const stc = demo();
    stc.status = computeStatus(stc, observed(), t0);
    assert.deepEqual(computeStatus(stc, observed(), t1), stc.status);
  });

  it('transition time moves only on a status change', () => {
    const stc = demo();
    stc.status = computeStatus(stc, observed({ servers: workload(2, 1) }), t0);
    const next = computeStatus(stc, observed(), t1);
    assert.equal(condition(next, 'Ready').lastTransitionTime, '2026-01-01T00:05:00Z');
    assert.equal(condition(next, 'Progressing').lastTransitionTime, '2026-01-01T00:00:00Z');
  });

  it('missing StatefulSet is Creating', () => {
    const status = computeStatus(demo(), observed({ servers: undefined }), t0);
    assert.equal(condition(status, 'Progressing').reason, 'Creating');
    assert.equal(condition(status, 'Ready').reason, 'ServersNotReady');
    assert.equal(condition(status, 'Ready').message, '0 of 2 servers are ready.');
  });

  it('fewer pods than wanted is ScalingUp', () => {
    const stc = demo();
    stc.spec.servers.replicas = 4;
    const status = computeStatus(
      stc,
      observed({ servers: workload(4, 2, { currentReplicas: 2 }) }),
      t0,
    );
    assert.equal(condition(status, 'Progressing').reason, 'ScalingUp');
    assert.equal(condition(status, 'Degraded').status, 'False');
  });

  it('old revision is RollingOut', () => {
    const servers = workload(2, 2, { updatedReplicas: 1, revisionsMatch: false });
    const status = computeStatus(demo(), observed({ servers }), t0);
    assert.equal(condition(status, 'Progressing').reason, 'RollingOut');
  });

  it('unready servers outside a rollout are Degraded', () => {
    const status = computeStatus(demo(), observed({ servers: workload(2, 1) }), t0);
    assert.equal(condition(status, 'Degraded').reason, 'ServersUnavailable');
    assert.equal(condition(status, 'Ready').status, 'False');
  });

  it('apply error is Degraded ApplyFailed', () => {
    const status = computeStatus(demo(), observed({ applyError: 'quota exceeded' }), t0);
    assert.equal(condition(status, 'Degraded').reason, 'ApplyFailed');
    assert.match(condition(status, 'Degraded').message, /quota exceeded/);
  });

  it('log without a majority is not ready', () => {
    const stc = demo();
    stc.spec.log.managed.replicas = 3;
    const status = computeStatus(stc, observed({ log: workload(3, 1) }), t0);
    assert.equal(status.log?.healthy, false);
    assert.equal(condition(status, 'Ready').reason, 'LogNotReady');
  });

  it('external log counts as healthy', () => {
    const stc = loadSample('external');
    const status = computeStatus(stc, observed({ log: undefined }), t0);
    assert.deepEqual(status.log, { mode: 'external', healthy: true });
  });

  it('balancer without ready pods is BalancerNotReady', () => {
    const status = computeStatus(demo(), observed({ balancer: workload(1, 0) }), t0);
    assert.equal(condition(status, 'Ready').reason, 'BalancerNotReady');
  });

  it('sums connections and takes the largest index', () => {
    const stats = new Map([
      [
        'demo-server-0',
        {
          connections: 5,
          inflightIngests: 0,
          eventLoopUtilization: 0.1,
          workerUtilization: 0,
          draining: false,
          documents: 3,
          chunks: 40,
        },
      ],
      [
        'demo-server-1',
        {
          connections: 7,
          inflightIngests: 1,
          eventLoopUtilization: 0.2,
          workerUtilization: 0,
          draining: false,
          documents: 2,
          chunks: 31,
        },
      ],
    ]);
    const status = computeStatus(demo(), observed({ stats, readyServerPods: 2 }), t0);
    assert.equal(status.connections, 12);
    assert.equal(status.documents, 3);
    assert.equal(status.chunks, 40);
  });

  it('keeps figures while stats are unreachable', () => {
    const stc = demo();
    stc.status = { connections: 9, documents: 4, chunks: 50 };
    const status = computeStatus(stc, observed({ readyServerPods: 2 }), t0);
    assert.equal(status.connections, 9);
    assert.equal(status.documents, 4);
  });

  it('scaled to zero is not ready', () => {
    const stc = demo();
    stc.spec.servers.replicas = 0;
    const status = computeStatus(stc, observed({ servers: workload(0, 0) }), t0);
    assert.equal(condition(status, 'Ready').reason, 'ScaledToZero');
  });
});

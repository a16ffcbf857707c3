import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { silentLogger } from '../../server/core/logger.js';
import type { ServerReading } from '../autoscaling/index.js';
import { loadSample } from '../testing/samples.js';
import type { EventRecorder } from './events.js';
import { ScaleIn, type ScaleInInput } from './scale-in.js';
import type { ServerRequests, ShedRequest } from './server-requests.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

/** Records requests and events instead of sending them. */
function harness() {
  const clock = { nowMs: T0 };
  const requests: string[] = [];
  const tokens: (string | undefined)[] = [];
  const sheds: (ShedRequest & { pod: string })[] = [];
  const events: { type: string; reason: string; message: string }[] = [];
  const serverRequests: ServerRequests = {
    setDraining: async (target, draining, token) => {
      requests.push(`${draining ? 'POST' : 'DELETE'} /draining ${target.podName}`);
      tokens.push(token);
    },
    shed: async (target, request, token) => {
      sheds.push({ ...request, pod: target.podName });
      tokens.push(token);
      return request.connections;
    },
  };
  const recorder = {
    record: async (_stc: unknown, type: string, reason: string, message: string) => {
      events.push({ type, reason, message });
    },
  } as unknown as EventRecorder;
  const scaleIn = new ScaleIn({
    events: recorder,
    logger: silentLogger,
    requests: serverRequests,
    nowMs: () => clock.nowMs,
  });
  return { clock, requests, tokens, sheds, events, scaleIn };
}

function pod(ordinal: number, ready = true): V1Pod {
  return {
    metadata: { name: `demo-server-${ordinal}` },
    status: {
      phase: 'Running',
      podIP: `10.244.0.${ordinal + 10}`,
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  };
}

function reading(ordinal: number, connections: number, draining = false): ServerReading {
  return {
    podName: `demo-server-${ordinal}`,
    sample: {
      connections,
      eventLoopUtilization: 0.1,
      workerUtilization: 0,
      inflightIngests: 0,
      draining,
      documents: 0,
      chunks: 0,
      sampledAtMs: T0,
    },
  };
}

function input(
  desiredReplicas: number,
  currentReplicas: number,
  connections: number[],
  draining: number[] = [],
): ScaleInInput {
  const stc = loadSample('demo');
  stc.spec.servers.scaleIn = { drainTimeoutSeconds: 60, drainSpreadSeconds: 10 };
  return {
    stc,
    desiredReplicas,
    currentReplicas,
    pods: connections.map((_count, ordinal) => pod(ordinal)),
    readings: new Map(
      connections.map((count, ordinal) => [
        `demo-server-${ordinal}`,
        reading(ordinal, count, draining.includes(ordinal)),
      ]),
    ),
  };
}

describe('ScaleIn', () => {
  it('follows a scale-up at once', async () => {
    const { scaleIn, requests } = harness();
    const step = await scaleIn.reconcileScaleIn(input(4, 2, [3, 3]));
    assert.equal(step.replicas, 4);
    assert.equal(step.progress, undefined);
    assert.deepEqual(requests, []);
  });

  it('keeps servers that still hold connections', async () => {
    const { scaleIn, requests, events } = harness();
    const step = await scaleIn.reconcileScaleIn(input(2, 4, [3, 3, 5, 0]));
    assert.equal(step.replicas, 4);
    assert.deepEqual(step.progress, {
      fromReplicas: 4,
      toReplicas: 2,
      pendingServers: ['demo-server-2'],
      connections: 5,
    });
    assert.equal(step.nextStepInMs, 1000);
    assert.deepEqual(requests, ['POST /draining demo-server-2', 'POST /draining demo-server-3']);
    assert.equal(events[0]?.reason, 'DrainingServers');
    assert.match(events[0]?.message ?? '', /^Draining demo-server-2 and demo-server-3 before/);
  });

  it('spreads the closes after the shed delay', async () => {
    const { scaleIn, clock, sheds } = harness();
    await scaleIn.reconcileScaleIn(input(1, 2, [3, 20]));
    assert.equal(sheds.length, 0, 'no closes before the balancer saw the drain');

    clock.nowMs = T0 + 5000;
    await scaleIn.reconcileScaleIn(input(1, 2, [3, 20]));
    assert.deepEqual(sheds.at(-1), {
      pod: 'demo-server-1',
      connections: 2,
      spreadMs: 1000,
      reconnectDelayMs: 1000,
    });

    clock.nowMs = T0 + 10_000;
    await scaleIn.reconcileScaleIn(input(1, 2, [3, 10]));
    assert.equal(sheds.at(-1)?.connections, 2, 'a fifth of 10 with 5 s of spread left');

    clock.nowMs = T0 + 30_000;
    await scaleIn.reconcileScaleIn(input(1, 2, [3, 4]));
    assert.equal(sheds.at(-1)?.connections, 4, 'everything once the spread is over');
  });

  it('shrinks once connections reach zero', async () => {
    const { scaleIn, clock, events } = harness();
    await scaleIn.reconcileScaleIn(input(1, 2, [3, 2]));
    clock.nowMs = T0 + 8000;
    const step = await scaleIn.reconcileScaleIn(input(1, 2, [5, 0], [1]));
    assert.equal(step.replicas, 1);
    assert.equal(step.progress, undefined);
    assert.equal(events.at(-1)?.reason, 'DrainedServers');
    assert.equal(events.at(-1)?.type, 'Normal');

    const again = await scaleIn.reconcileScaleIn(input(1, 2, [5, 0], [1]));
    assert.equal(again.replicas, 1, 'a stale cache does not start the same drain again');
    assert.equal(events.filter((event) => event.reason === 'DrainingServers').length, 1);
  });

  it('forces removal after the timeout', async () => {
    const { scaleIn, clock, events } = harness();
    await scaleIn.reconcileScaleIn(input(1, 2, [3, 7]));
    clock.nowMs = T0 + 60_000;
    const step = await scaleIn.reconcileScaleIn(input(1, 2, [3, 7], [1]));
    assert.equal(step.replicas, 1);
    const forced = events.at(-1);
    assert.equal(forced?.type, 'Warning');
    assert.equal(forced?.reason, 'ForcedScaleIn');
    assert.match(forced?.message ?? '', /^Removing demo-server-1 with 7 open connections because/);
  });

  it('waits for a server it cannot read', async () => {
    const { scaleIn } = harness();
    const unreadable = input(1, 2, [3, 0]);
    unreadable.readings.set('demo-server-1', {
      podName: 'demo-server-1',
      error: 'GET /stats timed out after 2000 ms',
    });
    const step = await scaleIn.reconcileScaleIn(unreadable);
    assert.equal(step.replicas, 2);
    assert.deepEqual(step.progress?.pendingServers, ['demo-server-1']);
  });

  it('counts a stopped server as drained', async () => {
    const { scaleIn } = harness();
    const stopped = input(1, 2, [3, 9]);
    stopped.pods[1] = { metadata: { name: 'demo-server-1' }, status: { phase: 'Failed' } };
    const step = await scaleIn.reconcileScaleIn(stopped);
    assert.equal(step.replicas, 1);
  });

  it('stops draining servers that stay', async () => {
    const { scaleIn, requests } = harness();
    await scaleIn.reconcileScaleIn(input(1, 3, [3, 4, 4]));
    requests.length = 0;
    const step = await scaleIn.reconcileScaleIn(input(3, 3, [3, 4, 4], [1, 2]));
    assert.equal(step.replicas, 3);
    assert.deepEqual(requests, [
      'DELETE /draining demo-server-1',
      'DELETE /draining demo-server-2',
    ]);
  });

  it('sends the token on drain requests', async () => {
    const { scaleIn, clock, tokens } = harness();
    const withToken = input(1, 2, [3, 7]);
    withToken.serverToken = { state: 'found', token: 'admin-token' };
    await scaleIn.reconcileScaleIn(withToken);
    clock.nowMs = T0 + 6000;
    await scaleIn.reconcileScaleIn({ ...withToken });
    assert.ok(tokens.length >= 2, `a mark and a shed were sent: ${tokens.length}`);
    for (const token of tokens) assert.equal(token, 'admin-token');
  });

  it('holds the count without the token', async () => {
    const { scaleIn, clock, requests, sheds, events } = harness();
    const missing = input(1, 2, [3, 7]);
    missing.serverToken = {
      state: 'unavailable',
      reason: 'AuthSecretNotFound',
      message: 'Secret default/stream-auth of spec.auth.tokenSecretRef is not found.',
    };
    const step = await scaleIn.reconcileScaleIn(missing);
    assert.equal(step.replicas, 2);
    assert.equal(step.progress, undefined);
    assert.deepEqual(requests, []);
    assert.deepEqual(sheds, []);
    const blocked = events.at(-1);
    assert.equal(blocked?.type, 'Warning');
    assert.equal(blocked?.reason, 'ScaleInBlocked');
    assert.match(blocked?.message ?? '', /^Not scaling in from 2 to 1 servers/);
    assert.match(blocked?.message ?? '', /stream-auth .* is not found/);

    // Past the drain timeout the servers are still kept, because none was drained.
    clock.nowMs = T0 + 120_000;
    const later = await scaleIn.reconcileScaleIn(missing);
    assert.equal(later.replicas, 2);
    assert.equal(events.filter((event) => event.reason === 'ForcedScaleIn').length, 0);
  });

  it('follows a scale-up without the token', async () => {
    const { scaleIn, requests } = harness();
    const missing = input(3, 2, [3, 7]);
    missing.serverToken = { state: 'unavailable', reason: 'AuthSecretKeyMissing', message: 'm' };
    const step = await scaleIn.reconcileScaleIn(missing);
    assert.equal(step.replicas, 3);
    assert.deepEqual(requests, []);
  });
});

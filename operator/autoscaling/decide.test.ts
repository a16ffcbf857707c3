import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ValidationError } from '../../server/core/errors.js';
import { decide, type DecideInput, type Decision } from './decide.js';
import type { LimitedBy } from './normalize.js';
import type { ServerReading } from './readings.js';
import { resolveAutoscalingSpec, type AutoscalingSpecInput } from './spec.js';
import { initialAutoscalerState, type AutoscalerState } from './state.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const SECOND = 1000;

interface ServerLoad {
  connections?: number;
  elu?: number;
  workers?: number;
  inflight?: number;
  draining?: boolean;
  ageMs?: number;
}

function server(index: number, load: ServerLoad, nowMs = T0): ServerReading {
  return {
    podName: `demo-server-${index}`,
    sample: {
      connections: load.connections ?? 0,
      eventLoopUtilization: load.elu ?? 0.1,
      workerUtilization: load.workers ?? 0,
      inflightIngests: load.inflight ?? 0,
      draining: load.draining ?? false,
      documents: 0,
      chunks: 0,
      sampledAtMs: nowMs - (load.ageMs ?? 0),
    },
  };
}

function servers(count: number, load: ServerLoad, nowMs = T0): ServerReading[] {
  return Array.from({ length: count }, (_, index) => server(index, load, nowMs));
}

function unanswered(index: number): ServerReading {
  return { podName: `demo-server-${index}`, error: 'GET /stats timed out after 2000 ms' };
}

function enabled(overrides: AutoscalingSpecInput = {}) {
  return resolveAutoscalingSpec({ enabled: true, ...overrides });
}

/** State of an autoscaler that set `replicas` long ago and has nothing in its windows. */
function settled(replicas: number, extra: Partial<AutoscalerState> = {}): AutoscalerState {
  return { ...initialAutoscalerState(), lastDesiredReplicas: replicas, ...extra };
}

function run(input: Partial<DecideInput> & { currentReplicas: number }): Decision {
  const readings = input.readings ?? [];
  return decide({
    nowMs: T0,
    readyReplicas: readings.length,
    readings,
    spec: enabled(),
    state: settled(input.currentReplicas),
    ...input,
  });
}

interface Case {
  name: string;
  input: Partial<DecideInput> & { currentReplicas: number };
  desired: number;
  limitedBy?: LimitedBy;
  reason?: RegExp;
}

function checkCases(cases: Case[]): void {
  for (const testCase of cases) {
    it(testCase.name, () => {
      const decision = run(testCase.input);
      assert.equal(decision.desiredReplicas, testCase.desired, decision.reason);
      assert.equal(decision.limitedBy, testCase.limitedBy, decision.reason);
      if (testCase.reason) assert.match(decision.reason, testCase.reason);
    });
  }
}

describe('decide: tolerance and metrics', () => {
  checkCases([
    {
      name: 'keeps the count within the tolerance above target',
      input: { currentReplicas: 3, readings: servers(3, { connections: 327 }) },
      desired: 3,
      reason:
        /^kept 3 servers: connections 981 \(327 per server\) over target 300 per server, within tolerance 0.1$/,
    },
    {
      name: 'scales up just past the tolerance',
      input: { currentReplicas: 3, readings: servers(3, { connections: 334 }) },
      desired: 4,
    },
    {
      name: 'keeps the count within the tolerance below target',
      input: { currentReplicas: 3, readings: servers(3, { connections: 275 }) },
      desired: 3,
    },
    {
      name: 'scales down past the tolerance',
      input: { currentReplicas: 3, readings: servers(3, { connections: 160 }) },
      desired: 2,
      reason: /^scaled from 3 to 2: all metrics below target: connections 480/,
    },
    {
      name: 'scales up on connections with the sentence for Events',
      input: { currentReplicas: 3, readings: servers(3, { connections: 600 }) },
      desired: 6,
      reason:
        /^scaled from 3 to 6: connections 1800 \(600 per server\) over target 300 per server$/,
    },
    {
      name: 'scales up on event-loop utilization alone',
      input: { currentReplicas: 3, readings: servers(3, { connections: 100, elu: 0.95 }) },
      desired: 5,
      reason: /^scaled from 3 to 5: utilization 0.95 over target 0.70$/,
    },
    {
      name: 'scales up on busy embedding workers while the event loop idles',
      input: {
        currentReplicas: 2,
        readings: servers(2, { connections: 1, elu: 0.05, workers: 0.98 }),
      },
      desired: 3,
      reason: /^scaled from 2 to 3: utilization 0.98 over target 0.70$/,
    },
    {
      name: 'takes the larger count when both metrics are over',
      input: { currentReplicas: 4, readings: servers(4, { connections: 500, elu: 0.9 }) },
      desired: 7,
      reason:
        /^scaled from 4 to 7: connections 2000 \(500 per server\) over target 300 per server$/,
    },
    {
      name: 'takes the larger count when both metrics are below',
      input: { currentReplicas: 4, readings: servers(4, { connections: 75, elu: 0.5 }) },
      desired: 3,
    },
    {
      name: 'keeps the count when rounding up gives it',
      input: { currentReplicas: 4, readings: servers(4, { connections: 60, elu: 0.56 }) },
      desired: 4,
      reason: /^kept 4 servers: no metric asks for a different count: connections 240/,
    },
    {
      name: 'honours a custom tolerance',
      input: {
        currentReplicas: 4,
        readings: servers(4, { connections: 360 }),
        spec: enabled({ tolerance: 0.25 }),
      },
      desired: 4,
    },
    {
      name: 'adds the load of draining servers to the rest',
      input: {
        currentReplicas: 2,
        readings: [
          ...servers(2, { connections: 300 }),
          server(2, { connections: 300, draining: true }),
        ],
      },
      desired: 3,
    },
    {
      name: 'ignores in-flight ingests when deciding',
      input: { currentReplicas: 2, readings: servers(2, { connections: 300, inflight: 40 }) },
      desired: 2,
    },
  ]);
});

describe('decide: bounds', () => {
  checkCases([
    {
      name: 'caps a scale-up at maxReplicas',
      input: {
        currentReplicas: 3,
        readings: servers(3, { connections: 1000 }),
        spec: enabled({ maxReplicas: 5 }),
      },
      desired: 5,
      limitedBy: 'maxReplicas',
      reason: /capped at maxReplicas 5 \(recommended 10\)$/,
    },
    {
      name: 'flags maxReplicas when already at it',
      input: {
        currentReplicas: 5,
        readings: servers(5, { connections: 900 }),
        spec: enabled({ maxReplicas: 5 }),
      },
      desired: 5,
      limitedBy: 'maxReplicas',
    },
    {
      name: 'stops a scale-down at minReplicas',
      input: {
        currentReplicas: 4,
        readings: servers(4, { connections: 0, elu: 0 }),
        spec: enabled({ minReplicas: 2 }),
      },
      desired: 2,
      limitedBy: 'minReplicas',
    },
    {
      name: 'scales an idle cluster to one server',
      input: { currentReplicas: 3, readings: servers(3, { connections: 0, elu: 0 }) },
      desired: 1,
      limitedBy: 'minReplicas',
    },
  ]);
});

const podsAndPercent = (selectPolicy: 'Max' | 'Min' | 'Disabled') =>
  enabled({
    maxReplicas: 100,
    behavior: {
      scaleUp: {
        selectPolicy,
        policies: [
          { type: 'Pods', value: 4, periodSeconds: 15 },
          { type: 'Percent', value: 100, periodSeconds: 15 },
        ],
      },
      scaleDown: {
        selectPolicy,
        stabilizationWindowSeconds: 0,
        policies: [
          { type: 'Pods', value: 1, periodSeconds: 60 },
          { type: 'Percent', value: 50, periodSeconds: 60 },
        ],
      },
    },
  });

describe('decide: rate policies', () => {
  const upFrom2 = { currentReplicas: 2, readings: servers(2, { connections: 3000 }) };
  const upFrom10 = { currentReplicas: 10, readings: servers(10, { connections: 900 }) };
  const downFrom10 = { currentReplicas: 10, readings: servers(10, { connections: 10 }) };
  checkCases([
    {
      name: 'scale-up Max picks the pods policy for small counts',
      input: { ...upFrom2, spec: podsAndPercent('Max') },
      desired: 6,
      limitedBy: 'scaleUpPolicy',
      reason: /the scale-up policies allow at most 6 now \(recommended 20\)/,
    },
    {
      name: 'scale-up Min picks the percent policy for small counts',
      input: { ...upFrom2, spec: podsAndPercent('Min') },
      desired: 4,
      limitedBy: 'scaleUpPolicy',
    },
    {
      name: 'scale-up Max picks the percent policy for large counts',
      input: { ...upFrom10, spec: podsAndPercent('Max') },
      desired: 20,
      limitedBy: 'scaleUpPolicy',
    },
    {
      name: 'scale-up Min picks the pods policy for large counts',
      input: { ...upFrom10, spec: podsAndPercent('Min') },
      desired: 14,
      limitedBy: 'scaleUpPolicy',
    },
    {
      name: 'scale-up Disabled adds no server',
      input: { ...upFrom10, spec: podsAndPercent('Disabled') },
      desired: 10,
      limitedBy: 'scaleUpPolicy',
    },
    {
      name: 'default scale-up allows doubling',
      input: {
        currentReplicas: 6,
        readings: servers(6, { connections: 1500 }),
        spec: enabled({ maxReplicas: 50 }),
      },
      desired: 12,
      limitedBy: 'scaleUpPolicy',
    },
    {
      name: 'default scale-up allows four servers from one',
      input: { currentReplicas: 1, readings: servers(1, { connections: 3000 }) },
      desired: 5,
      limitedBy: 'scaleUpPolicy',
    },
    {
      name: 'scale-down Max removes the most',
      input: { ...downFrom10, spec: podsAndPercent('Max') },
      desired: 5,
      limitedBy: 'scaleDownPolicy',
      reason: /the scale-down policies allow at least 5 now \(recommended 2\)/,
    },
    {
      name: 'scale-down Min removes the least',
      input: { ...downFrom10, spec: podsAndPercent('Min') },
      desired: 9,
      limitedBy: 'scaleDownPolicy',
    },
    {
      name: 'scale-down Disabled removes no server',
      input: { ...downFrom10, spec: podsAndPercent('Disabled') },
      desired: 10,
      limitedBy: 'scaleDownPolicy',
    },
    {
      name: 'percent scale-down rounds the allowance down',
      input: {
        currentReplicas: 3,
        readings: servers(3, { connections: 0, elu: 0 }),
        spec: enabled({
          behavior: {
            scaleDown: {
              stabilizationWindowSeconds: 0,
              policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }],
            },
          },
        }),
      },
      desired: 1,
      limitedBy: 'minReplicas',
    },
    {
      name: 'measures scale-up from the start of the period',
      input: {
        currentReplicas: 8,
        readings: servers(8, { connections: 1500 }),
        spec: podsAndPercent('Max'),
        state: settled(8, { scaleUpEvents: [{ atMs: T0 - 5 * SECOND, replicas: 4 }] }),
      },
      desired: 8,
      limitedBy: 'scaleUpPolicy',
    },
    {
      name: 'forgets scale events older than the period',
      input: {
        currentReplicas: 8,
        readings: servers(8, { connections: 1500 }),
        spec: podsAndPercent('Max'),
        state: settled(8, { scaleUpEvents: [{ atMs: T0 - 16 * SECOND, replicas: 4 }] }),
      },
      desired: 16,
      limitedBy: 'scaleUpPolicy',
    },
    {
      name: 'measures scale-down from the start of the period',
      input: {
        ...downFrom10,
        currentReplicas: 6,
        readings: servers(6, { connections: 10 }),
        spec: podsAndPercent('Max'),
        state: settled(6, { scaleDownEvents: [{ atMs: T0 - 30 * SECOND, replicas: 4 }] }),
      },
      desired: 5,
      limitedBy: 'scaleDownPolicy',
    },
  ]);
});

describe('decide: missing and stale metrics', () => {
  checkCases([
    {
      name: 'never scales in while a server is missing',
      input: {
        currentReplicas: 4,
        readyReplicas: 4,
        readings: [...servers(3, { connections: 0, elu: 0 }), unanswered(3)],
      },
      desired: 4,
      reason: /^kept 4 servers: 1 of 4 servers have no fresh metrics, so no server is removed/,
    },
    {
      name: 'never scales in while a server is not ready',
      input: {
        currentReplicas: 4,
        readyReplicas: 3,
        readings: servers(3, { connections: 0, elu: 0 }),
      },
      desired: 4,
    },
    {
      name: 'counts missing servers as idle when scaling up',
      input: {
        currentReplicas: 4,
        readings: [...servers(2, { connections: 900 }), unanswered(2), unanswered(3)],
      },
      desired: 6,
    },
    {
      name: 'holds when idle missing servers bring the load under target',
      input: {
        currentReplicas: 4,
        readings: [...servers(2, { connections: 500 }), unanswered(2), unanswered(3)],
      },
      desired: 4,
    },
    {
      name: 'treats a stale sample as missing',
      input: {
        currentReplicas: 3,
        readings: [
          ...servers(2, { connections: 0, elu: 0 }),
          server(2, { connections: 0, elu: 0, ageMs: 31 * SECOND }),
        ],
      },
      desired: 3,
      reason: /1 of 3 servers have no fresh metrics/,
    },
    {
      name: 'honours a custom maximum sample age',
      input: {
        currentReplicas: 3,
        maxSampleAgeMs: 60 * SECOND,
        readings: [
          ...servers(2, { connections: 0, elu: 0 }),
          server(2, { connections: 0, elu: 0, ageMs: 31 * SECOND }),
        ],
      },
      desired: 1,
      limitedBy: 'minReplicas',
    },
    {
      name: 'treats a sample with non-finite figures as missing',
      input: {
        currentReplicas: 2,
        readings: [server(0, { connections: 0, elu: 0 }), server(1, { connections: NaN })],
      },
      desired: 2,
    },
    {
      name: 'holds when every sample is stale',
      input: { currentReplicas: 3, readings: servers(3, { connections: 0, ageMs: 45 * SECOND }) },
      desired: 3,
      reason: /^kept 3 servers: none of the 3 ready servers returned fresh metrics/,
    },
    {
      name: 'holds with zero ready servers',
      input: { currentReplicas: 3, readyReplicas: 0, readings: [] },
      desired: 3,
      reason:
        /^kept 3 servers: no server is ready to report metrics \(1 failed reading in a row; no fallback count is set\)$/,
    },
    {
      name: 'raises zero ready servers to minReplicas',
      input: { currentReplicas: 1, readyReplicas: 0, spec: enabled({ minReplicas: 2 }) },
      desired: 2,
      limitedBy: 'minReplicas',
    },
  ]);

  it('counts failed readings and resets them on a fresh sample', () => {
    const failed = run({ currentReplicas: 3, readyReplicas: 3, readings: [unanswered(0)] });
    assert.equal(failed.newState.consecutiveFailures, 1);
    const again = run({
      currentReplicas: 3,
      readings: [unanswered(0)],
      state: failed.newState,
    });
    assert.equal(again.newState.consecutiveFailures, 2);
    const recovered = run({
      currentReplicas: 3,
      readings: servers(3, { connections: 300 }),
      state: again.newState,
    });
    assert.equal(recovered.newState.consecutiveFailures, 0);
  });
});

describe('decide: fallback', () => {
  const withFallback = (replicas: number) =>
    enabled({ fallback: { failureThreshold: 3, replicas }, maxReplicas: 10 });
  checkCases([
    {
      name: 'keeps the count before the failure threshold',
      input: {
        currentReplicas: 3,
        readings: [unanswered(0)],
        spec: withFallback(6),
        state: settled(3, { consecutiveFailures: 1 }),
      },
      desired: 3,
      reason: /\(2 failed readings in a row; the fallback of 6 applies after 3\)/,
    },
    {
      name: 'raises to the fallback at the threshold',
      input: {
        currentReplicas: 3,
        readings: [unanswered(0)],
        spec: withFallback(6),
        state: settled(3, { consecutiveFailures: 2 }),
      },
      desired: 6,
      reason:
        /^scaled from 3 to 6: .*\(3 failed readings in a row\), so the fallback of at least 6/,
    },
    {
      name: 'never lowers to a smaller fallback',
      input: {
        currentReplicas: 5,
        readings: [unanswered(0)],
        spec: withFallback(2),
        state: settled(5, { consecutiveFailures: 7 }),
      },
      desired: 5,
    },
    {
      name: 'applies scale-up policies to the fallback',
      input: {
        currentReplicas: 1,
        readings: [],
        readyReplicas: 0,
        spec: withFallback(8),
        state: settled(1, { consecutiveFailures: 2 }),
      },
      desired: 5,
      limitedBy: 'scaleUpPolicy',
    },
  ]);
});

describe('decide: manual scale', () => {
  checkCases([
    {
      name: 'clamps a manual count above maxReplicas',
      input: {
        currentReplicas: 15,
        readings: servers(15, { connections: 300 }),
        spec: enabled({ maxReplicas: 10 }),
      },
      desired: 10,
      limitedBy: 'maxReplicas',
      reason: /^scaled from 15 to 10: the count 15 is above maxReplicas 10/,
    },
    {
      name: 'clamps a manual count of zero to minReplicas',
      input: { currentReplicas: 0, readyReplicas: 0, spec: enabled({ minReplicas: 2 }) },
      desired: 2,
      limitedBy: 'minReplicas',
    },
    {
      name: 'leaves the count alone when disabled',
      input: {
        currentReplicas: 0,
        spec: resolveAutoscalingSpec({ enabled: false, minReplicas: 2 }),
      },
      desired: 0,
      reason: /autoscaling is disabled, so the spec count stands/,
    },
  ]);

  it('holds a manual scale-up for the scale-down window', () => {
    const idle = servers(8, { connections: 30, elu: 0.05 });
    const first = run({ currentReplicas: 8, readings: idle, state: settled(3) });
    assert.equal(first.manualChange, true);
    assert.equal(first.desiredReplicas, 8);
    assert.equal(first.limitedBy, 'stabilization');
    assert.match(first.reason, /the count was set to 8 outside the autoscaler$/);

    const later = run({
      nowMs: T0 + 301 * SECOND,
      currentReplicas: 8,
      readings: servers(8, { connections: 30, elu: 0.05 }, T0 + 301 * SECOND),
      state: first.newState,
    });
    assert.equal(later.manualChange, false);
    assert.equal(later.desiredReplicas, 1);
  });

  it('scales up again after a manual scale-down', () => {
    const busy = servers(2, { connections: 600 });
    const decision = run({ currentReplicas: 2, readings: busy, state: settled(4) });
    assert.equal(decision.manualChange, true);
    assert.equal(decision.desiredReplicas, 4);
  });

  it('resets its state when disabled', () => {
    const decision = run({
      currentReplicas: 3,
      spec: resolveAutoscalingSpec({ enabled: false }),
      state: settled(3, { consecutiveFailures: 4 }),
    });
    assert.deepEqual(decision.newState, initialAutoscalerState());
  });
});

interface Step {
  atSeconds: number;
  load: ServerLoad;
  desired: number;
  limitedBy?: LimitedBy;
}

/** Runs decisions in order, feeding each one's JSON round-tripped state to the next. */
function runSteps(spec: ReturnType<typeof enabled>, start: number, steps: Step[]): void {
  let state: AutoscalerState = settled(start);
  let current = start;
  for (const step of steps) {
    const nowMs = T0 + step.atSeconds * SECOND;
    const decision = run({
      nowMs,
      currentReplicas: current,
      readings: servers(current, step.load, nowMs),
      spec,
      state,
    });
    const label = `at ${step.atSeconds} s: ${decision.reason}`;
    assert.equal(decision.desiredReplicas, step.desired, label);
    assert.equal(decision.limitedBy, step.limitedBy, label);
    state = JSON.parse(JSON.stringify(decision.newState)) as AutoscalerState;
    current = decision.desiredReplicas;
  }
}

describe('decide: stabilization', () => {
  const busy = { connections: 600 };
  const quiet = { connections: 100, elu: 0.05 };

  it('holds a scale-down for the window, then applies it', () => {
    runSteps(enabled(), 2, [
      { atSeconds: 0, load: busy, desired: 4 },
      {
        atSeconds: 15,
        load: { connections: 150, elu: 0.05 },
        desired: 4,
        limitedBy: 'stabilization',
      },
      {
        atSeconds: 150,
        load: { connections: 150, elu: 0.05 },
        desired: 4,
        limitedBy: 'stabilization',
      },
      {
        atSeconds: 299,
        load: { connections: 150, elu: 0.05 },
        desired: 4,
        limitedBy: 'stabilization',
      },
      { atSeconds: 300, load: { connections: 150, elu: 0.05 }, desired: 2 },
    ]);
  });

  it('uses the highest recommendation in the window', () => {
    runSteps(enabled(), 6, [
      { atSeconds: 0, load: { connections: 250 }, desired: 5 },
      { atSeconds: 100, load: { connections: 120 }, desired: 5, limitedBy: 'stabilization' },
      { atSeconds: 200, load: { connections: 60 }, desired: 5, limitedBy: 'stabilization' },
      { atSeconds: 301, load: { connections: 60 }, desired: 2, limitedBy: 'stabilization' },
      { atSeconds: 401, load: { connections: 60 }, desired: 1 },
    ]);
  });

  it('holds a scale-up for a scale-up window', () => {
    const spec = enabled({ behavior: { scaleUp: { stabilizationWindowSeconds: 60 } } });
    runSteps(spec, 3, [
      { atSeconds: 0, load: { connections: 300 }, desired: 3 },
      { atSeconds: 10, load: busy, desired: 3, limitedBy: 'stabilization' },
      { atSeconds: 61, load: busy, desired: 6 },
    ]);
  });

  it('holds a scale-down after the first decision', () => {
    const decision = run({
      currentReplicas: 5,
      readings: servers(5, quiet),
      state: initialAutoscalerState(),
    });
    assert.equal(decision.desiredReplicas, 5);
    assert.equal(decision.limitedBy, 'stabilization');
    assert.match(decision.reason, /held at 5 by the recommendations of the last 300 s/);
  });

  it('adds servers period by period under a pods policy', () => {
    const spec = enabled({
      maxReplicas: 20,
      behavior: { scaleUp: { policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }] } },
    });
    runSteps(spec, 2, [
      { atSeconds: 0, load: { connections: 1500 }, desired: 4, limitedBy: 'scaleUpPolicy' },
      { atSeconds: 30, load: { connections: 750 }, desired: 4, limitedBy: 'scaleUpPolicy' },
      { atSeconds: 61, load: { connections: 750 }, desired: 6, limitedBy: 'scaleUpPolicy' },
    ]);
  });
});

describe('decide: state', () => {
  it('records the last scale with its reason', () => {
    const decision = run({ currentReplicas: 3, readings: servers(3, { connections: 600 }) });
    assert.deepEqual(decision.newState.lastScale, {
      atMs: T0,
      fromReplicas: 3,
      toReplicas: 6,
      reason: decision.reason,
    });
    assert.deepEqual(decision.newState.scaleUpEvents, [{ atMs: T0, replicas: 3 }]);
    assert.equal(decision.newState.lastDesiredReplicas, 6);
  });

  it('keeps one recommendation per count', () => {
    let state = settled(4);
    for (const seconds of [0, 15, 30]) {
      const nowMs = T0 + seconds * SECOND;
      state = run({
        nowMs,
        currentReplicas: 4,
        readings: servers(4, { connections: 300 }, nowMs),
        state,
      }).newState;
    }
    assert.deepEqual(state.recommendations, [{ atMs: T0 + 30 * SECOND, replicas: 4 }]);
  });

  it('summarises the metrics', () => {
    const decision = run({
      currentReplicas: 3,
      readyReplicas: 4,
      readings: [
        server(0, { connections: 100, elu: 0.2, inflight: 1 }),
        server(1, { connections: 200, elu: 0.6, inflight: 2 }),
        server(2, { connections: 50, elu: 0.1, draining: true }),
        unanswered(3),
      ],
    });
    const metrics = decision.metrics;
    assert.equal(metrics.readyReplicas, 4);
    assert.equal(metrics.sampledServers, 3);
    assert.equal(metrics.drainingServers, 1);
    assert.equal(metrics.missingServers, 1);
    assert.equal(metrics.totalConnections, 350);
    assert.equal(metrics.inflightIngests, 3);
    assert.equal(metrics.maxEventLoopUtilization, 0.6);
    assert.ok(Math.abs(metrics.averageEventLoopUtilization - 0.3) < 1e-9);
    assert.deepEqual(
      metrics.proposals.map((proposal) => proposal.metric),
      ['connections', 'eventLoopUtilization'],
    );
  });
});

describe('decide: spec validation', () => {
  it('rejects an invalid spec listing every problem', () => {
    const spec = enabled({ minReplicas: 5, maxReplicas: 3, tolerance: 1.5 });
    spec.behavior.scaleDown.policies = [];
    assert.throws(
      () => run({ currentReplicas: 3, spec }),
      (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.equal(error.problems.length, 3);
        assert.match(error.problems[0]!, /^maxReplicas must be at least minReplicas 5, got 3$/);
        assert.match(error.problems[1]!, /^tolerance must be a fraction/);
        assert.match(error.problems[2]!, /^behavior.scaleDown.policies must list 1 to 10/);
        return true;
      },
    );
  });
});

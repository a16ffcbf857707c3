import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { AUTOSCALING_DEFAULTS, resolveAutoscalingSpec } from './spec.js';
import { findAutoscalingProblems } from './validate.js';

describe('resolveAutoscalingSpec', () => {
  it('fills every default', () => {
    const spec = resolveAutoscalingSpec({});
    assert.deepEqual(spec, AUTOSCALING_DEFAULTS);
    assert.equal(spec.behavior.scaleDown.stabilizationWindowSeconds, 300);
    assert.equal(spec.behavior.scaleUp.stabilizationWindowSeconds, 0);
    assert.equal(spec.tolerance, 0.1);
    assert.deepEqual(findAutoscalingProblems(spec), []);
  });

  it('copies the defaults', () => {
    const spec = resolveAutoscalingSpec({});
    spec.behavior.scaleUp.policies[0]!.value = 1;
    assert.equal(AUTOSCALING_DEFAULTS.behavior.scaleUp.policies[0]!.value, 100);
  });

  it('fills defaults inside partial rules', () => {
    const spec = resolveAutoscalingSpec({
      behavior: { scaleDown: { stabilizationWindowSeconds: 60 } },
      fallback: { replicas: 4 },
    });
    assert.equal(spec.behavior.scaleDown.stabilizationWindowSeconds, 60);
    assert.equal(spec.behavior.scaleDown.selectPolicy, 'Max');
    assert.deepEqual(spec.behavior.scaleDown.policies, [
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ]);
    assert.deepEqual(spec.fallback, { failureThreshold: 3, replicas: 4 });
  });
});

describe('findAutoscalingProblems', () => {
  it('names each invalid field', () => {
    const spec = resolveAutoscalingSpec({
      minReplicas: 0,
      targetConnectionsPerServer: 0,
      targetEventLoopUtilization: 1.2,
      fallback: { failureThreshold: 0, replicas: 50 },
      behavior: {
        scaleUp: {
          stabilizationWindowSeconds: 4000,
          selectPolicy: 'Fastest' as 'Max',
          policies: [{ type: 'Servers' as 'Pods', value: 0, periodSeconds: 0 }],
        },
      },
    });
    assert.deepEqual(findAutoscalingProblems(spec), [
      'minReplicas must be an integer of at least 1, got 0; disable autoscaling to run no servers',
      'targetConnectionsPerServer must be a number above 0, got 0',
      'targetEventLoopUtilization must be a fraction above 0 and at most 1, got 1.2',
      'fallback.failureThreshold must be an integer of at least 1, got 0',
      'fallback.replicas must be an integer from minReplicas 0 to maxReplicas 10, got 50',
      'behavior.scaleUp.stabilizationWindowSeconds must be an integer from 0 to 3600, got 4000',
      'behavior.scaleUp.selectPolicy must be one of Max, Min, Disabled, got "Fastest"',
      'behavior.scaleUp.policies[0].type must be Pods or Percent, got "Servers"',
      'behavior.scaleUp.policies[0].value must be an integer of at least 1, got 0',
      'behavior.scaleUp.policies[0].periodSeconds must be an integer from 1 to 1800, got 0',
    ]);
  });
});

import { ValidationError } from '../../server/core/errors.js';
import type { AutoscalingSpec, ScalingRules } from './spec.js';

const SELECT_POLICIES = ['Max', 'Min', 'Disabled'];
const POLICY_TYPES = ['Pods', 'Percent'];
const MAX_WINDOW_SECONDS = 3600;
const MAX_PERIOD_SECONDS = 1800;
const MAX_POLICIES = 10;

function isInteger(value: unknown, minimum: number, maximum = Number.MAX_SAFE_INTEGER): boolean {
  return Number.isInteger(value) && (value as number) >= minimum && (value as number) <= maximum;
}

function isNumberIn(value: unknown, above: number, atMost: number): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value > above && value <= atMost;
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function checkRules(path: string, rules: ScalingRules, problems: string[]): void {
  if (!isInteger(rules.stabilizationWindowSeconds, 0, MAX_WINDOW_SECONDS)) {
    problems.push(
      `${path}.stabilizationWindowSeconds must be an integer from 0 to ${MAX_WINDOW_SECONDS}, ` +
        `got ${show(rules.stabilizationWindowSeconds)}`,
    );
  }
  if (!SELECT_POLICIES.includes(rules.selectPolicy)) {
    problems.push(
      `${path}.selectPolicy must be one of ${SELECT_POLICIES.join(', ')}, ` +
        `got ${show(rules.selectPolicy)}`,
    );
  }
  const policies = Array.isArray(rules.policies) ? rules.policies : [];
  if (policies.length < 1 || policies.length > MAX_POLICIES) {
    problems.push(
      `${path}.policies must list 1 to ${MAX_POLICIES} policies, got ${show(rules.policies)}`,
    );
  }
  policies.forEach((policy, index) => {
    const at = `${path}.policies[${index}]`;
    if (!POLICY_TYPES.includes(policy.type)) {
      problems.push(`${at}.type must be Pods or Percent, got ${show(policy.type)}`);
    }
    if (!isInteger(policy.value, 1)) {
      problems.push(`${at}.value must be an integer of at least 1, got ${show(policy.value)}`);
    }
    if (!isInteger(policy.periodSeconds, 1, MAX_PERIOD_SECONDS)) {
      problems.push(
        `${at}.periodSeconds must be an integer from 1 to ${MAX_PERIOD_SECONDS}, ` +
          `got ${show(policy.periodSeconds)}`,
      );
    }
  });
}

function checkBounds(spec: AutoscalingSpec, problems: string[]): void {
  if (!isInteger(spec.minReplicas, 1)) {
    problems.push(
      `minReplicas must be an integer of at least 1, got ${show(spec.minReplicas)}; ` +
        'disable autoscaling to run no servers',
    );
  }
  if (!isInteger(spec.maxReplicas, 1)) {
    problems.push(`maxReplicas must be an integer of at least 1, got ${show(spec.maxReplicas)}`);
  } else if (spec.maxReplicas < spec.minReplicas) {
    problems.push(
      `maxReplicas must be at least minReplicas ${spec.minReplicas}, got ${spec.maxReplicas}`,
    );
  }
}

function checkTargets(spec: AutoscalingSpec, problems: string[]): void {
  if (!isNumberIn(spec.targetConnectionsPerServer, 0, Number.MAX_SAFE_INTEGER)) {
    problems.push(
      `targetConnectionsPerServer must be a number above 0, ` +
        `got ${show(spec.targetConnectionsPerServer)}`,
    );
  }
  if (!isNumberIn(spec.targetEventLoopUtilization, 0, 1)) {
    problems.push(
      `targetEventLoopUtilization must be a fraction above 0 and at most 1, ` +
        `got ${show(spec.targetEventLoopUtilization)}`,
    );
  }
  const tolerance = spec.tolerance;
  if (typeof tolerance !== 'number' || !(tolerance >= 0 && tolerance <= 1)) {
    problems.push(`tolerance must be a fraction from 0 to 1, got ${show(tolerance)}`);
  }
}

function checkFallback(spec: AutoscalingSpec, problems: string[]): void {
  const { failureThreshold, replicas } = spec.fallback;
  if (!isInteger(failureThreshold, 1)) {
    problems.push(
      `fallback.failureThreshold must be an integer of at least 1, got ${show(failureThreshold)}`,
    );
  }
  if (replicas !== undefined && !isInteger(replicas, spec.minReplicas, spec.maxReplicas)) {
    problems.push(
      `fallback.replicas must be an integer from minReplicas ${spec.minReplicas} to ` +
        `maxReplicas ${spec.maxReplicas}, got ${show(replicas)}`,
    );
  }
}

/** Lists every problem of a resolved spec, one sentence each; empty when it is valid. */
export function findAutoscalingProblems(spec: AutoscalingSpec): string[] {
  const problems: string[] = [];
  checkBounds(spec, problems);
  checkTargets(spec, problems);
  checkFallback(spec, problems);
  checkRules('behavior.scaleUp', spec.behavior.scaleUp, problems);
  checkRules('behavior.scaleDown', spec.behavior.scaleDown, problems);
  return problems;
}

/** Throws a ValidationError naming every invalid field of a resolved spec. */
export function validateAutoscalingSpec(spec: AutoscalingSpec): void {
  const problems = findAutoscalingProblems(spec);
  if (problems.length > 0) throw new ValidationError(problems);
}

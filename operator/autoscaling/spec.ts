/** How a scaling policy measures the change it allows. */
export type ScalingPolicyType = 'Pods' | 'Percent';

/**
 * Which policy wins when several apply: `Max` allows the largest change, `Min` the smallest,
 * `Disabled` allows no change in that direction.
 */
export type SelectPolicy = 'Max' | 'Min' | 'Disabled';

/** A limit on how much the server count may change within a sliding period. */
export interface ScalingPolicy {
  type: ScalingPolicyType;
  /** Servers (`Pods`) or percent of the count at the start of the period (`Percent`); >= 1. */
  value: number;
  /** Length of the sliding period, in seconds; 1 to 1800. */
  periodSeconds: number;
}

/** Stabilization and rate rules for one direction, as in the HorizontalPodAutoscaler. */
export interface ScalingRules {
  /**
   * Seconds of past recommendations considered; the most conservative one is used. 0 to 3600;
   * default 0 for scale-up and 300 for scale-down.
   */
  stabilizationWindowSeconds: number;
  /** Default `Max`. */
  selectPolicy: SelectPolicy;
  /**
   * One to ten policies. Default for scale-up: 100 percent or 4 servers per 15 s, whichever is
   * larger; for scale-down: 100 percent per 15 s.
   */
  policies: ScalingPolicy[];
}

/** Rules per direction. */
export interface ScalingBehavior {
  scaleUp: ScalingRules;
  scaleDown: ScalingRules;
}

/** What happens when no server returns fresh metrics. */
export interface FallbackSpec {
  /** Consecutive failed readings before `replicas` applies; >= 1, default 3. */
  failureThreshold: number;
  /**
   * Server count to raise to while metrics are missing; it never lowers the count. Within
   * minReplicas and maxReplicas; unset (the default) keeps the current count.
   */
  replicas?: number;
}

/** Autoscaling of the stream servers, with every default filled in. */
export interface AutoscalingSpec {
  /** Whether the operator sets the server count from metrics; default false. */
  enabled: boolean;
  /** Lowest server count; >= 1, default 1. */
  minReplicas: number;
  /** Highest server count; >= minReplicas, default 10. */
  maxReplicas: number;
  /** Open WebSocket connections per server to aim for; > 0, default 300. */
  targetConnectionsPerServer: number;
  /** Utilization per server to aim for, as a fraction; 0.05 to 1 in the CRD, default 0.7. */
  targetEventLoopUtilization: number;
  /** Relative deviation from a target that causes no change; 0 to 1, default 0.1. */
  tolerance: number;
  fallback: FallbackSpec;
  behavior: ScalingBehavior;
}

/** An autoscaling spec as written by a user: every field may be left out. */
export interface AutoscalingSpecInput {
  enabled?: boolean;
  minReplicas?: number;
  maxReplicas?: number;
  targetConnectionsPerServer?: number;
  targetEventLoopUtilization?: number;
  tolerance?: number;
  fallback?: Partial<FallbackSpec>;
  behavior?: { scaleUp?: Partial<ScalingRules>; scaleDown?: Partial<ScalingRules> };
}

const DEFAULTS: AutoscalingSpec = {
  enabled: false,
  minReplicas: 1,
  maxReplicas: 10,
  targetConnectionsPerServer: 300,
  targetEventLoopUtilization: 0.7,
  tolerance: 0.1,
  fallback: { failureThreshold: 3 },
  behavior: {
    scaleUp: {
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [
        { type: 'Percent', value: 100, periodSeconds: 15 },
        { type: 'Pods', value: 4, periodSeconds: 15 },
      ],
    },
    scaleDown: {
      stabilizationWindowSeconds: 300,
      selectPolicy: 'Max',
      policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
    },
  },
};

/**
 * Defaults of every field, matching the HorizontalPodAutoscaler's where it has one. Read-only:
 * resolveAutoscalingSpec copies what it takes from here.
 */
export const AUTOSCALING_DEFAULTS: Readonly<AutoscalingSpec> = DEFAULTS;

function resolveRules(input: Partial<ScalingRules> | undefined, defaults: ScalingRules) {
  return {
    stabilizationWindowSeconds:
      input?.stabilizationWindowSeconds ?? defaults.stabilizationWindowSeconds,
    selectPolicy: input?.selectPolicy ?? defaults.selectPolicy,
    policies: (input?.policies ?? defaults.policies).map((policy) => ({ ...policy })),
  };
}

/** Fills in every default, the way the API server's structural defaulting does. */
export function resolveAutoscalingSpec(input: AutoscalingSpecInput = {}): AutoscalingSpec {
  const defaults = AUTOSCALING_DEFAULTS;
  const fallback: FallbackSpec = {
    failureThreshold: input.fallback?.failureThreshold ?? defaults.fallback.failureThreshold,
  };
  if (input.fallback?.replicas !== undefined) fallback.replicas = input.fallback.replicas;

  return {
    enabled: input.enabled ?? defaults.enabled,
    minReplicas: input.minReplicas ?? defaults.minReplicas,
    maxReplicas: input.maxReplicas ?? defaults.maxReplicas,
    targetConnectionsPerServer:
      input.targetConnectionsPerServer ?? defaults.targetConnectionsPerServer,
    targetEventLoopUtilization:
      input.targetEventLoopUtilization ?? defaults.targetEventLoopUtilization,
    tolerance: input.tolerance ?? defaults.tolerance,
    fallback,
    behavior: {
      scaleUp: resolveRules(input.behavior?.scaleUp, defaults.behavior.scaleUp),
      scaleDown: resolveRules(input.behavior?.scaleDown, defaults.behavior.scaleDown),
    },
  };
}

/** Names of the metrics the autoscaler scales on. */
export type MetricName = 'connections' | 'eventLoopUtilization';

/** The server count one metric asks for, with the figures behind it. */
export interface MetricProposal {
  metric: MetricName;
  /** Sum over the fresh samples. */
  total: number;
  /** `total` divided by the current count, so a server without a sample counts as idle. */
  perServer: number;
  /** Target per server, from the spec. */
  target: number;
  /** `perServer` divided by `target`; above 1 means servers are busier than the target. */
  ratio: number;
  replicas: number;
  /**
   * Why `replicas` equals the current count although `ratio` is not 1: within the tolerance,
   * or below target while some servers have no fresh sample.
   */
  heldBy?: 'tolerance' | 'missingMetrics';
}

// Sums of fractions such as 3 * 0.7 land a hair above the integer they stand for.
const ROUNDING_SLACK = 1e-9;

/**
 * Computes the HorizontalPodAutoscaler's count for one metric: the current count times the
 * ratio of the average to the target, rounded up, unless the ratio is within `tolerance` of 1.
 * Servers without a fresh sample count as idle, which damps a scale-up while new servers start,
 * and while any is missing the metric never asks for fewer servers.
 */
export function proposeReplicas(
  metric: MetricName,
  total: number,
  target: number,
  currentReplicas: number,
  missingServers: number,
  tolerance: number,
): MetricProposal {
  const perServer = total / currentReplicas;
  const ratio = perServer / target;
  const base = { metric, total, perServer, target, ratio };

  if (Math.abs(1 - ratio) <= tolerance) {
    return { ...base, replicas: currentReplicas, heldBy: 'tolerance' };
  }
  if (ratio < 1 && missingServers > 0) {
    return { ...base, replicas: currentReplicas, heldBy: 'missingMetrics' };
  }
  return { ...base, replicas: Math.ceil(total / target - ROUNDING_SLACK) };
}

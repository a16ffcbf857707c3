import type { Normalized } from './normalize.js';
import type { MetricProposal } from './proposal.js';
import type { AutoscalingSpec } from './spec.js';
import type { MetricsSummary } from './summary.js';

function compare(ratio: number): string {
  if (ratio > 1) return 'over';
  if (ratio < 1) return 'below';
  return 'at';
}

/** Describes one metric, as in "connections 1800 (600 per server) over target 300 per server". */
export function describeProposal(proposal: MetricProposal): string {
  const relation = compare(proposal.ratio);
  if (proposal.metric === 'connections') {
    const perServer = Math.round(proposal.perServer * 10) / 10;
    return (
      `connections ${proposal.total} (${perServer} per server) ` +
      `${relation} target ${proposal.target} per server`
    );
  }
  return (
    `utilization ${proposal.perServer.toFixed(2)} ` +
    `${relation} target ${proposal.target.toFixed(2)}`
  );
}

/** Describes why the metrics recommend `recommended` servers rather than `currentReplicas`. */
export function explainMetrics(
  metrics: MetricsSummary,
  recommended: number,
  currentReplicas: number,
  spec: AutoscalingSpec,
): string {
  const all = metrics.proposals.map(describeProposal).join(', ');
  const drivers = metrics.proposals.filter((proposal) => proposal.replicas === recommended);
  const driving = drivers.map(describeProposal).join(' and ');
  if (recommended > currentReplicas) return driving;
  if (recommended < currentReplicas) return `all metrics below target: ${all}`;

  if (metrics.proposals.some((proposal) => proposal.heldBy === 'missingMetrics')) {
    return (
      `${metrics.missingServers} of ${currentReplicas} servers have no fresh metrics, ` +
      `so no server is removed: ${all}`
    );
  }
  if (drivers.every((proposal) => proposal.heldBy === 'tolerance')) {
    return `${driving}, within tolerance ${spec.tolerance}`;
  }
  // A metric below target whose rounded-up count still equals the current count.
  return `no metric asks for a different count: ${all}`;
}

/** Describes why no metrics could be used, and what the fallback does about it. */
export function explainMissingMetrics(
  metrics: MetricsSummary,
  failures: number,
  spec: AutoscalingSpec,
): string {
  const what =
    metrics.readyReplicas === 0
      ? 'no server is ready to report metrics'
      : `none of the ${metrics.readyReplicas} ready servers returned fresh metrics`;
  const { failureThreshold, replicas } = spec.fallback;
  const readings = `${failures} failed ${failures === 1 ? 'reading' : 'readings'} in a row`;
  if (replicas === undefined) return `${what} (${readings}; no fallback count is set)`;
  if (failures < failureThreshold) {
    return `${what} (${readings}; the fallback of ${replicas} applies after ${failureThreshold})`;
  }
  return `${what} (${readings}), so the fallback of at least ${replicas} servers applies`;
}

/** Returns the clause naming what held the desired count back, or an empty string. */
export function explainLimit(
  normalized: Normalized,
  recommended: number,
  currentReplicas: number,
  spec: AutoscalingSpec,
): string {
  const { limitedBy, stabilizedReplicas, windowSeconds } = normalized;
  const direction = recommended > currentReplicas ? 'scale-up' : 'scale-down';
  switch (limitedBy) {
    case 'maxReplicas':
      return `; capped at maxReplicas ${spec.maxReplicas} (recommended ${recommended})`;
    case 'minReplicas':
      return `; kept at minReplicas ${spec.minReplicas} (recommended ${recommended})`;
    case 'scaleUpPolicy':
      return `; the scale-up policies allow at most ${normalized.replicas} now (recommended ${recommended})`;
    case 'scaleDownPolicy':
      return `; the scale-down policies allow at least ${normalized.replicas} now (recommended ${recommended})`;
    case 'stabilization':
      return (
        `; held at ${stabilizedReplicas} by the recommendations of the last ` +
        `${windowSeconds} s (${direction} stabilization window)`
      );
    default:
      return '';
  }
}

/** Builds the decision sentence: "scaled from 3 to 5: ..." or "kept 3 servers: ...". */
export function sentence(currentReplicas: number, desiredReplicas: number, cause: string): string {
  if (desiredReplicas === currentReplicas) return `kept ${currentReplicas} servers: ${cause}`;
  return `scaled from ${currentReplicas} to ${desiredReplicas}: ${cause}`;
}

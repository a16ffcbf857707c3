import { proposeReplicas, type MetricProposal } from './proposal.js';
import { utilizationOf, type FreshSamples } from './readings.js';
import type { AutoscalingSpec } from './spec.js';

/** Figures behind one decision, for status, Events and logs. */
export interface MetricsSummary {
  /** Ready server pods, as the caller counted them. */
  readyReplicas: number;
  /** Servers with a fresh sample, draining ones included. */
  sampledServers: number;
  /** Servers of the current count without a fresh sample. */
  missingServers: number;
  /** Sampled servers that are draining. */
  drainingServers: number;
  /** Open connections over all fresh samples. */
  totalConnections: number;
  /**
   * Utilization, the busier of each server's event loop and worker pools, summed over fresh
   * samples and divided by the current count.
   */
  averageEventLoopUtilization: number;
  /** Highest utilization of one server; 0 without samples. */
  maxEventLoopUtilization: number;
  /** Documents being ingested over all fresh samples. */
  inflightIngests: number;
  /** Per-metric proposals; empty without fresh samples or servers. */
  proposals: MetricProposal[];
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** Adds up the fresh samples and computes each metric's proposal. */
export function summarizeMetrics(
  fresh: FreshSamples,
  readyReplicas: number,
  currentReplicas: number,
  spec: AutoscalingSpec,
): MetricsSummary {
  const { samples, missingServers, drainingServers } = fresh;
  const totalConnections = sum(samples.map((sample) => sample.connections));
  const totalUtilization = sum(samples.map(utilizationOf));
  const canPropose = samples.length > 0 && currentReplicas > 0;
  const propose = (metric: MetricProposal['metric'], total: number, target: number) =>
    proposeReplicas(metric, total, target, currentReplicas, missingServers, spec.tolerance);

  return {
    readyReplicas,
    sampledServers: samples.length,
    missingServers,
    drainingServers,
    totalConnections,
    averageEventLoopUtilization: currentReplicas > 0 ? totalUtilization / currentReplicas : 0,
    maxEventLoopUtilization: Math.max(0, ...samples.map(utilizationOf)),
    inflightIngests: sum(samples.map((sample) => sample.inflightIngests)),
    proposals: canPropose
      ? [
          propose('connections', totalConnections, spec.targetConnectionsPerServer),
          propose('eventLoopUtilization', totalUtilization, spec.targetEventLoopUtilization),
        ]
      : [],
  };
}

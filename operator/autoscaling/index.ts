export { decide, type DecideInput, type Decision } from './decide.js';
export type { LimitedBy } from './normalize.js';
export type { MetricName, MetricProposal } from './proposal.js';
export {
  DEFAULT_MAX_SAMPLE_AGE_MS,
  type ServerReading,
  type ServerSample,
  type ServerStats,
} from './readings.js';
export {
  AUTOSCALING_DEFAULTS,
  resolveAutoscalingSpec,
  type AutoscalingSpec,
  type AutoscalingSpecInput,
  type FallbackSpec,
  type ScalingBehavior,
  type ScalingPolicy,
  type ScalingPolicyType,
  type ScalingRules,
  type SelectPolicy,
} from './spec.js';
export {
  initialAutoscalerState,
  type AutoscalerState,
  type LastScale,
  type ScaleEvent,
  type TimedRecommendation,
} from './state.js';
export type { MetricsSummary } from './summary.js';
export { findAutoscalingProblems, validateAutoscalingSpec } from './validate.js';
export { InvalidStatsError, parseStats } from './parse-stats.js';
export { StatsCollector, type StatsCollectorOptions, type StatsTarget } from './stats-collector.js';

import { explainLimit, explainMetrics, explainMissingMetrics, sentence } from './explain.js';
import { normalizeRecommendation, type LimitedBy } from './normalize.js';
import { pruneScaleEvents, recordScaleEvent } from './policies.js';
import { DEFAULT_MAX_SAMPLE_AGE_MS, selectFreshSamples, type ServerReading } from './readings.js';
import type { AutoscalingSpec } from './spec.js';
import { recordRecommendation } from './stabilization.js';
import { initialAutoscalerState, type AutoscalerState } from './state.js';
import { summarizeMetrics, type MetricsSummary } from './summary.js';
import { validateAutoscalingSpec } from './validate.js';

/** Everything one autoscaling decision depends on. */
export interface DecideInput {
  /** Time of the decision, in milliseconds since the Unix epoch. */
  nowMs: number;
  /** Server count in the spec now, including a change made with `kubectl scale`. */
  currentReplicas: number;
  /** Ready server pods. */
  readyReplicas: number;
  /** One reading per ready server, as the StatsCollector returns them. */
  readings: ServerReading[];
  /** The resolved spec; see resolveAutoscalingSpec. */
  spec: AutoscalingSpec;
  /** The previous decision's `newState`, or initialAutoscalerState() for the first. */
  state: AutoscalerState;
  /** Samples older than this count as missing, in milliseconds; default 30 000. */
  maxSampleAgeMs?: number;
}

/** The outcome of one decision. */
export interface Decision {
  /** Server count to write to the spec; equal to currentReplicas when nothing changes. */
  desiredReplicas: number;
  /** Count the metrics (or the bounds, or the fallback) asked for before the limits. */
  recommendedReplicas: number;
  /** One sentence for Events and status: "scaled from 3 to 5: ..." or "kept 3 servers: ...". */
  reason: string;
  /** Set when the desired count differs from the recommendation, naming the cause. */
  limitedBy?: LimitedBy;
  /** Whether the count was changed outside the autoscaler since the previous decision. */
  manualChange: boolean;
  metrics: MetricsSummary;
  /** State to pass to the next decision, once the desired count has been written. */
  newState: AutoscalerState;
}

interface Context {
  input: DecideInput;
  spec: AutoscalingSpec;
  current: number;
  metrics: MetricsSummary;
  /** State with this decision's bookkeeping (manual change, failures) applied. */
  state: AutoscalerState;
  manualChange: boolean;
}

interface Outcome {
  recommended: number;
  desired: number;
  cause: string;
  limitedBy?: LimitedBy;
}

function clamp(replicas: number, spec: AutoscalingSpec): number {
  return Math.min(spec.maxReplicas, Math.max(spec.minReplicas, replicas));
}

/**
 * Records a count set outside the autoscaler (or the count found at the first decision) as a
 * recommendation made now, so the scale-down stabilization window keeps it like any other.
 */
function startContext(input: DecideInput, metrics: MetricsSummary): Context {
  const { spec, currentReplicas: current, nowMs } = input;
  const previous = input.state;
  const manualChange =
    previous.lastDesiredReplicas !== undefined && previous.lastDesiredReplicas !== current;
  const firstDecision = previous.lastDesiredReplicas === undefined;
  const recommendations =
    manualChange || firstDecision
      ? recordRecommendation(previous.recommendations, clamp(current, spec), spec.behavior, nowMs)
      : previous.recommendations;
  const consecutiveFailures = metrics.sampledServers > 0 ? 0 : previous.consecutiveFailures + 1;
  const state = { ...previous, recommendations, consecutiveFailures };
  return { input, spec, current, metrics, state, manualChange };
}

function decideBounds(context: Context): Outcome {
  const { current, spec } = context;
  const desired = clamp(current, spec);
  const above = current > spec.maxReplicas;
  const cause = above
    ? `the count ${current} is above maxReplicas ${spec.maxReplicas}`
    : `the count ${current} is below minReplicas ${spec.minReplicas}`;
  return { recommended: desired, desired, cause, limitedBy: above ? 'maxReplicas' : 'minReplicas' };
}

function normalize(context: Context, recommended: number, cause: string): Outcome {
  const { current, spec, state, input } = context;
  const normalized = normalizeRecommendation(recommended, current, spec, state, input.nowMs);
  return {
    recommended,
    desired: normalized.replicas,
    cause: cause + explainLimit(normalized, recommended, current, spec),
    limitedBy: normalized.limitedBy,
  };
}

function decideWithoutMetrics(context: Context): Outcome {
  const { current, spec, state, metrics } = context;
  const failures = state.consecutiveFailures;
  const fallback = spec.fallback.replicas;
  const fallbackApplies = fallback !== undefined && failures >= spec.fallback.failureThreshold;
  // Without metrics the count may only rise, to the fallback; it never falls.
  const recommended = fallbackApplies ? Math.max(current, fallback) : current;
  return normalize(context, recommended, explainMissingMetrics(metrics, failures, spec));
}

function decideFromMetrics(context: Context): Outcome {
  const { current, spec, metrics } = context;
  const recommended = Math.max(...metrics.proposals.map((proposal) => proposal.replicas));
  return normalize(context, recommended, explainMetrics(metrics, recommended, current, spec));
}

function chooseOutcome(context: Context): Outcome {
  const { current, spec, metrics } = context;
  if (current < spec.minReplicas || current > spec.maxReplicas) return decideBounds(context);
  if (metrics.proposals.length === 0) return decideWithoutMetrics(context);
  return decideFromMetrics(context);
}

function nextState(context: Context, outcome: Outcome, reason: string): AutoscalerState {
  const { state, spec, current, input } = context;
  const { desired } = outcome;
  const { scaleUp, scaleDown } = spec.behavior;
  const nowMs = input.nowMs;
  const up = desired > current;
  const down = desired < current;
  return {
    recommendations: recordRecommendation(
      state.recommendations,
      outcome.recommended,
      spec.behavior,
      nowMs,
    ),
    scaleUpEvents: up
      ? recordScaleEvent(state.scaleUpEvents, desired - current, scaleUp, nowMs)
      : pruneScaleEvents(state.scaleUpEvents, scaleUp, nowMs),
    scaleDownEvents: down
      ? recordScaleEvent(state.scaleDownEvents, current - desired, scaleDown, nowMs)
      : pruneScaleEvents(state.scaleDownEvents, scaleDown, nowMs),
    consecutiveFailures: state.consecutiveFailures,
    lastDesiredReplicas: desired,
    lastScale:
      up || down
        ? { atMs: nowMs, fromReplicas: current, toReplicas: desired, reason }
        : state.lastScale,
  };
}

function decideDisabled(input: DecideInput, metrics: MetricsSummary): Decision {
  const current = input.currentReplicas;
  return {
    desiredReplicas: current,
    recommendedReplicas: current,
    reason: `kept ${current} servers: autoscaling is disabled, so the spec count stands`,
    manualChange: false,
    metrics,
    newState: initialAutoscalerState(),
  };
}

/**
 * Decides the server count from per-server connections and event-loop utilization, the way the
 * HorizontalPodAutoscaler does. Each metric proposes the current count times its average over
 * its target, unless that ratio is within the tolerance of 1. The largest proposal wins, and the
 * stabilization windows, rate policies and bounds then limit it. Missing or stale samples never
 * remove servers. After `fallback.failureThreshold` readings without any fresh sample, the count
 * rises to `fallback.replicas` if that is set.
 *
 * Pure: the same input gives the same decision. Pass `newState` to the next call only after the
 * desired count was written, so a failed write is retried from the old state. Throws a
 * ValidationError when the spec is invalid.
 */
export function decide(input: DecideInput): Decision {
  validateAutoscalingSpec(input.spec);
  const { spec, currentReplicas, nowMs } = input;
  const maxSampleAgeMs = input.maxSampleAgeMs ?? DEFAULT_MAX_SAMPLE_AGE_MS;
  const fresh = selectFreshSamples(input.readings, currentReplicas, nowMs, maxSampleAgeMs);
  const metrics = summarizeMetrics(fresh, input.readyReplicas, currentReplicas, spec);
  if (!spec.enabled) return decideDisabled(input, metrics);

  const context = startContext(input, metrics);
  const outcome = chooseOutcome(context);
  const manualNote = context.manualChange
    ? `; the count was set to ${currentReplicas} outside the autoscaler`
    : '';
  const reason = sentence(currentReplicas, outcome.desired, outcome.cause + manualNote);
  return {
    desiredReplicas: outcome.desired,
    recommendedReplicas: outcome.recommended,
    reason,
    limitedBy: outcome.limitedBy,
    manualChange: context.manualChange,
    metrics,
    newState: nextState(context, outcome, reason),
  };
}

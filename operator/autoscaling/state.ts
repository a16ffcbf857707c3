/** A replica count the metrics recommended, before stabilization and rate limits. */
export interface TimedRecommendation {
  /** When it was made, in milliseconds since the Unix epoch. */
  atMs: number;
  replicas: number;
}

/** A change of the server count the autoscaler made, for the rate policies. */
export interface ScaleEvent {
  /** When it was made, in milliseconds since the Unix epoch. */
  atMs: number;
  /** Servers added (in scaleUpEvents) or removed (in scaleDownEvents); always positive. */
  replicas: number;
}

/** The latest change of the server count the autoscaler made. */
export interface LastScale {
  /** In milliseconds since the Unix epoch. */
  atMs: number;
  fromReplicas: number;
  toReplicas: number;
  reason: string;
}

/**
 * Memory of the autoscaler between decisions, one per StreamCluster. Plain JSON: the reconciler
 * may keep it in memory or serialise it. Losing it is safe, because the next decision then holds
 * scale-down for one stabilization window, as after an operator restart.
 */
export interface AutoscalerState {
  /**
   * Recent recommendations, at most one per replica count (the latest), pruned to the longer of
   * the two stabilization windows.
   */
  recommendations: TimedRecommendation[];
  /** Scale-ups within the longest scale-up policy period. */
  scaleUpEvents: ScaleEvent[];
  /** Scale-downs within the longest scale-down policy period. */
  scaleDownEvents: ScaleEvent[];
  /** Readings in a row in which no server returned a fresh sample. */
  consecutiveFailures: number;
  /**
   * The count the previous decision returned. A different current count means someone else
   * (`kubectl scale`, an edit of the spec) changed it.
   */
  lastDesiredReplicas?: number;
  lastScale?: LastScale;
}

/** The state before the first decision, or after autoscaling was turned off. */
export function initialAutoscalerState(): AutoscalerState {
  return { recommendations: [], scaleUpEvents: [], scaleDownEvents: [], consecutiveFailures: 0 };
}

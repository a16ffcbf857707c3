import type { Condition, ConditionType } from '../api/streamcluster.js';

/** A condition as computed, before its transition time is known. */
export type ConditionUpdate = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

/**
 * Merges computed conditions into the current ones. `lastTransitionTime` changes only when a
 * condition's status changes, so a converged cluster computes a status equal to the stored one
 * and no write follows.
 */
export function mergeConditions(
  current: Condition[] | undefined,
  updates: ConditionUpdate[],
  generation: number | undefined,
  now: Date,
): Condition[] {
  return updates.map((update) => {
    const previous = current?.find((condition) => condition.type === update.type);
    const lastTransitionTime =
      previous && previous.status === update.status
        ? previous.lastTransitionTime
        : now.toISOString().replace(/\.\d+Z$/, 'Z');
    return { ...update, observedGeneration: generation, lastTransitionTime };
  });
}

/** The condition of the given type, if set. */
export function findCondition(
  conditions: Condition[] | undefined,
  type: ConditionType,
): Condition | undefined {
  return conditions?.find((condition) => condition.type === type);
}

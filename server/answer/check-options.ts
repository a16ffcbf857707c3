/**
 * Adds a problem to `problems` unless `value` is a number within [min, max], and an integer
 * when `integer` is set. Messages follow "<name> must be <rule>, got <value>".
 */
export function checkNumber(
  problems: string[],
  name: string,
  value: number,
  range: { min: number; max?: number; integer?: boolean },
): void {
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  const kind = range.integer ? 'an integer' : 'a number';
  const valid =
    Number.isFinite(value) &&
    value >= range.min &&
    value <= max &&
    (!range.integer || Number.isInteger(value));
  if (!valid) problems.push(`${name} must be ${kind} from ${range.min} to ${max}, got ${value}`);
}

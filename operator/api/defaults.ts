import type { JsonSchema } from './schema.js';

/**
 * Fills in schema defaults the way the API server's structural defaulting does: a missing
 * property with a default gets a copy of it, then defaulting continues inside. Used to read
 * sample files and test inputs exactly as the operator would see them.
 */
export function applyDefaults(schema: JsonSchema, value: unknown): unknown {
  if (Array.isArray(value)) {
    return schema.items ? value.map((item) => applyDefaults(schema.items!, item)) : value;
  }
  if (value === null || typeof value !== 'object') return value;

  const result: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    if (result[name] === undefined && property.default !== undefined) {
      result[name] = structuredClone(property.default);
    }
    if (result[name] !== undefined) result[name] = applyDefaults(property, result[name]);
  }
  if (schema.additionalProperties) {
    for (const [name, item] of Object.entries(result)) {
      result[name] = applyDefaults(schema.additionalProperties, item);
    }
  }
  return result;
}

/**
 * A small builder for structural OpenAPI v3 schemas, as CustomResourceDefinitions require, that
 * also carries the TypeScript type of each field. The StreamCluster type is written once with it:
 * `Static<typeof field>` gives the type the operator reads, and `field.schema` the schema the API
 * server validates and defaults with.
 */

import { applyDefaults } from './defaults.js';

/** One CEL rule of `x-kubernetes-validations`. */
export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  /** JSONPath-like path, relative to the object, of the field the error names. */
  fieldPath?: string;
  reason?:
    'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

/** The subset of OpenAPI v3 that structural CRD schemas allow, plus Kubernetes extensions. */
export interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema;
  enum?: readonly unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  pattern?: string;
  format?: string;
  anyOf?: JsonSchema[];
  'x-kubernetes-int-or-string'?: true;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: ValidationRule[];
}

/**
 * How a field appears in an object: `required` fields must be given, `defaulted` ones are filled
 * in by the API server (so the operator always sees them), `optional` ones may be absent.
 */
export type Presence = 'required' | 'defaulted' | 'optional';

/** A field of type T: its schema and how it appears in the enclosing object. */
export class Field<T, P extends Presence = 'required'> {
  declare readonly type: T;

  constructor(
    readonly schema: JsonSchema,
    readonly presence: P,
  ) {}

  /** Marks the field as possibly absent. */
  optional(): Field<T, 'optional'> {
    return new Field<T, 'optional'>(this.schema, 'optional');
  }

  /** Sets the value the API server writes when the field is absent. */
  default(value: T): Field<T, 'defaulted'> {
    return new Field<T, 'defaulted'>({ ...this.schema, default: value }, 'defaulted');
  }

  /**
   * Defaults an object field to its own fields' defaults, so the whole subtree is always present.
   * The default is written out in full rather than as `{}` because the API server checks CEL
   * rules against the default value as written.
   */
  defaultEmpty(): Field<T, 'defaulted'> {
    const value = applyDefaults(this.schema, {});
    return new Field<T, 'defaulted'>({ ...this.schema, default: value }, 'defaulted');
  }

  /** Adds CEL rules checked by the API server on this field. */
  validate(...rules: ValidationRule[]): Field<T, P> {
    const existing = this.schema['x-kubernetes-validations'] ?? [];
    const schema = { ...this.schema, 'x-kubernetes-validations': [...existing, ...rules] };
    return new Field<T, P>(schema, this.presence);
  }
}

/** The TypeScript type a field carries. */
export type Static<F> = F extends Field<infer T, Presence> ? T : never;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyField = Field<any, Presence>;
type Properties = Record<string, AnyField>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type OptionalKeys<P extends Properties> = {
  [K in keyof P]: P[K] extends Field<unknown, 'optional'> ? K : never;
}[keyof P];

/** The object type of a set of properties: optional fields become optional keys. */
export type ObjectOf<P extends Properties> = Simplify<
  { -readonly [K in Exclude<keyof P, OptionalKeys<P>>]: Static<P[K]> } & {
    -readonly [K in OptionalKeys<P>]?: Static<P[K]>;
  }
>;

type Common = Pick<JsonSchema, 'description'>;
type StringOptions = Common & Pick<JsonSchema, 'minLength' | 'maxLength' | 'pattern' | 'format'>;
type NumberOptions = Common & Pick<JsonSchema, 'minimum' | 'maximum'>;
type ArrayOptions = Common &
  Pick<
    JsonSchema,
    'minItems' | 'maxItems' | 'x-kubernetes-list-type' | 'x-kubernetes-list-map-keys'
  >;

/** A string field. */
export function string(options: StringOptions = {}): Field<string> {
  return new Field({ type: 'string', ...options }, 'required');
}

/** A whole-number field. */
export function integer(options: NumberOptions = {}): Field<number> {
  return new Field({ type: 'integer', ...options }, 'required');
}

/** A floating-point field. */
export function number(options: NumberOptions = {}): Field<number> {
  return new Field({ type: 'number', ...options }, 'required');
}

/** A true/false field. */
export function boolean(options: Common = {}): Field<boolean> {
  return new Field({ type: 'boolean', ...options }, 'required');
}

/** A string restricted to the given words. */
export function enumOf<const V extends string>(values: readonly V[], options: Common = {}) {
  return new Field<V>({ type: 'string', enum: values, ...options }, 'required');
}

/** The API server's own quantity syntax, such as `500m`, `2Gi` or `1`. */
const QUANTITY_PATTERN =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

/**
 * A Kubernetes resource quantity written as a string or a number, as in a Pod's resources.
 * Structural schemas need the `anyOf` of both types beside `x-kubernetes-int-or-string`.
 */
export function quantity(options: Common = {}): Field<string> {
  return new Field(
    {
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      'x-kubernetes-int-or-string': true,
      pattern: QUANTITY_PATTERN,
      ...options,
    },
    'required',
  );
}

/**
 * A quantity written as a string, such as a volume size `10Gi`. The API server requires a type
 * on a field with a default, which an int-or-string field lacks, so defaulted sizes use this.
 */
export function quantityString(options: Common = {}): Field<string> {
  return new Field({ type: 'string', pattern: QUANTITY_PATTERN, ...options }, 'required');
}

/** An object with the given properties; `required` is derived from their presence. */
export function object<P extends Properties>(
  properties: P,
  options: Common = {},
): Field<ObjectOf<P>> {
  const required = Object.entries(properties)
    .filter(([, field]) => field.presence === 'required')
    .map(([name]) => name);
  const schema: JsonSchema = {
    type: 'object',
    ...options,
    properties: Object.fromEntries(Object.entries(properties).map(([k, f]) => [k, f.schema])),
  };
  if (required.length > 0) schema.required = required;
  return new Field(schema, 'required');
}

/** A list of items. */
export function array<T>(item: Field<T, Presence>, options: ArrayOptions = {}): Field<T[]> {
  return new Field({ type: 'array', ...options, items: item.schema }, 'required');
}

/** A map from string keys to values of one type. */
export function record<T>(
  value: Field<T, Presence>,
  options: Common & Pick<JsonSchema, 'maxProperties'> = {},
): Field<Record<string, T>> {
  return new Field({ type: 'object', ...options, additionalProperties: value.schema }, 'required');
}

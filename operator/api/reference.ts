import type { JsonSchema } from './schema.js';
import { streamClusterSpec } from './streamcluster.js';
import { status } from './status.js';
import { operatorSettings } from '../settings.js';

/** One row of the field reference. */
interface Row {
  path: string;
  type: string;
  defaultValue: string;
  description: string;
}

function typeOf(schema: JsonSchema): string {
  if (schema['x-kubernetes-int-or-string']) return 'quantity';
  if (schema.enum) return schema.enum.map((value) => `\`${String(value)}\``).join(' \\| ');
  if (schema.type === 'array') return `list of ${schema.items ? typeOf(schema.items) : 'any'}`;
  if (schema.type === 'object' && schema.additionalProperties) return 'map';
  return schema.type ?? 'any';
}

function limitsOf(schema: JsonSchema): string[] {
  const limits: string[] = [];
  if (schema.minimum !== undefined && schema.maximum !== undefined) {
    limits.push(`${schema.minimum} to ${schema.maximum}`);
  } else if (schema.minimum !== undefined) {
    limits.push(`at least ${schema.minimum}`);
  } else if (schema.maximum !== undefined) {
    limits.push(`at most ${schema.maximum}`);
  }
  if (schema.pattern && !schema['x-kubernetes-int-or-string']) {
    limits.push(`matches \`${schema.pattern}\``);
  }
  for (const rule of schema['x-kubernetes-validations'] ?? []) {
    if (rule.message) limits.push(rule.message);
    else limits.push(`\`${rule.rule}\``);
  }
  return limits;
}

function describe(schema: JsonSchema, required: boolean): string {
  const parts = [schema.description ?? ''];
  if (required) parts.unshift('**Required.**');
  const limits = limitsOf(schema);
  if (limits.length > 0) parts.push(`Rules: ${limits.join('; ')}.`);
  return parts
    .filter((part) => part !== '')
    .join(' ')
    .replaceAll('|', '\\|');
}

function formatDefault(schema: JsonSchema): string {
  if (schema.default === undefined) return '';
  if (schema.type === 'object' && !schema.additionalProperties) return '';
  return `\`${JSON.stringify(schema.default)}\``;
}

function collect(schema: JsonSchema, path: string, required: boolean, rows: Row[]): void {
  if (path !== '') {
    rows.push({
      path: `\`${path}\``,
      type: typeOf(schema),
      defaultValue: formatDefault(schema),
      description: describe(schema, required),
    });
  }
  const children = schema.properties ?? schema.items?.properties;
  const childRequired = schema.properties ? schema.required : schema.items?.required;
  const prefix = schema.type === 'array' ? `${path}[]` : path;
  for (const [name, child] of Object.entries(children ?? {})) {
    const childPath = prefix === '' ? name : `${prefix}.${name}`;
    collect(child, childPath, childRequired?.includes(name) ?? false, rows);
  }
}

function table(schema: JsonSchema, root: string): string {
  const rows: Row[] = [];
  collect(schema, '', false, rows);
  const lines = ['| field | type | default | description |', '| --- | --- | --- | --- |'];
  for (const row of rows) {
    const path = row.path.replace('`', `\`${root}.`);
    lines.push(`| ${path} | ${row.type} | ${row.defaultValue} | ${row.description} |`);
  }
  return lines.join('\n');
}

function flagTable(): string {
  const lines = ['| flag | environment | default | description |', '| --- | --- | --- | --- |'];
  for (const setting of Object.values(operatorSettings)) {
    const fallback = setting.default === '' ? '' : `\`${String(setting.default)}\``;
    lines.push(`| \`--${setting.flag}\` | \`${setting.env}\` | ${fallback} | ${setting.help} |`);
  }
  return lines.join('\n');
}

/**
 * Renders the spec and status field tables and the operator's flags as Markdown, from the same
 * sources as the CRD and the command line.
 */
export function renderReference(): string {
  return [
    '### Operator flags',
    '',
    flagTable(),
    '',
    '### Spec',
    '',
    table(streamClusterSpec.schema, 'spec'),
    '',
    '### Status',
    '',
    table(status.schema, 'status'),
    '',
  ].join('\n');
}

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

const run = promisify(execFile);

/** Helm release that scripts/setup/50-helm.sh builds; keep the two in step. */
export const HELM_VERSION = 'v3.21.4';

/** Path of the Helm binary built by scripts/setup/50-helm.sh. */
export function helmPath(): string {
  const cache =
    process.env.STREAMCLUSTER_CACHE ?? join(process.env.HOME ?? '/root', '.cache/streamcluster');
  return join(cache, 'helm', HELM_VERSION, 'bin', 'helm');
}

/** Returns why Helm cannot run here, or undefined when it can. */
export function helmUnavailable(): string | undefined {
  if (existsSync(helmPath())) return undefined;
  return `${helmPath()} is missing; run scripts/setup/50-helm.sh`;
}

/** Runs Helm; resolves to stdout, rejects with stderr in the message. */
export async function helm(args: string[]): Promise<string> {
  try {
    const { stdout } = await run(helmPath(), args, { maxBuffer: 16 << 20 });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`helm ${args.join(' ')} failed: ${stderr}`, { cause: error });
  }
}

/** Parses multi-document YAML into objects, skipping empty documents. */
export function parseManifests(text: string): Record<string, unknown>[] {
  return parseAllDocuments(text)
    .map((document) => document.toJS() as Record<string, unknown> | null)
    .filter((object): object is Record<string, unknown> => object !== null);
}

/**
 * Renders the chart like `helm install streamcluster-operator -n streamcluster-system` would,
 * CRDs included, with the given `--set` values.
 */
export async function renderChart(values: string[] = []): Promise<Record<string, unknown>[]> {
  const sets = values.flatMap((value) => ['--set', value]);
  const output = await helm([
    'template',
    'streamcluster-operator',
    'charts/streamcluster-operator',
    '--namespace',
    'streamcluster-system',
    '--include-crds',
    ...sets,
  ]);
  return parseManifests(output);
}

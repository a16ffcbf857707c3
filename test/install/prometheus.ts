import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Prometheus release whose promtool scripts/setup/60-promtool.sh builds. Keep the two in step. */
export const PROMETHEUS_VERSION = 'v3.16.0';

/**
 * Prometheus Operator release whose CRDs scripts/setup/60-prometheus-operator-crds.sh caches.
 * Keep the two in step.
 */
export const PROMETHEUS_OPERATOR_VERSION = 'v0.85.0';

/** Plural names of the Prometheus Operator kinds that the chart renders. */
export const MONITORING_PLURALS = ['podmonitors', 'servicemonitors', 'prometheusrules'];

function cacheDir(): string {
  return (
    process.env.STREAMCLUSTER_CACHE ?? join(process.env.HOME ?? '/root', '.cache/streamcluster')
  );
}

/** Path of the promtool binary built by scripts/setup/60-promtool.sh. */
export function promtoolPath(): string {
  return join(cacheDir(), 'promtool', PROMETHEUS_VERSION, 'bin', 'promtool');
}

/** Returns why promtool cannot run here, or undefined when it can. */
export function promtoolUnavailable(): string | undefined {
  if (existsSync(promtoolPath())) return undefined;
  return `${promtoolPath()} is missing; run scripts/setup/60-promtool.sh`;
}

/**
 * Runs promtool and resolves to its stdout. Rejects with stdout and stderr in the message,
 * because `promtool test rules` reports failed cases on stdout.
 */
export async function promtool(args: string[]): Promise<string> {
  try {
    const { stdout } = await run(promtoolPath(), args, { maxBuffer: 16 << 20 });
    return stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(' ')} failed:\n${stdout}${stderr}`, { cause: error });
  }
}

/** Paths of the cached CRD files, one for each of MONITORING_PLURALS. */
export function monitoringCrdPaths(): string[] {
  const dir = join(cacheDir(), 'prometheus-operator', PROMETHEUS_OPERATOR_VERSION, 'crds');
  return MONITORING_PLURALS.map((plural) => join(dir, `monitoring.coreos.com_${plural}.yaml`));
}

/** Returns why the Prometheus Operator CRDs are missing, or undefined when they are cached. */
export function monitoringCrdsUnavailable(): string | undefined {
  const missing = monitoringCrdPaths().find((path) => !existsSync(path));
  if (!missing) return undefined;
  return `${missing} is missing; run scripts/setup/60-prometheus-operator-crds.sh`;
}

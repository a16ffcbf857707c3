import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ValidationError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { PartialBalancerConfig } from './balancer-config.js';

/** Reads a JSON or YAML configuration file (YAML 1.2 reads JSON as well) into a partial config. */
export async function readConfigFile(path: string): Promise<PartialBalancerConfig> {
  const text = await readFile(path, 'utf8');
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new ValidationError(
      [`config file ${path} must be JSON or YAML: ${(error as Error).message}`],
      { cause: error },
    );
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationError([
      `config file ${path} must hold an object of settings, got ${JSON.stringify(value)}`,
    ]);
  }
  return value as PartialBalancerConfig;
}

/** Settings of a {@link ConfigFileWatcher}. */
export interface ConfigFileWatcherOptions {
  path: string;
  logger: Logger;
  /** Called with the file's content each time it changed; may throw to reject it. */
  onChange: (config: PartialBalancerConfig) => void;
  /** Called when the new content could not be read or was rejected; the old config stays. */
  onError?: (error: unknown) => void;
  /** Re-read period that backs up file system events; default 5000 ms. */
  pollMs?: number;
  /** Wait after an event before reading, so a burst of writes is read once; default 100 ms. */
  debounceMs?: number;
}

/**
 * Watches a configuration file and reports its content when it changes. It watches the folder,
 * because a Kubernetes ConfigMap volume replaces the file by swapping a symlink, which a watch on
 * the file itself would miss, and compares content so unrelated events cause no reload.
 */
export class ConfigFileWatcher {
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private lastText: string | undefined;

  constructor(private readonly options: ConfigFileWatcherOptions) {}

  /** Reads the file once, reports it and starts watching. */
  async start(): Promise<void> {
    this.lastText = await readFile(this.options.path, 'utf8');
    this.options.onChange(await readConfigFile(this.options.path));
    const folder = dirname(this.options.path);
    this.watcher = watch(folder, { persistent: false }, () => this.schedule());
    this.watcher.on('error', (error) =>
      this.options.logger.warn({ err: error, folder }, 'config folder watch failed'),
    );
    this.poll = setInterval(() => this.schedule(), this.options.pollMs ?? 5000);
    this.poll.unref();
    this.options.logger.debug({ file: basename(this.options.path) }, 'watching config file');
  }

  stop(): void {
    this.watcher?.close();
    clearInterval(this.poll);
    clearTimeout(this.debounce);
  }

  private schedule(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.reload(), this.options.debounceMs ?? 100);
    this.debounce.unref();
  }

  private async reload(): Promise<void> {
    try {
      const text = await readFile(this.options.path, 'utf8');
      if (text === this.lastText) return;
      this.lastText = text;
      this.options.onChange(await readConfigFile(this.options.path));
    } catch (error) {
      this.options.onError?.(error);
    }
  }
}

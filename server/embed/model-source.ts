import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

import { ModelNotFoundError } from './errors.js';

/** Origin of a model: a directory on disk or a Hugging Face Hub repository. */
export type ModelSource = { kind: 'directory'; path: string } | { kind: 'hub'; id: string };

/** Files transformers.js reads from a model directory for feature extraction. */
const REQUIRED_FILES = [
  'config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'onnx/model.onnx',
];

/** Hub repository ids: `name` or `owner/name`, as the Hub spells them. */
const HUB_ID = /^(?:[\w.-]+\/)?[\w.-]+$/;

/** Returns STREAMCLUSTER_CACHE, default `~/.cache/streamcluster`, the folder setup builds into. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.STREAMCLUSTER_CACHE || join(homedir(), '.cache', 'streamcluster');
}

/** Returns the directory where `make setup` builds the default model, all-MiniLM-L6-v2. */
export function defaultModelDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), 'models', 'all-MiniLM-L6-v2');
}

/**
 * Classifies `model`. An existing path, an absolute or `.`-relative path, or `~/...` is a model
 * directory, which must exist and contain the model files. Anything else shaped like a Hub id
 * (`owner/name`) is a Hub repository.
 */
export function resolveModelSource(model: string): ModelSource {
  const path = expandHome(model);
  const looksLikePath = isAbsolute(path) || path.startsWith('.') || existsSync(path);
  if (looksLikePath) return { kind: 'directory', path: checkModelDirectory(resolve(path)) };
  if (HUB_ID.test(model)) return { kind: 'hub', id: model };
  throw new ModelNotFoundError(
    `model must be a model directory or a Hugging Face model id such as ` +
      `Xenova/all-MiniLM-L6-v2, got "${model}"`,
  );
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

/** Throws {@link ModelNotFoundError}, naming the fix, unless `dir` contains every model file. */
export function checkModelDirectory(dir: string): string {
  const setupHint =
    dir === defaultModelDir()
      ? 'run `make setup` to build the default model there'
      : `run \`make setup\` and use ${defaultModelDir()}, or point the model at a ` +
        'transformers.js model directory';
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ModelNotFoundError(`model directory ${dir} was not found; ${setupHint}`);
  }
  const missing = REQUIRED_FILES.filter((file) => !existsSync(join(dir, file)));
  if (missing.length > 0) {
    throw new ModelNotFoundError(
      `model directory ${dir} is missing ${missing.join(', ')}; ${setupHint}`,
    );
  }
  return dir;
}

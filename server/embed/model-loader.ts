import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import {
  AutoConfig,
  AutoModel,
  AutoTokenizer,
  env,
  type PreTrainedModel,
  type PreTrainedTokenizer,
} from '@huggingface/transformers';

import { ModelLoadError } from './errors.js';
import { defaultModelDir, type ModelSource } from './model-source.js';

/** Location and download settings of a model, as plain data so it can go to worker threads. */
export interface ModelSettings {
  source: ModelSource;
  /** Download cache for Hub models. */
  hubCacheDir: string;
  /** Hub base URL, such as `https://huggingface.co/`. */
  hubEndpoint: string;
}

/** Points transformers.js at the cache and Hub of `settings`; its `env` is global per thread. */
function configureTransformers(settings: ModelSettings): void {
  env.cacheDir = settings.hubCacheDir;
  env.remoteHost = settings.hubEndpoint.endsWith('/')
    ? settings.hubEndpoint
    : `${settings.hubEndpoint}/`;
  env.allowRemoteModels = settings.source.kind === 'hub';
}

function modelPath(source: ModelSource): string {
  return source.kind === 'directory' ? source.path : source.id;
}

/** Wraps a transformers.js failure in an error that names the model and the next step. */
function loadError(settings: ModelSettings, error: unknown): ModelLoadError {
  const reason = error instanceof Error ? error.message : String(error);
  const { source } = settings;
  if (source.kind === 'hub') {
    return new ModelLoadError(
      `model ${source.id} could not be loaded from the Hugging Face Hub at ` +
        `${settings.hubEndpoint}: ${reason}. Without network access, set the model to a local ` +
        `model directory, such as ${defaultModelDir()} built by \`make setup\``,
      { cause: error },
    );
  }
  return new ModelLoadError(
    `model directory ${source.path} could not be loaded: ${reason}. Rebuild it with ` +
      '`make setup` or check that it is a transformers.js model directory',
    { cause: error },
  );
}

/** Loads the tokenizer of the model in `settings`. */
export async function loadTokenizer(settings: ModelSettings): Promise<PreTrainedTokenizer> {
  configureTransformers(settings);
  try {
    return await AutoTokenizer.from_pretrained(modelPath(settings.source), {
      local_files_only: settings.source.kind === 'directory',
    });
  } catch (error) {
    throw loadError(settings, error);
  }
}

/**
 * Loads the fp32 ONNX encoder on the CPU. `intraOpThreads` bounds onnxruntime's threads for
 * one session run, so a pool of single-threaded workers does not oversubscribe the cores.
 */
export async function loadEncoder(
  settings: ModelSettings,
  intraOpThreads: number,
): Promise<PreTrainedModel> {
  configureTransformers(settings);
  try {
    return await AutoModel.from_pretrained(modelPath(settings.source), {
      local_files_only: settings.source.kind === 'directory',
      dtype: 'fp32',
      device: 'cpu',
      session_options: { intraOpNumThreads: intraOpThreads, interOpNumThreads: 1 },
    });
  } catch (error) {
    throw loadError(settings, error);
  }
}

/**
 * Returns the longest input the model is meant to see, in tokens with special tokens:
 * sentence-transformers' `max_seq_length` when the directory has sentence_bert_config.json
 * (256 for all-MiniLM-L6-v2), else the tokenizer's `model_max_length`, never more than the
 * position embeddings allow.
 */
export async function readMaxTokens(
  settings: ModelSettings,
  tokenizer: PreTrainedTokenizer,
): Promise<number> {
  configureTransformers(settings);
  let config: { max_position_embeddings?: number };
  try {
    config = (await AutoConfig.from_pretrained(modelPath(settings.source), {
      local_files_only: settings.source.kind === 'directory',
    })) as typeof config;
  } catch (error) {
    throw loadError(settings, error);
  }
  const positions = config.max_position_embeddings ?? Number.POSITIVE_INFINITY;
  const sentenceTransformers = await readSentenceTransformersLength(settings.source);
  const declared = sentenceTransformers ?? (tokenizer.model_max_length as number | undefined);
  const maxTokens = Math.min(declared ?? positions, positions);
  if (!Number.isFinite(maxTokens)) {
    throw loadError(
      settings,
      new Error('neither the tokenizer nor config.json gives a max length'),
    );
  }
  return maxTokens;
}

async function readSentenceTransformersLength(source: ModelSource): Promise<number | undefined> {
  if (source.kind !== 'directory') return undefined;
  try {
    const text = await readFile(join(source.path, 'sentence_bert_config.json'), 'utf8');
    const length = (JSON.parse(text) as { max_seq_length?: unknown }).max_seq_length;
    return typeof length === 'number' ? length : undefined;
  } catch {
    return undefined;
  }
}

import { ValidationError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { ExtractiveGenerator } from './extractive.js';
import { OpenAiGenerator } from './openai.js';
import type { PageLocator } from './pages.js';
import type { AnswerConfig } from './settings.js';
import type { AnswerGenerator, EmbedTexts } from './types.js';

/** Collaborators of the answer generators. */
export interface AnswerDependencies {
  /** Embeds texts with the index's model; the extractive generator scores sentences with it. */
  embed: EmbedTexts;
  /** Finds the pages of a quote inside a chunk; default locatePagesBySeparator. */
  locatePages?: PageLocator;
  /** Environment the API key is read from; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

/**
 * Creates the configured answer generator. Throws a ValidationError naming the flags to set when
 * the openai generator lacks its base URL or model.
 */
export function createAnswerGenerator(
  config: AnswerConfig,
  dependencies: AnswerDependencies,
): AnswerGenerator {
  const { embed, locatePages, env, logger } = dependencies;
  if (config.answerGenerator === 'extractive') {
    return new ExtractiveGenerator({
      embed,
      locatePages,
      logger,
      maxSentences: config.answerMaxSentences,
      minSimilarity: config.answerMinSimilarity,
    });
  }

  const problems: string[] = [];
  if (config.openaiBaseUrl === '') {
    problems.push(
      '--openai-base-url (STREAMCLUSTER_OPENAI_BASE_URL) must be set ' +
        'for --answer-generator openai, got nothing',
    );
  }
  if (config.openaiModel === '') {
    problems.push(
      '--openai-model (STREAMCLUSTER_OPENAI_MODEL) must be set ' +
        'for --answer-generator openai, got nothing',
    );
  }
  if (problems.length > 0) throw new ValidationError(problems);

  return new OpenAiGenerator({
    baseUrl: config.openaiBaseUrl,
    model: config.openaiModel,
    apiKeyEnv: config.openaiApiKeyEnv,
    env,
    connectTimeoutMs: config.openaiConnectTimeoutMs,
    firstTokenTimeoutMs: config.openaiFirstTokenTimeoutMs,
    idleTimeoutMs: config.openaiIdleTimeoutMs,
    maxTokens: config.openaiMaxTokens,
    locatePages,
    logger,
  });
}

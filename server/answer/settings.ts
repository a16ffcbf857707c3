import { integer, number, oneOf, text, type ConfigOf, type Settings } from '../core/config.js';
import { MEMORY_STORE_DEFAULTS } from '../conversation/memory-store.js';
import { EXTRACTIVE_DEFAULTS } from './extractive.js';
import { OPENAI_DEFAULTS } from './openai.js';

/** Kinds of answer generator a server can run. */
export type AnswerGeneratorKind = 'extractive' | 'openai';

function environmentVariableName(raw: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(raw)) {
    throw new Error('must be an environment variable name (letters, digits, underscores)');
  }
  return raw;
}

/** Command-line flags and environment variables that configure answers and conversations. */
export const answerSettings = {
  answerGenerator: {
    flag: 'answer-generator',
    env: 'STREAMCLUSTER_ANSWER_GENERATOR',
    help:
      'Answer generator: extractive (sentences of the documents, offline) ' +
      'or openai (a chat completions endpoint).',
    default: 'extractive' as AnswerGeneratorKind,
    parse: oneOf<AnswerGeneratorKind>('extractive', 'openai'),
  },
  answerMaxSentences: {
    flag: 'answer-max-sentences',
    env: 'STREAMCLUSTER_ANSWER_MAX_SENTENCES',
    help: 'Maximum sentences in an extractive answer.',
    default: EXTRACTIVE_DEFAULTS.maxSentences,
    parse: integer(1, 50),
  },
  answerMinSimilarity: {
    flag: 'answer-min-similarity',
    env: 'STREAMCLUSTER_ANSWER_MIN_SIMILARITY',
    help:
      'Minimum cosine similarity of a sentence to the question ' +
      'for an extractive answer to use it.',
    default: EXTRACTIVE_DEFAULTS.minSimilarity,
    parse: number(-1, 1),
  },
  openaiBaseUrl: {
    flag: 'openai-base-url',
    env: 'STREAMCLUSTER_OPENAI_BASE_URL',
    help:
      'API root of the chat completions endpoint, such as http://127.0.0.1:8000/v1. ' +
      'Required for --answer-generator openai.',
    default: '',
    parse: text,
  },
  openaiModel: {
    flag: 'openai-model',
    env: 'STREAMCLUSTER_OPENAI_MODEL',
    help: 'Model name sent to the chat completions endpoint. Required for openai answers.',
    default: '',
    parse: text,
  },
  openaiApiKeyEnv: {
    flag: 'openai-api-key-env',
    env: 'STREAMCLUSTER_OPENAI_API_KEY_ENV',
    help:
      'Name of the environment variable that contains the API key. ' +
      'When that variable is unset, no key is sent.',
    default: OPENAI_DEFAULTS.apiKeyEnv,
    parse: environmentVariableName,
  },
  openaiConnectTimeoutMs: {
    flag: 'openai-connect-timeout-ms',
    env: 'STREAMCLUSTER_OPENAI_CONNECT_TIMEOUT_MS',
    help: 'Milliseconds to wait for the response headers of the chat completions endpoint.',
    default: OPENAI_DEFAULTS.connectTimeoutMs,
    parse: integer(1),
  },
  openaiFirstTokenTimeoutMs: {
    flag: 'openai-first-token-timeout-ms',
    env: 'STREAMCLUSTER_OPENAI_FIRST_TOKEN_TIMEOUT_MS',
    help: 'Milliseconds from sending a request to the first answer token.',
    default: OPENAI_DEFAULTS.firstTokenTimeoutMs,
    parse: integer(1),
  },
  openaiIdleTimeoutMs: {
    flag: 'openai-idle-timeout-ms',
    env: 'STREAMCLUSTER_OPENAI_IDLE_TIMEOUT_MS',
    help: 'Maximum gap in milliseconds between received bytes once an answer streams.',
    default: OPENAI_DEFAULTS.idleTimeoutMs,
    parse: integer(1),
  },
  openaiMaxTokens: {
    flag: 'openai-max-tokens',
    env: 'STREAMCLUSTER_OPENAI_MAX_TOKENS',
    help: 'Maximum tokens the model may write per answer (max_tokens).',
    default: OPENAI_DEFAULTS.maxTokens,
    parse: integer(1),
  },
  historyMaxTurns: {
    flag: 'history-max-turns',
    env: 'STREAMCLUSTER_HISTORY_MAX_TURNS',
    help: 'Turns kept per conversation for follow-ups (a question and its answer are two).',
    default: MEMORY_STORE_DEFAULTS.maxTurns as number,
    parse: integer(1, 1000),
  },
} satisfies Settings;

/** Resolved values of {@link answerSettings}. */
export type AnswerConfig = ConfigOf<typeof answerSettings>;

export type {
  AnswerEvent,
  AnswerGenerator,
  AnswerRequest,
  Citation,
  EmbedTexts,
  HistoryTurn,
  RetrievedChunk,
} from './types.js';
export { NO_ANSWER_TEXT } from './types.js';
export { GeneratorFailedError, GeneratorTimeoutError, type TimeoutPhase } from './errors.js';
export {
  ExtractiveGenerator,
  EXTRACTIVE_DEFAULTS,
  type ExtractiveGeneratorOptions,
} from './extractive.js';
export { OpenAiGenerator, OPENAI_DEFAULTS, type OpenAiGeneratorOptions } from './openai.js';
export {
  createBoundaryPageLocator,
  locatePagesBySeparator,
  pageBoundariesOf,
  type PageBoundary,
  type PageLocator,
  type PageSpan,
} from './pages.js';
export { answerSettings, type AnswerConfig, type AnswerGeneratorKind } from './settings.js';
export { createAnswerGenerator, type AnswerDependencies } from './create.js';

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { createHashedEmbedding } from '../../test/support/hashed-embedding.js';
import { resolveConfig } from '../core/config.js';
import { ValidationError } from '../core/errors.js';
import { createAnswerGenerator } from './create.js';
import { answerSettings } from './settings.js';

const { embed } = createHashedEmbedding();

describe('createAnswerGenerator', () => {
  it('creates the extractive generator by default', () => {
    const config = resolveConfig(answerSettings, new Map(), {});
    assert.equal(createAnswerGenerator(config, { embed }).name, 'extractive');
  });

  it('creates the openai generator from the environment', () => {
    const config = resolveConfig(answerSettings, new Map(), {
      STREAMCLUSTER_ANSWER_GENERATOR: 'openai',
      STREAMCLUSTER_OPENAI_BASE_URL: 'http://127.0.0.1:8000/v1',
      STREAMCLUSTER_OPENAI_MODEL: 'qwen2.5-7b-instruct',
      STREAMCLUSTER_OPENAI_IDLE_TIMEOUT_MS: '5000',
    });
    assert.equal(config.openaiIdleTimeoutMs, 5000);
    assert.equal(createAnswerGenerator(config, { embed, env: {} }).name, 'openai');
  });

  it('names the flags openai still needs', () => {
    const config = resolveConfig(answerSettings, new Map([['answer-generator', 'openai']]), {});
    assert.throws(
      () => createAnswerGenerator(config, { embed }),
      (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.equal(error.problems.length, 2);
        assert.match(error.problems[0]!, /^--openai-base-url \(STREAMCLUSTER_OPENAI_BASE_URL\)/);
        assert.match(error.problems[1]!, /^--openai-model \(STREAMCLUSTER_OPENAI_MODEL\)/);
        return true;
      },
    );
  });

  it('rejects an invalid key variable name', () => {
    assert.throws(
      () =>
        resolveConfig(answerSettings, new Map(), { STREAMCLUSTER_OPENAI_API_KEY_ENV: 'sk-abc' }),
      /STREAMCLUSTER_OPENAI_API_KEY_ENV must be an environment variable name/,
    );
  });
});

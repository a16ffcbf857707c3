import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { createLogger } from './logger.js';

describe('createLogger', () => {
  it('rejects an unknown level naming the choices', () => {
    assert.throws(
      () => createLogger({ level: 'loud' as 'info' }),
      /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"/,
    );
  });
});

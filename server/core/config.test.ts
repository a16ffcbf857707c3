import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { integer, parseArgs, resolveConfig, boolean, oneOf, type Settings } from './config.js';
import { ValidationError } from './errors.js';

const settings = {
  port: { flag: 'port', env: 'TEST_PORT', help: 'Port.', default: 8080, parse: integer(0, 65535) },
  verbose: { flag: 'verbose', help: 'Verbose.', default: false, parse: boolean },
  mode: { flag: 'mode', env: 'TEST_MODE', help: 'Mode.', default: 'a', parse: oneOf('a', 'b') },
} satisfies Settings;

describe('config', () => {
  it('uses defaults when nothing is set', () => {
    const config = resolveConfig(settings, new Map(), {});
    assert.deepEqual(config, { port: 8080, verbose: false, mode: 'a' });
  });

  it('prefers flags over the environment', () => {
    const { flags } = parseArgs(['--port', '9000'], settings);
    const config = resolveConfig(settings, flags, { TEST_PORT: '7000' });
    assert.equal(config.port, 9000);
  });

  it('reads the environment', () => {
    const config = resolveConfig(settings, new Map(), { TEST_PORT: '7000', TEST_MODE: 'b' });
    assert.equal(config.port, 7000);
    assert.equal(config.mode, 'b');
  });

  it('takes a bare boolean switch as true', () => {
    const { flags, positionals } = parseArgs(['--verbose', 'file.pdf'], settings);
    assert.equal(resolveConfig(settings, flags, {}).verbose, true);
    assert.deepEqual(positionals, ['file.pdf']);
  });

  it('reports every invalid value with its source', () => {
    const { flags } = parseArgs(['--port=99999'], settings);
    assert.throws(
      () => resolveConfig(settings, flags, { TEST_MODE: 'c' }),
      (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.equal(error.problems.length, 2);
        assert.match(error.problems[0]!, /--port must be an integer from 0 to 65535, got "99999"/);
        assert.match(error.problems[1]!, /TEST_MODE must be one of a, b, got "c"/);
        return true;
      },
    );
  });

  it('rejects single-dash flags with a hint', () => {
    assert.throws(
      () => parseArgs(['-k', '3', 'query'], settings),
      /unknown flag -k; flags take two dashes, such as --k/,
    );
  });

  it('keeps negative numbers as positionals', () => {
    assert.deepEqual(parseArgs(['-3'], settings).positionals, ['-3']);
  });

  it('rejects unknown flags', () => {
    assert.throws(() => parseArgs(['--nope'], settings), /unknown flag --nope/);
  });

  it('lists invalid values beside an unknown flag', () => {
    assert.throws(
      () => parseArgs(['--port', '99999', '--nope', '1', '--mode', 'c'], settings),
      (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.equal(error.problems.length, 3);
        assert.match(error.problems[0]!, /^unknown flag --nope/);
        assert.match(error.problems[1]!, /^--port /);
        assert.match(error.problems[2]!, /^--mode /);
        return true;
      },
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  checkNatsLogOptions,
  describeNatsServers,
  natsUrlProblem,
  streamNameProblem,
  subjectProblem,
} from './nats-validation.js';

describe('NATS setting validation', () => {
  const urls: [string, RegExp | undefined][] = [
    ['nats://nats-0.nats:4222', undefined],
    ['tls://nats.example.com:4443', undefined],
    ['nats://user:secret@127.0.0.1:4222', undefined],
    ['nats://[::1]:4222', undefined],
    ['nats://nats.infra', undefined],
    ['127.0.0.1:4222', undefined],
    ['elastic-log.default.svc', undefined],
    ['nats://exa mple:4222', /valid host name/],
    ['nats://host:notaport', /port from 1 to 65535/],
    ['nats://host:99999', /port from 1 to 65535/],
    ['nats://host:0', /port 0/],
    ['nats://:4222', /valid host name/],
    ['nats://', /host is missing/],
    ['nats://[::1:4222', /valid host name/],
    ['nats://host:4222/path', /without a path/],
    ['nats://host:4222?x=1', /without a path, query/],
    ['ws://127.0.0.1:4222', /does not connect with ws:\/\//],
    ['http://127.0.0.1:4222', /does not connect with http:\/\//],
    ['nats//127.0.0.1:4222', /must be nats:\/\/host\[:port\]/],
  ];
  for (const [url, problem] of urls) {
    it(`checks URL ${JSON.stringify(url)}`, () => {
      const found = natsUrlProblem(url);
      if (problem === undefined) assert.equal(found, undefined);
      else assert.match(found ?? '', problem);
    });
  }

  const streams: [string, RegExp | undefined][] = [
    ['STREAMCLUSTER_LOG', undefined],
    ['demo-log_1', undefined],
    ['é'.repeat(127), undefined],
    ['', /must not be empty/],
    ['bad.name', /must not contain/],
    ['a b', /must not contain/],
    ['a*', /must not contain/],
    ['a>', /must not contain/],
    ['a/b', /must not contain/],
    ['a\\b', /must not contain/],
    ['a\tb', /must not contain/],
    ['A'.repeat(256), /at most 255 bytes/],
    ['é'.repeat(128), /at most 255 bytes/],
  ];
  for (const [name, problem] of streams) {
    const label = name.length > 20 ? `of ${Buffer.byteLength(name)} bytes` : JSON.stringify(name);
    it(`checks stream name ${label}`, () => {
      const found = streamNameProblem(name);
      if (problem === undefined) assert.equal(found, undefined);
      else assert.match(found ?? '', problem);
    });
  }

  it('checks subjects', () => {
    assert.equal(subjectProblem('streamcluster.log'), undefined);
    assert.match(subjectProblem('a..b') ?? '', /none of them empty/);
    assert.match(subjectProblem('') ?? '', /none of them empty/);
    assert.match(subjectProblem('log.*') ?? '', /wildcards/);
    assert.match(subjectProblem('log.>') ?? '', /wildcards/);
    assert.match(subjectProblem('a b') ?? '', /white space/);
  });

  it('collects every invalid option', () => {
    assert.throws(
      () =>
        checkNatsLogOptions({
          servers: ['nats://ok:4222', 'nats://exa mple:4222'],
          stream: 'bad.name',
          subject: 'log.*',
        }),
      (error: Error & { code?: string; problems?: string[] }) => {
        assert.equal(error.code, 'INVALID_ARGUMENT');
        assert.equal(error.problems?.length, 3);
        assert.match(error.problems[0]!, /^NATS server URL .*, got "nats:\/\/exa mple:4222"$/);
        assert.match(error.problems[1]!, /^NATS stream name .*, got "bad\.name"$/);
        assert.match(error.problems[2]!, /^NATS subject .*, got "log\.\*"$/);
        return true;
      },
    );
    assert.throws(() => checkNatsLogOptions({ servers: [] }), /at least one server/);
    checkNatsLogOptions({ servers: 'nats://127.0.0.1:4222' });
  });

  it('hides credentials in server descriptions', () => {
    assert.equal(
      describeNatsServers(['nats://user:secret@a:4222', 'token@b:4222', 'nats://c:4222']),
      'nats://***@a:4222,***@b:4222,nats://c:4222',
    );
  });
});

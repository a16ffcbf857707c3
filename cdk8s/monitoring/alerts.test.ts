import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { promtool, promtoolUnavailable } from '../../test/install/prometheus.js';
import { RULES_PATH } from '../generate.js';
import { alertRules } from './alerts.js';

/** Alert unit tests in promtool's format. */
const UNIT_TESTS_PATH = 'cdk8s/monitoring/alerts.test.yaml';

/** The parts of a promtool unit-test file that these tests read. */
interface UnitTestFile {
  tests: {
    name: string;
    alert_rule_test?: { eval_time: string; alertname: string; exp_alerts: unknown[] }[];
  }[];
}

function readUnitTests(): UnitTestFile {
  return parse(readFileSync(UNIT_TESTS_PATH, 'utf8')) as UnitTestFile;
}

describe('alert unit tests', () => {
  const cases = readUnitTests().tests.flatMap((group) => group.alert_rule_test ?? []);

  for (const { alert } of alertRules()) {
    it(`cover ${alert} firing and silent`, () => {
      const own = cases.filter((testCase) => testCase.alertname === alert);
      assert.ok(
        own.some((testCase) => testCase.exp_alerts.length > 0),
        `no case expects ${alert} to fire`,
      );
      assert.ok(
        own.some((testCase) => testCase.exp_alerts.length === 0),
        `no case expects ${alert} to stay silent`,
      );
    });
  }
});

describe('alert rules under promtool', { skip: promtoolUnavailable() }, () => {
  let dir: string;
  let rulesPath: string;
  let unitTestsPath: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'streamcluster-rules-'));
    // The chart's PrometheusRule takes its spec from RULES_PATH, and a Prometheus rule file is
    // that spec's `groups`.
    const spec = parse(readFileSync(RULES_PATH, 'utf8')) as { groups: unknown[] };
    rulesPath = join(dir, 'rules.yaml');
    writeFileSync(rulesPath, stringify({ groups: spec.groups }));
    // The unit tests' own rule_files entry is replaced as text, because a YAML 1.2 round trip
    // reads series values such as `0x20` (zero, 21 samples) as hexadecimal numbers.
    const text = readFileSync(UNIT_TESTS_PATH, 'utf8');
    const replaced = text.replace(
      /^rule_files:\n(?: {2}- .*\n)+/m,
      `rule_files:\n  - ${rulesPath}\n`,
    );
    assert.notEqual(replaced, text, `${UNIT_TESTS_PATH} has no rule_files list to replace`);
    unitTestsPath = join(dir, 'alerts.test.yaml');
    writeFileSync(unitTestsPath, replaced);
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('check rules finds every alert', async () => {
    const output = await promtool(['check', 'rules', '--lint=all', '--lint-fatal', rulesPath]);
    assert.match(output, new RegExp(`SUCCESS: ${alertRules().length} rules found`));
  });

  it('check rules rejects an invalid expression', async () => {
    const invalidPath = join(dir, 'invalid.yaml');
    const rule = { ...alertRules()[0]!, expr: 'max by (namespace (streamcluster_operator_leader)' };
    writeFileSync(invalidPath, stringify({ groups: [{ name: 'invalid', rules: [rule] }] }));
    await assert.rejects(promtool(['check', 'rules', invalidPath]), /parse error/);
  });

  it('unit tests pass', async () => {
    const output = await promtool(['test', 'rules', unitTestsPath]);
    assert.match(output, /SUCCESS/);
  });
});

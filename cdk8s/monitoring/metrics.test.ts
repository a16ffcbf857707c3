import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Registry } from 'prom-client';
import { OperatorMetrics } from '../../operator/controller/metrics.js';
import { createBalancer, type Balancer } from '../../server/balancer/balancer.js';
import { StreamMetrics } from '../../server/stream/metrics.js';
import { alertRules } from './alerts.js';
import { dashboardExpressions } from './dashboard.js';
import { TARGET_LABELS } from './labels.js';

/** A metric family as exported: its type and the label names it may carry. */
interface Family {
  type: string;
  labels: Set<string>;
}

/** Series names a family of each type exports, from the family name. */
const SUFFIXES: Record<string, string[]> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count'],
};

/** PromQL words that look like metric names but are functions or keywords. */
const PROMQL_WORDS = new Set(['by', 'on', 'and', 'or', 'unless', 'group_right', 'group_left']);

/** Reads the families of a registry: names and types, and the label names they declare. */
async function familiesOf(registry: Registry): Promise<Map<string, Family>> {
  const families = new Map<string, Family>();
  const declared = registry.getMetricsAsArray() as unknown as {
    name: string;
    labelNames?: string[];
  }[];
  for (const metric of await registry.getMetricsAsJSON()) {
    const labels = declared.find((candidate) => candidate.name === metric.name)?.labelNames ?? [];
    families.set(metric.name, { type: String(metric.type), labels: new Set(labels) });
  }
  return families;
}

/** Metric names a PromQL expression reads, without label matchers. */
function metricNames(expr: string): string[] {
  const withoutStrings = expr.replace(/"[^"]*"/g, '""');
  const names = withoutStrings.match(/\bstreamcluster_[a-z0-9_]+\b/g) ?? [];
  return [...new Set(names)].filter((name) => !PROMQL_WORDS.has(name));
}

/** Label names an expression matches on or groups by. */
function labelNames(expr: string): string[] {
  const labels = new Set<string>();
  for (const selector of expr.matchAll(/\{([^}]*)\}/g)) {
    for (const matcher of selector[1]!.split(',')) {
      const name = /^\s*([a-zA-Z_]\w*)\s*(=~|!~|!=|=)/.exec(matcher)?.[1];
      if (name) labels.add(name);
    }
  }
  for (const clause of expr.matchAll(/\b(?:by|on)\s*\(([^)]*)\)/g)) {
    for (const name of clause[1]!.split(',')) if (name.trim()) labels.add(name.trim());
  }
  return [...labels];
}

describe('dashboard and alert metrics', () => {
  const families = new Map<string, Family>();
  let upstream: Server;
  let balancer: Balancer;
  let scraped = '';

  before(async () => {
    // A plain HTTP server is the balancer's one endpoint, so per-endpoint gauges
    // have series and the scrape shows their labels.
    upstream = createServer((_request, response) => response.end('ok'));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const { port } = upstream.address() as AddressInfo;
    balancer = createBalancer({
      config: { endpoints: [{ host: '127.0.0.1', port }] },
      adminPort: 0,
      adminHost: '127.0.0.1',
    });
    await balancer.listen(0, '127.0.0.1');
    const registries = [new OperatorMetrics().registry, new StreamMetrics().registry];
    for (const registry of [...registries, balancer.registry]) {
      for (const [name, family] of await familiesOf(registry)) families.set(name, family);
    }
    const admin = balancer.adminAddress()!;
    scraped = await (await fetch(`http://127.0.0.1:${admin.port}/metrics`)).text();
  });

  after(async () => {
    await balancer?.close();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  /** Resolves a series name to its family, such as `x_bucket` to the histogram `x`. */
  function familyOf(series: string): Family | undefined {
    if (families.has(series)) return families.get(series);
    for (const [name, family] of families) {
      if ((SUFFIXES[family.type] ?? []).some((suffix) => name + suffix === series)) return family;
    }
    return undefined;
  }

  const sources = [
    ...dashboardExpressions().map((expr) => ({ where: 'dashboard', expr })),
    ...alertRules().map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr })),
  ];

  it('collects every component family', () => {
    for (const prefix of [
      'streamcluster_operator_',
      'streamcluster_server_',
      'streamcluster_balancer_',
    ]) {
      assert.ok(
        [...families.keys()].some((name) => name.startsWith(prefix)),
        `no ${prefix}*`,
      );
    }
  });

  it('balancer exports its families on /metrics', () => {
    for (const name of families.keys()) {
      if (!name.startsWith('streamcluster_balancer_')) continue;
      assert.match(scraped, new RegExp(`^# TYPE ${name} `, 'm'));
    }
  });

  it('uses only registered metric names', () => {
    for (const { where, expr } of sources) {
      const names = metricNames(expr);
      assert.ok(names.length > 0, `${where} reads no StreamCluster metric: ${expr}`);
      for (const name of names) {
        assert.ok(familyOf(name), `${where} reads ${name}, which no component registers`);
      }
    }
  });

  it('uses only exported or target labels', () => {
    const allowed = new Set([...TARGET_LABELS, 'le']);
    for (const { where, expr } of sources) {
      const known = new Set(allowed);
      for (const name of metricNames(expr)) {
        for (const label of familyOf(name)?.labels ?? []) known.add(label);
      }
      for (const label of labelNames(expr)) {
        assert.ok(known.has(label), `${where} uses label ${label}, which ${expr} never carries`);
      }
    }
  });

  it('rejects an unknown metric name', () => {
    assert.equal(familyOf('streamcluster_server_no_such_metric'), undefined);
    assert.deepEqual(metricNames('rate(streamcluster_server_no_such_metric{a="b"}[5m])'), [
      'streamcluster_server_no_such_metric',
    ]);
  });
});

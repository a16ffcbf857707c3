import { CLUSTER } from './labels.js';

/** One query of a panel, with the legend Grafana shows for each series. */
interface Query {
  expr: string;
  legend: string;
}

interface PanelSpec {
  title: string;
  description: string;
  type: 'timeseries' | 'stat';
  unit?: string;
  queries: Query[];
  /** Value mappings of a stat panel, such as 0 to "Not ready". */
  mappings?: Record<string, string>;
}

/** A row of panels, laid out left to right with equal widths. */
interface RowSpec {
  title: string;
  panels: PanelSpec[];
}

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
const PANEL_HEIGHT = 8;
const GRID_WIDTH = 24;

function quantiles(metric: string, by = ''): Query[] {
  const group = by ? `le, ${by}` : 'le';
  const suffix = by ? ` {{${by}}}` : '';
  return [0.5, 0.95, 0.99].map((quantile) => ({
    expr: `histogram_quantile(${quantile}, sum by (${group}) (rate(${metric}_bucket{${CLUSTER}}[$__rate_interval])))`,
    legend: `p${quantile * 100}${suffix}`,
  }));
}

const rows: RowSpec[] = [
  {
    title: 'Cluster',
    panels: [
      {
        title: 'Ready',
        description: 'The Ready condition the operator last wrote.',
        type: 'stat',
        queries: [
          {
            expr: `max(streamcluster_operator_cluster_condition{${CLUSTER}, type="Ready"})`,
            legend: 'Ready',
          },
        ],
        mappings: { '0': 'Not ready', '1': 'Ready' },
      },
      {
        title: 'Stream servers',
        description:
          'Server pods wanted by the spec, existing and ready, and 1 while the autoscaler is held at minReplicas or maxReplicas.',
        type: 'timeseries',
        queries: [
          {
            expr: `max by (state) (streamcluster_operator_cluster_servers{${CLUSTER}})`,
            legend: '{{state}}',
          },
          {
            expr: `max by (bound) (streamcluster_operator_cluster_scaling_limited{${CLUSTER}})`,
            legend: 'held at {{bound}}',
          },
        ],
      },
      {
        title: 'Connections per server',
        description: 'Open WebSocket connections on each stream server.',
        type: 'timeseries',
        queries: [
          {
            expr: `sum by (pod) (streamcluster_server_connections{${CLUSTER}})`,
            legend: '{{pod}}',
          },
        ],
      },
      {
        title: 'Utilization',
        description:
          'Share of time each server was busy: its event loop, and its busiest worker pool ' +
          '(embedding or parsing).',
        type: 'timeseries',
        unit: 'percentunit',
        queries: [
          {
            expr: `max by (pod) (streamcluster_server_event_loop_utilization{${CLUSTER}})`,
            legend: '{{pod}} event loop',
          },
          {
            expr: `max by (pod) (streamcluster_server_worker_utilization{${CLUSTER}})`,
            legend: '{{pod}} workers',
          },
        ],
      },
    ],
  },
  {
    title: 'Balancer',
    panels: [
      {
        title: 'Relayed connections per endpoint',
        description: 'WebSockets the balancers relay to each stream server.',
        type: 'timeseries',
        queries: [
          {
            expr: `sum by (endpoint) (streamcluster_balancer_connections{${CLUSTER}})`,
            legend: '{{endpoint}}',
          },
        ],
      },
      {
        title: 'Circuit breaker state',
        description: '0 closed, 1 half-open, 2 open; the worst state over the balancer pods.',
        type: 'timeseries',
        queries: [
          {
            expr: `max by (endpoint) (streamcluster_balancer_circuit_breaker_state{${CLUSTER}})`,
            legend: '{{endpoint}}',
          },
        ],
      },
      {
        title: 'Ejections and health',
        description:
          'Outlier ejections per endpoint, endpoints passing health checks, and panic mode.',
        type: 'timeseries',
        queries: [
          {
            expr: `sum by (endpoint) (increase(streamcluster_balancer_ejections_total{${CLUSTER}}[$__rate_interval]))`,
            legend: 'ejections {{endpoint}}',
          },
          {
            expr: `sum by (pod) (streamcluster_balancer_endpoint_healthy{${CLUSTER}})`,
            legend: 'healthy endpoints ({{pod}})',
          },
          {
            expr: `max(streamcluster_balancer_panic{${CLUSTER}})`,
            legend: 'panic',
          },
        ],
      },
      {
        title: 'Upgrades and rejections',
        description:
          'Upgrade attempts per second by result, and requests the balancer rejected by reason.',
        type: 'timeseries',
        unit: 'reqps',
        queries: [
          {
            expr: `sum by (result) (rate(streamcluster_balancer_upgrades_total{${CLUSTER}}[$__rate_interval]))`,
            legend: '{{result}}',
          },
          {
            expr: `sum by (reason) (rate(streamcluster_balancer_rejections_total{${CLUSTER}}[$__rate_interval]))`,
            legend: 'rejected: {{reason}}',
          },
        ],
      },
    ],
  },
  {
    title: 'Documents and questions',
    panels: [
      {
        title: 'Ingests',
        description: 'Finished ingests per second by outcome: indexed, duplicate or failed.',
        type: 'timeseries',
        unit: 'ops',
        queries: [
          {
            expr: `sum by (outcome) (rate(streamcluster_server_ingests_total{${CLUSTER}}[$__rate_interval]))`,
            legend: '{{outcome}}',
          },
        ],
      },
      {
        title: 'Ingest stage latency (p95)',
        description: 'Parse, chunk, embed and index time of one document.',
        type: 'timeseries',
        unit: 's',
        queries: [
          {
            expr: `histogram_quantile(0.95, sum by (le, stage) (rate(streamcluster_server_ingest_stage_seconds_bucket{${CLUSTER}}[$__rate_interval])))`,
            legend: '{{stage}}',
          },
        ],
      },
      {
        title: 'Index',
        description: 'Documents and chunks in the index; every server indexes every document.',
        type: 'timeseries',
        queries: [
          {
            expr: `max(streamcluster_server_index_documents{${CLUSTER}})`,
            legend: 'documents',
          },
          { expr: `max(streamcluster_server_index_chunks{${CLUSTER}})`, legend: 'chunks' },
        ],
      },
      {
        title: 'Replication lag',
        description:
          'Log records each server has yet to apply up to the head of the replicated log. The log available series is 0 while a server cannot reach the log.',
        type: 'timeseries',
        queries: [
          {
            expr: `max by (pod) (streamcluster_replication_lag_records{${CLUSTER}})`,
            legend: 'lag {{pod}}',
          },
          {
            expr: `min by (pod) (streamcluster_replication_log_available{${CLUSTER}})`,
            legend: 'log available {{pod}}',
          },
        ],
      },
      {
        title: 'Search latency',
        description: 'Query embedding plus index search.',
        type: 'timeseries',
        unit: 's',
        queries: quantiles('streamcluster_server_search_seconds'),
      },
      {
        title: 'First token latency',
        description: 'Time from a question to the first answer token.',
        type: 'timeseries',
        unit: 's',
        queries: quantiles('streamcluster_server_first_token_seconds'),
      },
      {
        title: 'Questions',
        description: 'Questions asked per second; resumed ones attached to a running answer.',
        type: 'timeseries',
        unit: 'reqps',
        queries: [
          {
            expr: `sum by (resumed) (rate(streamcluster_server_asks_total{${CLUSTER}}[$__rate_interval]))`,
            legend: 'resumed={{resumed}}',
          },
        ],
      },
      {
        title: 'Slow consumers closed',
        description: 'Connections closed because their send backlog passed the hard limit.',
        type: 'timeseries',
        queries: [
          {
            expr: `sum by (pod) (increase(streamcluster_server_slow_consumer_closes_total{${CLUSTER}}[$__rate_interval]))`,
            legend: '{{pod}}',
          },
        ],
      },
    ],
  },
  {
    title: 'Operator',
    panels: [
      {
        title: 'Reconciles',
        description: 'Reconciles per second by result, over every StreamCluster.',
        type: 'timeseries',
        unit: 'ops',
        queries: [
          {
            expr: 'sum by (result) (rate(streamcluster_operator_reconciles_total[$__rate_interval]))',
            legend: '{{result}}',
          },
        ],
      },
      {
        title: 'Reconcile duration (p95)',
        description: 'Time of one reconcile, by result.',
        type: 'timeseries',
        unit: 's',
        queries: [
          {
            expr: 'histogram_quantile(0.95, sum by (le, result) (rate(streamcluster_operator_reconcile_duration_seconds_bucket[$__rate_interval])))',
            legend: '{{result}}',
          },
        ],
      },
      {
        title: 'Queue and leadership',
        description: 'Keys waiting in the work queue, and which replica leads.',
        type: 'timeseries',
        queries: [
          { expr: 'max(streamcluster_operator_queue_depth)', legend: 'queue depth' },
          { expr: 'max by (pod) (streamcluster_operator_leader)', legend: 'leader {{pod}}' },
        ],
      },
      {
        title: 'Watch restarts and status conflicts',
        description: 'Watches restarted by reason, and status writes retried after 409.',
        type: 'timeseries',
        queries: [
          {
            expr: 'sum by (reason) (increase(streamcluster_operator_watch_restarts_total[$__rate_interval]))',
            legend: 'watch {{reason}}',
          },
          {
            expr: 'sum(increase(streamcluster_operator_status_conflicts_total[$__rate_interval]))',
            legend: 'status conflicts',
          },
        ],
      },
    ],
  },
];

function panelJson(panel: PanelSpec, id: number, gridPos: object) {
  const mappings = Object.entries(panel.mappings ?? {}).map(([value, text]) => ({
    type: 'value',
    options: { [value]: { text } },
  }));
  return {
    id,
    type: panel.type,
    title: panel.title,
    description: panel.description,
    datasource: DATASOURCE,
    gridPos,
    fieldConfig: { defaults: { unit: panel.unit ?? 'short', mappings }, overrides: [] },
    options: {},
    targets: panel.queries.map((query, index) => ({
      refId: String.fromCharCode(65 + index),
      datasource: DATASOURCE,
      expr: query.expr,
      legendFormat: query.legend,
    })),
  };
}

function variable(name: string, label: string, query: string) {
  return {
    name,
    label,
    type: 'query',
    datasource: DATASOURCE,
    query: { query, refId: name },
    definition: query,
    refresh: 2,
    sort: 1,
  };
}

/** Builds the Grafana dashboard of one StreamCluster, picked by namespace and name. */
export function buildDashboard() {
  const panels: object[] = [];
  let id = 1;
  let y = 0;
  for (const row of rows) {
    panels.push({
      id: id++,
      type: 'row',
      title: row.title,
      collapsed: false,
      gridPos: { h: 1, w: GRID_WIDTH, x: 0, y },
      panels: [],
    });
    y += 1;
    const perLine = Math.min(4, row.panels.length);
    const width = GRID_WIDTH / perLine;
    row.panels.forEach((panel, index) => {
      const gridPos = {
        h: PANEL_HEIGHT,
        w: width,
        x: (index % perLine) * width,
        y: y + Math.floor(index / perLine) * PANEL_HEIGHT,
      };
      panels.push(panelJson(panel, id++, gridPos));
    });
    y += Math.ceil(row.panels.length / perLine) * PANEL_HEIGHT;
  }
  return {
    uid: 'streamcluster',
    title: 'StreamCluster',
    description:
      'Servers, balancers, ingestion, retrieval latency and the operator of one StreamCluster.',
    tags: ['streamcluster'],
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: '30s',
    time: { from: 'now-3h', to: 'now' },
    templating: {
      list: [
        { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus' },
        variable(
          'namespace',
          'Namespace',
          'label_values(streamcluster_operator_cluster_condition, namespace)',
        ),
        variable(
          'streamcluster',
          'StreamCluster',
          'label_values(streamcluster_operator_cluster_condition{namespace="$namespace"}, streamcluster)',
        ),
      ],
    },
    panels,
  };
}

/** Returns every PromQL expression of the dashboard: panel queries and variable queries. */
export function dashboardExpressions(): string[] {
  const dashboard = buildDashboard();
  const queries = dashboard.panels.flatMap(
    (panel) => (panel as { targets?: { expr: string }[] }).targets?.map((t) => t.expr) ?? [],
  );
  const variables = dashboard.templating.list.flatMap((v) =>
    'definition' in v ? [v.definition] : [],
  );
  return [...queries, ...variables];
}

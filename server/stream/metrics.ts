import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of a stream server. Every label has a small, fixed set of values. */
export class StreamMetrics {
  readonly connections: Gauge;
  readonly connectionsTotal: Counter<'outcome'>;
  readonly messages: Counter<'type'>;
  readonly slowConsumerCloses: Counter;
  readonly asks: Counter<'resumed'>;
  readonly ingests: Counter<'outcome'>;
  readonly ingestStageSeconds: Histogram<'stage'>;
  readonly embeddingBatchSeconds: Histogram;
  readonly searchSeconds: Histogram;
  readonly firstTokenSeconds: Histogram;
  readonly eventLoopUtilization: Gauge;
  readonly workerUtilization: Gauge;
  readonly indexDocuments: Gauge;
  readonly indexChunks: Gauge;
  readonly lastAppliedSeq: Gauge;
  readonly logHeadSeq: Gauge;
  readonly replicationLag: Gauge;
  readonly logAvailable: Gauge;

  constructor(readonly registry: Registry = new Registry()) {
    const registers = [registry];
    this.connections = new Gauge({
      name: 'streamcluster_server_connections',
      help: 'Open WebSocket connections.',
      registers,
    });
    this.connectionsTotal = new Counter({
      name: 'streamcluster_server_upgrades_total',
      help: 'WebSocket upgrade attempts by outcome (accepted, unauthorized, bad_subprotocol, draining, full).',
      labelNames: ['outcome'],
      registers,
    });
    this.messages = new Counter({
      name: 'streamcluster_server_messages_total',
      help: 'Client messages received by type; invalid and rate_limited count rejected ones.',
      labelNames: ['type'],
      registers,
    });
    this.slowConsumerCloses = new Counter({
      name: 'streamcluster_server_slow_consumer_closes_total',
      help: 'Connections closed because their send backlog passed the hard limit.',
      registers,
    });
    this.asks = new Counter({
      name: 'streamcluster_server_asks_total',
      help: 'Questions asked; resumed="true" counts those attached to an answer already running.',
      labelNames: ['resumed'],
      registers,
    });
    this.ingests = new Counter({
      name: 'streamcluster_server_ingests_total',
      help: 'Finished ingests by outcome (indexed, duplicate, failed).',
      labelNames: ['outcome'],
      registers,
    });
    this.ingestStageSeconds = new Histogram({
      name: 'streamcluster_server_ingest_stage_seconds',
      help: 'Duration of each ingest stage (parse, chunk, embed, index).',
      labelNames: ['stage'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120],
      registers,
    });
    this.embeddingBatchSeconds = new Histogram({
      name: 'streamcluster_server_embedding_batch_seconds',
      help: 'Latency of one embedding batch.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers,
    });
    this.searchSeconds = new Histogram({
      name: 'streamcluster_server_search_seconds',
      help: 'Latency of a search: query embedding plus index search.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.firstTokenSeconds = new Histogram({
      name: 'streamcluster_server_first_token_seconds',
      help: 'Time from a question to the first answer token.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers,
    });
    this.eventLoopUtilization = new Gauge({
      name: 'streamcluster_server_event_loop_utilization',
      help: 'Share of time the event loop was busy, averaged over about ten seconds, from 0 to 1.',
      registers,
    });
    this.workerUtilization = new Gauge({
      name: 'streamcluster_server_worker_utilization',
      help:
        'Share of time the busiest worker pool (embedding or parsing) spent on requests, ' +
        'averaged over about ten seconds, from 0 to 1.',
      registers,
    });
    this.indexDocuments = new Gauge({
      name: 'streamcluster_server_index_documents',
      help: 'Documents in the local index.',
      registers,
    });
    this.indexChunks = new Gauge({
      name: 'streamcluster_server_index_chunks',
      help: 'Chunks in the local index.',
      registers,
    });
    this.lastAppliedSeq = new Gauge({
      name: 'streamcluster_server_last_applied_seq',
      help: 'Sequence number of the newest log entry applied to the local index.',
      registers,
    });
    this.logHeadSeq = new Gauge({
      name: 'streamcluster_replication_log_head_seq',
      help: 'Sequence number of the newest log entry, as last read from the log.',
      registers,
    });
    this.replicationLag = new Gauge({
      name: 'streamcluster_replication_lag_records',
      help: 'Log records appended but not yet applied to the local index.',
      registers,
    });
    this.logAvailable = new Gauge({
      name: 'streamcluster_replication_log_available',
      help: '1 while appends and head reads of the log succeed, 0 during an outage.',
      registers,
    });
  }
}

import type { Metric } from 'prom-client';
import { Counter, Gauge, Registry } from 'prom-client';
import type { CounterLabels } from './counters.js';
import type { LatencyHistogram } from './latency-histogram.js';
import { EXPORT_FAILURE_REASONS, LossLedger } from './loss-ledger.js';
import type { ExporterProbe, SessionStatus } from './session-status.js';

type ProbeStats = ReturnType<ExporterProbe['stats']>;

/**
 * The /metrics view of a session, built on prom-client's registries and exposition formats. Every
 * metric is computed at scrape time from what the end-of-run report reads (the counters, the loss
 * ledger, the exporters' own stats), so /metrics and `--report-json` cannot disagree: nothing here
 * keeps a number of its own. The table of names is in docs/configuration.md.
 */

export const METRIC_PREFIX = 'ig_otel_profiles_';

/** Counters of the report as metric series: name → (labels to keep, metric labels). */
type Series = { readonly labels: CounterLabels; readonly value: number };

function seriesOf(status: SessionStatus, counter: string): Series[] {
  return status.counters
    .snapshot()
    .filter((s) => s.name === counter)
    .map((s) => ({ labels: s.labels, value: s.value }));
}

function pick(labels: CounterLabels, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = labels[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

interface Definition {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  /** The series at scrape time. */
  readonly read: (status: SessionStatus) => Series[];
}

/** A counter of the report under a metric name, with the labels it carries. */
function fromCounter(
  name: string,
  help: string,
  counter: string,
  labelNames: readonly string[],
  scale = 1,
): Definition {
  return {
    name,
    help,
    labelNames,
    read: (status) =>
      seriesOf(status, counter).map((s) => ({ labels: pick(s.labels, labelNames), value: s.value * scale })),
  };
}

/** Bytes sent: before compression and as written (two counters of the transports). */
function sentBytes(status: SessionStatus): Series[] {
  return [
    ...seriesOf(status, 'export_attempt_raw_bytes').map((s) => ({
      labels: { ...pick(s.labels, ['exporter']), encoding: 'raw' },
      value: s.value,
    })),
    ...seriesOf(status, 'export_attempt_bytes').map((s) => ({
      labels: { ...pick(s.labels, ['exporter']), encoding: 'compressed' },
      value: s.value,
    })),
  ];
}

const COUNTERS: readonly Definition[] = [
  {
    name: 'rows_received_total',
    help: 'Input rows read, by source (stdin, file, command, ig_grpc, k8s).',
    labelNames: ['source'],
    read: (status) => [{ labels: { source: status.inputKind }, value: status.counters.total('rows_read') }],
  },
  fromCounter(
    'rows_dropped_total',
    'Input rows dropped before they became samples, by reason (and exporter when one exporter dropped them).',
    'rows_dropped',
    ['reason', 'exporter'],
  ),
  fromCounter('samples_exported_total', 'Samples in requests the backend accepted.', 'samples_sent', [
    'exporter',
  ]),
  fromCounter(
    'profiles_exported_total',
    'Profiles in requests the backend accepted (including profiles it rejected in a partial success).',
    'profiles_sent',
    ['exporter'],
  ),
  {
    name: 'export_requests_total',
    help:
      'Export requests by outcome: success (accepted), retried (one per retry), failed (refused by the ' +
      'backend or retries given up), dropped (lost without a verdict: queue full, shutdown deadline...).',
    labelNames: ['exporter', 'outcome'],
    read: (status) => [
      ...seriesOf(status, 'requests_sent').map((s) => ({
        labels: { ...pick(s.labels, ['exporter']), outcome: 'success' },
        value: s.value,
      })),
      ...seriesOf(status, 'requests_retried').map((s) => ({
        labels: { ...pick(s.labels, ['exporter']), outcome: 'retried' },
        value: s.value,
      })),
      ...seriesOf(status, 'requests_dropped').map((s) => ({
        labels: {
          ...pick(s.labels, ['exporter']),
          outcome: EXPORT_FAILURE_REASONS.has(s.labels.reason ?? '') ? 'failed' : 'dropped',
        },
        value: s.value,
      })),
    ],
  },
  fromCounter(
    'dropped_samples_total',
    'Samples an exporter dropped, by reason (queue_full, permanent_error, retries_exhausted, shutdown_timeout...).',
    'samples_dropped',
    ['exporter', 'reason'],
  ),
  fromCounter(
    'rejected_profiles_total',
    'Profiles the backend rejected in partial-success answers (never retried).',
    'profiles_rejected',
    ['exporter'],
  ),
  {
    name: 'losses_total',
    help: 'Every loss of the loss ledger (what makes the exit status 3), by unit, reason and exporter.',
    labelNames: ['unit', 'reason', 'exporter'],
    read: (status) =>
      new LossLedger(status.counters).losses().flatMap((loss) =>
        Object.entries(loss.counts).map(([unit, value]) => ({
          labels: {
            unit,
            reason: loss.reason,
            ...(loss.exporter !== undefined ? { exporter: loss.exporter } : {}),
          },
          value: value ?? 0,
        })),
      ),
  },
  {
    name: 'sent_bytes_total',
    help:
      'Request bytes sent, each attempt counted: encoding=raw before compression; encoding=compressed as ' +
      'written on the wire (OTLP/HTTP only: grpc-js compresses inside the channel).',
    labelNames: ['exporter', 'encoding'],
    read: sentBytes,
  },
  fromCounter(
    'ig_reconnects_total',
    'Connections to the IG daemon lost (each is then re-established with backoff).',
    'grpc_reconnects',
    [],
  ),
  fromCounter(
    'ig_disconnected_seconds_total',
    'Time spent without a stream from the IG daemon (counted when it comes back or the run ends).',
    'grpc_disconnected_ms',
    [],
    1 / 1000,
  ),
  fromCounter(
    'ig_fetches_lost_total',
    'Gadget emissions the IG daemon dropped (sequence gaps: its output buffer was full).',
    'grpc_fetches_lost',
    [],
  ),
];

const INPUT_STATES = ['connecting', 'connected', 'disconnected', 'ended'] as const;

const METADATA_STATES = ['starting', 'synced', 'unavailable', 'stopped'] as const;

const GAUGES: readonly Definition[] = [
  {
    name: 'k8s_pod_metadata_state',
    help: 'The pod metadata informer (--k8s-pod-metadata): 1 for the current one of starting, synced, unavailable (no API access: IG fields only), stopped.',
    labelNames: ['state'],
    read: (status) => {
      const metadata = status.metadata();
      return metadata
        ? METADATA_STATES.map((state) => ({ labels: { state }, value: metadata.state === state ? 1 : 0 }))
        : [];
    },
  },
  {
    name: 'k8s_pod_metadata_pods',
    help: 'Pods the pod metadata informer knows now (its cache).',
    labelNames: [],
    read: (status) => {
      const metadata = status.metadata();
      return metadata ? [{ labels: {}, value: metadata.pods }] : [];
    },
  },
  {
    name: 'input_connected',
    help: '1 while the input (IG daemon stream, or the JSON stream) is connected, else 0.',
    labelNames: ['source'],
    read: (status) => [
      { labels: { source: status.inputKind }, value: status.input.state === 'connected' ? 1 : 0 },
    ],
  },
  {
    name: 'input_state',
    help: 'The input state: 1 for the current one of connecting, connected, disconnected, ended.',
    labelNames: ['source', 'state'],
    read: (status) =>
      INPUT_STATES.map((state) => ({
        labels: { source: status.inputKind, state },
        value: status.input.state === state ? 1 : 0,
      })),
  },
  ...(
    [
      ['queue_requests', 'Requests waiting in the queue', (s) => s.queuedRequests],
      ['queue_bytes', 'Encoded bytes waiting in the queue', (s) => s.queuedBytes],
    ] as const satisfies readonly (readonly [string, string, (s: ProbeStats) => number])[]
  ).map(([name, help, value]): Definition => ({
    name,
    help: `${help} (queue = memory or disk).`,
    labelNames: ['exporter', 'queue'],
    read: (status) =>
      status.exporters().map((probe) => ({
        labels: { exporter: probe.name, queue: probe.queue.medium },
        value: value(probe.stats()),
      })),
  })),
  ...(
    [
      ['queue_max_requests', 'in requests (queue.max_requests)', (p) => p.queue.maxRequests],
      ['queue_max_bytes', 'in bytes (queue.max_size)', (p) => p.queue.maxBytes],
    ] as const satisfies readonly (readonly [string, string, (p: ExporterProbe) => number])[]
  ).map(([name, unit, bound]): Definition => ({
    name,
    help: `Bound of the queue ${unit}; the oldest are dropped beyond it.`,
    labelNames: ['exporter', 'queue'],
    read: (status) =>
      status.exporters().map((probe) => ({
        labels: { exporter: probe.name, queue: probe.queue.medium },
        value: bound(probe),
      })),
  })),
  {
    name: 'requests_in_flight',
    help: 'Requests taken from the queue and not finished (sending or waiting to retry).',
    labelNames: ['exporter'],
    read: (status) =>
      status
        .exporters()
        .map((probe) => ({ labels: { exporter: probe.name }, value: probe.stats().inFlight })),
  },
  {
    name: 'exporter_backend_up',
    help: '0 while the last attempt failed retryably and no success followed (the backend is down), else 1.',
    labelNames: ['exporter'],
    read: (status) =>
      status.exporters().map((probe) => ({
        labels: { exporter: probe.name },
        value: probe.stats().backendDown ? 0 : 1,
      })),
  },
  {
    name: 'exporter_failing',
    help: '1 while the last request ended in a permanent failure and no success followed (not ready), else 0.',
    labelNames: ['exporter'],
    read: (status) =>
      status.exporters().map((probe) => ({
        labels: { exporter: probe.name },
        value: probe.stats().failing !== undefined ? 1 : 0,
      })),
  },
];

/** The export latency histogram, in prom-client's own shape (read from the session's LatencyHistogram). */
function latencyMetric(name: string, help: string, histogram: LatencyHistogram): Metric {
  const get = () => {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const series of histogram.series()) {
      let cumulative = 0;
      histogram.buckets.forEach((bound, i) => {
        cumulative += series.counts[i] ?? 0;
        values.push({
          labels: { ...series.labels, le: bound },
          value: cumulative,
          metricName: `${name}_bucket`,
        });
      });
      values.push({
        labels: { ...series.labels, le: '+Inf' },
        value: series.count,
        metricName: `${name}_bucket`,
      });
      values.push({ labels: { ...series.labels }, value: series.sum, metricName: `${name}_sum` });
      values.push({ labels: { ...series.labels }, value: series.count, metricName: `${name}_count` });
    }
    return Promise.resolve({ name, help, type: 'histogram', values, aggregator: 'sum' });
  };
  // prom-client formats any registered object with this shape; the numbers stay in the histogram.
  return { name, help, get, reset: () => undefined } as unknown as Metric;
}

/** A registry answering in one exposition format (prom-client rewrites counter names for OpenMetrics). */
function buildRegistry(status: SessionStatus, contentType: string): Registry {
  const registry = new Registry();
  registry.setContentType(contentType as typeof Registry.PROMETHEUS_CONTENT_TYPE);
  for (const d of COUNTERS) {
    new Counter({
      name: METRIC_PREFIX + d.name,
      help: d.help,
      labelNames: d.labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const s of d.read(status)) this.inc(s.labels, s.value);
      },
    });
  }
  for (const d of GAUGES) {
    new Gauge({
      name: METRIC_PREFIX + d.name,
      help: d.help,
      labelNames: d.labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const s of d.read(status)) this.set(s.labels, s.value);
      },
    });
  }
  registry.registerMetric(
    latencyMetric(
      `${METRIC_PREFIX}export_duration_seconds`,
      'Time one export attempt took, by exporter and outcome (success, retryable, failure).',
      status.exportLatency,
    ),
  );
  return registry;
}

export interface SessionMetrics {
  /** The exposition for an Accept header: OpenMetrics when the scraper asks for it, else Prometheus text. */
  scrape(accept: string | undefined): Promise<{ contentType: string; body: string }>;
}

export function createSessionMetrics(status: SessionStatus): SessionMetrics {
  const text = buildRegistry(status, Registry.PROMETHEUS_CONTENT_TYPE);
  const openMetrics = buildRegistry(status, Registry.OPENMETRICS_CONTENT_TYPE);
  return {
    async scrape(accept) {
      const registry = /application\/openmetrics-text/i.test(accept ?? '') ? openMetrics : text;
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

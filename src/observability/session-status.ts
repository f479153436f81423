import type { Counters } from './counters.js';
import { LatencyHistogram } from './latency-histogram.js';

/**
 * What the process is doing right now, for /readyz and the gauges of /metrics: whether the input
 * is connected, and each exporter's queue and health. The counts live in the counters (one source
 * of truth with the end-of-run report); this holds only the present state, read at scrape time.
 */

/** Where rows come from (the `source` label). */
/** `otlp`: relay's OTLP receivers (IG's own otel-profiles operator and other senders push to it). */
export type InputKind = 'stdin' | 'file' | 'command' | 'ig_grpc' | 'k8s' | 'otlp';

export type InputState =
  | { readonly state: 'connecting'; readonly detail: string }
  | { readonly state: 'connected'; readonly detail: string }
  | { readonly state: 'disconnected'; readonly detail: string }
  | { readonly state: 'ended'; readonly detail: string };

/** An exporter's state as the exporter keeps it (ExporterStats), plus its queue bounds. */
export interface ExporterProbe {
  readonly name: string;
  readonly queue: {
    /** `memory` or `disk` (a persistent queue). */
    readonly medium: 'memory' | 'disk';
    readonly maxRequests: number;
    readonly maxBytes: number;
  };
  stats(): {
    readonly queuedRequests: number;
    readonly queuedBytes: number;
    readonly inFlight: number;
    readonly backendDown: boolean;
    /** Why the last request ended in a permanent failure, if no success followed it. */
    readonly failing?: string;
  };
}

/**
 * The Kubernetes pod metadata (`--k8s-pod-metadata`) as readiness and /metrics see it: never a
 * reason to be unready (profiles keep IG's own fields without it), but worth a line and a gauge.
 */
export interface MetadataProbe {
  readonly state: 'starting' | 'synced' | 'unavailable' | 'stopped';
  readonly pods: number;
  readonly reason?: string;
}

export type Readiness =
  { readonly ready: true; readonly detail?: string } | { readonly ready: false; readonly reason: string };

export class SessionStatus {
  readonly counters: Counters;
  readonly inputKind: InputKind;
  /** Seconds one export attempt took, by exporter and outcome. */
  readonly exportLatency = new LatencyHistogram();
  private _input: InputState;
  private readonly _exporters = new Map<string, ExporterProbe>();
  private _metadata: (() => MetadataProbe) | undefined;

  constructor(counters: Counters, inputKind: InputKind, initial: InputState) {
    this.counters = counters;
    this.inputKind = inputKind;
    this._input = initial;
  }

  get input(): InputState {
    return this._input;
  }

  setInput(state: InputState): void {
    this._input = state;
  }

  addExporter(probe: ExporterProbe): void {
    this._exporters.set(probe.name, probe);
  }

  exporters(): ExporterProbe[] {
    return [...this._exporters.values()];
  }

  setMetadata(probe: () => MetadataProbe): void {
    this._metadata = probe;
  }

  /** The pod metadata's state, when `--k8s-pod-metadata` is on. */
  metadata(): MetadataProbe | undefined {
    return this._metadata?.();
  }

  /** Ready: the input is connected and no exporter's last request failed for good. */
  readiness(): Readiness {
    const input = this._input;
    if (input.state !== 'connected') return { ready: false, reason: input.detail };
    for (const probe of this._exporters.values()) {
      const failing = probe.stats().failing;
      if (failing !== undefined)
        return { ready: false, reason: `exporter ${probe.name} is failing: ${failing}` };
    }
    const metadata = this.metadata();
    if (metadata?.state === 'unavailable')
      return {
        ready: true,
        detail: `pod metadata unavailable (profiles carry IG's own fields): ${metadata.reason ?? 'unknown'}`,
      };
    return { ready: true };
  }
}

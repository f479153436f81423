import type { GadgetRow } from '../rows/gadget-row.js';
import { getField } from '../rows/gadget-row.js';
import { createCollectionTimeline } from '../gadget-bridge/collection-timeline.js';
import type { CollectionTimeline } from '../gadget-bridge/collection-timeline.js';
import { applyAnnotations } from '../gadget-bridge/profile-presets.js';
import type { Annotation } from '../gadget-bridge/profile-presets.js';
import type { ProfileSpec } from '../rows/profile-spec.js';
import type { RowBatch, RowSource } from '../rows/row-batch.js';
import type { ForwardBatch } from '../exporter/forward-batch.js';
import { isForwardBatch } from '../exporter/forward-batch.js';
import type { Counters } from '../observability/counters.js';
import type { Logger } from '../observability/logger.js';
import type { ExportProfilesServiceRequest } from '../profiles/model/otlp-model.js';
import { countRequest } from '../profiles/model/otlp-model.js';
import type { IngestSink, RefusalReason } from '../receiver/ingest-gate.js';
import { acceptRequest } from '../store/request-acceptance.js';
import type { IngestResult, StoreBacklog } from '../store/profile-store.js';
import { notIgShaped, requestRows } from './ig-request-rows.js';
import type { ProfileRows } from './ig-request-rows.js';

/**
 * Rows waiting for the pipelines past which relay answers UNAVAILABLE (with a retry delay): IG's own
 * operator does not retry, so this is sized to absorb minutes of a busy node's fetches (a profile_cpu
 * fetch is a few thousand rows), while bounding memory to a few hundred MB.
 */
export const MAX_PENDING_ROWS = 1_000_000;

/** Counter of requests relay refused (400 / INVALID_ARGUMENT): a loss, reason below. */
export const RELAY_INVALID_REASON = 'invalid_request';

export interface RelayRowSourceOptions {
  /** Row fields the pipelines read for a spec (resource fields among them): the rest become sample attributes. */
  readonly fieldsRead: (spec: ProfileSpec) => ReadonlySet<string>;
  /** IG's map-fetch-interval: how long the window of one Export is. */
  readonly fetchIntervalNano: bigint;
  readonly counters: Counters;
  readonly logger: Logger;
  readonly now?: () => bigint;
  /** `--annotate` entries: applied to the spec of each profile (by its datasource). */
  readonly annotations?: readonly Annotation[];
  /** Called once on stop (the receivers refuse new requests from then on). */
  readonly onStop?: () => void;
}

/**
 * The datasource forwarded requests are routed by (`--otel-profiles-exporter otlp:NAME`): they carry no
 * gadget rows, only the spec's datasource is read.
 */
export const FORWARDED_DATASOURCE = 'otlp';
const FORWARDED_SPEC: ProfileSpec = {
  datasource: FORWARDED_DATASOURCE,
  profileName: FORWARDED_DATASOURCE,
  sampleType: { type: 'samples', unit: 'count' },
  stackFields: [],
  valueField: '',
  sampleAttributeFields: [],
};

/** The request with only the profiles the acceptance check let through (the same object when all were). */
function acceptedPart(
  request: ExportProfilesServiceRequest,
  accepted: (ri: number, si: number, pi: number) => boolean,
): ExportProfilesServiceRequest {
  return {
    dictionary: request.dictionary,
    resourceProfiles: request.resourceProfiles.map((rp, ri) => ({
      ...rp,
      scopeProfiles: rp.scopeProfiles.map((sp, si) => ({
        ...sp,
        profiles: sp.profiles.filter((_p, pi) => accepted(ri, si, pi)),
      })),
    })),
  };
}

const nowNano = (): bigint => BigInt(Date.now()) * 1_000_000n;

/**
 * The receivers' sink and the session's row source in one: every accepted request becomes one row
 * batch per profile, timed by its arrival (IG sends one Export per fetch, without time), handed to the
 * export pipelines in arrival order. A request is answered once its rows are queued here; SIGTERM ends
 * the batches after everything accepted was handed on, so the session flushes and drains all of it.
 */
export class RelayRowSource implements RowSource, IngestSink {
  private readonly _ready: RowBatch[] = [];
  private _wake: (() => void) | undefined;
  private _stopped = false;
  private _refusalWarned = false;
  private _pendingRows = 0;
  private _pendingBatches = 0;
  private _requests = 0;
  private readonly _timeline: CollectionTimeline;
  /** Specs by datasource and extra attribute fields: the pipelines key their work on spec identity. */
  private readonly _specs = new Map<string, ProfileSpec>();

  constructor(private readonly _options: RelayRowSourceOptions) {
    const now = _options.now ?? nowNano;
    this._timeline = createCollectionTimeline({ mode: 'live', now, sourceStartNano: now() });
  }

  backlog(): StoreBacklog {
    return {
      pendingRequests: this._pendingBatches,
      pendingSamples: this._pendingRows,
      saturated: this._pendingRows >= MAX_PENDING_ROWS,
    };
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- the sink contract is asynchronous
  async ingest(request: ExportProfilesServiceRequest): Promise<IngestResult> {
    let acceptance;
    try {
      acceptance = acceptRequest(request);
    } catch (err) {
      this._options.counters.add('requests_dropped', 1, { reason: RELAY_INVALID_REASON });
      throw err;
    }
    if (this._stopped) throw new Error('relay is stopping');
    const requestNumber = ++this._requests;
    let samples = 0;
    if (notIgShaped(request) === undefined) {
      for (const profile of requestRows(request, acceptance.accepted)) {
        samples += profile.rows.length;
        this.push(profile, requestNumber);
      }
    } else {
      const forward = acceptedPart(request, acceptance.accepted);
      samples = countRequest(forward).samples;
      this.pushForward(forward, samples, requestNumber);
    }
    this._options.counters.add('relay_requests');
    if (acceptance.rejectedProfiles > 0) {
      this._options.counters.add('profiles_dropped', acceptance.rejectedProfiles, {
        reason: RELAY_INVALID_REASON,
      });
    }
    return {
      acceptedProfiles: acceptance.acceptedProfiles,
      rejectedProfiles: acceptance.rejectedProfiles,
      samples,
      ...(acceptance.errorMessage !== undefined ? { errorMessage: acceptance.errorMessage } : {}),
    };
  }

  /** A request from a sender that is not IG, passed on unchanged (only its accepted profiles). */
  private pushForward(request: ExportProfilesServiceRequest, samples: number, requestNumber: number): void {
    this._pendingRows += samples;
    this._pendingBatches++;
    this._options.counters.add('relay_requests_forwarded');
    const batch: ForwardBatch = {
      spec: FORWARDED_SPEC,
      rows: [],
      windowStartUnixNano: 0n,
      windowEndUnixNano: 0n,
      origin: `relay request ${requestNumber} (forwarded)`,
      forward: request,
    };
    this._ready.push(batch);
    this._wake?.();
  }

  /** Counts a request refused before it reached the sink (garbage, truncated, mixed layouts, bad gzip, too large). */
  countUndecodable(): void {
    this._options.counters.add('requests_dropped', 1, { reason: RELAY_INVALID_REASON });
  }

  /**
   * Counts a request answered UNAVAILABLE (relay saturated, stopping, or failing): a sender that
   * retries sends it again, but IG's own operator never retries, so for it the request is lost.
   */
  countRefused(reason: RefusalReason): void {
    this._options.counters.add('requests_dropped', 1, { reason: `refused_${reason}` });
    if (!this._refusalWarned) {
      this._refusalWarned = true;
      this._options.logger.warn(
        `refused a request (${reason}): IG's operator does not retry, so its data is lost (counted as ` +
          `requests_dropped{reason=refused_${reason}})`,
      );
    }
  }

  private push(profile: ProfileRows, requestNumber: number): void {
    const spec = this.specFor(profile);
    const interval = spec.fetchIntervalNano ?? this._options.fetchIntervalNano;
    // One timeline per node when IG sends k8s.node: a relay fed by several daemons must not tile their windows.
    const first = profile.rows[0];
    const node = first && getField(first, 'k8s.node');
    const window = this._timeline.arrival(
      `${spec.datasource}/${typeof node === 'string' ? node : ''}`,
      interval,
    );
    const rows: readonly GadgetRow[] = profile.rows;
    this._pendingRows += rows.length;
    this._pendingBatches++;
    this._options.counters.add('rows_read', rows.length);
    this._ready.push({
      spec,
      rows,
      windowStartUnixNano: window.startNano,
      windowEndUnixNano: window.endNano,
      origin: `relay request ${requestNumber} ${profile.path}`,
    });
    this._wake?.();
  }

  /**
   * The base spec with the sample attributes IG sent that no pipeline reads as a resource field
   * (`proc.comm` stays a sample attribute, `k8s.podName` goes to the resource), so nothing IG sent is lost.
   */
  private specFor(profile: ProfileRows): ProfileSpec {
    const keys = [...profile.attributeKeys].sort();
    const key = `${profile.baseSpec.datasource}\u0000${profile.baseSpec.profileName}\u0000${keys.join('\u0000')}`;
    let spec = this._specs.get(key);
    if (spec === undefined) {
      const base =
        applyAnnotations(profile.baseSpec.datasource, profile.baseSpec, this._options.annotations ?? []) ??
        profile.baseSpec;
      const read = this._options.fieldsRead(base);
      const extra = keys.filter((k) => !read.has(k) && !base.sampleAttributeFields.includes(k));
      spec =
        extra.length === 0
          ? base
          : { ...base, sampleAttributeFields: [...base.sampleAttributeFields, ...extra] };
      this._specs.set(key, spec);
    }
    return spec;
  }

  async *batches(): AsyncIterable<RowBatch> {
    for (;;) {
      const next = this._ready.shift();
      if (next !== undefined) {
        this._pendingRows -= isForwardBatch(next) ? countRequest(next.forward).samples : next.rows.length;
        this._pendingBatches--;
        yield next;
        continue;
      }
      if (this._stopped) return;
      await new Promise<void>((resolve) => (this._wake = resolve));
      this._wake = undefined;
    }
  }

  /** No request is taken from now on; the batches end once the accepted ones are handed on. */
  stop(): Promise<void> {
    if (!this._stopped) this._options.onStop?.();
    this._stopped = true;
    this._wake?.();
    return Promise.resolve();
  }
}

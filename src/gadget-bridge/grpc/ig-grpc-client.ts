import * as grpc from '@grpc/grpc-js';
import type { GadgetRow } from '../../rows/gadget-row.js';
import type { Logger, LogLevel } from '../../observability/logger.js';
import { compileRowDecoder } from './field-decoder.js';
import type { RowDecoder } from './field-decoder.js';
import type { DataSource, GadgetControlRequest, GadgetEvent, GadgetInfo } from './gadget-messages.js';
import {
  decodeGadgetData,
  decodeGadgetDataArray,
  decodeGadgetInfo,
  GADGET_MANAGER_SERVICE,
} from './gadget-api.js';
import {
  DATASOURCE_TYPE_SINGLE,
  EVENT_LOG_SHIFT,
  EVENT_TYPE_GADGET_INFO,
  EVENT_TYPE_PAYLOAD,
  GADGET_INFO_FLAG_INSTANCE_ID,
} from './gadget-messages.js';
import type { IgTlsOptions } from './ig-address.js';
import { DEFAULT_IG_ADDRESS, igChannelSetup } from './ig-address.js';
import { instanceIdFromName } from './instance-id.js';
import { tidyGrpcDetails } from '../../util/grpc-details.js';
import { asError } from '../../util/error-text.js';

/**
 * Client for Inspektor Gadget's daemon API (`api.GadgetManager`): GetGadgetInfo, and RunGadget
 * streams (run a gadget, or attach to a headless instance) decoded into rows.
 */

/** Deadline of unary calls (GetGadgetInfo may pull an image, hence generous). */
export const DEFAULT_CALL_TIMEOUT_MS = 60_000;
/** How long stop() waits for the gadget's final flush before cancelling the stream. */
export const DEFAULT_STOP_TIMEOUT_MS = 15_000;
/** Decoded events buffered before the gRPC stream is paused (flow control towards the daemon). */
export const STREAM_HIGH_WATER_EVENTS = 64;
/** Buffered events below which a paused stream resumes. */
export const STREAM_LOW_WATER_EVENTS = 16;

export type GadgetStreamEvent =
  | { readonly kind: 'info'; readonly info: GadgetInfo }
  | {
      readonly kind: 'data';
      readonly datasource: DataSource;
      /** The stream's event sequence number (shared by all datasources; gaps = drops). */
      readonly seq: number;
      /** Decoded rows (empty when the datasource was not selected for decoding). */
      readonly rows: readonly GadgetRow[];
      readonly decoded: boolean;
      /** The raw GadgetData/GadgetDataArray bytes (replay detection compares them). */
      readonly payload: Uint8Array;
    }
  | { readonly kind: 'log'; readonly level: LogLevel; readonly igLevel: number; readonly message: string };

/** A RunGadget stream. Iterate it once; it ends when the daemon ends the stream. */
export interface GadgetStream extends AsyncIterable<GadgetStreamEvent> {
  /** Asks the gadget to stop; resolves when the daemon has ended the stream (after its final flush). */
  stop(): Promise<void>;
  /** Drops the stream at once (no flush). */
  cancel(): void;
  /** Number of events received so far. */
  readonly received: number;
}

/** A stream that ended with a non-OK gRPC status. */
export class IgStreamError extends Error {
  constructor(
    message: string,
    readonly code: grpc.status,
    readonly details: string,
    /** Events received before the failure: 0 means the stream never got going. */
    readonly receivedEvents: number,
  ) {
    super(message);
    this.name = 'IgStreamError';
  }
}

export interface IgGrpcClientOptions {
  /** `unix:///var/run/ig/ig.socket` (default) or `tcp://HOST:PORT`. */
  readonly address?: string;
  readonly tls?: IgTlsOptions;
  readonly logger?: Logger;
  readonly callTimeoutMs?: number;
  readonly stopTimeoutMs?: number;
}

/**
 * Which rows of a datasource to decode: all fields (`true`), only these dotted field names and
 * what lies under them (a projection: see compileRowDecoder), or none (`false`: `rows: []`).
 */
export type DecodeSelection = boolean | ReadonlySet<string>;

export interface StreamOptions {
  /** What to decode of each datasource (default: every field of every datasource). */
  readonly decode?: (ds: DataSource, info: GadgetInfo) => DecodeSelection;
}

export interface RunGadgetOptions extends StreamOptions {
  /** `profile_cpu` or a full reference `ghcr.io/inspektor-gadget/gadget/profile_cpu:v0.55.1`. */
  readonly imageName: string;
  /** Fully qualified keys, e.g. `operator.oci.ebpf.map-fetch-interval: "5s"`. */
  readonly paramValues?: Readonly<Record<string, string>>;
  /** Run time limit in nanoseconds; 0 / unset = until stopped. */
  readonly timeoutNs?: bigint;
  /** logrus level of the gadget's log events (0 panic … 4 info, 5 debug, 6 trace); default 3 warn. */
  readonly logLevel?: number;
  readonly args?: readonly string[];
}

export interface IgGrpcClient {
  /** The address as given (for messages). */
  readonly address: string;
  /** GadgetInfo (datasources, fields, annotations, params) without running the gadget. */
  getGadgetInfo(
    imageName: string,
    paramValues?: Readonly<Record<string, string>>,
    options?: { readonly instanceId?: boolean },
  ): Promise<GadgetInfo>;
  runGadget(options: RunGadgetOptions): GadgetStream;
  /** Attaches to a headless instance by id (32 hex) or Helm instance name (sha256-derived id). */
  attach(idOrName: string, options?: StreamOptions): GadgetStream;
  close(): void;
}

/** logrus default for gadget log events: warnings and errors. */
export const DEFAULT_GADGET_LOG_LEVEL = 3;

/** logrus level (0 panic … 6 trace) → our level. */
export function logLevelFromIg(level: number): LogLevel {
  if (level <= 2) return 'error';
  if (level === 3) return 'warn';
  if (level === 4) return 'info';
  return 'debug';
}

/** An actionable message for a daemon that cannot be reached. */
export function daemonUnreachableMessage(address: string, details: string): string {
  const hint = address.startsWith('tcp://')
    ? 'is the gadget pod (tcp 127.0.0.1:8080 in its network namespace) or `ig daemon -H tcp://…` listening there'
    : 'is `ig daemon` running, and may this user open the socket (mode 0660, see `ig daemon --group`)';
  return (
    `cannot reach Inspektor Gadget's daemon at ${address}: ${details}. Check: ${hint}; ` +
    `is --remote-address right (default ${DEFAULT_IG_ADDRESS})?`
  );
}

function describeStatus(
  address: string,
  what: string,
  code: grpc.status,
  details: string,
  received: number,
): string {
  const tidy = tidyGrpcDetails(details);
  if (code === grpc.status.UNAVAILABLE && received === 0) return daemonUnreachableMessage(address, tidy);
  return `${what} at ${address} failed: ${grpc.status[code] ?? code} ${tidy}`;
}

interface StreamInit {
  readonly request: GadgetControlRequest;
  readonly what: string;
  readonly decode: (ds: DataSource, info: GadgetInfo) => DecodeSelection;
}

function openStream(
  client: grpc.Client,
  address: string,
  init: StreamInit,
  stopTimeoutMs: number,
  logger: Logger | undefined,
): GadgetStream {
  const m = GADGET_MANAGER_SERVICE.runGadget;
  const call = client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize);
  const queue: GadgetStreamEvent[] = [];
  let waiter: (() => void) | undefined;
  let ended = false;
  let failure: Error | undefined;
  let cancelledByUs = false;
  let paused = false;
  let received = 0;
  let stopRequested = false;
  const endWaiters: (() => void)[] = [];
  const datasources = new Map<number, { ds: DataSource; decoder?: RowDecoder; decode: DecodeSelection }>();

  const wake = (): void => {
    const w = waiter;
    waiter = undefined;
    w?.();
  };
  const finish = (err?: Error): void => {
    if (ended) return;
    ended = true;
    if (err && !failure) failure = err;
    wake();
    for (const w of endWaiters.splice(0)) w();
  };
  const fail = (err: Error): void => {
    failure ??= err;
    cancelledByUs = true;
    call.cancel();
    finish(err);
  };

  const onEvent = (ev: GadgetEvent): void => {
    received++;
    if (ev.type === EVENT_TYPE_GADGET_INFO) {
      const info = decodeGadgetInfo(ev.payload);
      datasources.clear();
      for (const ds of info.dataSources) datasources.set(ds.id, { ds, decode: init.decode(ds, info) });
      queue.push({ kind: 'info', info });
    } else if (ev.type === EVENT_TYPE_PAYLOAD) {
      const entry = datasources.get(ev.dataSourceID);
      if (!entry) {
        throw new Error(
          `${init.what} at ${address}: data for datasource id ${ev.dataSourceID} ` +
            (datasources.size ? 'not described by the GadgetInfo' : 'before any GadgetInfo'),
        );
      }
      let rows: GadgetRow[] = [];
      if (entry.decode !== false) {
        entry.decoder ??= compileRowDecoder(entry.ds, entry.decode === true ? undefined : entry.decode);
        const decoder = entry.decoder;
        rows =
          entry.ds.type === DATASOURCE_TYPE_SINGLE
            ? [decoder(decodeGadgetData(ev.payload).data)]
            : decodeGadgetDataArray(ev.payload).dataArray.map(decoder);
      }
      queue.push({
        kind: 'data',
        datasource: entry.ds,
        seq: ev.seq,
        rows,
        decoded: entry.decode !== false,
        payload: ev.payload,
      });
    } else if (ev.type >>> EVENT_LOG_SHIFT > 0) {
      const igLevel = ev.type >>> EVENT_LOG_SHIFT;
      queue.push({
        kind: 'log',
        level: logLevelFromIg(igLevel),
        igLevel,
        message: Buffer.from(ev.payload).toString('utf8'),
      });
    } else {
      // Result / done / job-id events: IG's current server never sends them to RunGadget clients.
      logger?.debug('ignoring gadget event', { type: ev.type, address });
      return;
    }
    // After a stop request everything is buffered: the daemon must be able to finish its flush
    // even when nobody reads until the stream has ended.
    if (queue.length >= STREAM_HIGH_WATER_EVENTS && !paused && !stopRequested) {
      paused = true;
      call.pause();
    }
    wake();
  };

  call.on('data', (ev: GadgetEvent) => {
    if (ended) return;
    try {
      onEvent(ev);
    } catch (err) {
      fail(asError(err));
    }
  });
  call.on('error', (err: grpc.ServiceError) => {
    if (cancelledByUs && err.code === grpc.status.CANCELLED) return;
    failure ??= new IgStreamError(
      describeStatus(address, init.what, err.code, err.details, received),
      err.code,
      err.details,
      received,
    );
  });
  // 'end' comes after every buffered message was read, so nothing is cut off by the status.
  call.on('end', () => finish());
  call.on('close', () => finish());
  call.write(init.request);

  const next = async (): Promise<IteratorResult<GadgetStreamEvent>> => {
    while (true) {
      const ev = queue.shift();
      if (ev) {
        if (paused && queue.length <= STREAM_LOW_WATER_EVENTS) {
          paused = false;
          call.resume();
        }
        return { value: ev, done: false };
      }
      if (ended) {
        if (failure) {
          const err = failure;
          failure = undefined; // thrown once
          throw err;
        }
        return { value: undefined, done: true };
      }
      if (paused) {
        paused = false;
        call.resume();
      }
      await new Promise<void>((resolve) => (waiter = resolve));
    }
  };

  const cancel = (): void => {
    if (ended) return;
    cancelledByUs = true;
    call.cancel();
  };

  return {
    get received() {
      return received;
    },
    [Symbol.asyncIterator]: () => ({
      next,
      return: () => {
        cancel();
        return Promise.resolve({ value: undefined, done: true });
      },
    }),
    stop: async () => {
      if (ended) return;
      if (!stopRequested) {
        stopRequested = true;
        call.write({ stopRequest: {} });
      }
      const done = new Promise<void>((resolve) => endWaiters.push(resolve));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          logger?.warn(`no end of stream ${stopTimeoutMs} ms after the stop request; cancelling`, {
            address,
          });
          cancel();
          resolve();
        }, stopTimeoutMs);
        timer.unref(); // a guard: the call being stopped holds the process
      });
      // Buffered events must keep flowing while we wait, or the daemon could never finish.
      if (paused) {
        paused = false;
        call.resume();
      }
      await Promise.race([done, timeout]);
      clearTimeout(timer);
    },
    cancel,
  };
}

/** Connects lazily (the first call dials) to IG's daemon. */
export function createIgGrpcClient(options: IgGrpcClientOptions = {}): IgGrpcClient {
  const setup = igChannelSetup(options.address ?? DEFAULT_IG_ADDRESS, options.tls);
  const client = new grpc.Client(setup.target, setup.credentials, setup.options);
  const callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  const all = (): boolean => true;

  return {
    address: setup.address,
    getGadgetInfo: (imageName, paramValues, opts) =>
      new Promise<GadgetInfo>((resolve, reject) => {
        const m = GADGET_MANAGER_SERVICE.getGadgetInfo;
        client.makeUnaryRequest(
          m.path,
          m.requestSerialize,
          m.responseDeserialize,
          {
            imageName,
            paramValues: paramValues ?? {},
            flags: opts?.instanceId ? GADGET_INFO_FLAG_INSTANCE_ID : 0,
          },
          { deadline: Date.now() + callTimeoutMs },
          (err, response) => {
            if (err) {
              reject(
                new IgStreamError(
                  describeStatus(setup.address, `GetGadgetInfo(${imageName})`, err.code, err.details, 0),
                  err.code,
                  err.details,
                  0,
                ),
              );
            } else if (!response)
              reject(new Error(`GetGadgetInfo(${imageName}) at ${setup.address}: empty response`));
            else resolve(response.gadgetInfo);
          },
        );
      }),
    runGadget: (run) =>
      openStream(
        client,
        setup.address,
        {
          what: `RunGadget(${run.imageName})`,
          decode: run.decode ?? all,
          request: {
            runRequest: {
              imageName: run.imageName,
              paramValues: run.paramValues ?? {},
              args: run.args ?? [],
              logLevel: run.logLevel ?? DEFAULT_GADGET_LOG_LEVEL,
              timeout: run.timeoutNs ?? 0n,
            },
          },
        },
        stopTimeoutMs,
        options.logger,
      ),
    attach: (idOrName, opts) => {
      const id = instanceIdFromName(idOrName);
      return openStream(
        client,
        setup.address,
        {
          what: `attach(${idOrName === id ? id : `${idOrName} → ${id}`})`,
          decode: opts?.decode ?? all,
          request: { attachRequest: { id } },
        },
        stopTimeoutMs,
        options.logger,
      );
    },
    close: () => client.close(),
  };
}

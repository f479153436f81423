import * as grpc from '@grpc/grpc-js';
import type { Counters } from '../../observability/counters.js';
import type { Logger } from '../../observability/logger.js';
import type { InputState } from '../../observability/session-status.js';
import type { ProfileSpec } from '../../rows/profile-spec.js';
import type { RowBatch, RowSource } from '../../rows/row-batch.js';
import type { DataSource, GadgetInfo } from './gadget-messages.js';
import type { IgTlsOptions } from './ig-address.js';
import type {
  DecodeSelection,
  GadgetStream,
  GadgetStreamEvent,
  IgGrpcClient,
  RunGadgetOptions,
} from './ig-grpc-client.js';
import { createIgGrpcClient, IgStreamError } from './ig-grpc-client.js';
import type { ReconnectOptions } from './daemon-wait.js';
import {
  createReconnectBackoff,
  describeSeconds,
  isDaemonAbsent,
  OUTAGE_REMINDER_MS,
  reconnectBound,
  reconnectGaveUp,
  reconnectLimitMs,
} from './daemon-wait.js';
import { createCollectionTimeline } from '../collection-timeline.js';
import type { CollectionTimeline } from '../collection-timeline.js';
import { instanceIdFromName } from './instance-id.js';
import { profileSpecFromDataSource } from './profile-spec-from-gadget-info.js';
import { eventFingerprint, REPLAY_HISTORY_EVENTS, ReplayFilter } from './replay-filter.js';

export type { ReconnectOptions } from './daemon-wait.js';

/**
 * A RowSource over IG's gRPC API: runs a gadget (or attaches to a headless instance) and yields
 * one RowBatch per data event of every datasource that has a ProfileSpec. Survives daemon
 * restarts and dropped connections: reconnects with exponential backoff and re-runs (or
 * re-attaches), never yielding an emission twice. Collection windows follow ../collection-timeline.ts
 * per datasource: arrival time, tiled while the gaps stay within two fetch intervals.
 *
 * Counters: `grpc_events` (data events yielded as batches), `rows_read`, `grpc_fetches_lost`
 * (events the daemon dropped: seq gaps), `grpc_reconnects` (connections lost), `grpc_disconnected_ms`
 * (time without a stream, loss to first event after it), `grpc_input_gaps{reason}` (losses that
 * lost data: `gadget_rerun` = the lost run's unfetched samples, `replay_not_overlapping`,
 * `ended_disconnected` = attach stopped before the instance's events since the loss were read),
 * `grpc_replayed_events_skipped` (attach replays of already yielded events).
 */

export interface GrpcRowSourceOptions {
  /** `unix:///var/run/ig/ig.socket` (default) or `tcp://HOST:PORT`. */
  readonly address?: string;
  readonly tls?: IgTlsOptions;
  /** Run this gadget (exactly one of `run` and `attach`). */
  readonly run?: Omit<RunGadgetOptions, 'decode'>;
  /** Attach to this headless instance: 32-hex id or Helm instance name. */
  readonly attach?: string;
  readonly logger: Logger;
  readonly counters: Counters;
  /** Datasource → ProfileSpec; default profileSpecFromDataSource (the `profiles.*` annotations). */
  readonly resolveSpec?: (info: GadgetInfo, ds: DataSource) => ProfileSpec | undefined;
  /**
   * The row fields the consumer reads for rows of a spec (`pipelineFieldsRead`): only these are
   * decoded. Default: every field, as `-o json` shows them.
   */
  readonly fieldsRead?: (spec: ProfileSpec) => ReadonlySet<string>;
  readonly reconnect?: ReconnectOptions;
  /** Told when the stream is up, lost or not there yet (/readyz). */
  readonly status?: { setInput(state: InputState): void };
  /** Passed to the client: how long stop() waits for the final flush. */
  readonly stopTimeoutMs?: number;
  /** Events remembered to recognise attach replays (default REPLAY_HISTORY_EVENTS). */
  readonly replayHistoryEvents?: number;
  /** Wall clock in UNIX nanoseconds (tests). */
  readonly clock?: () => bigint;
  /** A client to use instead of dialing `address` (tests, shared connections). */
  readonly client?: IgGrpcClient;
}

/** Codes after which a stream that was running is worth re-establishing. */
const RETRYABLE = new Set<grpc.status>([
  grpc.status.UNAVAILABLE,
  grpc.status.CANCELLED,
  grpc.status.INTERNAL,
  grpc.status.ABORTED,
  grpc.status.RESOURCE_EXHAUSTED,
  grpc.status.DEADLINE_EXCEEDED,
]);

function wallClockNano(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** Creates the source; nothing is dialed before batches() is iterated. */
export function createGrpcRowSource(options: GrpcRowSourceOptions): RowSource {
  if ((options.run === undefined) === (options.attach === undefined)) {
    throw new Error(
      'gRPC source: give exactly one of run (a gadget image) or attach (an instance id or name)',
    );
  }
  const { logger, counters } = options;
  const clock = options.clock ?? wallClockNano;
  const resolveSpec = options.resolveSpec ?? profileSpecFromDataSource;
  const client =
    options.client ??
    createIgGrpcClient({
      ...(options.address !== undefined ? { address: options.address } : {}),
      ...(options.tls !== undefined ? { tls: options.tls } : {}),
      ...(options.stopTimeoutMs !== undefined ? { stopTimeoutMs: options.stopTimeoutMs } : {}),
      logger,
    });
  const ownsClient = options.client === undefined;
  const address = client.address;
  const attachId = options.attach !== undefined ? instanceIdFromName(options.attach) : undefined;
  const what =
    options.run !== undefined
      ? `gadget ${options.run.imageName}`
      : `instance ${options.attach === attachId ? attachId : `${options.attach} (id ${attachId})`}`;
  const maxElapsedMs = reconnectLimitMs(options.reconnect);
  const backoff = createReconnectBackoff(options.reconnect);
  const status = options.status;

  let stopping = false;
  let current: GadgetStream | undefined;
  /** Aborted by stop(): ends a reconnect wait at once. */
  const stopped = new AbortController();
  const ignoredLogged = new Set<string>();

  async function* batches(): AsyncGenerator<RowBatch> {
    const replay =
      attachId !== undefined
        ? new ReplayFilter<GadgetStreamEvent & { kind: 'data' }>(
            options.replayHistoryEvents ?? REPLAY_HISTORY_EVENTS,
          )
        : undefined;
    /** Collection windows per datasource name (the rule every source shares). */
    let timeline: CollectionTimeline | undefined;
    let everReceived = false;
    let connectionLost = false;
    /** Lost and not yet re-established; the backoff was reset when it began. */
    let disconnected = false;
    /** backoff.elapsedMs() of the last "still down" warning. */
    let remindedAtMs = 0;
    const seconds = describeSeconds;
    /** Nothing listened at the address when the run started: waiting for the daemon to come up. */
    let waitingAtStart = false;
    const gap = (reason: string): void => counters.add('grpc_input_gaps', 1, { reason });
    const reconnected = (): void => {
      disconnected = false;
      const ms = backoff.elapsedMs();
      counters.add('grpc_disconnected_ms', ms);
      logger.info(`reconnected to Inspektor Gadget at ${address} after ${seconds(ms)} without a stream`, {
        what,
      });
    };

    try {
      while (!stopping) {
        const streamStart = clock();
        const specs = new Map<DataSource, ProfileSpec | undefined>();
        const specFor = (info: GadgetInfo, ds: DataSource): ProfileSpec | undefined => {
          if (!specs.has(ds)) specs.set(ds, resolveSpec(info, ds));
          return specs.get(ds);
        };
        let info: GadgetInfo | undefined;
        // A re-run is a new gadget run: its first window starts with it, not with the old run. An
        // attached instance kept running: its timeline goes on (a long outage is a gap, see there).
        if (options.run !== undefined || timeline === undefined) {
          timeline = createCollectionTimeline({
            mode: 'live',
            now: clock,
            sourceStartNano: streamStart,
            firstArrival: options.run !== undefined ? 'source-start' : 'one-interval',
          });
        }
        const windows = timeline;

        const decode = (ds: DataSource, i: GadgetInfo): DecodeSelection => {
          const spec = specFor(i, ds);
          if (spec === undefined) return false;
          return options.fieldsRead ? options.fieldsRead(spec) : true;
        };
        const stream =
          options.run !== undefined
            ? client.runGadget({ ...options.run, decode })
            : client.attach(attachId!, { decode });
        current = stream;
        replay?.beginReplay();
        let lastSeq = 0;

        const toBatch = (ev: GadgetStreamEvent & { kind: 'data' }): RowBatch | undefined => {
          const spec = info ? specFor(info, ev.datasource) : undefined;
          if (!spec) return undefined;
          const window = windows.arrival(ev.datasource.name, spec.fetchIntervalNano ?? 0n);
          counters.add('grpc_events');
          counters.add('rows_read', ev.rows.length);
          return {
            spec,
            rows: ev.rows,
            windowStartUnixNano: window.startNano,
            windowEndUnixNano: window.endNano,
            origin: `${address} ${ev.datasource.name} seq ${ev.seq}`,
          };
        };
        const deliver = function* (
          events: readonly (GadgetStreamEvent & { kind: 'data' })[],
        ): Generator<RowBatch> {
          for (const ev of events) {
            replay?.remember(eventFingerprint(ev.datasource.id, ev.payload));
            const batch = toBatch(ev);
            if (batch) yield batch;
          }
        };
        const settle = (decision: {
          deliver: (GadgetStreamEvent & { kind: 'data' })[];
          duplicates: number;
          noOverlap?: boolean;
        }) => {
          if (decision.duplicates > 0) {
            counters.add('grpc_replayed_events_skipped', decision.duplicates);
            logger.info(`skipped ${decision.duplicates} replayed event(s) already delivered`, {
              address,
              what,
            });
          } else if (decision.noOverlap && connectionLost) {
            gap('replay_not_overlapping');
            logger.warn(
              'the instance replay does not continue what was delivered before the reconnect ' +
                '(instance restarted, or its ring buffer wrapped): events in between are lost',
              { address, what },
            );
          }
          return decision.deliver;
        };

        try {
          for await (const ev of stream) {
            if (!everReceived) {
              logger.info(
                `connected to Inspektor Gadget at ${address}` +
                  (waitingAtStart ? ` after waiting ${seconds(backoff.elapsedMs())} for it` : ''),
                { what },
              );
              status?.setInput({ state: 'connected', detail: `connected to IG daemon at ${address}` });
            }
            everReceived = true;
            if (disconnected) {
              reconnected();
              status?.setInput({ state: 'connected', detail: `connected to IG daemon at ${address}` });
            }
            switch (ev.kind) {
              case 'info': {
                info = ev.info;
                for (const ds of info.dataSources) {
                  if (specFor(info, ds) === undefined && !ignoredLogged.has(ds.name)) {
                    ignoredLogged.add(ds.name);
                    logger.info(
                      `datasource "${ds.name}" has no profiles.stack-fields/profiles.value-field annotations; ignoring it`,
                      { what },
                    );
                  }
                }
                break;
              }
              case 'log':
                logger[ev.level](`gadget: ${ev.message}`, { what });
                break;
              case 'data': {
                if (ev.seq > lastSeq + 1) {
                  const lost = ev.seq - lastSeq - 1;
                  counters.add('grpc_fetches_lost', lost);
                  logger.warn(
                    `the daemon dropped ${lost} event(s) (seq ${lastSeq + 1}..${ev.seq - 1}): its output buffer was full`,
                    {
                      address,
                      what,
                    },
                  );
                }
                if (ev.seq > lastSeq) lastSeq = ev.seq;
                const events = replay
                  ? settle(replay.offer(eventFingerprint(ev.datasource.id, ev.payload), ev))
                  : [ev];
                yield* deliver(events);
                break;
              }
              default: {
                const never: never = ev;
                void never;
              }
            }
          }
          if (replay) yield* deliver(settle(replay.flush()));
          if (!stopping) logger.info('the gadget ended its stream', { address, what });
          return;
        } catch (err) {
          if (replay) yield* deliver(settle(replay.flush()));
          if (stopping) return;
          if (!(err instanceof IgStreamError)) throw err;
          const atStart = !everReceived && !connectionLost;
          if (atStart && !isDaemonAbsent(err)) throw new Error(err.message, { cause: err });
          const retryable =
            RETRYABLE.has(err.code) || (err.code === grpc.status.UNKNOWN && err.receivedEvents > 0);
          if (!retryable) throw err;
          status?.setInput({
            state: atStart ? 'connecting' : 'disconnected',
            detail: `IG daemon unreachable: ${err.message}`,
          });
          if (atStart) {
            // Not there yet (a sidecar started before IG): waited for like a lost stream, nothing was lost.
            if (!waitingAtStart) {
              waitingAtStart = true;
              backoff.reset();
              logger.warn(`${err.message}; waiting for it${reconnectBound(maxElapsedMs)}`, { address, what });
            }
          } else if (err.receivedEvents > 0 || !connectionLost) {
            connectionLost = true;
            disconnected = true;
            remindedAtMs = 0;
            backoff.reset();
            counters.add('grpc_reconnects');
            if (options.run !== undefined) gap('gadget_rerun');
            logger.warn(
              `lost the stream (${grpc.status[err.code] ?? err.code} ${err.details}); ` +
                `reconnecting${reconnectBound(maxElapsedMs)}. ` +
                (options.run !== undefined
                  ? 'The gadget is run again: samples the daemon held for the lost run are lost.'
                  : 'The instance keeps running; its replay is de-duplicated.'),
              { address, what },
            );
          }
          const down = backoff.elapsedMs();
          const delay = backoff.nextDelayMs();
          if (delay === undefined) {
            const doing = `${atStart ? 'waiting for' : 'reconnecting to'} Inspektor Gadget at ${address}`;
            throw reconnectGaveUp(doing, down, maxElapsedMs, err);
          }
          if (down - remindedAtMs >= OUTAGE_REMINDER_MS) {
            remindedAtMs = down;
            logger.warn(
              `still no stream from Inspektor Gadget after ${seconds(down)} (${backoff.attempts} attempt(s)); ` +
                'reconnecting, the exporters keep delivering what they have',
              { address, what, error: err.message },
            );
          }
          logger.debug(`reconnect attempt ${backoff.attempts} in ${delay} ms`, { address, what });
          await backoff.wait(delay, stopped.signal);
        } finally {
          current = undefined;
        }
      }
    } finally {
      if (disconnected) {
        counters.add('grpc_disconnected_ms', backoff.elapsedMs());
        if (options.attach !== undefined) gap('ended_disconnected');
      }
      current?.cancel();
      if (ownsClient) client.close();
    }
  }

  return {
    batches,
    stop: async () => {
      stopping = true;
      stopped.abort();
      // Run: the daemon stops the gadget and flushes (flush-on-stop), which batches() still yields.
      // Attach: detaches; the headless instance keeps running in the daemon.
      await current?.stop();
    },
  };
}

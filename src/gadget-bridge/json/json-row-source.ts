/**
 * The JSON row source: reads Inspektor Gadget JSON output from stdin, a file (replayed, or followed
 * across rotation) or a child process, and yields one RowBatch per gadget emission.
 *
 * Formats, auto-detected line by line on the same stream (see json-framer.ts):
 *  - `ig run … -o json` and `kubectl gadget run … -o json`: one array per line, `[]` when empty;
 *  - `-o jsonpretty`: pretty-printed arrays, `[` and `]` at column 0;
 *  - the daemon `logs` operator's NDJSON envelopes, including one line per element
 *    (`logs.array-handling: elements`), grouped back by `seq`.
 * Integers beyond 2^53 stay exact (bigint). A malformed value is reported with input, line and
 * byte offset, counted and skipped; in strict mode it ends the source with that error.
 * Windows: see ../collection-timeline.ts (arrival time for live input, the envelope `timestamp`,
 * or a back-to-back replay ending now for a plain file).
 */
import { stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import type { Counters } from '../../observability/counters.js';
import type { Logger } from '../../observability/logger.js';
import type { GadgetRow } from '../../rows/gadget-row.js';
import type { ProfileSpec } from '../../rows/profile-spec.js';
import type { RowBatch, RowSource } from '../../rows/row-batch.js';
import { commandDisplayName, createCommandReader } from './command-input.js';
import { createEmissionDecoder } from './emission-decoder.js';
import type { Emission } from './emission-decoder.js';
import { createCollectionTimeline } from '../collection-timeline.js';
import type { CollectionTimeline, CollectionWindow } from '../collection-timeline.js';
import { createFollowReader } from './follow-file-input.js';
import type { FollowedFile, FollowReader } from './follow-file-input.js';
import { createCheckpointWriter, readFollowCheckpoint } from './follow-checkpoint.js';
import { createStreamReader, INPUT_RESTART } from './input-reader.js';
import type { InputChunk, InputReader } from './input-reader.js';
import { createJsonFramer } from './json-framer.js';
import type { Frame, JsonFramer } from './json-framer.js';
import { countArrayEmissions } from './replay-count.js';
import { errorText } from '../../util/error-text.js';

/** Element lines of one envelope `seq` are emitted when the input has been quiet this long. */
export const ELEMENT_GROUP_IDLE_MS = 200;
/** After stop(), how long stdin may take to reach its end (an upstream `ig` flushing on Ctrl-C). */
export const STDIN_STOP_GRACE_MS = 5_000;
/** Malformed values logged one by one; after that they are only counted (one notice). */
export const MAX_MALFORMED_WARNINGS = 20;
/** Read size for replayed files. */
export const FILE_READ_BYTES = 1024 * 1024;

export type JsonInput =
  | { readonly kind: 'stdin' }
  | { readonly kind: 'file'; readonly path: string; readonly follow?: boolean }
  | { readonly kind: 'command'; readonly argv: readonly string[] };

/** What the source knows when it asks for a profile mapping (first row of each emission). */
export interface JsonSpecHint {
  /** Envelope `datasource` (undefined for plain arrays). */
  readonly datasource?: string;
  /** Envelope `gadget` image (undefined for plain arrays). */
  readonly gadget?: string;
  readonly row: GadgetRow;
}

export interface JsonRowSourceOptions {
  readonly input: JsonInput;
  /** Maps an emission to a profile; undefined drops its rows (counted, warned once per datasource). */
  readonly resolveSpec: (hint: JsonSpecHint) => ProfileSpec | undefined;
  /** Fetch interval when the spec has none (ns); 0 = one fetch when the gadget stops. */
  readonly defaultFetchIntervalNano: bigint;
  /** Fail on the first malformed value instead of skipping it. */
  readonly strict?: boolean;
  /** Longest input line; a longer one is skipped and counted as malformed (default DEFAULT_MAX_LINE_BYTES). */
  readonly maxLineBytes?: number;
  readonly logger: Logger;
  readonly counters: Counters;
  /** UNIX ns clock (injectable for tests). */
  readonly now?: () => bigint;
  /** Stream used for `{ kind: 'stdin' }` (tests); defaults to process.stdin. */
  readonly stdin?: NodeJS.ReadableStream;
  /** Overrides the follow poll interval (ms); for tests. */
  readonly pollIntervalMs?: number;
  /**
   * For a followed file: where to keep the checkpoint. A restart resumes after the last emission
   * whose rows reached every exporter's queue, instead of exporting the file again from byte 0.
   */
  readonly checkpoint?: string;
  /** Overrides the child's SIGINT → SIGTERM grace (ms); for tests. */
  readonly stopGraceMs?: number;
}

const systemNow = (): bigint => BigInt(Date.now()) * 1_000_000n;
const IDLE = Symbol('idle');

interface InputNames {
  /** For messages: `stdin`, the path as given, the command. */
  readonly name: string;
  /** For batch origins: `stdin`, the file's base name, the command's short name. */
  readonly origin: string;
}

function namesOf(input: JsonInput): InputNames {
  switch (input.kind) {
    case 'stdin':
      return { name: 'stdin', origin: 'stdin' };
    case 'file':
      return { name: input.path, origin: basename(input.path) };
    case 'command': {
      const short = commandDisplayName(input.argv);
      return { name: short, origin: short };
    }
  }
}

/** Creates a RowSource over IG JSON output. `batches()` may be iterated once. */
export function createJsonRowSource(options: JsonRowSourceOptions): RowSource {
  const { input, logger, counters } = options;
  const now = options.now ?? systemNow;
  const names = namesOf(input);
  let reader: InputReader | undefined;
  let started = false;
  let stopRequested = false;
  if (options.checkpoint !== undefined && !(input.kind === 'file' && input.follow))
    throw new Error('a checkpoint is kept only for a followed file (--follow --input FILE)');

  const openReader = async (): Promise<{
    reader: InputReader;
    replay: boolean;
    follow?: FollowReader;
  }> => {
    switch (input.kind) {
      case 'stdin':
        return {
          reader: createStreamReader(options.stdin ?? process.stdin, {
            name: 'stdin',
            onStop: STDIN_STOP_GRACE_MS,
            destroyOnClose: false,
          }),
          replay: false,
        };
      case 'command':
        return {
          reader: createCommandReader(input.argv, {
            logger,
            ...(options.stopGraceMs !== undefined ? { stopGraceMs: options.stopGraceMs } : {}),
          }),
          replay: false,
        };
      case 'file': {
        if (input.follow) {
          const pollIntervalMs = options.pollIntervalMs;
          const resume =
            options.checkpoint !== undefined ? readFollowCheckpoint(options.checkpoint) : undefined;
          const follow = createFollowReader(input.path, {
            logger,
            ...(pollIntervalMs !== undefined ? { pollIntervalMs } : {}),
            ...(resume ? { resume } : {}),
          });
          return { reader: follow, replay: false, follow };
        }
        let regular: boolean;
        try {
          regular = (await stat(input.path)).isFile();
        } catch (err) {
          throw new Error(`${input.path}: cannot read: ${errorText(err)} — check the path`, { cause: err });
        }
        const stream = createReadStream(input.path, { highWaterMark: FILE_READ_BYTES });
        // A FIFO or device is live input; only a regular file is a capture to replay.
        return {
          reader: createStreamReader(stream, { name: input.path, onStop: 0, destroyOnClose: true }),
          replay: regular,
        };
      }
    }
  };

  async function* run(): AsyncGenerator<RowBatch> {
    if (stopRequested) return; // stopped before reading began: do not even start a command
    const sourceStartNano = now();
    const opened = await openReader();
    const active = opened.reader;
    reader = active;
    if (stopRequested) void active.stop();
    const timeline: CollectionTimeline = createCollectionTimeline({
      mode: opened.replay ? 'replay' : 'live',
      now,
      sourceStartNano,
    });
    if (opened.replay && input.kind === 'file') timeline.startReplay(await countArrayEmissions(input.path));

    let malformedCount = 0;
    const warnedOnce = new Set<string>();
    const warnOnce = (key: string, message: string): void => {
      if (warnedOnce.has(key)) return;
      warnedOnce.add(key);
      logger.warn(message);
    };
    const lastInterval = new Map<string, bigint>();

    const malformed = (line: number, byte: number, reason: string, arrayLike: boolean, count = 1): void => {
      const where = `${names.name}:${line} (byte ${byte}): ${reason}`;
      if (options.strict)
        throw new Error(`${where} — stopping (strict mode; run without --strict to skip malformed values)`);
      counters.add('json_values_malformed', count);
      if (arrayLike) timeline.skipSlot();
      malformedCount++;
      if (malformedCount <= MAX_MALFORMED_WARNINGS) logger.warn(`${where} — skipped`);
      if (malformedCount === MAX_MALFORMED_WARNINGS) {
        logger.warn(
          `${names.name}: ${MAX_MALFORMED_WARNINGS} malformed values so far; further ones are only counted (json_values_malformed)`,
        );
      }
    };
    const decoder = createEmissionDecoder({
      malformed,
      valueRead: () => counters.add('json_values_read'),
      rowsNotObjects: (count, line) => {
        counters.add('rows_read', count);
        counters.add('rows_dropped', count, { reason: 'not_an_object' });
        warnOnce(
          'not_an_object',
          `${names.name}:${line}: ${count} array element(s) are not row objects — dropped (rows_dropped{reason="not_an_object"})`,
        );
      },
      ignoredEnvelope: (type, line) =>
        warnOnce(
          `type:${type}`,
          `${names.name}:${line}: ignoring logs envelopes of type "${type}" (only gadget-data is exported)`,
        ),
    });

    const checkpoints =
      options.checkpoint !== undefined && input.kind === 'file'
        ? createCheckpointWriter({ file: options.checkpoint, path: input.path, counters, logger })
        : undefined;

    const toBatch = (em: Emission): RowBatch | undefined => {
      const env = em.envelope;
      const stream = env ? `${env.instanceId ?? ''}\u0000${env.datasource ?? ''}` : '';
      const windowOf = (interval: bigint): CollectionWindow => {
        if (env?.timestampNano !== undefined) return timeline.stamped(stream, env.timestampNano, interval);
        if (env)
          warnOnce(
            `ts:${stream}`,
            `${names.name}:${em.line}: envelope timestamp ${JSON.stringify(env.timestampText ?? null)} is not RFC 3339; using arrival time`,
          );
        return timeline.arrival(stream, interval);
      };
      if (em.rows.length === 0) {
        counters.add('json_emissions_empty');
        windowOf(lastInterval.get(stream) ?? options.defaultFetchIntervalNano); // advances the timeline
        return undefined;
      }
      const first = em.rows[0] as GadgetRow;
      counters.add('rows_read', em.rows.length);
      const spec = options.resolveSpec({
        ...(env?.datasource !== undefined ? { datasource: env.datasource } : {}),
        ...(env?.gadget !== undefined ? { gadget: env.gadget } : {}),
        row: first,
      });
      const interval = spec?.fetchIntervalNano ?? options.defaultFetchIntervalNano;
      lastInterval.set(stream, interval);
      const window = windowOf(interval);
      if (!spec) {
        counters.add('rows_dropped', em.rows.length, { reason: 'no_profile_mapping' });
        const ds = env?.datasource ?? 'samples';
        warnOnce(
          `nomap:${ds}`,
          `${names.name}:${em.line}: no profile mapping for datasource "${ds}"${env?.gadget ? ` of ${env.gadget}` : ''}; ` +
            `its rows are dropped (rows_dropped{reason="no_profile_mapping"}). ` +
            `Name the gadget with --gadget, or describe the rows with --annotate ${ds}:profiles.stack-fields=<field,…> ` +
            `(and ${ds}:profiles.value-field=<field>)`,
        );
        return undefined;
      }
      const acknowledge = framedFile && checkpoints?.acknowledgerFor(framedFile, em.end);
      return {
        spec,
        rows: em.rows,
        windowStartUnixNano: window.startNano,
        windowEndUnixNano: window.endNano,
        origin: `${names.origin}:${em.line}`,
        ...(acknowledge ? { acknowledge } : {}),
      };
    };

    // next() with an optional deadline; a read that outlives the deadline is kept for later.
    let pending: Promise<InputChunk | undefined> | undefined;
    const nextChunk = async (idleMs: number | undefined): Promise<InputChunk | undefined | typeof IDLE> => {
      if (!pending) {
        pending = active.next();
        pending.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
      }
      const read = pending;
      if (idleMs === undefined) {
        pending = undefined;
        return read;
      }
      let timer: NodeJS.Timeout | undefined;
      // Not unref'd: it is short, and it is what delivers the pending group.
      const idle = new Promise<typeof IDLE>((resolve) => {
        timer = setTimeout(() => resolve(IDLE), idleMs);
      });
      try {
        const result = await Promise.race([read, idle]);
        if (result !== IDLE) pending = undefined;
        return result;
      } finally {
        clearTimeout(timer);
      }
    };

    // The framer of the current file, created with its first chunk: a followed file may resume
    // mid-file, and offsets then count from there.
    let framer: JsonFramer | undefined;
    let framedFile: FollowedFile | undefined;
    const startFramer = (): JsonFramer => {
      framedFile = opened.follow?.current();
      return createJsonFramer({
        startByte: framedFile?.startOffset ?? 0,
        ...(options.maxLineBytes !== undefined ? { maxLineBytes: options.maxLineBytes } : {}),
      });
    };
    function* fromFrames(frames: Frame[]): Generator<RowBatch> {
      for (const frame of frames) {
        if (frame.kind === 'error') {
          const read = decoder.abandonArray();
          const lost =
            read > 0 ? ` (the whole line is dropped, with the ${read} element(s) read before that)` : '';
          malformed(frame.line, frame.byte, frame.reason + lost, frame.arrayLike);
          continue;
        }
        for (const em of decoder.decode(frame)) {
          const batch = toBatch(em);
          if (batch) yield batch;
        }
      }
    }
    function* flushGroup(): Generator<RowBatch> {
      for (const em of decoder.flush()) {
        const batch = toBatch(em);
        if (batch) yield batch;
      }
    }

    try {
      for (;;) {
        const chunk = await nextChunk(decoder.hasPendingGroup ? ELEMENT_GROUP_IDLE_MS : undefined);
        if (chunk === IDLE) {
          yield* flushGroup();
          continue;
        }
        if (chunk === undefined) break;
        if (chunk === INPUT_RESTART) {
          if (framer) yield* fromFrames(framer.end());
          yield* flushGroup();
          framer = undefined;
          continue;
        }
        framer ??= startFramer();
        yield* fromFrames(framer.push(chunk));
      }
      if (framer) yield* fromFrames(framer.end());
      yield* flushGroup();
      await active.finish();
    } finally {
      active.close();
    }
  }

  return {
    batches() {
      if (started) throw new Error('createJsonRowSource: batches() can be iterated only once');
      started = true;
      return run();
    },
    async stop() {
      stopRequested = true;
      if (reader) await reader.stop();
    },
  };
}

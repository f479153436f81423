import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { GadgetRow } from '../../src/rows/gadget-row.js';
import { getField } from '../../src/rows/gadget-row.js';
import type {
  DataSource,
  GadgetControlRequest,
  GadgetEvent,
  GadgetInfo,
  GadgetRunRequest,
  GetGadgetInfoRequest,
  GetGadgetInfoResponse,
} from '../../src/gadget-bridge/grpc/gadget-messages.js';
import {
  encodeGadgetData,
  encodeGadgetDataArray,
  encodeGadgetInfo,
  GADGET_MANAGER_SERVICE,
} from '../../src/gadget-bridge/grpc/gadget-api.js';
import {
  DATASOURCE_TYPE_SINGLE,
  EVENT_LOG_SHIFT,
  EVENT_TYPE_GADGET_INFO,
  EVENT_TYPE_PAYLOAD,
  GADGET_INFO_FLAG_INSTANCE_ID,
} from '../../src/gadget-bridge/grpc/gadget-messages.js';
import { instanceIdFromName } from '../../src/gadget-bridge/grpc/instance-id.js';
import type { ProfileCpuLayoutOptions } from './ig-profile-cpu-layout.js';
import { profileCpuGadgetInfo } from './ig-profile-cpu-layout.js';
import { encodeRow } from './ig-row-encoder.js';

/**
 * A stand-in for IG's daemon: a real grpc-js server speaking `api.GadgetManager` over a unix
 * socket (and optionally TCP on 127.0.0.1). It serves profile_cpu's GadgetInfo and plays a
 * script of emissions (rows encoded with the wire layout), logs and seq gaps per RunGadget;
 * stop requests trigger the final flush; headless instances keep a ring buffer that every
 * attach replays from seq 1. It can be killed (connections dropped) and restarted on the same
 * socket/port.
 */

export type DoubleStep =
  /** One data event: an array emission (or, for single datasources, one event per row). */
  | { readonly rows: readonly GadgetRow[]; readonly datasource?: string }
  /** A log event at a logrus level (2 error, 3 warn, 4 info, 5 debug). */
  | { readonly log: { readonly level: number; readonly message: string } }
  /** Pretend the output buffer dropped this many events (seq jumps). */
  | { readonly skipSeq: number }
  | { readonly waitMs: number }
  /** Wait until this many ms after the run started (a drift-free pace, e.g. IG's 1 s fetches). */
  | { readonly atMs: number }
  /** Data events encoded beforehand with `encode()` (benchmarks: no encoding while the run is timed). */
  | { readonly encoded: readonly EncodedEmission[] };

/** One data event's datasource and GadgetData/GadgetDataArray bytes. */
export interface EncodedEmission {
  readonly dataSourceID: number;
  readonly payload: Uint8Array;
}

export interface IgDaemonDoubleOptions {
  /** Unix socket path (default: a fresh temp dir's `ig.socket`). */
  readonly socketPath?: string;
  /** Also listen on TCP 127.0.0.1 (a free port, kept across restarts). */
  readonly tcp?: boolean;
  /** Credentials of the TCP listener (TLS / mTLS); insecure by default. The unix socket stays plain. */
  readonly tcpCredentials?: grpc.ServerCredentials;
  readonly layout?: ProfileCpuLayoutOptions;
  /** Steps played for every RunGadget; `runIndex` counts runs from 0 across restarts. */
  readonly script?: (runIndex: number) => readonly DoubleStep[];
  /** Pause between steps (default 1 ms). */
  readonly stepDelayMs?: number;
  /** End the stream (status OK) after the script, like a gadget that reached its timeout. */
  readonly endAfterScript?: boolean;
  /** Rows of the flush-on-stop emission (sent on a stop request or when the run times out). */
  readonly finalFlush?: (runIndex: number) => readonly GadgetRow[] | undefined;
  /** Ring buffer length of headless instances (default 64). */
  readonly ringBufferLength?: number;
}

export interface RunRecord {
  readonly index: number;
  readonly request: GadgetRunRequest;
  stopRequested: boolean;
  /** The double ended the stream itself (script end, timeout, stop). */
  ended: boolean;
  /** The client went away (cancel or connection loss). */
  cancelled: boolean;
  /** Data events sent. */
  sent: number;
}

export interface IgDaemonDouble {
  /** `unix:///…/ig.socket`. */
  readonly unixAddress: string;
  /** `tcp://127.0.0.1:PORT` when `tcp` was asked for. */
  readonly tcpAddress: string | undefined;
  readonly socketPath: string;
  /** The GadgetInfo every run and attach starts with. */
  readonly info: GadgetInfo;
  readonly runs: readonly RunRecord[];
  /** Instance ids of attach requests, in order. */
  readonly attaches: readonly string[];
  /** GetGadgetInfo requests received. */
  readonly infoRequests: readonly Required<GetGadgetInfoRequest>[];
  /** Rows laid out and serialised as the double sends them (one array event, or one per row). */
  encode(rows: readonly GadgetRow[], datasource?: string): EncodedEmission[];
  /** Creates a headless instance (id = 32 hex, or a name → sha256-derived id); returns its id. */
  createInstance(idOrName: string): string;
  /** The instance emits: appended to its ring buffer and sent to every attached client. */
  instanceEmit(id: string, rows: readonly GadgetRow[], datasource?: string): void;
  attachedClients(id: string): number;
  /** Resolves when `predicate` holds (polls every few ms; rejects after `timeoutMs`). */
  waitFor(predicate: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
  /** Drops every connection at once and stops listening (a crashed daemon). */
  kill(): Promise<void>;
  /** Listens again on the same socket/port; `keepInstances: false` = instances restart empty. */
  restart(options?: { readonly keepInstances?: boolean }): Promise<void>;
  close(): Promise<void>;
}

interface Instance {
  readonly id: string;
  ring: EncodedEmission[];
  readonly clients: Set<(e: EncodedEmission) => void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startIgDaemonDouble(options: IgDaemonDoubleOptions = {}): Promise<IgDaemonDouble> {
  const ownDir = options.socketPath === undefined ? mkdtempSync(join(tmpdir(), 'igop-ig-')) : undefined;
  const socketPath = options.socketPath ?? join(ownDir!, 'ig.socket');
  const info = profileCpuGadgetInfo(options.layout);
  const infoBytes = encodeGadgetInfo(info);
  const stepDelayMs = options.stepDelayMs ?? 1;
  const ringLength = options.ringBufferLength ?? 64;
  const runs: RunRecord[] = [];
  const attaches: string[] = [];
  const infoRequests: Required<GetGadgetInfoRequest>[] = [];
  let instances = new Map<string, Instance>();
  let server: grpc.Server | undefined;
  let tcpPort: number | undefined;
  /** Bumped on kill: loops of the old server generation stop. */
  let generation = 0;

  const dsByName = (name: string): DataSource => {
    const ds = info.dataSources.find((d) => d.name === name);
    if (!ds) throw new Error(`ig double: no datasource ${name}`);
    return ds;
  };
  const encode = (rows: readonly GadgetRow[], datasource = 'samples'): EncodedEmission[] => {
    const ds = dsByName(datasource);
    // user_stack_id is json.skip'ed; IG's value equals user_stack_raw.stack_id.
    const extra = (row: GadgetRow) => (name: string) =>
      name === 'user_stack_id' ? getField(row, 'user_stack_raw.stack_id') : undefined;
    const elements = rows.map((row) => encodeRow(ds, row, extra(row)));
    if (ds.type === DATASOURCE_TYPE_SINGLE) {
      return elements.map((data) => ({
        dataSourceID: ds.id,
        payload: encodeGadgetData({ node: '', seq: 0, data }),
      }));
    }
    return [
      { dataSourceID: ds.id, payload: encodeGadgetDataArray({ node: '', seq: 0, dataArray: elements }) },
    ];
  };

  const runGadget = (call: grpc.ServerDuplexStream<GadgetControlRequest, GadgetEvent>): void => {
    const myGeneration = generation;
    let seq = 0;
    let done = false;
    let onStop: (() => void) | undefined;
    let detach: (() => void) | undefined;
    const alive = (): boolean => !done && generation === myGeneration && !call.cancelled;
    const send = (e: GadgetEvent): void => {
      if (alive()) call.write(e);
    };
    const sendData = (e: EncodedEmission): void =>
      send({ type: EVENT_TYPE_PAYLOAD, seq: ++seq, payload: e.payload, dataSourceID: e.dataSourceID });
    const end = (): void => {
      if (!alive()) return;
      done = true;
      detach?.();
      call.end();
    };
    const fail = (code: grpc.status, details: string): void => {
      if (!alive()) return;
      done = true;
      call.emit('error', { code, details });
    };
    call.on('cancelled', () => {
      done = true;
      detach?.();
    });
    call.on('error', () => {
      done = true;
      detach?.();
    });

    const startRun = async (request: GadgetRunRequest): Promise<void> => {
      const rec: RunRecord = {
        index: runs.length,
        request,
        stopRequested: false,
        ended: false,
        cancelled: false,
        sent: 0,
      };
      runs.push(rec);
      call.on('cancelled', () => (rec.cancelled = true));
      call.on('error', () => (rec.cancelled = true));
      let stopped = false;
      const flushAndEnd = (): void => {
        if (!alive()) return;
        const rows = options.finalFlush?.(rec.index);
        if (rows)
          for (const e of encode(rows)) {
            sendData(e);
            rec.sent++;
          }
        rec.ended = true;
        end();
      };
      onStop = () => {
        rec.stopRequested = true;
        stopped = true;
      };
      send({ type: EVENT_TYPE_GADGET_INFO, seq: 0, payload: infoBytes, dataSourceID: 0 });
      const timeoutMs =
        request.timeout && request.timeout > 0n ? Number(request.timeout / 1_000_000n) : undefined;
      const deadline = timeoutMs !== undefined ? Date.now() + timeoutMs : undefined;
      const runStart = Date.now();
      for (const step of options.script?.(rec.index) ?? []) {
        if (!alive() || stopped) break;
        if ('rows' in step || 'encoded' in step) {
          for (const e of 'rows' in step ? encode(step.rows, step.datasource) : step.encoded) {
            sendData(e);
            rec.sent++;
          }
        } else if ('log' in step) {
          send({
            type: step.log.level << EVENT_LOG_SHIFT,
            seq: 0,
            payload: new TextEncoder().encode(step.log.message),
            dataSourceID: 0,
          });
        } else if ('skipSeq' in step) {
          seq += step.skipSeq;
        } else if ('atMs' in step) {
          const wait = runStart + step.atMs - Date.now();
          if (wait > 0) await sleep(wait);
        } else {
          await sleep(step.waitMs);
        }
        await sleep(stepDelayMs);
      }
      if (options.endAfterScript && !stopped) {
        rec.ended = true;
        end();
        return;
      }
      while (alive() && !stopped && (deadline === undefined || Date.now() < deadline)) await sleep(2);
      flushAndEnd();
    };

    const startAttach = (id: string): void => {
      attaches.push(id);
      const inst = instances.get(id);
      if (!inst) {
        fail(grpc.status.NOT_FOUND, `gadget instance ${id} not found`);
        return;
      }
      send({ type: EVENT_TYPE_GADGET_INFO, seq: 0, payload: infoBytes, dataSourceID: 0 });
      // IG replays its ring buffer numbered from 1, then continues with live events.
      for (const e of inst.ring) sendData(e);
      inst.clients.add(sendData);
      detach = () => inst.clients.delete(sendData);
      onStop = () => end(); // detach: the instance keeps running
    };

    let started = false;
    call.on('data', (req: GadgetControlRequest) => {
      if ('stopRequest' in req) {
        onStop?.();
        return;
      }
      if (started) return fail(grpc.status.INVALID_ARGUMENT, 'run or attach request sent twice');
      started = true;
      if ('runRequest' in req) {
        if (req.runRequest.version !== 1) return fail(grpc.status.INVALID_ARGUMENT, 'expected version 1');
        void startRun(req.runRequest);
      } else {
        if (req.attachRequest.version !== 1) return fail(grpc.status.INVALID_ARGUMENT, 'expected version 1');
        startAttach(req.attachRequest.id);
      }
    });
  };

  const getGadgetInfo = (
    call: grpc.ServerUnaryCall<Required<GetGadgetInfoRequest>, GetGadgetInfoResponse>,
    callback: grpc.sendUnaryData<GetGadgetInfoResponse>,
  ): void => {
    infoRequests.push(call.request);
    if (call.request.version !== 1)
      return callback({ code: grpc.status.INVALID_ARGUMENT, details: 'expected version 1' });
    if (call.request.flags & GADGET_INFO_FLAG_INSTANCE_ID && !instances.has(call.request.imageName)) {
      return callback({
        code: grpc.status.NOT_FOUND,
        details: `gadget instance ${call.request.imageName} not found`,
      });
    }
    callback(null, { gadgetInfo: info });
  };

  const listen = async (): Promise<void> => {
    rmSync(socketPath, { force: true });
    const s = new grpc.Server();
    s.addService(GADGET_MANAGER_SERVICE, {
      getGadgetInfo: getGadgetInfo as grpc.UntypedHandleCall,
      runGadget: runGadget as grpc.UntypedHandleCall,
    });
    const bind = (target: string, credentials = grpc.ServerCredentials.createInsecure()): Promise<number> =>
      new Promise((resolve, reject) =>
        s.bindAsync(target, credentials, (err, port) => (err ? reject(err) : resolve(port))),
      );
    await bind(`unix://${socketPath}`);
    if (options.tcp) tcpPort = await bind(`127.0.0.1:${tcpPort ?? 0}`, options.tcpCredentials);
    server = s;
  };
  await listen();

  const double: IgDaemonDouble = {
    unixAddress: `unix://${socketPath}`,
    get tcpAddress() {
      return tcpPort !== undefined ? `tcp://127.0.0.1:${tcpPort}` : undefined;
    },
    socketPath,
    info,
    runs,
    attaches,
    infoRequests,
    encode,
    createInstance: (idOrName) => {
      const id = instanceIdFromName(idOrName);
      if (!instances.has(id)) instances.set(id, { id, ring: [], clients: new Set() });
      return id;
    },
    instanceEmit: (id, rows, datasource) => {
      const inst = instances.get(id);
      if (!inst) throw new Error(`ig double: no instance ${id}`);
      for (const e of encode(rows, datasource)) {
        inst.ring.push(e);
        if (inst.ring.length > ringLength) inst.ring.shift();
        for (const client of inst.clients) client(e);
      }
    },
    attachedClients: (id) => instances.get(id)?.clients.size ?? 0,
    waitFor: async (predicate, timeoutMs = 5_000, what = 'condition') => {
      const until = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > until) throw new Error(`ig double: timed out waiting for ${what}`);
        await sleep(3);
      }
    },
    kill: async () => {
      generation++;
      for (const inst of instances.values()) inst.clients.clear();
      server?.forceShutdown();
      server = undefined;
      await sleep(5);
    },
    restart: async (opts) => {
      if (server) await double.kill();
      if (opts?.keepInstances === false) {
        instances = new Map([...instances.keys()].map((id) => [id, { id, ring: [], clients: new Set() }]));
      }
      await listen();
    },
    close: async () => {
      generation++;
      if (server) {
        const s = server;
        server = undefined;
        s.forceShutdown();
      }
      rmSync(socketPath, { force: true });
      if (ownDir) rmSync(ownDir, { recursive: true, force: true });
      await sleep(1);
    },
  };
  return double;
}

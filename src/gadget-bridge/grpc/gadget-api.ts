import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { readGadgetData, readGadgetDataArray } from './gadget-data-reader.js';

import type {
  DataElement,
  DataSource,
  Field,
  GadgetControlRequest,
  GadgetData,
  GadgetDataArray,
  GadgetEvent,
  GadgetInfo,
  GadgetRunRequest,
  GetGadgetInfoRequest,
  GetGadgetInfoResponse,
  Param,
} from './gadget-messages.js';
import { GADGET_INFO_PROTOCOL_VERSION, GADGET_RUN_PROTOCOL_VERSION } from './gadget-messages.js';

/**
 * Typed protobuf codecs for Inspektor Gadget's daemon API (`proto/gadget/api.proto`, package `api`),
 * by protobufjs reflection. The .proto path is resolved relative to this module so it works from
 * `src/` (tsx) and from `dist/` alike.
 */

const PROTO_DIR = new URL('../../../proto/gadget/', import.meta.url);

let root: protobuf.Root | undefined;

function loadRoot(): protobuf.Root {
  if (!root) {
    const file = fileURLToPath(new URL('api.proto', PROTO_DIR));
    try {
      // keepCase: IG's field names are already camelCase (`dataSourceID` must stay as is).
      root = new protobuf.Root().loadSync(file, { keepCase: true });
    } catch (err) {
      throw new Error(
        `cannot load IG's API definition ${file}: ${(err as Error).message} ` +
          `(the package's proto/ folder must ship next to src/ or dist/)`,
      );
    }
  }
  return root;
}

function type(name: string): protobuf.Type {
  return loadRoot().lookupType(`api.${name}`);
}

const TO_OBJECT: protobuf.IConversionOptions = {
  longs: String,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: true,
};

function encode(name: string, value: Record<string, unknown>): Uint8Array {
  const t = type(name);
  return t.encode(t.fromObject(value)).finish();
}

function decode(name: string, bytes: Uint8Array): Record<string, unknown> {
  const t = type(name);
  return t.toObject(t.decode(bytes), TO_OBJECT);
}

function runRequestObject(r: GadgetRunRequest): Record<string, unknown> {
  return {
    imageName: r.imageName,
    paramValues: { ...(r.paramValues ?? {}) },
    args: [...(r.args ?? [])],
    version: r.version ?? GADGET_RUN_PROTOCOL_VERSION,
    logLevel: r.logLevel ?? 0,
    // protobufjs takes int64 as decimal strings; bigint is not one of its inputs.
    timeout: (r.timeout ?? 0n).toString(),
  };
}

/** Encodes a RunGadget control message. */
export function encodeGadgetControlRequest(request: GadgetControlRequest): Uint8Array {
  if ('runRequest' in request)
    return encode('GadgetControlRequest', { runRequest: runRequestObject(request.runRequest) });
  if ('attachRequest' in request) {
    return encode('GadgetControlRequest', {
      attachRequest: {
        id: request.attachRequest.id,
        version: request.attachRequest.version ?? GADGET_RUN_PROTOCOL_VERSION,
      },
    });
  }
  return encode('GadgetControlRequest', { stopRequest: {} });
}

/** Decodes a RunGadget control message (the daemon side; used by the test double). */
export function decodeGadgetControlRequest(bytes: Uint8Array): GadgetControlRequest {
  const o = decode('GadgetControlRequest', bytes);
  if (o.Event === 'runRequest') {
    const r = o.runRequest as Record<string, unknown>;
    return {
      runRequest: {
        imageName: r.imageName as string,
        paramValues: r.paramValues as Record<string, string>,
        args: r.args as string[],
        version: r.version as number,
        logLevel: r.logLevel as number,
        timeout: BigInt(r.timeout as string),
      },
    };
  }
  if (o.Event === 'attachRequest') {
    const r = o.attachRequest as Record<string, unknown>;
    return { attachRequest: { id: r.id as string, version: r.version as number } };
  }
  if (o.Event === 'stopRequest') return { stopRequest: {} };
  throw new Error('GadgetControlRequest without runRequest, stopRequest or attachRequest');
}

export function encodeGadgetEvent(event: GadgetEvent): Uint8Array {
  return encode('GadgetEvent', { ...event });
}

export function decodeGadgetEvent(bytes: Uint8Array): GadgetEvent {
  const m = type('GadgetEvent').decode(bytes) as unknown as {
    type: number;
    seq: number;
    payload: Uint8Array | number[] | undefined;
    dataSourceID: number;
  };
  // protobufjs leaves an absent bytes field as its default `[]`, not a Uint8Array.
  const payload = m.payload instanceof Uint8Array ? m.payload : new Uint8Array(m.payload ?? []);
  return { type: m.type, seq: m.seq, payload, dataSourceID: m.dataSourceID };
}

function normalizeField(o: Record<string, unknown>): Field {
  return {
    name: o.name as string,
    fullName: o.fullName as string,
    index: o.index as number,
    payloadIndex: o.payloadIndex as number,
    offs: o.offs as number,
    size: o.size as number,
    flags: o.flags as number,
    kind: o.kind as number,
    tags: o.tags as string[],
    annotations: o.annotations as Record<string, string>,
    parent: o.parent as number,
    order: o.order as number,
  };
}

function normalizeDataSource(o: Record<string, unknown>): DataSource {
  return {
    id: o.id as number,
    name: o.name as string,
    type: o.type as number,
    fields: (o.fields as Record<string, unknown>[]).map(normalizeField),
    tags: o.tags as string[],
    annotations: o.annotations as Record<string, string>,
    flags: o.flags as number,
  };
}

function normalizeGadgetInfo(o: Record<string, unknown>): GadgetInfo {
  return {
    name: o.name as string,
    imageName: o.imageName as string,
    dataSources: (o.dataSources as Record<string, unknown>[]).map(normalizeDataSource),
    annotations: o.annotations as Record<string, string>,
    metadata: o.metadata as Uint8Array,
    params: o.params as Param[],
    id: o.id as string,
  };
}

export function encodeGadgetInfo(info: GadgetInfo): Uint8Array {
  return encode('GadgetInfo', info as unknown as Record<string, unknown>);
}

export function decodeGadgetInfo(bytes: Uint8Array): GadgetInfo {
  return normalizeGadgetInfo(decode('GadgetInfo', bytes));
}

export function encodeGetGadgetInfoRequest(request: GetGadgetInfoRequest): Uint8Array {
  return encode('GetGadgetInfoRequest', {
    imageName: request.imageName,
    paramValues: { ...(request.paramValues ?? {}) },
    version: request.version ?? GADGET_INFO_PROTOCOL_VERSION,
    flags: request.flags ?? 0,
    requestExtraInfo: request.requestExtraInfo ?? false,
  });
}

export function decodeGetGadgetInfoRequest(bytes: Uint8Array): Required<GetGadgetInfoRequest> {
  const o = decode('GetGadgetInfoRequest', bytes);
  return {
    imageName: o.imageName as string,
    paramValues: o.paramValues as Record<string, string>,
    version: o.version as number,
    flags: o.flags as number,
    requestExtraInfo: o.requestExtraInfo as boolean,
  };
}

export function encodeGetGadgetInfoResponse(response: GetGadgetInfoResponse): Uint8Array {
  return encode('GetGadgetInfoResponse', {
    gadgetInfo: response.gadgetInfo,
  });
}

export function decodeGetGadgetInfoResponse(bytes: Uint8Array): GetGadgetInfoResponse {
  const o = decode('GetGadgetInfoResponse', bytes);
  if (!o.gadgetInfo) throw new Error('GetGadgetInfoResponse without gadgetInfo');
  return { gadgetInfo: normalizeGadgetInfo(o.gadgetInfo as Record<string, unknown>) };
}

function elements(list: unknown): DataElement[] {
  return ((list as { payload?: Uint8Array[] }[] | undefined) ?? []).map((e) => ({
    payload: e.payload ?? [],
  }));
}

export function encodeGadgetData(data: GadgetData): Uint8Array {
  return encode('GadgetData', { node: data.node, seq: data.seq, data: { payload: [...data.data.payload] } });
}

/** Decodes a single datasource's payload (hot path: the hand-written reader). */
export function decodeGadgetData(bytes: Uint8Array): GadgetData {
  return readGadgetData(bytes);
}

/** decodeGadgetData by protobufjs reflection: the reference the hand-written reader is tested against. */
export function decodeGadgetDataByReflection(bytes: Uint8Array): GadgetData {
  const m = type('GadgetData').decode(bytes) as unknown as { node: string; seq: number; data?: unknown };
  return { node: m.node, seq: m.seq, data: elements(m.data ? [m.data] : [])[0] ?? { payload: [] } };
}

export function encodeGadgetDataArray(data: GadgetDataArray): Uint8Array {
  return encode('GadgetDataArray', {
    node: data.node,
    seq: data.seq,
    dataArray: data.dataArray.map((e) => ({ payload: [...e.payload] })),
  });
}

/** Decodes an array datasource's payload (hot path: the hand-written reader). */
export function decodeGadgetDataArray(bytes: Uint8Array): GadgetDataArray {
  return readGadgetDataArray(bytes);
}

/** decodeGadgetDataArray by protobufjs reflection: the reference the hand-written reader is tested against. */
export function decodeGadgetDataArrayByReflection(bytes: Uint8Array): GadgetDataArray {
  const m = type('GadgetDataArray').decode(bytes) as unknown as {
    node: string;
    seq: number;
    dataArray: unknown;
  };
  return { node: m.node, seq: m.seq, dataArray: elements(m.dataArray) };
}

const toBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * grpc-js method definitions of `api.GadgetManager`, shared by the client and the test double's
 * server (`new grpc.Server().addService(GADGET_MANAGER_SERVICE, …)`).
 */
export const GADGET_MANAGER_SERVICE = {
  getGadgetInfo: {
    path: '/api.GadgetManager/GetGadgetInfo',
    originalName: 'GetGadgetInfo',
    requestStream: false,
    responseStream: false,
    requestSerialize: (r: GetGadgetInfoRequest): Buffer => toBuffer(encodeGetGadgetInfoRequest(r)),
    requestDeserialize: (b: Buffer): Required<GetGadgetInfoRequest> => decodeGetGadgetInfoRequest(b),
    responseSerialize: (r: GetGadgetInfoResponse): Buffer => toBuffer(encodeGetGadgetInfoResponse(r)),
    responseDeserialize: (b: Buffer): GetGadgetInfoResponse => decodeGetGadgetInfoResponse(b),
  },
  runGadget: {
    path: '/api.GadgetManager/RunGadget',
    originalName: 'RunGadget',
    requestStream: true,
    responseStream: true,
    requestSerialize: (r: GadgetControlRequest): Buffer => toBuffer(encodeGadgetControlRequest(r)),
    requestDeserialize: (b: Buffer): GadgetControlRequest => decodeGadgetControlRequest(b),
    responseSerialize: (e: GadgetEvent): Buffer => toBuffer(encodeGadgetEvent(e)),
    responseDeserialize: (b: Buffer): GadgetEvent => decodeGadgetEvent(b),
  },
} as const;

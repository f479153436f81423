import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { readGadgetData, readGadgetDataArray } from './gadget-data-reader.js';

/**
 * Typed protobuf codecs for Inspektor Gadget's daemon API (`proto/gadget/api.proto`, package `api`),
 * by protobufjs reflection. The .proto path is resolved relative to this module so it works from
 * `src/` (tsx) and from `dist/` alike.
 */

/** `GadgetRunRequest.version` / `GadgetAttachRequest.version`: IG only speaks protocol 1. */
export const GADGET_RUN_PROTOCOL_VERSION = 1;
/** `GetGadgetInfoRequest.version`. */
export const GADGET_INFO_PROTOCOL_VERSION = 1;
/** `GetGadgetInfoRequest.flags` bit: `imageName` is a gadget instance id. */
export const GADGET_INFO_FLAG_INSTANCE_ID = 1;

/** `GadgetEvent.type` values (IG `pkg/gadget-service/api/consts.go`). */
export const EVENT_TYPE_PAYLOAD = 0;
export const EVENT_TYPE_RESULT = 1;
export const EVENT_TYPE_DONE = 2;
export const EVENT_TYPE_JOB_ID = 3;
export const EVENT_TYPE_GADGET_INFO = 4;
/** Log events carry `type = logrusLevel << EVENT_LOG_SHIFT` and UTF-8 text as payload. */
export const EVENT_LOG_SHIFT = 16;

/** `DataSource.type`. */
export const DATASOURCE_TYPE_SINGLE = 1;
export const DATASOURCE_TYPE_ARRAY = 2;
/** `DataSource.flags` bit: payloads are big-endian. */
export const DATASOURCE_FLAG_BIG_ENDIAN = 1;

/** `Field.flags` bits (IG `pkg/datasource/field.go`). */
export const FIELD_FLAG_EMPTY = 1;
export const FIELD_FLAG_CONTAINER = 2;
export const FIELD_FLAG_HIDDEN = 4;
export const FIELD_FLAG_HAS_PARENT = 8;
export const FIELD_FLAG_STATIC_MEMBER = 16;
export const FIELD_FLAG_UNREFERENCED = 32;

/** `Field.kind` values; arrays are `kind | KIND_FLAG_ARRAY`. */
export const Kind = {
  Invalid: 0,
  Bool: 1,
  Int8: 2,
  Int16: 3,
  Int32: 4,
  Int64: 5,
  Uint8: 6,
  Uint16: 7,
  Uint32: 8,
  Uint64: 9,
  Float32: 10,
  Float64: 11,
  String: 12,
  CString: 13,
  Bytes: 14,
} as const;
export const KIND_FLAG_ARRAY = 0x10000000;

export interface Field {
  readonly name: string;
  /** Dotted path (`user_stack_raw.symbols`). */
  readonly fullName: string;
  readonly index: number;
  readonly payloadIndex: number;
  readonly offs: number;
  /** 0 = the field owns the whole payload slot. */
  readonly size: number;
  readonly flags: number;
  /** A `Kind` value, possibly OR'ed with `KIND_FLAG_ARRAY`. */
  readonly kind: number;
  readonly tags: readonly string[];
  readonly annotations: Readonly<Record<string, string>>;
  readonly parent: number;
  readonly order: number;
}

export interface DataSource {
  readonly id: number;
  readonly name: string;
  readonly type: number;
  readonly fields: readonly Field[];
  readonly tags: readonly string[];
  readonly annotations: Readonly<Record<string, string>>;
  readonly flags: number;
}

export interface Param {
  readonly key: string;
  readonly description: string;
  readonly defaultValue: string;
  readonly typeHint: string;
  readonly title: string;
  readonly alias: string;
  readonly tags: readonly string[];
  readonly valueHint: string;
  readonly possibleValues: readonly string[];
  readonly isMandatory: boolean;
  readonly prefix: string;
  readonly alternativeKey: string;
}

export interface GadgetInfo {
  readonly name: string;
  readonly imageName: string;
  readonly dataSources: readonly DataSource[];
  readonly annotations: Readonly<Record<string, string>>;
  /** The gadget's gadget.yaml (UTF-8 text), possibly empty. */
  readonly metadata: Uint8Array;
  readonly params: readonly Param[];
  readonly id: string;
}

export interface DataElement {
  readonly payload: readonly Uint8Array[];
}

export interface GadgetData {
  readonly node: string;
  readonly seq: number;
  readonly data: DataElement;
}

export interface GadgetDataArray {
  readonly node: string;
  readonly seq: number;
  readonly dataArray: readonly DataElement[];
}

export interface GadgetEvent {
  readonly type: number;
  readonly seq: number;
  readonly payload: Uint8Array;
  readonly dataSourceID: number;
}

export interface GadgetRunRequest {
  readonly imageName: string;
  readonly paramValues?: Readonly<Record<string, string>>;
  readonly args?: readonly string[];
  /** Defaults to GADGET_RUN_PROTOCOL_VERSION. */
  readonly version?: number;
  readonly logLevel?: number;
  /** Nanoseconds; 0 = until stopped. */
  readonly timeout?: bigint;
}

export interface GadgetAttachRequest {
  readonly id: string;
  readonly version?: number;
}

/** Exactly one of the three. */
export type GadgetControlRequest =
  | { readonly runRequest: GadgetRunRequest }
  | { readonly stopRequest: Record<string, never> }
  | { readonly attachRequest: GadgetAttachRequest };

export interface GetGadgetInfoRequest {
  readonly imageName: string;
  readonly paramValues?: Readonly<Record<string, string>>;
  readonly version?: number;
  readonly flags?: number;
  readonly requestExtraInfo?: boolean;
}

export interface GetGadgetInfoResponse {
  readonly gadgetInfo: GadgetInfo;
}

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

/**
 * The messages of Inspektor Gadget's daemon API (`proto/gadget/api.proto`, package `api`) as plain
 * types, with the protocol's constants. Codecs live in `gadget-api.ts`; the binary payload readers
 * (`gadget-data-reader.ts`, `packed-data-element.ts`) need only these types, so they sit below both.
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

import type { LogFormat, LogLevel } from '../observability/logger.js';
import { LOG_FORMATS, LOG_LEVELS } from '../observability/logger.js';
import type { ExporterSelection } from './exporter-selection.js';
import { IMPLICIT_SELECTION } from './exporter-selection.js';
import type { SchemaRow } from './schema-row.js';
import type { TelemetryAddress } from './telemetry-address.js';
import type { ValueType } from './value-types.js';
import { booleanValue, exporterSelectionValue, listenAddressValue, oneOf } from './value-types.js';

/**
 * Every key of `operator.otel-profiles` besides `exporters`, declared once, as exporter-schema.ts
 * declares an exporter's keys: its name in the file and in `--set operator.otel-profiles.<key>`, its
 * value type (parsing, validation, error text), its default, the field of the loaded config it lands
 * in, its flag and environment variable, and its line in the section table of docs/configuration.md.
 * The file (config-file.ts), `--set` (set-flags.ts), the resolution (section-settings.ts),
 * `--print-config` (print-config.ts) and the docs table (section-key-table.ts) read these rows.
 *
 * TypeScript checks each row: `field` is a field of SectionSettings and the value type produces
 * its type, a required field has a default, `flag.field` is a field of SectionFlags, and every
 * field has a row (`SECTION_SCHEMA_COVERS_EVERY_FIELD` below).
 */

/** The section's settings as the loaded config holds them (LoadedConfig extends this). */
export interface SectionSettings {
  readonly selection: ExporterSelection;
  readonly logLevel: LogLevel;
  /** Watch this node's pods for resource attributes. */
  readonly k8sPodMetadata: boolean;
  readonly logFormat: LogFormat;
  /** Where /metrics, /healthz and /readyz listen; absent = off. */
  readonly telemetryAddress?: TelemetryAddress;
}

export type SectionField = keyof SectionSettings;

/** The flags of the section's keys, as the CLI hands them over (it checked the log level and format). */
export interface SectionFlags {
  /** `--otel-profiles-exporter` (IG's syntax, see exporter-selection.ts). */
  readonly exporterSelection?: string;
  readonly logLevel?: LogLevel;
  /** `--k8s-pod-metadata`. */
  readonly k8sPodMetadata?: boolean;
  /** `--log-format`. */
  readonly logFormat?: LogFormat;
  /** `--telemetry-address HOST:PORT`, as typed. */
  readonly telemetryAddress?: string;
}

/** The environment variable of a key; it is read only when neither the flag nor `--set` gives the key. */
export interface SectionEnv<V> {
  readonly variable: string;
  /** Other spellings the variable takes (lower case; OTEL_LOG_LEVEL's `verbose`, `none`). */
  readonly aliases?: Readonly<Record<string, V>>;
  /**
   * What a value the key's type refuses does: `error` (the default), or `warn` and fall through to
   * the file (the OTel spec's variables, often set for every process of a pod, are read leniently).
   */
  readonly invalid?: 'error' | 'warn';
}

export interface SectionKeyDoc {
  readonly meaning: string;
  /** Overrides the default column (when the value alone does not say it). */
  readonly default?: string;
}

type Value<F extends SectionField> = Exclude<SectionSettings[F], undefined>;

interface SectionRowBase<K extends string, F extends SectionField> {
  /** As written under `operator.otel-profiles` and after it in `--set`. */
  readonly key: K;
  readonly field: F;
  readonly type: ValueType<Value<F>>;
  readonly flag?: { readonly name: `--${string}`; readonly field: keyof SectionFlags };
  readonly env?: SectionEnv<Value<F>>;
  readonly doc: SectionKeyDoc;
}

/** A required field needs a default; an optional one has none (unset = off). */
type SectionRowDef<K extends string, F extends SectionField> = SectionRowBase<K, F> &
  (undefined extends SectionSettings[F] ? { readonly default?: never } : { readonly default: Value<F> });

function row<const K extends string, F extends SectionField>(def: SectionRowDef<K, F>): SectionRowDef<K, F> {
  return def;
}

export const SECTION_SCHEMA = [
  row({
    key: 'otel-profiles-exporter',
    field: 'selection',
    type: exporterSelectionValue(),
    default: IMPLICIT_SELECTION,
    flag: { name: '--otel-profiles-exporter', field: 'exporterSelection' },
    doc: {
      default: '`default` (see [The `default` exporter](#the-default-exporter))',
      meaning:
        "Which exporters receive which datasources, in IG's syntax (IG's param key); see [Selecting exporters](#selecting-exporters---otel-profiles-exporter).",
    },
  }),
  row({
    key: 'log-level',
    field: 'logLevel',
    type: oneOf(LOG_LEVELS, { ignoreCase: true }),
    default: 'info',
    flag: { name: '--log-level', field: 'logLevel' },
    env: {
      variable: 'OTEL_LOG_LEVEL',
      aliases: { verbose: 'debug', all: 'debug', none: 'error' },
      invalid: 'warn',
    },
    doc: {
      meaning:
        'Which log lines are written (stderr). `OTEL_LOG_LEVEL` also takes `verbose`/`all` (= debug) and `none` (= error); a value it does not know is ignored with a warning.',
    },
  }),
  row({
    key: 'k8s-pod-metadata',
    field: 'k8sPodMetadata',
    type: booleanValue(),
    default: false,
    flag: { name: '--k8s-pod-metadata', field: 'k8sPodMetadata' },
    doc: {
      meaning:
        "Pod metadata from the Kubernetes API: resource attributes and the `service.name` of the workload's traces. See [pod metadata](#kubernetes-pod-metadata---k8s-pod-metadata).",
    },
  }),
  row({
    key: 'log-format',
    field: 'logFormat',
    type: oneOf(LOG_FORMATS, { ignoreCase: true }),
    default: 'text',
    flag: { name: '--log-format', field: 'logFormat' },
    env: { variable: 'IG_OTEL_PROFILES_LOG_FORMAT' },
    doc: {
      meaning:
        '`text` for terminals; `json`: one JSON object per line (see [`--log-format`](#exporter-flags-all-commands)).',
    },
  }),
  row({
    key: 'telemetry-address',
    field: 'telemetryAddress',
    type: listenAddressValue(),
    flag: { name: '--telemetry-address', field: 'telemetryAddress' },
    env: { variable: 'IG_OTEL_PROFILES_TELEMETRY_ADDRESS' },
    doc: {
      default: '— (off)',
      meaning:
        'Serve [`/metrics`, `/healthz` and `/readyz`](#self-telemetry-metrics-healthz-readyz) there: `127.0.0.1:9464`, `:9464` (every interface, what a pod needs), `[::1]:9464`.',
    },
  }),
] as const;

/** A key name of the section (`log-level`): a typo in code that names a key does not compile. */
export type SectionKeyName = (typeof SECTION_SCHEMA)[number]['key'];

/** One row with its value type erased, for the code that treats every row alike. */
export interface SectionKeyRow extends SchemaRow<SectionKeyName, SectionField, SectionKeyDoc> {
  readonly flag?: { readonly name: string; readonly field: keyof SectionFlags };
  readonly env?: SectionEnv<unknown>;
}

export const SECTION_ROWS: readonly SectionKeyRow[] = SECTION_SCHEMA;

type FieldWithoutRow = Exclude<SectionField, (typeof SECTION_SCHEMA)[number]['field']>;
/** Fails to compile (naming the field) when a field of SectionSettings has no row. */
export const SECTION_SCHEMA_COVERS_EVERY_FIELD: [FieldWithoutRow] extends [never] ? true : FieldWithoutRow =
  true;

/** The section's keys besides `exporters`, in docs order. */
export const SECTION_KEYS: readonly SectionKeyName[] = SECTION_ROWS.map((r) => r.key);

const ROW_BY_KEY = new Map(SECTION_ROWS.map((r) => [r.key as string, r]));

/** The row of `key` (as written under `operator.otel-profiles`), or undefined for another key. */
export function sectionRow(key: string): SectionKeyRow | undefined {
  return ROW_BY_KEY.get(key);
}

/** The environment variables of the section's keys, in row order. */
export const SECTION_ENV_VARIABLES: readonly string[] = SECTION_ROWS.flatMap((r) =>
  r.env ? [r.env.variable] : [],
);

import type { DataSource, Field, GadgetInfo, Param } from '../../src/gadget-bridge/grpc/gadget-messages.js';
import {
  DATASOURCE_FLAG_BIG_ENDIAN,
  DATASOURCE_TYPE_ARRAY,
  DATASOURCE_TYPE_SINGLE,
  FIELD_FLAG_EMPTY,
  FIELD_FLAG_HAS_PARENT,
  FIELD_FLAG_HIDDEN,
  FIELD_FLAG_STATIC_MEMBER,
  FIELD_FLAG_UNREFERENCED,
  Kind,
} from '../../src/gadget-bridge/grpc/gadget-messages.js';

/**
 * profile_cpu's `samples` datasource laid out as IG lays it out on the wire
 * (inspektor-gadget.md §1.2, §3.4): key struct in one slot (80 bytes, static members at their
 * offsets), value struct in another (samples + struct gadget_user_stack), every operator-added
 * field in its own slot, Empty parents for `k8s`, `runtime`, `k8s.owner`, plus one Unreferenced
 * field. Options shuffle slots, field order and byte order without changing the JSON view.
 */

export interface ProfileCpuLayoutOptions {
  /** Payloads big-endian (DataSource.flags bit 0). */
  readonly bigEndian?: boolean;
  /** Number the payload slots in reverse (key struct last, operator fields first). */
  readonly reorderSlots?: boolean;
  /** List fields in reverse order. */
  readonly reverseFields?: boolean;
  /** Make `samples` a single datasource (one GadgetData per row) instead of an array. */
  readonly single?: boolean;
  /** The gadget.yaml text in GadgetInfo.metadata (default PROFILE_CPU_GADGET_YAML). */
  readonly metadata?: string;
  /** Extra or replaced datasource annotations of `samples`. */
  readonly annotations?: Readonly<Record<string, string>>;
}

type Slot = 'key' | 'value' | 'own';

interface FieldSpec {
  readonly fullName: string;
  readonly kind: number;
  readonly slot: Slot;
  readonly offs?: number;
  readonly size?: number;
  readonly flags?: number;
  readonly annotations?: Record<string, string>;
  readonly tags?: string[];
}

const STRUCT = Kind.Invalid;
const S = FIELD_FLAG_STATIC_MEMBER;

/** The key struct (payload "key"): kernel_ip, user_stack_id, kern_stack_raw, proc. */
const KEY_FIELDS: FieldSpec[] = [
  {
    fullName: 'kernel_ip',
    kind: Kind.Uint64,
    slot: 'key',
    offs: 0,
    size: 8,
    flags: S,
    tags: ['src:ebpf', 'role:key'],
  },
  {
    fullName: 'user_stack_id',
    kind: Kind.Uint32,
    slot: 'key',
    offs: 8,
    size: 4,
    flags: S | FIELD_FLAG_HIDDEN,
    annotations: { 'json.skip': 'true', 'columns.hidden': 'true' },
  },
  {
    fullName: 'kern_stack_raw',
    kind: Kind.Uint32,
    slot: 'key',
    offs: 12,
    size: 4,
    flags: S | FIELD_FLAG_HIDDEN,
    tags: ['type:gadget_kernel_stack'],
  },
  {
    fullName: 'proc',
    kind: STRUCT,
    slot: 'key',
    offs: 16,
    size: 64,
    flags: S,
    tags: ['type:gadget_process'],
  },
  {
    fullName: 'proc.comm',
    kind: Kind.CString,
    slot: 'key',
    offs: 16,
    size: 16,
    flags: S,
    annotations: {
      'profiles.sample-attribute': 'true',
      'flamegraph.level': '10',
      'flamegraph.type': 'single',
    },
  },
  { fullName: 'proc.pid', kind: Kind.Uint32, slot: 'key', offs: 32, size: 4, flags: S },
  { fullName: 'proc.tid', kind: Kind.Uint32, slot: 'key', offs: 36, size: 4, flags: S },
  { fullName: 'proc.mntns_id', kind: Kind.Uint64, slot: 'key', offs: 40, size: 8, flags: S },
  { fullName: 'proc.creds', kind: STRUCT, slot: 'key', offs: 48, size: 8, flags: S },
  { fullName: 'proc.creds.uid', kind: Kind.Uint32, slot: 'key', offs: 48, size: 4, flags: S },
  { fullName: 'proc.creds.gid', kind: Kind.Uint32, slot: 'key', offs: 52, size: 4, flags: S },
  { fullName: 'proc.parent', kind: STRUCT, slot: 'key', offs: 56, size: 24, flags: S },
  { fullName: 'proc.parent.comm', kind: Kind.CString, slot: 'key', offs: 56, size: 16, flags: S },
  { fullName: 'proc.parent.pid', kind: Kind.Uint32, slot: 'key', offs: 72, size: 4, flags: S },
  { fullName: 'proc.parent.tid', kind: Kind.Uint32, slot: 'key', offs: 76, size: 4, flags: S },
];
export const KEY_STRUCT_SIZE = 80;

const USER_STACK_MEMBERS: [string, number][] = [
  ['major', Kind.Uint32],
  ['minor', Kind.Uint32],
  ['inode', Kind.Uint64],
  ['mtime_sec', Kind.Uint64],
  ['mtime_nsec', Kind.Uint32],
  ['base_addr_hash', Kind.Uint32],
  ['stack_id', Kind.Uint32],
  ['tgid_level0', Kind.Uint32],
  ['pid_level0', Kind.Uint32],
  ['pidns_level0', Kind.Uint32],
  ['pid_level1', Kind.Uint32],
  ['pidns_level1', Kind.Uint32],
  ['otel_correlation_id', Kind.Uint64],
  ['boot_timestamp', Kind.Uint64],
];

/** The value struct (payload "value"): samples u64, then struct gadget_user_stack (72 bytes). */
const VALUE_FIELDS: FieldSpec[] = (() => {
  const out: FieldSpec[] = [
    { fullName: 'samples', kind: Kind.Uint64, slot: 'value', offs: 0, size: 8, flags: S },
    {
      fullName: 'user_stack_raw',
      kind: STRUCT,
      slot: 'value',
      offs: 8,
      size: 72,
      flags: S,
      tags: ['type:gadget_user_stack'],
    },
  ];
  let offs = 8;
  for (const [name, kind] of USER_STACK_MEMBERS) {
    const size = kind === Kind.Uint64 ? 8 : 4;
    out.push({ fullName: `user_stack_raw.${name}`, kind, slot: 'value', offs, size, flags: S });
    offs += size;
  }
  if (offs !== 80) throw new Error(`value struct layout: ${offs} bytes, expected 80`);
  return out;
})();
export const VALUE_STRUCT_SIZE = 80;

const E = FIELD_FLAG_EMPTY;
const own = (fullName: string, kind: number, extra: Partial<FieldSpec> = {}): FieldSpec => ({
  fullName,
  kind,
  slot: 'own',
  ...extra,
});

/** Fields IG's operators add (formatters, ustack, uidgidresolver, K8s/runtime enrichment). */
const OPERATOR_FIELDS: FieldSpec[] = [
  own('kern_stack', Kind.String, { annotations: { 'flamegraph.level': '30', 'flamegraph.type': 'stack' } }),
  own('user_stack_raw.addresses', Kind.String, { tags: ['name:addresses', 'operator:ustack'] }),
  own('user_stack_raw.buildid', Kind.String, { tags: ['name:buildid', 'operator:ustack'] }),
  own('user_stack_raw.symbols', Kind.String, { tags: ['name:symbols', 'operator:ustack'] }),
  own('proc.creds.user', Kind.String),
  own('proc.creds.group', Kind.String),
  own('user_stack', Kind.String, { flags: FIELD_FLAG_UNREFERENCED }),
  own('k8s', STRUCT, { flags: E, tags: ['kubernetes'] }),
  own('k8s.node', Kind.String),
  own('k8s.namespace', Kind.String),
  own('k8s.podName', Kind.String),
  own('k8s.containerName', Kind.String),
  own('k8s.hostnetwork', Kind.Bool),
  own('k8s.podLabels', Kind.String),
  own('k8s.owner', STRUCT, { flags: E }),
  own('k8s.owner.kind', Kind.String),
  own('k8s.owner.name', Kind.String),
  own('runtime', STRUCT, { flags: E }),
  own('runtime.containerId', Kind.String),
  own('runtime.containerName', Kind.String, {
    annotations: {
      'profiles.sample-attribute': 'true',
      'flamegraph.level': '0',
      'flamegraph.type': 'single',
    },
  }),
  own('runtime.runtimeName', Kind.String),
  own('runtime.containerImageName', Kind.String),
  own('runtime.containerImageDigest', Kind.String),
  own('runtime.containerPid', Kind.Uint32),
  own('runtime.containerStartedAt', Kind.Int64),
];

export const PROFILE_CPU_GADGET_YAML = `name: profile_cpu
description: Profile CPU usage by sampling stack traces
datasources:
  samples:
    annotations:
      profiles.stack-fields: kern_stack,user_stack_raw.symbols
      profiles.value-field: samples
programs:
  profiler:
    perf:
      type: software
      config: count_sw_cpu_clock
      sampleType: sample_raw
    sampler:
      frequency: 49
`;

export const PROFILE_CPU_ANNOTATIONS: Readonly<Record<string, string>> = {
  'views.modes.flamegraph': 'true',
  'views.defaults.mode': 'flamegraph',
  'ebpf.map.flush-on-stop': 'true',
  'cli.clear-screen-before': 'true',
  'profiles.stack-fields': 'kern_stack,user_stack_raw.symbols',
  'profiles.value-field': 'samples',
  'profiles.name': 'process_cpu',
  'profiles.type': 'samples',
  'profiles.unit': 'count',
  'fetch-interval': '1s',
  'fetch-count': '0',
};

export const PROFILE_CPU_IMAGE = 'ghcr.io/inspektor-gadget/gadget/profile_cpu:v0.55.1';

/** profile_cpu's `samples` datasource descriptor. */
export function profileCpuSamplesDataSource(id: number, options: ProfileCpuLayoutOptions = {}): DataSource {
  const specs = [...KEY_FIELDS, ...VALUE_FIELDS, ...OPERATOR_FIELDS];
  const ownCount = OPERATOR_FIELDS.filter((f) => ((f.flags ?? 0) & E) === 0).length;
  const slotCount = 2 + ownCount;
  const slotOf = (n: number): number => (options.reorderSlots ? slotCount - 1 - n : n);
  let nextOwn = 2;
  const slots = specs.map((f) => {
    if (f.slot === 'key') return slotOf(0);
    if (f.slot === 'value') return slotOf(1);
    if ((f.flags ?? 0) & E) return 0;
    return slotOf(nextOwn++);
  });
  const ordered = specs.map((spec, i) => ({ spec, slot: slots[i]! }));
  if (options.reverseFields) ordered.reverse();
  const indexOf = new Map(ordered.map((o, i) => [o.spec.fullName, i]));
  const fields: Field[] = ordered.map(({ spec, slot }, index) => {
    const dot = spec.fullName.lastIndexOf('.');
    const parentName = dot === -1 ? undefined : spec.fullName.slice(0, dot);
    const parent = parentName !== undefined ? indexOf.get(parentName) : undefined;
    return {
      name: dot === -1 ? spec.fullName : spec.fullName.slice(dot + 1),
      fullName: spec.fullName,
      index,
      payloadIndex: slot,
      offs: spec.offs ?? 0,
      size: spec.size ?? 0,
      flags: (spec.flags ?? 0) | (parent !== undefined ? FIELD_FLAG_HAS_PARENT : 0),
      kind: spec.kind,
      tags: spec.tags ?? [],
      annotations: spec.annotations ?? {},
      parent: parent ?? 0,
      order: index,
    };
  });
  return {
    id,
    name: 'samples',
    type: options.single ? DATASOURCE_TYPE_SINGLE : DATASOURCE_TYPE_ARRAY,
    fields,
    tags: [],
    annotations: { ...PROFILE_CPU_ANNOTATIONS, ...(options.annotations ?? {}) },
    flags: options.bigEndian ? DATASOURCE_FLAG_BIG_ENDIAN : 0,
  };
}

/** A second datasource without profiles annotations (must be ignored by the row source). */
export function statsDataSource(id: number): DataSource {
  const field = (name: string, kind: number, payloadIndex: number, size: number, index: number): Field => ({
    name,
    fullName: name,
    index,
    payloadIndex,
    offs: 0,
    size,
    flags: 0,
    kind,
    tags: [],
    annotations: {},
    parent: 0,
    order: index,
  });
  return {
    id,
    name: 'stats',
    type: DATASOURCE_TYPE_SINGLE,
    fields: [field('count', Kind.Uint64, 0, 8, 0), field('name', Kind.String, 1, 0, 1)],
    tags: [],
    annotations: {},
    flags: 0,
  };
}

function param(
  prefix: string,
  key: string,
  typeHint: string,
  defaultValue = '',
  alias = '',
  possibleValues: string[] = [],
): Param {
  return {
    key,
    description: `${key} (test double)`,
    defaultValue,
    typeHint,
    title: key,
    alias,
    tags: [],
    valueHint: '',
    possibleValues,
    isMandatory: false,
    prefix,
    alternativeKey: '',
  };
}

/** Parameters a gadget pod's daemon lists for profile_cpu (inspektor-gadget.md §1.3, §3.6). */
export const PROFILE_CPU_PARAMS: readonly Param[] = [
  param('operator.oci.ebpf.', 'map-fetch-interval', 'duration', '1000ms'),
  param('operator.oci.ebpf.', 'map-fetch-count', 'int', '0'),
  param('operator.oci.ebpf.', 'collect-ustack', 'bool', 'false'),
  param('operator.oci.ebpf.', 'collect-build-id', 'bool', 'false'),
  param('operator.oci.ebpf.', 'collect-otel-stack', 'bool', 'false'),
  param('operator.oci.ebpf.', 'kernel-stacks-only', 'bool', 'false'),
  param('operator.oci.ebpf.', 'user-stacks-only', 'bool', 'false'),
  param('operator.oci.ebpf.', 'include-idle', 'bool', 'false'),
  param('operator.oci.ebpf.', 'pid', 'uint32'),
  param('operator.oci.ebpf.', 'comm', 'string'),
  param('operator.ustack.', 'symbolizers', 'string', 'auto'),
  param('operator.KubeManager.', 'namespace', 'string', '', 'n'),
  param('operator.KubeManager.', 'all-namespaces', 'bool', 'false', 'A'),
  param('operator.KubeManager.', 'podname', 'string'),
  param('operator.KubeManager.', 'containername', 'string', '', 'c'),
  param('operator.KubeManager.', 'selector', 'string', '', 'l'),
  param('operator.filter.', 'filter', 'string', '', 'F'),
];

/** GadgetInfo of profile_cpu as the daemon sends it: datasources sorted by name, id = index. */
export function profileCpuGadgetInfo(options: ProfileCpuLayoutOptions = {}): GadgetInfo {
  return {
    name: 'profile_cpu',
    imageName: PROFILE_CPU_IMAGE,
    dataSources: [profileCpuSamplesDataSource(0, options), statsDataSource(1)],
    annotations: {},
    metadata: new TextEncoder().encode(options.metadata ?? PROFILE_CPU_GADGET_YAML),
    params: [...PROFILE_CPU_PARAMS],
    id: '',
  };
}

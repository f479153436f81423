import type { ResourceConfig } from '../../config/exporter-config.js';
import type { FieldAccessor, FieldValue, GadgetRow } from '../../rows/gadget-row.js';
import { fieldAccessor, fieldString, getString, readFields } from '../../rows/gadget-row.js';
import type { PodMetadataEntry, PodMetadataLookup } from '../../rows/pod-metadata.js';
import {
  containerEnvServiceName,
  podResourceAttributes,
  semconvServiceName,
} from '../../rows/pod-metadata.js';
import type { AnyValue, KeyValue } from '../model/otlp-model.js';
import { INT64_MAX } from '../model/int64.js';
import { isPrimitiveTuple, TupleTrie } from '../../util/tuple-trie.js';

/**
 * Maps IG's enrichment fields (k8s.*, runtime.*, proc.*) onto OpenTelemetry semantic-convention
 * resource attributes, and derives service.name through a configurable chain so profiles are
 * never attributed to a constant service.
 */

/** Last resort of the service.name chain (the OTel SDK default). */
export const UNKNOWN_SERVICE = 'unknown_service';

/** Semantic-convention names of k8s owner kinds IG reports (`k8s.owner.kind`). */
const OWNER_KIND_ATTRIBUTES: Readonly<Record<string, string>> = {
  Deployment: 'k8s.deployment.name',
  ReplicaSet: 'k8s.replicaset.name',
  StatefulSet: 'k8s.statefulset.name',
  DaemonSet: 'k8s.daemonset.name',
  Job: 'k8s.job.name',
  CronJob: 'k8s.cronjob.name',
};

/** Gadget fields that have a semantic-convention name when used as sample attributes. */
const SAMPLE_ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  'proc.comm': 'thread.name',
  'proc.tid': 'thread.id',
  'proc.pid': 'process.pid',
  'runtime.containerName': 'container.name',
  'runtime.containerId': 'container.id',
  'k8s.containerName': 'k8s.container.name',
  'k8s.podName': 'k8s.pod.name',
  'k8s.namespace': 'k8s.namespace.name',
  'k8s.node': 'k8s.node.name',
};

export function sampleAttributeName(field: string): string {
  return SAMPLE_ATTRIBUTE_NAMES[field] ?? field;
}

/** An integer attribute: `intValue` (int64) when it fits, else its exact decimal text (a u64 past 2^63). */
function integerValue(value: bigint): AnyValue {
  return value <= INT64_MAX && value >= -INT64_MAX - 1n
    ? { intValue: value }
    : { stringValue: value.toString() };
}

/** An attribute value for a gadget field, or undefined when the field is empty or absent. */
export function fieldToAnyValue(value: FieldValue | undefined): AnyValue | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'bigint') return integerValue(value);
  if (typeof value === 'number')
    return Number.isInteger(value) ? integerValue(BigInt(value)) : { doubleValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  return {
    stringValue: JSON.stringify(value, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)),
  };
}

const podLabelCache = new Map<string, ReadonlyMap<string, string>>();
const POD_LABEL_CACHE_LIMIT = 4096;

/** IG renders pod labels as one string `k=v,k2=v2`. */
export function parsePodLabels(value: string): ReadonlyMap<string, string> {
  const cached = podLabelCache.get(value);
  if (cached) return cached;
  const labels = new Map<string, string>();
  for (const pair of value.split(',')) {
    const eq = pair.indexOf('=');
    if (eq > 0) labels.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
  if (podLabelCache.size >= POD_LABEL_CACHE_LIMIT) podLabelCache.clear();
  podLabelCache.set(value, labels);
  return labels;
}

/** `registry:5000/team/app:1.2` → name `registry:5000/team/app`, tag `1.2`; digests stay in the name. */
export function splitImageReference(image: string): { name: string; tag?: string } {
  const at = image.indexOf('@');
  const withoutDigest = at === -1 ? image : image.slice(0, at);
  const colon = withoutDigest.lastIndexOf(':');
  if (colon > withoutDigest.lastIndexOf('/') && colon !== -1) {
    return { name: withoutDigest.slice(0, colon), tag: withoutDigest.slice(colon + 1) };
  }
  return { name: withoutDigest };
}

function str(key: string, value: string): KeyValue {
  return { key, value: { stringValue: value } };
}

function int(key: string, value: bigint): KeyValue {
  return { key, value: { intValue: value } };
}

/** What the resolver remembers about one resource until the flush builds its attributes. */
export interface ResourceObservation {
  /** A row of the resource; the main thread's row once seen (its comm is the executable). */
  row: GadgetRow;
  mainThreadSeen: boolean;
}

export interface ResourceResolverOptions {
  readonly config: ResourceConfig;
  /** OTEL_SERVICE_NAME, used by the chain's `env` source. */
  readonly serviceNameFromEnv?: string;
  /**
   * Pod metadata from the Kubernetes API (`--k8s-pod-metadata`): adds the pod's resource
   * attributes and feeds the chain's `k8s.env` and `k8s.semconv` sources. Without it (or when the
   * pod is not known) those sources yield nothing and the rest of the chain decides.
   */
  readonly podMetadata?: PodMetadataLookup;
}

/**
 * The row fields resource attributes are made of (the config's `field:` service-name sources come
 * on top). Attributes are built from these values only, so equal values give equal attributes.
 */
const ATTRIBUTE_FIELDS = [
  'k8s.node',
  'k8s.namespace',
  'k8s.podName',
  'k8s.containerName',
  'k8s.owner.kind',
  'k8s.owner.name',
  'k8s.podLabels',
  'runtime.containerId',
  'runtime.containerName',
  'runtime.containerImageName',
  'runtime.containerImageDigest',
  'runtime.runtimeName',
  'proc.pid',
  'proc.parent.pid',
  'proc.comm',
  'proc.creds.user',
] as const;
/**
 * Attribute lists remembered (by the values above); past it the cache starts over. A flush builds
 * one list per resource (hundreds per node), mostly the same as the flush before.
 */
const ATTRIBUTE_CACHE_LIMIT = 4096;

/** Reads one field of the row attributes are being built from. */
type FieldReader = (dottedName: string) => FieldValue | undefined;

/** The fields keyOf and observe read, and their readers (compiled once: they run per row). */
const GROUPING_FIELDS = ['k8s.node', 'runtime.containerId', 'proc.pid', 'proc.tid'] as const;
const [readNode, readContainerId, readPid, readTid] = GROUPING_FIELDS.map(fieldAccessor) as [
  FieldAccessor,
  FieldAccessor,
  FieldAccessor,
  FieldAccessor,
];

/** The gadget fields named by the `field:` sources of a service-name chain. */
function fieldSourcesOf(config: ResourceConfig): string[] {
  return config.serviceName
    .filter((source) => source.startsWith('field:'))
    .map((source) => source.slice('field:'.length));
}

/** Every row field a resolver with `config` reads (the gRPC decoder need not decode the others). */
export function resourceFieldsRead(config: ResourceConfig): string[] {
  return [...GROUPING_FIELDS, ...ATTRIBUTE_FIELDS, ...fieldSourcesOf(config)];
}

export class ResourceResolver {
  private readonly _config: ResourceConfig;
  private readonly _envServiceName: string | undefined;
  private readonly _perProcess: boolean;
  private readonly _podMetadata: PodMetadataLookup | undefined;

  /** Fields attributes are built from, with their compiled readers and their index in the tuple. */
  private readonly _attributeFields: readonly FieldAccessor[];
  private readonly _attributeFieldIndex = new Map<string, number>();
  /** Built attribute lists, by the values of the attribute fields (see attributesOf). */
  private readonly _attributeCache = new TupleTrie<readonly KeyValue[]>();
  private readonly _attributeTuple: unknown[] = [];

  constructor(options: ResourceResolverOptions) {
    this._config = options.config;
    this._envServiceName = options.serviceNameFromEnv ?? options.config.attributes['service.name'];
    this._perProcess = options.config.groupBy === 'process';
    this._podMetadata = options.podMetadata;
    for (const name of [...ATTRIBUTE_FIELDS, ...fieldSourcesOf(options.config)])
      if (!this._attributeFieldIndex.has(name))
        this._attributeFieldIndex.set(name, this._attributeFieldIndex.size);
    this._attributeFields = [...this._attributeFieldIndex.keys()].map(fieldAccessor);
  }

  get perProcess(): boolean {
    return this._perProcess;
  }

  /** The fields `keyOf` reads: rows whose values of these agree have the same key. */
  readonly keyFields: readonly FieldAccessor[] = [readNode, readContainerId, readPid];

  /** Grouping key of a row: node + container + (per process mode, or host processes) pid. */
  keyOf(row: GadgetRow): string {
    const node = fieldString(readNode(row));
    const container = fieldString(readContainerId(row));
    if (!this._perProcess && container !== '') return `${node}\u0000${container}`;
    if (!this._perProcess) return `${node}\u0000\u0000host`;
    return `${node}\u0000${container}\u0000${fieldString(readPid(row))}`;
  }

  /** Keeps the main thread's row (tid == pid), whose comm names the executable. */
  observe(observation: ResourceObservation, row: GadgetRow): void {
    if (observation.mainThreadSeen) return;
    const pid = readPid(row);
    if (pid !== undefined && pid === readTid(row)) {
      observation.row = row;
      observation.mainThreadSeen = true;
    }
  }

  newObservation(row: GadgetRow): ResourceObservation {
    const observation: ResourceObservation = { row, mainThreadSeen: false };
    this.observe(observation, row);
    return observation;
  }

  /**
   * Resource attributes (semantic conventions) of an observed resource. The list is shared by
   * every resource whose rows agree on the attribute fields (and frozen): flush after flush the
   * same resources come back, and building a list costs far more than reading the fields.
   */
  attributesOf(observation: ResourceObservation): readonly KeyValue[] {
    const tuple = readFields(this._attributeTuple, this._attributeFields, observation.row);
    const pod = this._podOf((name) =>
      fieldString(tuple[this._attributeFieldIndex.get(name) ?? -1] as FieldValue),
    );
    // The pod's revision is part of the key: a pod update (a new annotation) builds a new list.
    tuple.push(pod?.revision ?? 0);
    // Objects are fresh on every row: lists built from them are not remembered.
    const cacheable = isPrimitiveTuple(tuple);
    if (cacheable) {
      const known = this._attributeCache.get(tuple);
      if (known !== undefined) return known;
    }
    const values = tuple.slice();
    const attributes = Object.freeze(
      this._buildAttributes((name) => {
        const index = this._attributeFieldIndex.get(name);
        // A field outside the list would make cached lists wrong: fail loudly (a bug, not input).
        if (index === undefined)
          throw new Error(`resource attributes read ${name}, which is not in ATTRIBUTE_FIELDS`);
        return values[index] as FieldValue | undefined;
      }, pod),
    );
    if (cacheable) {
      if (this._attributeCache.size >= ATTRIBUTE_CACHE_LIMIT) this._attributeCache.clear();
      this._attributeCache.set(tuple, attributes);
    }
    return attributes;
  }

  /** The pod (and container) of a row's fields, when pod metadata is on and knows it. */
  private _podOf(getText: (dottedName: string) => string): PodMetadataEntry | undefined {
    return this._podMetadata?.find(
      getText('runtime.containerId'),
      getText('k8s.namespace'),
      getText('k8s.podName'),
      getText('k8s.containerName'),
    );
  }

  private _buildAttributes(field: FieldReader, pod: PodMetadataEntry | undefined): KeyValue[] {
    const getText = (name: string): string => fieldString(field(name));
    const out: KeyValue[] = [];
    const add = (key: string, value: string): void => {
      if (value !== '') out.push(str(key, value));
    };
    const labels = parsePodLabels(getText('k8s.podLabels'));

    add('k8s.node.name', getText('k8s.node'));
    add('k8s.namespace.name', getText('k8s.namespace'));
    add('k8s.pod.name', getText('k8s.podName'));
    add('k8s.container.name', getText('k8s.containerName'));
    const ownerKind = getText('k8s.owner.kind');
    const ownerName = getText('k8s.owner.name');
    if (ownerKind !== '' && ownerName !== '') {
      add(OWNER_KIND_ATTRIBUTES[ownerKind] ?? `k8s.${ownerKind.toLowerCase()}.name`, ownerName);
    }
    for (const [k, v] of labels) add(`k8s.pod.label.${k}`, v);
    if (pod) {
      // IG's own fields stay; the pod adds what IG does not know (uid, service.*, annotations, env).
      const known = new Set(out.map((kv) => kv.key));
      for (const [k, v] of podResourceAttributes(pod.pod, pod.containerName)) if (!known.has(k)) add(k, v);
    }

    const containerId = getText('runtime.containerId');
    if (containerId !== '') {
      add('container.id', containerId);
      add('container.name', getText('runtime.containerName'));
      const image = getText('runtime.containerImageName');
      if (image !== '') {
        const { name, tag } = splitImageReference(image);
        add('container.image.name', name);
        if (tag !== undefined)
          out.push({
            key: 'container.image.tags',
            value: { arrayValue: { values: [{ stringValue: tag }] } },
          });
      }
      add('container.image.id', getText('runtime.containerImageDigest'));
      add('container.runtime.name', getText('runtime.runtimeName'));
    }

    const executable = getText('proc.comm');
    if (this._perProcess || containerId === '') {
      if (this._perProcess) {
        const pid = field('proc.pid');
        if (typeof pid === 'number' || typeof pid === 'bigint') out.push(int('process.pid', BigInt(pid)));
        const ppid = field('proc.parent.pid');
        if ((typeof ppid === 'number' || typeof ppid === 'bigint') && ppid !== 0)
          out.push(int('process.parent_pid', BigInt(ppid)));
        add('process.executable.name', executable);
        const user = getText('proc.creds.user');
        if (user !== '' && !user.startsWith('uid:')) add('process.owner', user);
      }
    }

    out.push(str('service.name', this._serviceName(getText, labels, executable, pod)));
    const present = new Set(out.map((kv) => kv.key));
    for (const [k, v] of Object.entries(this._config.attributes)) {
      if (!present.has(k)) out.push(str(k, v));
    }
    return out;
  }

  /** The first source of the configured chain that yields a non-empty name. */
  serviceNameOf(observation: ResourceObservation): string {
    const getText = (name: string): string => getString(observation.row, name);
    return this._serviceName(
      getText,
      parsePodLabels(getText('k8s.podLabels')),
      getText('proc.comm'),
      this._podOf(getText),
    );
  }

  private _serviceName(
    getText: (dottedName: string) => string,
    podLabels: ReadonlyMap<string, string>,
    executable: string,
    pod: PodMetadataEntry | undefined,
  ): string {
    for (const source of this._config.serviceName) {
      let candidate = '';
      if (source === 'k8s.env')
        candidate = pod ? (containerEnvServiceName(pod.pod, pod.containerName) ?? '') : '';
      else if (source === 'k8s.semconv' || source === 'k8s.semconv.labels')
        candidate = pod
          ? semconvServiceName(pod.pod, pod.containerName, {
              wellKnownLabels: source === 'k8s.semconv.labels',
            })
          : '';
      else if (source.startsWith('label:')) candidate = podLabels.get(source.slice('label:'.length)) ?? '';
      else if (source.startsWith('field:')) candidate = getText(source.slice('field:'.length));
      else if (source === 'owner')
        candidate = getText('k8s.owner.kind') !== '' ? getText('k8s.owner.name') : '';
      else if (source === 'k8s.container.name') candidate = getText('k8s.containerName');
      else if (source === 'container.name') candidate = getText('runtime.containerName');
      else if (source === 'env') candidate = this._envServiceName ?? '';
      else if (source === 'process.executable.name') candidate = executable;
      if (candidate !== '') return candidate;
    }
    return UNKNOWN_SERVICE;
  }
}

import type { ResourceConfig } from '../config/exporter-config.js';
import type { FieldAccessor, FieldValue, GadgetRow } from '../gadget-bridge/gadget-row.js';
import { fieldAccessor, fieldString, getField, getString } from '../gadget-bridge/gadget-row.js';
import type { AnyValue, KeyValue } from './otlp-model.js';

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

/** An attribute value for a gadget field, or undefined when the field is empty or absent. */
export function fieldToAnyValue(value: FieldValue | undefined): AnyValue | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'bigint') return { intValue: value };
  if (typeof value === 'number')
    return Number.isInteger(value) ? { intValue: BigInt(value) } : { doubleValue: value };
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
}

/** Readers of the fields every row is grouped by (compiled once: they run per row). */
const readNode = fieldAccessor('k8s.node');
const readContainerId = fieldAccessor('runtime.containerId');
const readPid = fieldAccessor('proc.pid');
const readTid = fieldAccessor('proc.tid');

export class ResourceResolver {
  private readonly _config: ResourceConfig;
  private readonly _envServiceName: string | undefined;
  private readonly _perProcess: boolean;

  constructor(options: ResourceResolverOptions) {
    this._config = options.config;
    this._envServiceName = options.serviceNameFromEnv ?? options.config.attributes['service.name'];
    this._perProcess = options.config.groupBy === 'process';
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

  /** Resource attributes (semantic conventions) of an observed resource. */
  attributesOf(observation: ResourceObservation): KeyValue[] {
    const row = observation.row;
    const out: KeyValue[] = [];
    const add = (key: string, value: string): void => {
      if (value !== '') out.push(str(key, value));
    };
    const labels = parsePodLabels(getString(row, 'k8s.podLabels'));

    add('k8s.node.name', getString(row, 'k8s.node'));
    add('k8s.namespace.name', getString(row, 'k8s.namespace'));
    add('k8s.pod.name', getString(row, 'k8s.podName'));
    add('k8s.container.name', getString(row, 'k8s.containerName'));
    const ownerKind = getString(row, 'k8s.owner.kind');
    const ownerName = getString(row, 'k8s.owner.name');
    if (ownerKind !== '' && ownerName !== '') {
      add(OWNER_KIND_ATTRIBUTES[ownerKind] ?? `k8s.${ownerKind.toLowerCase()}.name`, ownerName);
    }
    for (const [k, v] of labels) add(`k8s.pod.label.${k}`, v);

    const containerId = getString(row, 'runtime.containerId');
    if (containerId !== '') {
      add('container.id', containerId);
      add('container.name', getString(row, 'runtime.containerName'));
      const image = getString(row, 'runtime.containerImageName');
      if (image !== '') {
        const { name, tag } = splitImageReference(image);
        add('container.image.name', name);
        if (tag !== undefined)
          out.push({
            key: 'container.image.tags',
            value: { arrayValue: { values: [{ stringValue: tag }] } },
          });
      }
      add('container.image.id', getString(row, 'runtime.containerImageDigest'));
      add('container.runtime.name', getString(row, 'runtime.runtimeName'));
    }

    const executable = this._executableName(observation);
    if (this._perProcess || containerId === '') {
      if (this._perProcess) {
        const pid = getField(row, 'proc.pid');
        if (typeof pid === 'number' || typeof pid === 'bigint') out.push(int('process.pid', BigInt(pid)));
        const ppid = getField(row, 'proc.parent.pid');
        if ((typeof ppid === 'number' || typeof ppid === 'bigint') && ppid !== 0)
          out.push(int('process.parent_pid', BigInt(ppid)));
        add('process.executable.name', executable);
        const user = getString(row, 'proc.creds.user');
        if (user !== '' && !user.startsWith('uid:')) add('process.owner', user);
      }
    }

    out.push(str('service.name', this.serviceNameOf(observation, labels, executable)));
    const present = new Set(out.map((kv) => kv.key));
    for (const [k, v] of Object.entries(this._config.attributes)) {
      if (!present.has(k)) out.push(str(k, v));
    }
    return out;
  }

  /** The first source of the configured chain that yields a non-empty name. */
  serviceNameOf(
    observation: ResourceObservation,
    labels?: ReadonlyMap<string, string>,
    executable?: string,
  ): string {
    const row = observation.row;
    const podLabels = labels ?? parsePodLabels(getString(row, 'k8s.podLabels'));
    for (const source of this._config.serviceName) {
      let candidate = '';
      if (source.startsWith('label:')) candidate = podLabels.get(source.slice('label:'.length)) ?? '';
      else if (source.startsWith('field:')) candidate = getString(row, source.slice('field:'.length));
      else if (source === 'owner')
        candidate = getString(row, 'k8s.owner.kind') !== '' ? getString(row, 'k8s.owner.name') : '';
      else if (source === 'k8s.container.name') candidate = getString(row, 'k8s.containerName');
      else if (source === 'container.name') candidate = getString(row, 'runtime.containerName');
      else if (source === 'env') candidate = this._envServiceName ?? '';
      else if (source === 'process.executable.name')
        candidate = executable ?? this._executableName(observation);
      if (candidate !== '') return candidate;
    }
    return UNKNOWN_SERVICE;
  }

  private _executableName(observation: ResourceObservation): string {
    return getString(observation.row, 'proc.comm');
  }
}

/** Every service.name chain source the resolver understands, for config validation. */
export function isServiceNameSource(source: string): boolean {
  return (
    /^label:.+/.test(source) ||
    /^field:.+/.test(source) ||
    ['owner', 'k8s.container.name', 'container.name', 'env', 'process.executable.name'].includes(source)
  );
}

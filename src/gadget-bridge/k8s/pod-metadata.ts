/**
 * What the exporter keeps of one pod (a few strings, never the whole object: a node holds hundreds
 * of pods for days) and how a workload's resource attributes and service.name follow from it, the
 * way the OpenTelemetry semantic conventions ("Specify resource attributes using Kubernetes
 * annotations") and the Operator's auto-instrumentation derive them, so profiles carry the same
 * service.name as the workload's traces.
 */
import type { V1Container, V1EnvVar, V1ObjectFieldSelector, V1Pod } from '@kubernetes/client-node';
import { readResourceEnv } from '../../config/env-config.js';
import type { Logger } from '../../observability/logger.js';
import { silentLogger } from '../../observability/logger.js';

/** Pod annotations under this prefix become resource attributes (`<prefix><key>` → `<key>`). */
export const RESOURCE_ANNOTATION_PREFIX = 'resource.opentelemetry.io/';
/** Well-known labels (opt-in in the semantic conventions' service.name chain). */
export const LABEL_INSTANCE = 'app.kubernetes.io/instance';
export const LABEL_NAME = 'app.kubernetes.io/name';
/** `service.version` (always used: nothing else claims it). */
export const LABEL_VERSION = 'app.kubernetes.io/version';

/** Owner names in the order the semantic conventions try them for service.name. */
export const OWNER_NAME_ORDER = [
  'k8s.deployment.name',
  'k8s.replicaset.name',
  'k8s.statefulset.name',
  'k8s.daemonset.name',
  'k8s.cronjob.name',
  'k8s.job.name',
] as const;
export type OwnerNameKey = (typeof OWNER_NAME_ORDER)[number];

/** The resource-relevant part of one container's spec. */
export interface PodContainerMetadata {
  /** OTEL_SERVICE_NAME of the container spec, when its value could be resolved. */
  readonly serviceName?: string;
  /** OTEL_RESOURCE_ATTRIBUTES of the container spec, decoded (empty when absent or unresolvable). */
  readonly resourceAttributes: Readonly<Record<string, string>>;
}

export interface PodMetadata {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly nodeName: string;
  /** The well-known labels (instance, name, version) only. */
  readonly labels: Readonly<Record<string, string>>;
  /** `resource.opentelemetry.io/<key>` annotations, by `<key>`. */
  readonly resourceAnnotations: Readonly<Record<string, string>>;
  /** Workload names from ownerReferences (a ReplicaSet's Deployment, a Job's CronJob derived). */
  readonly owners: Readonly<Partial<Record<OwnerNameKey, string>>>;
  /** By container name (init and regular containers). */
  readonly containers: Readonly<Record<string, PodContainerMetadata>>;
  /** Container ids from the status, without the `containerd://` style prefix, → container name. */
  readonly containerIds: Readonly<Record<string, string>>;
  /**
   * OTEL_* variables of the container spec whose value could not be resolved from the pod alone
   * (`valueFrom` a ConfigMap, Secret or resource field, `envFrom`): `container/VARIABLE`.
   */
  readonly unresolved: readonly string[];
}

/** `containerd://abc…` → `abc…` (IG reports the bare id). */
export function bareContainerId(id: string): string {
  const sep = id.indexOf('://');
  return sep === -1 ? id : id.slice(sep + 3);
}

/** `checkout-7d4f9c8b6` (a Deployment's ReplicaSet) → `checkout`; undefined when not that shape. */
function withoutGeneratedSuffix(name: string): string | undefined {
  const dash = name.lastIndexOf('-');
  return dash > 0 ? name.slice(0, dash) : undefined;
}

/** A CronJob's Job is named `<cronjob>-<scheduled minutes since epoch>`. */
function cronJobOfJob(jobName: string): string | undefined {
  const dash = jobName.lastIndexOf('-');
  return dash > 0 && /^\d+$/.test(jobName.slice(dash + 1)) ? jobName.slice(0, dash) : undefined;
}

function ownersOf(pod: V1Pod): Partial<Record<OwnerNameKey, string>> {
  const owners: Partial<Record<OwnerNameKey, string>> = {};
  const refs = pod.metadata?.ownerReferences ?? [];
  const ref = refs.find((r) => r.controller === true) ?? refs[0];
  if (!ref) return owners;
  switch (ref.kind) {
    case 'ReplicaSet': {
      owners['k8s.replicaset.name'] = ref.name;
      // A Deployment names its ReplicaSets `<deployment>-<pod-template-hash>` and stamps the hash
      // on its pods; a bare ReplicaSet has no such label, so no Deployment is invented for it.
      const hash = pod.metadata?.labels?.['pod-template-hash'];
      if (hash !== undefined && ref.name.endsWith(`-${hash}`)) {
        const deployment = withoutGeneratedSuffix(ref.name);
        if (deployment !== undefined) owners['k8s.deployment.name'] = deployment;
      }
      break;
    }
    case 'StatefulSet':
      owners['k8s.statefulset.name'] = ref.name;
      break;
    case 'DaemonSet':
      owners['k8s.daemonset.name'] = ref.name;
      break;
    case 'Job': {
      owners['k8s.job.name'] = ref.name;
      const cronJob = cronJobOfJob(ref.name);
      if (cronJob !== undefined) owners['k8s.cronjob.name'] = cronJob;
      break;
    }
    case 'CronJob':
      owners['k8s.cronjob.name'] = ref.name;
      break;
    default:
      break;
  }
  return owners;
}

/** `metadata.labels['app']` → label `app` (the downward API's subscript syntax). */
function subscript(path: string, prefix: string): string | undefined {
  if (!path.startsWith(`${prefix}['`) || !path.endsWith("']")) return undefined;
  return path.slice(prefix.length + 2, -2);
}

/**
 * A downward-API field of the pod itself. Only fields fixed for the pod's life are read:
 * `status.podIP` and friends change and are left unresolved.
 */
function podField(pod: V1Pod, ref: V1ObjectFieldSelector): string | undefined {
  const path = ref.fieldPath;
  const meta = pod.metadata;
  switch (path) {
    case 'metadata.name':
      return meta?.name;
    case 'metadata.namespace':
      return meta?.namespace;
    case 'metadata.uid':
      return meta?.uid;
    case 'spec.nodeName':
      return pod.spec?.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName;
    default:
      break;
  }
  const label = subscript(path, 'metadata.labels');
  if (label !== undefined) return meta?.labels?.[label];
  const annotation = subscript(path, 'metadata.annotations');
  if (annotation !== undefined) return meta?.annotations?.[annotation];
  return undefined;
}

/** Kubernetes' `$(VAR)` expansion: earlier variables of the list only, `$$` escapes, unknown refs stay. */
function expand(value: string, defined: ReadonlyMap<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) =>
    name === undefined ? '$' : (defined.get(name) ?? match),
  );
}

/** The variables of a container's env list resolvable from the pod alone, in Kubernetes' order. */
function resolvedEnv(pod: V1Pod, env: readonly V1EnvVar[]): Map<string, string | undefined> {
  const defined = new Map<string, string>();
  const out = new Map<string, string | undefined>();
  for (const variable of env) {
    let value: string | undefined;
    if (variable.valueFrom === undefined) value = expand(variable.value ?? '', defined);
    else if (variable.valueFrom.fieldRef !== undefined) value = podField(pod, variable.valueFrom.fieldRef);
    // ConfigMap, Secret and resource-field references need objects we do not read: unresolved.
    if (value !== undefined) defined.set(variable.name, value);
    else defined.delete(variable.name);
    out.set(variable.name, value);
  }
  return out;
}

const OTEL_ENV = ['OTEL_SERVICE_NAME', 'OTEL_RESOURCE_ATTRIBUTES'] as const;

function containerMetadata(
  pod: V1Pod,
  container: V1Container,
  unresolved: string[],
  logger: Logger,
): PodContainerMetadata {
  const env = resolvedEnv(pod, container.env ?? []);
  const values: Record<string, string | undefined> = {};
  for (const name of OTEL_ENV) {
    if (!env.has(name)) continue;
    const value = env.get(name);
    if (value === undefined) unresolved.push(`${container.name}/${name}`);
    else values[name] = value;
  }
  if ((container.envFrom ?? []).length > 0 && OTEL_ENV.some((name) => !env.has(name)))
    unresolved.push(`${container.name}/envFrom`);
  const parsed = readResourceEnv(values, logger);
  return {
    ...(parsed.serviceName !== undefined ? { serviceName: parsed.serviceName } : {}),
    resourceAttributes: parsed.attributes,
  };
}

/** The compact metadata of a pod; undefined for an object without name or uid. */
export function podMetadataOf(pod: V1Pod, logger: Logger = silentLogger): PodMetadata | undefined {
  const meta = pod.metadata;
  if (!meta?.name || !meta.uid) return undefined;
  const labels: Record<string, string> = {};
  for (const key of [LABEL_INSTANCE, LABEL_NAME, LABEL_VERSION]) {
    const value = meta.labels?.[key];
    if (value !== undefined && value !== '') labels[key] = value;
  }
  const resourceAnnotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(meta.annotations ?? {}))
    if (key.startsWith(RESOURCE_ANNOTATION_PREFIX) && key.length > RESOURCE_ANNOTATION_PREFIX.length)
      resourceAnnotations[key.slice(RESOURCE_ANNOTATION_PREFIX.length)] = value;
  const unresolved: string[] = [];
  const containers: Record<string, PodContainerMetadata> = {};
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])])
    containers[c.name] = containerMetadata(pod, c, unresolved, logger);
  const containerIds: Record<string, string> = {};
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const s of statuses) if (s.containerID) containerIds[bareContainerId(s.containerID)] = s.name;
  return {
    uid: meta.uid,
    namespace: meta.namespace ?? '',
    name: meta.name,
    nodeName: pod.spec?.nodeName ?? '',
    labels,
    resourceAnnotations,
    owners: ownersOf(pod),
    containers,
    containerIds,
    unresolved,
  };
}

/** The service.name chain of the semantic conventions, for one container of a pod. */
export function semconvServiceName(
  pod: PodMetadata,
  containerName: string,
  options: { readonly wellKnownLabels: boolean },
): string {
  const annotated = pod.resourceAnnotations['service.name'];
  if (annotated) return annotated;
  if (options.wellKnownLabels) {
    const label = pod.labels[LABEL_INSTANCE] ?? pod.labels[LABEL_NAME];
    if (label) return label;
  }
  for (const key of OWNER_NAME_ORDER) {
    const owner = pod.owners[key];
    if (owner) return owner;
  }
  return pod.name || containerName;
}

/** What the instrumented process itself reports: OTEL_SERVICE_NAME, else OTEL_RESOURCE_ATTRIBUTES' service.name. */
export function containerEnvServiceName(pod: PodMetadata, containerName: string): string | undefined {
  const container = pod.containers[containerName];
  return container?.serviceName ?? container?.resourceAttributes['service.name'];
}

/**
 * Resource attributes a pod adds for one of its containers, strongest first: the container's
 * OTEL_RESOURCE_ATTRIBUTES (what its SDK reports), then `resource.opentelemetry.io/*` annotations,
 * then what follows from the pod (uid, owners, service.namespace, service.version). service.name is
 * not among them: the service.name chain decides it.
 */
export function podResourceAttributes(pod: PodMetadata, containerName: string): [string, string][] {
  const out = new Map<string, string>();
  const put = (key: string, value: string | undefined): void => {
    if (value !== undefined && value !== '' && key !== 'service.name' && !out.has(key)) out.set(key, value);
  };
  for (const [k, v] of Object.entries(pod.containers[containerName]?.resourceAttributes ?? {})) put(k, v);
  for (const [k, v] of Object.entries(pod.resourceAnnotations)) put(k, v);
  put('k8s.pod.uid', pod.uid);
  for (const key of OWNER_NAME_ORDER) put(key, pod.owners[key]);
  put('service.namespace', pod.namespace);
  put('service.version', pod.labels[LABEL_VERSION]);
  return [...out];
}

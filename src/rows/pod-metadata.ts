/**
 * What a row's pod says about it: the part of a Kubernetes pod that decides a profile's resource
 * (labels, `resource.opentelemetry.io/*` annotations, owners, each container's OTEL_* variables),
 * the semantic conventions' rules over it, and the lookup the resource resolver reads. Read from the
 * API by `gadget-bridge/k8s/read-pod-metadata.ts`; used by `profiles/aggregation/resource-attributes.ts`.
 */

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

/** A pod and a number that changes whenever its metadata does (for caches keyed on it). */
export interface PodMetadataEntry {
  readonly pod: PodMetadata;
  readonly revision: number;
  /** The container the lookup matched (by id, or the name given). */
  readonly containerName: string;
}

/** What the resource resolver reads. */
export interface PodMetadataLookup {
  /** By IG's `runtime.containerId` first, else namespace + pod name (+ container name). */
  find(
    containerId: string,
    namespace: string,
    podName: string,
    containerName: string,
  ): PodMetadataEntry | undefined;
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

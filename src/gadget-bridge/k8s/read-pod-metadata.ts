/**
 * Reads what the exporter keeps of one pod (`rows/pod-metadata.ts`: a few strings, never the whole
 * object, since a node holds hundreds of pods for days) out of the API's V1Pod: owners through
 * generated names, each container's OTEL_* variables with `$(VAR)` and field references resolved
 * the way the kubelet does, so profiles carry the same service.name as the workload's traces.
 */
import type { V1Container, V1EnvVar, V1ObjectFieldSelector, V1Pod } from '@kubernetes/client-node';
import { readResourceEnv } from '../../config/env-config.js';
import type { Logger } from '../../observability/logger.js';
import { silentLogger } from '../../observability/logger.js';
import type { OwnerNameKey, PodContainerMetadata, PodMetadata } from '../../rows/pod-metadata.js';
import {
  bareContainerId,
  LABEL_INSTANCE,
  LABEL_NAME,
  LABEL_VERSION,
  RESOURCE_ANNOTATION_PREFIX,
} from '../../rows/pod-metadata.js';

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

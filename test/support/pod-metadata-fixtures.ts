/**
 * Pod metadata through the real informer against the Kubernetes API double, and a resolver that
 * reads it: what the `k8s` tests share.
 */
import type { GadgetRow } from '../../src/rows/gadget-row.js';
import { loadKubeConfig } from '../../src/gadget-bridge/k8s/kube-config.js';
import type { PodMetadataInformer } from '../../src/gadget-bridge/k8s/pod-metadata-informer.js';
import { createPodMetadataInformer } from '../../src/gadget-bridge/k8s/pod-metadata-informer.js';
import type { RetryPolicy } from '../../src/util/backoff.js';
import type { Logger } from '../../src/observability/logger.js';
import { createLogger } from '../../src/observability/logger.js';
import type { AnyValue, KeyValue } from '../../src/profiles/model/otlp-model.js';
import { DEFAULT_RESOURCE, K8S_POD_METADATA_SERVICE_NAME } from '../../src/config/load-config.js';
import type { PodMetadataLookup } from '../../src/rows/pod-metadata.js';
import { ResourceResolver } from '../../src/profiles/aggregation/resource-attributes.js';
import { afterEach, beforeEach } from 'node:test';
import type { K8sApiDouble } from './k8s-api-double.js';
import { startK8sApiDouble } from './k8s-api-double.js';
import { gadgetRow } from '../../src/rows/gadget-row.js';

/** Retries in tens of milliseconds, so tests see a recovery quickly. */
export const FAST_RETRY: RetryPolicy = {
  enabled: true,
  initialIntervalMs: 20,
  multiplier: 2,
  maxIntervalMs: 200,
  maxElapsedMs: 0,
  jitter: 0,
};

export interface CapturedLogger {
  readonly logger: Logger;
  readonly lines: string[];
}

export function captureLogger(level: 'info' | 'debug' = 'debug'): CapturedLogger {
  const lines: string[] = [];
  return { logger: createLogger({ level, write: (line) => void lines.push(line) }), lines };
}

export function startInformer(
  api: K8sApiDouble,
  options: { nodeName?: string; logger?: Logger } = {},
): PodMetadataInformer {
  const { kubeConfig } = loadKubeConfig({ kubeconfigPath: api.kubeconfigPath });
  const informer = createPodMetadataInformer({
    kubeConfig,
    retry: FAST_RETRY,
    ...(options.nodeName !== undefined ? { nodeName: options.nodeName } : {}),
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
  });
  informer.start();
  return informer;
}

/** A fresh API double for each test, and the informer the test started on it (stopped after it). */
export interface InformerTestbed {
  readonly api: K8sApiDouble;
  readonly informer: PodMetadataInformer | undefined;
  /** Starts the informer of this test (once; later calls return it). */
  informerOn(nodeName: string, logger?: Logger): PodMetadataInformer;
}

/** Registers the hooks of an InformerTestbed in the enclosing describe(). */
export function informerTestbed(): InformerTestbed {
  let api: K8sApiDouble | undefined;
  let informer: PodMetadataInformer | undefined;
  beforeEach(async () => {
    api = await startK8sApiDouble();
  });
  afterEach(async () => {
    await informer?.stop();
    informer = undefined;
    await api?.close();
  });
  const current = (): K8sApiDouble => {
    if (!api) throw new Error('the API double runs inside tests only');
    return api;
  };
  return {
    get api() {
      return current();
    },
    get informer() {
      return informer;
    },
    informerOn(nodeName, logger) {
      informer ??= startInformer(current(), { nodeName, ...(logger ? { logger } : {}) });
      return informer;
    },
  };
}

/** A resolver per container with the pod-metadata chain (or `serviceName`) reading `podMetadata`. */
export function podMetadataResolver(
  podMetadata: PodMetadataLookup,
  serviceName: readonly string[] = K8S_POD_METADATA_SERVICE_NAME,
): ResourceResolver {
  return new ResourceResolver({
    config: { ...DEFAULT_RESOURCE, groupBy: 'container', serviceName },
    podMetadata,
  });
}

/** A row as IG enriches it for a container of a pod. */
export function containerRow(fields: {
  node: string;
  namespace: string;
  podName: string;
  containerName: string;
  containerId: string;
}): GadgetRow {
  return gadgetRow({
    k8s: {
      node: fields.node,
      namespace: fields.namespace,
      podName: fields.podName,
      containerName: fields.containerName,
    },
    runtime: { containerId: fields.containerId },
    proc: { pid: 42, tid: 42, comm: 'server' },
  });
}

/** Attribute list → `{key: value}` with strings as such (the tests compare whole resources). */
export function stringAttributes(list: readonly KeyValue[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const v = kv.value as AnyValue;
    out[kv.key] = 'stringValue' in v ? v.stringValue : JSON.stringify(v, (_k, x: unknown) => String(x));
  }
  return out;
}

/**
 * Finds Inspektor Gadget's daemon pods the way `kubectl gadget` does (namespace `gadget`, label
 * `k8s-app=gadget`, optionally one node) and keeps the set current with a list + watch loop:
 * resourceVersion carried from the list into the watch and advanced by every event and bookmark,
 * a re-watch when the server ends the stream (its timeoutSeconds), and a re-list (diffed against
 * what we know) when the resourceVersion has expired (410 Gone, as an ERROR event or HTTP status).
 * Only running and ready pods count: a gadget pod whose daemon is not serving is not a target.
 */
import { CoreV1Api, Watch } from '@kubernetes/client-node';
import type { RetryPolicy } from '../../util/backoff.js';
import { createBackoff } from '../../util/backoff.js';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../../observability/logger.js';
import { silentLogger } from '../../observability/logger.js';
import type { Counters } from '../../observability/counters.js';
import type { WatchOutcome } from './pod-watch.js';
import {
  apiErrorText,
  httpStatusOf,
  POD_WATCH_RETRY,
  WATCH_TIMEOUT_SECONDS,
  watchPods,
  watchWasHealthy,
} from './pod-watch.js';

/** IG's namespace (`kubectl gadget --gadget-namespace`). */
export const DEFAULT_GADGET_NAMESPACE = 'gadget';
/** Label of IG's DaemonSet pods. */
export const DEFAULT_GADGET_LABEL_SELECTOR = 'k8s-app=gadget';

/** One ready gadget daemon pod. */
export interface GadgetPod {
  readonly namespace: string;
  readonly podName: string;
  readonly nodeName: string;
  readonly uid: string;
}

/** Why a pod stopped being a target. */
export type GadgetPodRemovalReason = 'deleted' | 'not-ready' | 'gone-on-relist' | 'replaced';

export type GadgetPodEvent =
  | { readonly type: 'added'; readonly pod: GadgetPod }
  | { readonly type: 'removed'; readonly pod: GadgetPod; readonly reason: GadgetPodRemovalReason };

export interface GadgetPodDiscoveryOptions {
  readonly kubeConfig: KubeConfig;
  /** Default DEFAULT_GADGET_NAMESPACE. */
  readonly namespace?: string;
  /** Default DEFAULT_GADGET_LABEL_SELECTOR. */
  readonly labelSelector?: string;
  /** Only the gadget pod on this node (`--node`), via `fieldSelector=spec.nodeName=…`. */
  readonly nodeName?: string;
  readonly logger?: Logger;
  readonly counters?: Counters;
  /** Default WATCH_TIMEOUT_SECONDS. */
  readonly watchTimeoutSeconds?: number;
  /** Default POD_WATCH_RETRY. */
  readonly retry?: RetryPolicy;
}

export interface GadgetPodDiscovery {
  /**
   * Lists the pods, reports each ready one as `added` (synchronously, before resolving), then
   * watches and reports changes. Resolves with the initial ready pods; rejects when the first
   * list fails (API server unreachable, RBAC), with the namespace and the fix in the message.
   */
  start(onEvent: (event: GadgetPodEvent) => void): Promise<readonly GadgetPod[]>;
  /** The ready pods known now. */
  pods(): readonly GadgetPod[];
  /** Ends the watch; no event is reported after it resolves. */
  stop(): Promise<void>;
}

/**
 * The message for "nothing to connect to", as kubectl-gadget users know it:
 * `no gadget pods found in namespace gadget: is Inspektor Gadget deployed? (kubectl gadget deploy)`.
 */
export function noGadgetPodsMessage(namespace: string = DEFAULT_GADGET_NAMESPACE, nodeName?: string): string {
  const where = nodeName ? `namespace ${namespace} on node ${nodeName}` : `namespace ${namespace}`;
  return `no gadget pods found in ${where}: is Inspektor Gadget deployed? (kubectl gadget deploy)`;
}

/** Running, Ready=True and not terminating. */
export function isGadgetPodReady(pod: V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  if (pod.status?.phase !== 'Running') return false;
  return (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function toGadgetPod(pod: V1Pod, fallbackNamespace: string): GadgetPod | undefined {
  const name = pod.metadata?.name;
  if (!name) return undefined;
  return {
    namespace: pod.metadata?.namespace ?? fallbackNamespace,
    podName: name,
    nodeName: pod.spec?.nodeName ?? '',
    uid: pod.metadata?.uid ?? '',
  };
}

/** Lists and watches gadget pods; see the module comment. */
export function createGadgetPodDiscovery(options: GadgetPodDiscoveryOptions): GadgetPodDiscovery {
  const namespace = options.namespace ?? DEFAULT_GADGET_NAMESPACE;
  const labelSelector = options.labelSelector ?? DEFAULT_GADGET_LABEL_SELECTOR;
  const fieldSelector = options.nodeName ? `spec.nodeName=${options.nodeName}` : undefined;
  const logger = (options.logger ?? silentLogger).child('k8s-discovery');
  const counters = options.counters;
  const watchTimeoutSeconds = options.watchTimeoutSeconds ?? WATCH_TIMEOUT_SECONDS;
  const api = options.kubeConfig.makeApiClient(CoreV1Api);
  const watcher = new Watch(options.kubeConfig);

  const known = new Map<string, GadgetPod>(); // by pod name
  let onEvent: (event: GadgetPodEvent) => void = () => undefined;
  let resourceVersion = '';
  let stopped = false;
  let started = false;
  let loop: Promise<void> | undefined;
  let abortWatch: (() => void) | undefined;
  /** Aborted by stop(): ends a retry wait at once. */
  const stopWaiting = new AbortController();

  const report = (event: GadgetPodEvent): void => {
    if (stopped) return;
    try {
      onEvent(event);
    } catch (err) {
      logger.error('gadget pod event handler threw', { pod: event.pod.podName, error: apiErrorText(err) });
    }
  };

  const remove = (name: string, reason: GadgetPodRemovalReason): void => {
    const pod = known.get(name);
    if (!pod) return;
    known.delete(name);
    logger.info('gadget pod removed', { pod: pod.podName, node: pod.nodeName, reason });
    report({ type: 'removed', pod, reason });
  };

  /** Applies the current state of one pod object. */
  const upsert = (obj: V1Pod): void => {
    const pod = toGadgetPod(obj, namespace);
    if (!pod) return;
    // The server filters by node already; this guards against servers that ignore fieldSelector.
    if (options.nodeName && pod.nodeName !== options.nodeName) return;
    const ready = isGadgetPodReady(obj);
    const prev = known.get(pod.podName);
    if (prev && prev.uid !== pod.uid) remove(pod.podName, 'replaced');
    else if (prev && !ready) remove(pod.podName, 'not-ready');
    if (ready && !known.has(pod.podName)) {
      known.set(pod.podName, pod);
      logger.info('gadget pod ready', { pod: pod.podName, node: pod.nodeName });
      report({ type: 'added', pod });
    }
  };

  const list = async (): Promise<void> => {
    const res = await api.listNamespacedPod({
      namespace,
      labelSelector,
      ...(fieldSelector ? { fieldSelector } : {}),
    });
    if (stopped) return;
    resourceVersion = res.metadata?.resourceVersion ?? '';
    const seen = new Set<string>();
    for (const obj of res.items) {
      const name = obj.metadata?.name;
      if (name) seen.add(name);
    }
    // Removals first, so a replaced pod's source stops before its successor starts.
    for (const name of [...known.keys()]) if (!seen.has(name)) remove(name, 'gone-on-relist');
    for (const obj of res.items) upsert(obj);
  };

  const watchOnce = (): Promise<WatchOutcome> => {
    const query: Record<string, string> = { labelSelector };
    if (fieldSelector) query.fieldSelector = fieldSelector;
    if (resourceVersion) query.resourceVersion = resourceVersion;
    const watch = watchPods({
      watcher,
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
      query,
      timeoutSeconds: watchTimeoutSeconds,
      stopped: () => stopped,
      onResourceVersion: (rv) => {
        resourceVersion = rv;
      },
      onEvent: (type, o) => {
        if (type !== 'DELETED') return upsert(o);
        const name = o.metadata?.name;
        const prev = name ? known.get(name) : undefined;
        if (name && prev && (!o.metadata?.uid || prev.uid === o.metadata.uid)) remove(name, 'deleted');
      },
    });
    abortWatch = watch.end;
    return watch.outcome.finally(() => {
      abortWatch = undefined;
    });
  };

  const run = async (): Promise<void> => {
    let failures = 0;
    // Unref'd waits: while the fan-in runs, the session's keep-alive holds the process.
    const retry = options.retry ?? POD_WATCH_RETRY;
    const backoff = createBackoff(retry);
    let needList = false;
    while (!stopped) {
      if (failures === 0) backoff.reset();
      else await backoff.wait(backoff.nextDelayMs() ?? retry.maxIntervalMs, stopWaiting.signal);
      if (stopped) return;
      if (needList) {
        try {
          await list();
          needList = false;
          counters?.add('k8s_pod_relists');
        } catch (err) {
          failures++;
          logger.warn('re-listing gadget pods failed; retrying', {
            namespace,
            error: apiErrorText(err),
            attempt: failures,
          });
          continue;
        }
      }
      const began = Date.now();
      const outcome = await watchOnce();
      if (stopped) return;
      const healthy = watchWasHealthy(outcome, Date.now() - began);
      switch (outcome.kind) {
        case 'gone':
          logger.info('watch resourceVersion expired (410 Gone); re-listing', { resourceVersion });
          needList = true;
          failures = 0;
          break;
        case 'failed':
          // After a watch that worked, a failure starts a new streak at the first delay.
          if (healthy) backoff.reset();
          failures = healthy ? 1 : failures + 1;
          counters?.add('k8s_watch_errors');
          logger.warn('watching gadget pods failed; retrying', {
            namespace,
            error: apiErrorText(outcome.error),
            attempt: failures,
          });
          break;
        case 'ended':
          // A healthy stream ended by the server (timeoutSeconds): resume at once from resourceVersion.
          failures = healthy ? 0 : failures + 1;
          break;
      }
    }
  };

  return {
    async start(handler) {
      if (started) throw new Error('gadget pod discovery already started');
      started = true;
      onEvent = handler;
      try {
        await list();
      } catch (err) {
        const status = httpStatusOf(err);
        const hint =
          status === 401 || status === 403
            ? `; the identity in the kubeconfig needs "list" and "watch" on pods in namespace ${namespace}`
            : '; check that the API server in the kubeconfig is reachable';
        throw new Error(
          `cannot list gadget pods in namespace ${namespace} (labels ${labelSelector}): ${apiErrorText(err)}${hint}`,
        );
      }
      const initial = [...known.values()];
      if (!stopped) loop = run();
      return initial;
    },
    pods() {
      return [...known.values()];
    },
    async stop() {
      stopped = true;
      abortWatch?.();
      stopWaiting.abort();
      await loop;
    },
  };
}

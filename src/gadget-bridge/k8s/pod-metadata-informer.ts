/**
 * Keeps the metadata of the pods on this node (or, without a node name, of the cluster) current
 * with one list + watch, the informer pattern: the list's resourceVersion is carried into the watch
 * and advanced by every event and bookmark; a watch the server ends is resumed from there; a
 * resourceVersion the server no longer has (410 Gone) or a failed watch leads to a fresh list,
 * diffed against what is known. Failures are retried with the project's Backoff, forever: RBAC
 * fixed later or an API server back from an outage is picked up without a restart.
 *
 * Nothing here is on the sample path: rows are joined at flush time against the map, by container
 * id or by namespace + pod name. No API access never blocks the pipeline: lookups just find nothing
 * and profiles keep IG's own fields; the state is logged once and readable from `status()`.
 */
import { CoreV1Api, Watch } from '@kubernetes/client-node';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import type { RetryPolicy } from '../../util/backoff.js';
import { createBackoff } from '../../util/backoff.js';
import type { Logger } from '../../observability/logger.js';
import { silentLogger } from '../../observability/logger.js';
import type { WatchOutcome } from './pod-watch.js';
import {
  apiErrorText,
  httpStatusOf,
  POD_WATCH_RETRY,
  WATCH_TIMEOUT_SECONDS,
  watchPods,
  watchWasHealthy,
} from './pod-watch.js';
import type { PodMetadata, PodMetadataLookup } from '../../rows/pod-metadata.js';
import { bareContainerId } from '../../rows/pod-metadata.js';
import { podMetadataOf } from './read-pod-metadata.js';

/** For a readiness detail: where the metadata stands. */
export type PodMetadataState = 'starting' | 'synced' | 'unavailable' | 'stopped';

export interface PodMetadataStatus {
  readonly state: PodMetadataState;
  /** Pods known now. */
  readonly pods: number;
  /** Why the API cannot be used (state `unavailable`), with the fix. */
  readonly reason?: string;
  /** When the last list succeeded (ms since the epoch). */
  readonly lastSyncAt?: number;
}

export interface PodMetadataInformer extends PodMetadataLookup {
  /** Starts listing and watching in the background; never rejects. */
  start(): void;
  /** Resolves once the first list succeeded, or after `timeoutMs`, or when the API is unavailable. */
  waitForSync(timeoutMs: number): Promise<boolean>;
  status(): PodMetadataStatus;
  stop(): Promise<void>;
}

export interface PodMetadataInformerOptions {
  readonly kubeConfig: KubeConfig;
  /** Only this node's pods (`fieldSelector=spec.nodeName=…`); all pods when absent. */
  readonly nodeName?: string;
  readonly logger?: Logger;
  /** Default POD_WATCH_RETRY. */
  readonly retry?: RetryPolicy;
  /** Default WATCH_TIMEOUT_SECONDS. */
  readonly watchTimeoutSeconds?: number;
}

interface Stored {
  readonly pod: PodMetadata;
  readonly revision: number;
  /** Equal fingerprints: nothing a resource is made of changed (status churn is ignored). */
  readonly fingerprint: string;
}

/** Why the pods cannot be read, with the fix; the RBAC rule when the server refused. */
function unavailableReason(err: unknown, nodeName: string | undefined): string {
  const status = httpStatusOf(err);
  const scope = nodeName ? ` on node ${nodeName}` : '';
  if (status === 401 || status === 403)
    return (
      `cannot list pods${scope}: ${apiErrorText(err)}; grant the service account a ClusterRole with ` +
      'apiGroups [""], resources [pods], verbs [get, list, watch] (deploy/k8s has one)'
    );
  return `cannot list pods${scope}: ${apiErrorText(err)}; check that the API server is reachable`;
}

export function createPodMetadataInformer(options: PodMetadataInformerOptions): PodMetadataInformer {
  const logger = (options.logger ?? silentLogger).child('k8s-pod-metadata');
  const nodeName = options.nodeName;
  const fieldSelector = nodeName ? `spec.nodeName=${nodeName}` : undefined;
  const watchTimeoutSeconds = options.watchTimeoutSeconds ?? WATCH_TIMEOUT_SECONDS;
  const api = options.kubeConfig.makeApiClient(CoreV1Api);
  const watcher = new Watch(options.kubeConfig);
  const retry = options.retry ?? POD_WATCH_RETRY;
  const backoff = createBackoff(retry);

  const byUid = new Map<string, Stored>();
  const byContainerId = new Map<string, string>(); // id → uid
  const byName = new Map<string, string>(); // ns/name → uid
  const unresolvedLogged = new Set<string>(); // uid
  let revisions = 0;
  let resourceVersion = '';
  let state: PodMetadataState = 'starting';
  let reason: string | undefined;
  let lastSyncAt: number | undefined;
  let stopped = false;
  let loop: Promise<void> | undefined;
  let abortWatch: (() => void) | undefined;
  const abortSleep = new AbortController();
  const syncWaiters = new Set<() => void>();

  const settleWaiters = (): void => {
    for (const wake of syncWaiters) wake();
    syncWaiters.clear();
  };

  const forget = (uid: string): void => {
    const stored = byUid.get(uid);
    if (!stored) return;
    byUid.delete(uid);
    unresolvedLogged.delete(uid);
    for (const id of Object.keys(stored.pod.containerIds))
      if (byContainerId.get(id) === uid) byContainerId.delete(id);
    const key = `${stored.pod.namespace}/${stored.pod.name}`;
    if (byName.get(key) === uid) byName.delete(key);
  };

  const upsert = (obj: V1Pod): void => {
    const pod = podMetadataOf(obj, logger);
    if (!pod) return;
    // The server filters by node already; this guards against servers that ignore fieldSelector.
    if (nodeName && pod.nodeName !== nodeName) return;
    const fingerprint = JSON.stringify(pod);
    const prev = byUid.get(pod.uid);
    if (prev?.fingerprint === fingerprint) return;
    if (prev) forget(pod.uid);
    byUid.set(pod.uid, { pod, revision: ++revisions, fingerprint });
    for (const id of Object.keys(pod.containerIds)) byContainerId.set(id, pod.uid);
    byName.set(`${pod.namespace}/${pod.name}`, pod.uid);
    if (pod.unresolved.length > 0 && !unresolvedLogged.has(pod.uid)) {
      unresolvedLogged.add(pod.uid);
      logger.debug(
        'OTEL_* variables of the container spec not resolvable from the pod (valueFrom/envFrom of other objects); ignored',
        {
          pod: `${pod.namespace}/${pod.name}`,
          variables: pod.unresolved.join(','),
        },
      );
    }
  };

  const list = async (): Promise<void> => {
    const res = await api.listPodForAllNamespaces(fieldSelector ? { fieldSelector } : {});
    if (stopped) return;
    resourceVersion = res.metadata?.resourceVersion ?? '';
    const seen = new Set<string>();
    for (const obj of res.items) if (obj.metadata?.uid) seen.add(obj.metadata.uid);
    for (const uid of [...byUid.keys()]) if (!seen.has(uid)) forget(uid);
    for (const obj of res.items) upsert(obj);
    if (state !== 'synced')
      logger.info(`pod metadata synced: ${byUid.size} pod(s)${nodeName ? ` on node ${nodeName}` : ''}`);
    state = 'synced';
    reason = undefined;
    lastSyncAt = Date.now();
    settleWaiters();
  };

  const watchOnce = (): Promise<WatchOutcome> => {
    const watch = watchPods({
      watcher,
      path: '/api/v1/pods',
      query: { resourceVersion, ...(fieldSelector ? { fieldSelector } : {}) },
      timeoutSeconds: watchTimeoutSeconds,
      stopped: () => stopped,
      onResourceVersion: (rv) => {
        resourceVersion = rv;
      },
      onEvent: (type, pod) => {
        if (type !== 'DELETED') return upsert(pod);
        if (pod.metadata?.uid) forget(pod.metadata.uid);
      },
    });
    abortWatch = watch.end;
    return watch.outcome.finally(() => {
      abortWatch = undefined;
    });
  };

  /** Waits the next backoff delay; false when stopped meanwhile. */
  const pause = async (): Promise<boolean> => {
    const delay = backoff.nextDelayMs() ?? retry.maxIntervalMs;
    return (await backoff.wait(delay, abortSleep.signal)) && !stopped;
  };

  const run = async (): Promise<void> => {
    let needList = true;
    while (!stopped) {
      if (needList) {
        try {
          await list();
          needList = false;
        } catch (err) {
          if (stopped) return;
          const why = unavailableReason(err, nodeName);
          // Logged once per outage; the retries that follow stay at debug.
          if (state !== 'unavailable')
            logger.warn(`${why}; exporting with IG's own fields meanwhile (retrying in the background)`);
          else
            logger.debug('listing pods failed again', {
              error: apiErrorText(err),
              attempt: backoff.attempts,
            });
          state = 'unavailable';
          reason = why;
          settleWaiters();
          if (!(await pause())) return;
          continue;
        }
      }
      const began = Date.now();
      const outcome = await watchOnce();
      if (stopped) return;
      if (outcome.kind === 'gone') {
        logger.debug('watch resourceVersion expired (410 Gone); re-listing', { resourceVersion });
        needList = true;
        continue;
      }
      const healthy = watchWasHealthy(outcome, Date.now() - began);
      if (healthy) backoff.reset();
      if (outcome.kind === 'failed') {
        logger.info('watching pods failed; re-listing', { error: apiErrorText(outcome.error) });
        needList = true;
        if (!(await pause())) return;
      } else if (!healthy && !(await pause())) return;
    }
  };

  return {
    start() {
      if (loop) return;
      loop = run();
    },
    waitForSync(timeoutMs) {
      if (state !== 'starting') return Promise.resolve(state === 'synced');
      return new Promise<boolean>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          syncWaiters.delete(wake);
          resolve(state === 'synced');
        };
        const timer = setTimeout(wake, timeoutMs);
        timer.unref();
        syncWaiters.add(wake);
      });
    },
    status() {
      return {
        state,
        pods: byUid.size,
        ...(reason !== undefined ? { reason } : {}),
        ...(lastSyncAt !== undefined ? { lastSyncAt } : {}),
      };
    },
    find(containerId, namespace, podName, containerName) {
      const id = containerId === '' ? '' : bareContainerId(containerId);
      let uid = id === '' ? undefined : byContainerId.get(id);
      let name = uid !== undefined ? byUid.get(uid)?.pod.containerIds[id] : undefined;
      if (uid === undefined && podName !== '') uid = byName.get(`${namespace}/${podName}`);
      const stored = uid !== undefined ? byUid.get(uid) : undefined;
      if (!stored) return undefined;
      name ??= containerName;
      return { pod: stored.pod, revision: stored.revision, containerName: name };
    },
    async stop() {
      stopped = true;
      state = 'stopped';
      settleWaiters();
      abortWatch?.();
      abortSleep.abort();
      await loop;
    },
  };
}

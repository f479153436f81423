/**
 * One row source per gadget pod, merged into one RowSource: the Kubernetes fan-in. Discovery
 * reports pods; for each we open a forward (normally an API-server port-forward) and start the
 * caller's source on its address. Pods that disappear have their source stopped (its final flush
 * still flows out) and their forward closed; a source that fails is logged, counted and restarted
 * with backoff while its pod remains; the others keep running.
 */
import type { Backoff } from '../../util/backoff.js';
import { createExponentialBackoff } from '../../util/backoff.js';
import type { RowBatch, RowSource } from '../../rows/row-batch.js';
import type { Logger } from '../../observability/logger.js';
import { silentLogger } from '../../observability/logger.js';
import type { Counters } from '../../observability/counters.js';
import type { KubeConfig } from '@kubernetes/client-node';
import type { GadgetPod, GadgetPodDiscovery, GadgetPodEvent } from './gadget-pod-discovery.js';
import { createGadgetPodDiscovery } from './gadget-pod-discovery.js';
import { GADGET_SERVICE_PORT, startPodPortForward } from './pod-port-forwarder.js';
import { asError, errorText } from '../../util/error-text.js';

/** Batches buffered ahead of the consumer before pod sources are paused (backpressure). */
export const MAX_BUFFERED_BATCHES = 64;
/** How long a stopping source may take to finish its final flush before its forward is closed. */
export const SOURCE_STOP_TIMEOUT_MS = 10_000;
/**
 * Restart schedule of a failed pod source (doubling; reset once a restarted source delivered). A
 * source fails only once its own reconnects gave up or on an error retrying will not fix (a bad
 * gadget, RBAC): restarting at once would spin, and a pod that recovers is picked up within 30 s.
 */
export const SOURCE_RESTART_INITIAL_MS = 1_000;
export const SOURCE_RESTART_MAX_MS = 30_000;

/** What a per-pod source is given: the pod and a local address that reaches its gadget service. */
export interface GadgetPodTarget {
  readonly podName: string;
  readonly nodeName: string;
  /** `tcp://127.0.0.1:PORT`. */
  readonly address: string;
}

/** A local path to one pod's gadget service; PodPortForward is one. */
export interface GadgetPodForward {
  readonly address: string;
  close(): Promise<void>;
}

export type CreatePodRowSource = (target: GadgetPodTarget) => RowSource;

export interface GadgetPodFanoutOptions {
  readonly discovery: GadgetPodDiscovery;
  /** Opens the forward for a pod (e.g. `startPodPortForward`). */
  readonly forward: (pod: GadgetPod) => Promise<GadgetPodForward>;
  readonly createSource: CreatePodRowSource;
  readonly logger?: Logger;
  readonly counters?: Counters;
  /** Default MAX_BUFFERED_BATCHES. */
  readonly maxBufferedBatches?: number;
  /** Default SOURCE_STOP_TIMEOUT_MS. */
  readonly stopTimeoutMs?: number;
  /** Default SOURCE_RESTART_INITIAL_MS; 0 disables restarts. */
  readonly restartInitialMs?: number;
}

/** The merged source. `batches()` may be iterated once; it ends after stop() and the last flush. */
export interface GadgetPodFanout extends RowSource {
  /**
   * Starts discovery and the sources of the pods found; resolves with those pods. An empty result
   * is not an error (pods may appear later); callers may report `noGadgetPodsMessage()`.
   * batches() calls it when not called before.
   */
  start(): Promise<readonly GadgetPod[]>;
  /** Pods with a running source now. */
  pods(): readonly GadgetPod[];
}

interface PodRun {
  readonly pod: GadgetPod;
  forward: GadgetPodForward | undefined;
  source: RowSource | undefined;
  /** Resolves when the current source's pump has finished. */
  pump: Promise<void> | undefined;
  stopping: boolean;
  /** Restart delays; reset once a source delivered. */
  readonly restarts: Backoff;
  restartTimer: NodeJS.Timeout | undefined;
}

/** Merges per-pod sources; see the module comment. */
export function createGadgetPodFanout(options: GadgetPodFanoutOptions): GadgetPodFanout {
  const logger = (options.logger ?? silentLogger).child('k8s-fanout');
  const counters = options.counters;
  const maxBuffered = options.maxBufferedBatches ?? MAX_BUFFERED_BATCHES;
  const stopTimeoutMs = options.stopTimeoutMs ?? SOURCE_STOP_TIMEOUT_MS;
  const restartInitialMs = options.restartInitialMs ?? SOURCE_RESTART_INITIAL_MS;

  const runs = new Map<string, PodRun>(); // by pod name
  /** Pods being set up or torn down; start() and stop() wait for them. */
  const pending = new Set<Promise<void>>();
  const queue: RowBatch[] = [];
  let ended = false;
  let failure: Error | undefined;
  let wakeConsumer: (() => void) | undefined;
  const spaceWaiters: (() => void)[] = [];
  let stopping = false;
  let startPromise: Promise<readonly GadgetPod[]> | undefined;
  let stopPromise: Promise<void> | undefined;
  let iterated = false;

  const notifyConsumer = (): void => {
    const w = wakeConsumer;
    wakeConsumer = undefined;
    w?.();
  };
  const releaseSpace = (): void => {
    while (spaceWaiters.length > 0 && (queue.length < maxBuffered || stopping)) spaceWaiters.shift()!();
  };
  const push = async (batch: RowBatch): Promise<void> => {
    // While stopping, final flushes are accepted without limit so stop() never waits on the consumer.
    while (queue.length >= maxBuffered && !stopping) await new Promise<void>((r) => spaceWaiters.push(r));
    queue.push(batch);
    notifyConsumer();
  };

  const startSource = (run: PodRun): void => {
    if (stopping || run.stopping || !run.forward) return;
    const target: GadgetPodTarget = {
      podName: run.pod.podName,
      nodeName: run.pod.nodeName,
      address: run.forward.address,
    };
    let source: RowSource;
    try {
      source = options.createSource(target);
    } catch (err) {
      onSourceFailed(run, err);
      return;
    }
    run.source = source;
    const pump = (async () => {
      let batches = 0;
      try {
        for await (const batch of source.batches()) {
          batches++;
          await push(batch);
        }
        logger.debug('pod source ended', { pod: run.pod.podName, node: run.pod.nodeName, batches });
        if (batches > 0) run.restarts.reset();
      } catch (err) {
        if (run.source === source) run.source = undefined;
        onSourceFailed(run, err);
      }
    })();
    run.pump = pump;
  };

  const onSourceFailed = (run: PodRun, err: unknown): void => {
    if (run.stopping || stopping) {
      // Expected when the pod went away (its forward was closed under it); still worth a line.
      logger.warn('gadget pod source ended with an error while stopping', {
        pod: run.pod.podName,
        error: errorText(err),
      });
      return;
    }
    counters?.add('k8s_pod_sources_failed', 1, { node: run.pod.nodeName });
    const willRestart = restartInitialMs > 0;
    logger.error('gadget pod source failed; the other pods continue', {
      pod: run.pod.podName,
      node: run.pod.nodeName,
      error: errorText(err),
      restart: willRestart,
    });
    if (!willRestart) return;
    const delay = run.restarts.nextDelayMs() ?? SOURCE_RESTART_MAX_MS;
    run.restartTimer = setTimeout(() => {
      run.restartTimer = undefined;
      if (run.stopping || stopping) return;
      counters?.add('k8s_pod_sources_restarted', 1, { node: run.pod.nodeName });
      startSource(run);
    }, delay);
    // Waits only: the session's keep-alive holds the process (cli/process-keep-alive.ts).
    run.restartTimer.unref();
  };

  const addPod = async (pod: GadgetPod): Promise<void> => {
    if (stopping || runs.has(pod.podName)) return;
    counters?.add('k8s_pods_seen');
    const run: PodRun = {
      pod,
      forward: undefined,
      source: undefined,
      pump: undefined,
      stopping: false,
      restarts: createExponentialBackoff(restartInitialMs, SOURCE_RESTART_MAX_MS),
      restartTimer: undefined,
    };
    runs.set(pod.podName, run);
    try {
      const fwd = await options.forward(pod);
      if (run.stopping || stopping) {
        await fwd.close();
        return;
      }
      run.forward = fwd;
    } catch (err) {
      counters?.add('k8s_pod_sources_failed', 1, { node: pod.nodeName });
      logger.error('cannot open a forward to gadget pod', {
        pod: pod.podName,
        node: pod.nodeName,
        error: errorText(err),
      });
      return;
    }
    logger.info('gadget pod source starting', {
      pod: pod.podName,
      node: pod.nodeName,
      address: run.forward.address,
    });
    startSource(run);
  };

  /** Stops one pod's source, lets its final flush out, then closes its forward. */
  /** Resolves true when `work` settled within stopTimeoutMs, false on timeout. */
  const within = async (work: Promise<unknown>): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), stopTimeoutMs);
      timer.unref(); // a bound on a stop the session's keep-alive already holds the process for
    });
    const outcome = await Promise.race([work.then(() => true as const), timeout]);
    clearTimeout(timer);
    return outcome;
  };

  const teardown = async (run: PodRun): Promise<void> => {
    run.stopping = true;
    if (run.restartTimer) clearTimeout(run.restartTimer);
    const source = run.source;
    if (source) {
      const finished = (async () => {
        try {
          await source.stop();
        } catch (err) {
          logger.warn('gadget pod source stop failed', { pod: run.pod.podName, error: errorText(err) });
        }
        await run.pump;
      })();
      if (!(await within(finished))) {
        logger.warn('gadget pod source did not finish in time; closing its forward', {
          pod: run.pod.podName,
          timeoutMs: stopTimeoutMs,
        });
      }
    }
    // Closing the forward drops its connections, which also ends a source stuck on a dead pod.
    await run.forward?.close().catch((err: unknown) => {
      logger.warn('closing forward failed', { pod: run.pod.podName, error: errorText(err) });
    });
    // Bounded too: stop() must finish on SIGTERM even if a source ignores its dead connection.
    if (run.pump && !(await within(run.pump))) {
      logger.error('gadget pod source still running after its forward closed; abandoning it', {
        pod: run.pod.podName,
      });
    }
  };

  const removePod = (pod: GadgetPod, reason: string): void => {
    const run = runs.get(pod.podName);
    if (!run || (pod.uid && run.pod.uid && run.pod.uid !== pod.uid)) return;
    runs.delete(pod.podName);
    counters?.add('k8s_pods_lost');
    logger.info('gadget pod gone; stopping its source', { pod: pod.podName, node: pod.nodeName, reason });
    const t = teardown(run).finally(() => pending.delete(t));
    pending.add(t);
  };

  const onEvent = (event: GadgetPodEvent): void => {
    if (event.type === 'added') {
      const t = addPod(event.pod).finally(() => pending.delete(t));
      pending.add(t);
    } else {
      removePod(event.pod, event.reason);
    }
  };

  const start = (): Promise<readonly GadgetPod[]> => {
    startPromise ??= options.discovery.start(onEvent).then(async (pods) => {
      // Wait until the initial pods' forwards are open so pods() reflects them.
      await Promise.all([...pending]);
      return pods;
    });
    return startPromise;
  };

  const stop = (): Promise<void> => {
    stopPromise ??= (async () => {
      stopping = true;
      releaseSpace();
      if (startPromise) await startPromise.catch(() => undefined);
      await options.discovery.stop();
      const all = [...runs.values()];
      runs.clear();
      await Promise.all([...all.map((r) => teardown(r)), ...pending]);
      ended = true;
      notifyConsumer();
    })();
    return stopPromise;
  };

  async function* iterate(): AsyncGenerator<RowBatch> {
    try {
      await start();
    } catch (err) {
      failure = asError(err);
      ended = true;
    }
    while (true) {
      const batch = queue.shift();
      if (batch) {
        releaseSpace();
        yield batch;
        continue;
      }
      if (ended) break;
      await new Promise<void>((resolve) => {
        wakeConsumer = resolve;
      });
    }
    if (failure) throw failure;
  }

  async function* consume(): AsyncGenerator<RowBatch> {
    try {
      yield* iterate();
    } finally {
      // A consumer that stops reading would leave pod sources blocked on backpressure.
      if (!ended) void stop();
    }
  }

  return {
    start,
    stop,
    pods() {
      return [...runs.values()].filter((r) => r.forward !== undefined).map((r) => r.pod);
    },
    batches() {
      if (iterated) throw new Error('gadget pod fan-out batches() can be iterated only once');
      iterated = true;
      return consume();
    },
  };
}

export interface KubernetesGadgetFanoutOptions {
  readonly kubeConfig: KubeConfig;
  /** Default `gadget`. */
  readonly namespace?: string;
  /** Default `k8s-app=gadget`. */
  readonly labelSelector?: string;
  /** Only the gadget pod on this node (`--node`). */
  readonly nodeName?: string;
  /** Default GADGET_SERVICE_PORT (8080). */
  readonly remotePort?: number;
  readonly createSource: CreatePodRowSource;
  readonly logger?: Logger;
  readonly counters?: Counters;
}

/** The fan-out as kubectl gadget reaches pods: discovery plus API-server port-forwards. */
export function createKubernetesGadgetFanout(options: KubernetesGadgetFanoutOptions): GadgetPodFanout {
  const discovery = createGadgetPodDiscovery({
    kubeConfig: options.kubeConfig,
    ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
    ...(options.labelSelector !== undefined ? { labelSelector: options.labelSelector } : {}),
    ...(options.nodeName !== undefined ? { nodeName: options.nodeName } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.counters ? { counters: options.counters } : {}),
  });
  return createGadgetPodFanout({
    discovery,
    forward: (pod) =>
      startPodPortForward({
        kubeConfig: options.kubeConfig,
        namespace: pod.namespace,
        podName: pod.podName,
        remotePort: options.remotePort ?? GADGET_SERVICE_PORT,
        ...(options.logger ? { logger: options.logger } : {}),
        ...(options.counters ? { counters: options.counters } : {}),
      }),
    createSource: options.createSource,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.counters ? { counters: options.counters } : {}),
  });
}

import { KubeConfigError, loadKubeConfig } from '../gadget-bridge/k8s/kube-config.js';
import type { PodMetadataInformer, PodMetadataStatus } from '../gadget-bridge/k8s/pod-metadata-informer.js';
import { createPodMetadataInformer } from '../gadget-bridge/k8s/pod-metadata-informer.js';
import type { Logger } from '../observability/logger.js';

/**
 * `--k8s-pod-metadata`: the pod informer of one session. Loaded on demand (the Kubernetes client
 * is megabytes a plain `export` never needs).
 */

/**
 * How long a session waits for the first pod list before reading input. Rows are joined with pods
 * at flush time (seconds later) anyway; this only keeps the first flush of a fresh start from
 * going out with IG's fields alone. A failing list (RBAC, unreachable) ends the wait at once.
 */
export const INITIAL_SYNC_WAIT_MS = 5_000;

export interface PodMetadataSetup {
  readonly kubeconfigPath?: string;
  readonly context?: string;
  /** `--k8s-node-name`, else $NODE_NAME; every node's pods when neither is set. */
  readonly nodeName?: string;
  /** Where KUBECONFIG, HOME and the in-cluster variables are read; default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
}

/** No Kubernetes configuration at all (not in a cluster): nothing to watch, said once. */
function unavailable(reason: string): PodMetadataInformer {
  const status: PodMetadataStatus = { state: 'unavailable', pods: 0, reason };
  return {
    start: () => undefined,
    waitForSync: () => Promise.resolve(false),
    status: () => status,
    find: () => undefined,
    stop: () => Promise.resolve(),
  };
}

/** Starts the informer and waits (bounded) for its first list; never throws for want of API access. */
export async function startPodMetadata(setup: PodMetadataSetup): Promise<PodMetadataInformer> {
  const logger = setup.logger.child('k8s-pod-metadata');
  let informer: PodMetadataInformer;
  try {
    const kube = loadKubeConfig({
      ...(setup.kubeconfigPath !== undefined ? { kubeconfigPath: setup.kubeconfigPath } : {}),
      ...(setup.context !== undefined ? { context: setup.context } : {}),
      ...(setup.env !== undefined ? { env: setup.env } : {}),
    });
    const where = setup.nodeName
      ? `node ${setup.nodeName}`
      : 'every node (set NODE_NAME or --k8s-node-name to watch one)';
    logger.info(`watching the pods of ${where} through ${kube.description}`);
    informer = createPodMetadataInformer({
      kubeConfig: kube.kubeConfig,
      ...(setup.nodeName ? { nodeName: setup.nodeName } : {}),
      logger: setup.logger,
    });
  } catch (err) {
    if (!(err instanceof KubeConfigError)) throw err;
    const reason = `no Kubernetes API to read pod metadata from: ${err.message}`;
    logger.warn(`${reason}; exporting with IG's own fields`);
    return unavailable(reason);
  }
  informer.start();
  if (!(await informer.waitForSync(INITIAL_SYNC_WAIT_MS)) && informer.status().state === 'starting')
    logger.info(
      `no pod list after ${INITIAL_SYNC_WAIT_MS / 1000} s: exporting with IG's own fields until it arrives`,
    );
  return informer;
}

import type { DataSource, GadgetInfo } from '../gadget-bridge/grpc/gadget-messages.js';
import { createGrpcRowSource } from '../gadget-bridge/grpc/grpc-row-source.js';
import type { ReconnectOptions } from '../gadget-bridge/grpc/grpc-row-source.js';
import { createIgGrpcClient } from '../gadget-bridge/grpc/ig-grpc-client.js';
import { createKubernetesGadgetFanout } from '../gadget-bridge/k8s/gadget-pod-fanout.js';
import type { GadgetPodTarget } from '../gadget-bridge/k8s/gadget-pod-fanout.js';
import { DEFAULT_GADGET_NAMESPACE, noGadgetPodsMessage } from '../gadget-bridge/k8s/gadget-pod-discovery.js';
import { loadKubeConfig } from '../gadget-bridge/k8s/kube-config.js';
import type { ProfileSpec } from '../rows/profile-spec.js';
import type { RowBatch, RowSource } from '../rows/row-batch.js';
import type { Counters } from '../observability/counters.js';
import type { Logger } from '../observability/logger.js';
import { booleanFlagPredicate, resolveGadgetParams, tokenizeGadgetFlags } from './gadget-params.js';

/**
 * Cluster-wide mode, like `kubectl gadget`: every gadget pod (namespace `gadget`, label
 * `k8s-app=gadget`) is reached through the API server's port-forward, the gadget runs on all of
 * them at once, and their batches merge into one source. Pods may come and go.
 */

export interface K8sRowSourceOptions {
  readonly values: Readonly<Record<string, unknown>>;
  readonly image?: string;
  readonly attach?: string;
  readonly gadgetTokens: readonly string[];
  readonly timeoutNs?: bigint;
  readonly resolveSpec: (info: GadgetInfo, ds: DataSource) => ProfileSpec | undefined;
  /** See GrpcRowSourceOptions.fieldsRead. */
  readonly fieldsRead?: (spec: ProfileSpec) => ReadonlySet<string>;
  /** Every pod's source reconnects like this (`--reconnect-timeout`). */
  readonly reconnect?: ReconnectOptions;
  readonly logger: Logger;
  readonly counters: Counters;
}

/** A source whose real source is created on first iteration (after an async preparation). */
function deferredSource(prepare: () => Promise<RowSource>): RowSource {
  let inner: Promise<RowSource> | undefined;
  let stopped = false;
  return {
    async *batches(): AsyncGenerator<RowBatch> {
      inner ??= prepare();
      const source = await inner;
      if (stopped) await source.stop();
      yield* source.batches();
    },
    async stop(): Promise<void> {
      stopped = true;
      if (inner) await (await inner).stop();
    },
  };
}

export function createK8sRowSource(options: K8sRowSourceOptions): RowSource {
  const { values, logger, counters } = options;
  const namespace = (values['gadget-namespace'] as string | undefined) ?? DEFAULT_GADGET_NAMESPACE;
  const nodeName = values.node as string | undefined;
  return deferredSource(async () => {
    const kube = loadKubeConfig({
      ...(values.kubeconfig !== undefined ? { kubeconfigPath: values.kubeconfig as string } : {}),
      ...(values.context !== undefined ? { context: values.context as string } : {}),
    });
    logger.info(`using ${kube.description}`);
    // Gadget flags resolve once, against the first pod's parameter list; every pod runs the same gadget.
    let params: Promise<Record<string, string>> | undefined;
    const paramsFrom = (address: string): Promise<Record<string, string>> => {
      params ??= (async () => {
        const client = createIgGrpcClient({ address });
        try {
          const info = await client.getGadgetInfo(options.image ?? '');
          return resolveGadgetParams(
            tokenizeGadgetFlags(options.gadgetTokens, booleanFlagPredicate(info)),
            info,
          );
        } finally {
          client.close();
        }
      })();
      return params;
    };
    // With --timeout every node's gadget ends by itself; like `kubectl gadget run --timeout`, the run
    // then ends too (instead of waiting for pods that may appear later).
    let running = 0;
    const endsWithGadget = (source: RowSource): RowSource => ({
      async *batches(): AsyncGenerator<RowBatch> {
        running++;
        let completed = false;
        try {
          yield* source.batches();
          completed = true;
        } finally {
          running--;
          if (completed && running === 0 && options.timeoutNs !== undefined) {
            logger.info('the gadget ended on every node (--timeout)');
            // Runs only once pod sources run, i.e. after `fanout` below exists.
            void fanout.stop();
          }
        }
      },
      stop: () => source.stop(),
    });
    const createSource = (target: GadgetPodTarget): RowSource => {
      const log = logger.child(target.nodeName || target.podName);
      if (options.attach !== undefined) {
        return createGrpcRowSource({
          address: target.address,
          attach: options.attach,
          resolveSpec: options.resolveSpec,
          ...(options.fieldsRead ? { fieldsRead: options.fieldsRead } : {}),
          ...(options.reconnect ? { reconnect: options.reconnect } : {}),
          logger: log,
          counters,
        });
      }
      return endsWithGadget(
        deferredSource(async () =>
          createGrpcRowSource({
            address: target.address,
            run: {
              imageName: options.image ?? '',
              paramValues: await paramsFrom(target.address),
              ...(options.timeoutNs !== undefined ? { timeoutNs: options.timeoutNs } : {}),
            },
            resolveSpec: options.resolveSpec,
            ...(options.fieldsRead ? { fieldsRead: options.fieldsRead } : {}),
            ...(options.reconnect ? { reconnect: options.reconnect } : {}),
            logger: log,
            counters,
          }),
        ),
      );
    };
    const fanout = createKubernetesGadgetFanout({
      kubeConfig: kube.kubeConfig,
      namespace,
      ...(nodeName !== undefined ? { nodeName } : {}),
      createSource,
      logger,
      counters,
    });
    const pods = await fanout.start();
    if (pods.length === 0) {
      await fanout.stop();
      throw new Error(noGadgetPodsMessage(namespace, nodeName));
    }
    logger.info(
      `running on ${pods.length} gadget pod(s): ${pods.map((p) => `${p.podName}@${p.nodeName}`).join(', ')}`,
    );
    return fanout;
  });
}

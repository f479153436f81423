import type { IgTlsOptions } from '../gadget-bridge/grpc/ig-address.js';
import { DEFAULT_IG_ADDRESS, igChannelSetup } from '../gadget-bridge/grpc/ig-address.js';
import { waitForDaemon } from '../gadget-bridge/grpc/daemon-wait.js';
import { createGrpcRowSource } from '../gadget-bridge/grpc/grpc-row-source.js';
import type { IgGrpcClient } from '../gadget-bridge/grpc/ig-grpc-client.js';
import { createIgGrpcClient } from '../gadget-bridge/grpc/ig-grpc-client.js';
import { createSpecResolver, parseAnnotations, applyAnnotations } from '../gadget-bridge/profile-presets.js';
import { profileSpecFromDataSource } from '../gadget-bridge/grpc/profile-spec-from-gadget-info.js';
import type { ProfileSpec } from '../rows/profile-spec.js';
import { gadgetRow } from '../rows/gadget-row.js';
import type { DataSource, GadgetInfo } from '../gadget-bridge/grpc/gadget-messages.js';
import { COMMON_HELP, COMMON_OPTIONS, parseDurationMs, UsageError } from './cli-options.js';
import type { CommandContext, PreparedSession, SessionInput } from './command-context.js';
import { prepareSession, printConfig, runSession } from './command-context.js';
import { booleanFlagPredicate, resolveGadgetParams, tokenizeGadgetFlags } from './gadget-params.js';
import { K8S_HELP } from './k8s-help.js';
import { keepProcessAlive } from './process-keep-alive.js';
import { errorText } from '../util/error-text.js';

const CONNECTION_OPTIONS = {
  'remote-address': { type: 'string' },
  'tls-key-file': { type: 'string' },
  'tls-cert-file': { type: 'string' },
  'tls-server-ca-file': { type: 'string' },
  'tls-server-name': { type: 'string' },
  k8s: { type: 'boolean' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  'gadget-namespace': { type: 'string' },
  node: { type: 'string' },
  'reconnect-timeout': { type: 'string' },
} as const;

const RUN_OPTIONS = { ...CONNECTION_OPTIONS, timeout: { type: 'string' } } as const;

const CONNECTION_HELP = `Connection (gadgetctl's flags):
      --remote-address ADDR   IG daemon: unix:///var/run/ig/ig.socket (default, \`ig daemon\`) or tcp://HOST:PORT
                              (tcp://127.0.0.1:8080 from a sidecar in IG's gadget pod)
      --tls-key-file F, --tls-cert-file F, --tls-server-ca-file F, --tls-server-name NAME
      --reconnect-timeout D   after the connection to IG is lost, or while the daemon is not up yet at start, keep
                              trying (with backoff) for up to D, then fail (exit 1); default 0 = until the gadget
                              ends or a signal stops the run
${K8S_HELP}`;

export const RUN_HELP = `Usage: ig-otel-profiles run IMAGE [gadget flags] [options]

Runs a gadget on Inspektor Gadget's daemon over its gRPC API and exports its profiles. Gadget flags
are IG's (--map-fetch-interval, --collect-ustack, --collect-build-id, --kernel-stacks-only, -n/--namespace,
-A/--all-namespaces, --podname, --containername, -l/--selector, --filter, …): the daemon's own parameter list decides
what exists; --operator.<op>.<key>=VALUE passes anything through. Ends when the gadget ends (--timeout)
or on Ctrl-C/SIGTERM, which stops the gadget, exports its final flush and drains. A lost connection to
the daemon is retried with backoff (--reconnect-timeout) and the gap reported.

      --timeout DURATION      stop the gadget after DURATION (IG's flag; default: run until stopped)
${CONNECTION_HELP}

${COMMON_HELP.replace('--timeout DURATION             per-request timeout', '--otlp-timeout DURATION        per-request timeout')}

Examples:
  ig-otel-profiles run profile_cpu --collect-ustack --endpoint http://localhost:4317 --protocol grpc
  ig-otel-profiles run profile_cpu --remote-address tcp://127.0.0.1:8080 -A -c ig.yaml --otel-profiles-exporter prod
  ig-otel-profiles run profile_cpu --k8s -A --collect-ustack -c ig.yaml --otel-profiles-exporter prod
  kubectl otel-profiles run profile_cpu -n shop --podname checkout-7d4 -c ig.yaml --otel-profiles-exporter prod`;

export const ATTACH_HELP = `Usage: ig-otel-profiles attach ID|NAME [options]

Attaches to a headless gadget instance (kubectl gadget run --detach, or the Helm chart's
config.gadgetConfigMaps) by its 32-hex id or its name (id = first 32 hex chars of sha256(name)),
receives its buffered and live data and exports it. Reconnects when the daemon restarts, without
exporting anything twice.

${CONNECTION_HELP}

${COMMON_HELP.replace('--timeout DURATION             per-request timeout', '--otlp-timeout DURATION        per-request timeout')}

Examples:
  ig-otel-profiles attach cpu-profiling --remote-address tcp://127.0.0.1:8080 -c ig.yaml --otel-profiles-exporter prod`;

type OptionTable = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

/** Our flags (common + command) are ours; everything else is a gadget flag. Returns both. */
function splitArgs(
  argv: readonly string[],
  table: OptionTable,
): {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  gadgetTokens: string[];
} {
  const byShort = new Map(
    Object.entries(table).flatMap(([name, o]) => (o.short ? [[o.short, name] as const] : [])),
  );
  const values: Record<string, string | boolean | string[] | undefined> = {};
  const positionals: string[] = [];
  const gadgetTokens: string[] = [];
  let lastWasGadgetFlag = false;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] ?? '';
    if (!token.startsWith('-') || token === '-') {
      if (lastWasGadgetFlag) gadgetTokens.push(token);
      else positionals.push(token);
      lastWasGadgetFlag = false;
      continue;
    }
    const body = token.startsWith('--') ? token.slice(2) : token.slice(1);
    const eq = body.indexOf('=');
    const rawName = eq === -1 ? body : body.slice(0, eq);
    const name = token.startsWith('--') ? rawName : (byShort.get(rawName) ?? `\u0000${rawName}`);
    const option = table[name];
    if (!option) {
      gadgetTokens.push(token);
      lastWasGadgetFlag = eq === -1;
      continue;
    }
    lastWasGadgetFlag = false;
    let value: string | boolean;
    if (option.type === 'boolean') {
      value = eq === -1 ? true : body.slice(eq + 1) !== 'false';
    } else if (eq !== -1) {
      value = body.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined) throw new UsageError(`--${name} needs a value`);
      value = next;
      i++;
    }
    if (option.multiple) values[name] = [...((values[name] as string[] | undefined) ?? []), String(value)];
    else values[name] = value;
  }
  return { values, positionals, gadgetTokens };
}

function commonTable(own: OptionTable): OptionTable {
  // IG's --timeout is the gadget's run time; the OTLP request timeout is --otlp-timeout here.
  const { timeout: _otlpTimeout, ...common } = COMMON_OPTIONS as unknown as OptionTable;
  return { ...common, 'otlp-timeout': { type: 'string' }, ...own };
}

function tlsOf(values: Record<string, unknown>): IgTlsOptions | undefined {
  const tls: IgTlsOptions = {
    ...(values['tls-key-file'] !== undefined ? { keyFile: values['tls-key-file'] as string } : {}),
    ...(values['tls-cert-file'] !== undefined ? { certFile: values['tls-cert-file'] as string } : {}),
    ...(values['tls-server-ca-file'] !== undefined
      ? { serverCaFile: values['tls-server-ca-file'] as string }
      : {}),
    ...(values['tls-server-name'] !== undefined ? { serverName: values['tls-server-name'] as string } : {}),
  };
  return Object.keys(tls).length ? tls : undefined;
}

/** Annotations from --annotate apply on top of what the daemon's GadgetInfo says. */
function specResolver(
  annotationFlags: readonly string[],
): (info: GadgetInfo, ds: DataSource) => ProfileSpec | undefined {
  const annotations = parseAnnotations(annotationFlags);
  const fallback = createSpecResolver(annotations);
  return (info, ds) => {
    const fromInfo = profileSpecFromDataSource(info, ds);
    if (fromInfo) return applyAnnotations(ds.name, fromInfo, annotations);
    return annotations.length
      ? fallback({ datasource: ds.name, gadget: info.imageName, row: gadgetRow({}) })
      : undefined;
  };
}

/** `--reconnect-timeout` as ReconnectOptions (0 = reconnect until stopped). */
function reconnectOf(values: Record<string, unknown>): { maxElapsedMs: number } | undefined {
  const text = values['reconnect-timeout'] as string | undefined;
  return text !== undefined ? { maxElapsedMs: parseDurationMs(text, '--reconnect-timeout') } : undefined;
}

function isK8sMode(values: Record<string, unknown>, ctx: CommandContext): boolean {
  if (values.k8s !== undefined) return Boolean(values.k8s);
  // As a kubectl plugin the cluster is the natural target, like kubectl gadget.
  return (ctx.invokedAs ?? '').startsWith('kubectl-');
}

/** The session's flags: IG's --timeout is the gadget's, the request timeout is --otlp-timeout. */
function sessionValues(
  values: Record<string, string | boolean | string[] | undefined>,
): Record<string, string | boolean | string[] | undefined> {
  const { timeout: _gadgetTimeout, ...rest } = values;
  return rest;
}

/** The daemon address and TLS flags, checked before anything connects: a mistake there is a usage error. */
function igConnection(values: Record<string, unknown>): { address: string; tls?: IgTlsOptions } {
  const address = (values['remote-address'] as string | undefined) ?? DEFAULT_IG_ADDRESS;
  const tls = tlsOf(values);
  try {
    igChannelSetup(address, tls);
  } catch (err) {
    throw new UsageError(errorText(err));
  }
  return { address, ...(tls ? { tls } : {}) };
}

export async function runCommand(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const { values, positionals, gadgetTokens } = splitArgs(argv, commonTable(RUN_OPTIONS));
  if (values.help) {
    ctx.stdout(RUN_HELP + '\n');
    return 0;
  }
  if (values['print-config']) return printConfig(ctx, sessionValues(values));
  const [image, ...extra] = positionals;
  if (image === undefined) throw new UsageError('name the gadget image to run, e.g. profile_cpu');
  if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const timeoutNs =
    values.timeout !== undefined
      ? BigInt(parseDurationMs(values.timeout as string, '--timeout')) * 1_000_000n
      : undefined;
  const resolveSpec = specResolver((values.annotate as string[] | undefined) ?? []);
  const reconnect = reconnectOf(values);
  const k8s = isK8sMode(values, ctx);
  const connection = k8s ? undefined : igConnection(values);
  const prepared = prepareSession(ctx, sessionValues(values), sessionInput(connection?.address));

  if (k8s) {
    const { createK8sRowSource } = await import('./k8s-mode.js');
    return runSession(ctx, prepared, (session) =>
      createK8sRowSource({
        values,
        image,
        gadgetTokens,
        resolveSpec,
        fieldsRead: session.fieldsRead,
        ...(timeoutNs !== undefined ? { timeoutNs } : {}),
        ...(reconnect ? { reconnect } : {}),
        logger: session.logger.child('k8s'),
        counters: session.counters,
      }),
    );
  }

  const { address, tls } = connection ?? igConnection(values);
  const client: IgGrpcClient = createIgGrpcClient({ address, ...(tls ? { tls } : {}) });
  let paramValues: Record<string, string>;
  try {
    // The gadget's parameters decide what its flags mean: ask the daemon, waiting for it if it is not up yet.
    const info = await untilStopped(ctx, prepared, (signal) =>
      waitForDaemon(() => client.getGadgetInfo(image), {
        address,
        ...(reconnect ? { reconnect } : {}),
        logger: prepared.logger.child('ig'),
        status: prepared.status,
        signal,
      }),
    );
    if (info === undefined) {
      client.close();
      prepared.logger.info('stopped before the daemon could be reached: nothing was read or exported');
      return 0;
    }
    prepared.status.setInput({ state: 'connecting', detail: `IG daemon at ${address}: starting ${image}` });
    paramValues = resolveGadgetParams(tokenizeGadgetFlags(gadgetTokens, booleanFlagPredicate(info)), info);
  } catch (err) {
    client.close();
    await prepared.stopTelemetry();
    throw err;
  }
  return runSession(ctx, prepared, (session) =>
    createGrpcRowSource({
      client,
      address,
      ...(tls ? { tls } : {}),
      run: { imageName: image, paramValues, ...(timeoutNs !== undefined ? { timeoutNs } : {}) },
      resolveSpec,
      fieldsRead: session.fieldsRead,
      ...(reconnect ? { reconnect } : {}),
      logger: session.logger.child('ig'),
      counters: session.counters,
      status: session.status,
    }),
  );
}

/** The input of a run or attach: the daemon at `address` (not connected yet), or the cluster's gadget pods. */
function sessionInput(address: string | undefined): SessionInput {
  return address !== undefined
    ? {
        kind: 'ig_grpc',
        initial: { state: 'connecting', detail: `IG daemon at ${address}: not connected yet` },
      }
    : { kind: 'k8s', initial: { state: 'connecting', detail: 'no gadget pod has sent data yet' } };
}

/**
 * Runs `wait` (before the session, which handles signals itself) with the telemetry up, so
 * /healthz and /readyz answer meanwhile; SIGINT/SIGTERM abort it.
 */
async function untilStopped<T>(
  ctx: CommandContext,
  prepared: PreparedSession,
  wait: (signal: AbortSignal) => Promise<T | undefined>,
): Promise<T | undefined> {
  await prepared.startTelemetry();
  // The backoff's timers and the gRPC channel do not hold the process up on their own.
  const release = keepProcessAlive();
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  if (ctx.handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  try {
    const result = await wait(stop.signal);
    if (result === undefined) await prepared.stopTelemetry();
    return result;
  } finally {
    release();
    if (ctx.handleSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}

export async function attachCommand(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const { values, positionals, gadgetTokens } = splitArgs(argv, commonTable(CONNECTION_OPTIONS));
  if (values.help) {
    ctx.stdout(ATTACH_HELP + '\n');
    return 0;
  }
  if (values['print-config']) return printConfig(ctx, sessionValues(values));
  if (gadgetTokens.length)
    throw new UsageError(
      `unknown flag ${gadgetTokens[0]} (attach takes no gadget flags: the instance has its own)`,
    );
  const [target, ...extra] = positionals;
  if (target === undefined) throw new UsageError('name the gadget instance to attach to (id or name)');
  if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const resolveSpec = specResolver((values.annotate as string[] | undefined) ?? []);
  const reconnect = reconnectOf(values);
  const k8s = isK8sMode(values, ctx);
  const connection = k8s ? undefined : igConnection(values);
  const prepared = prepareSession(ctx, sessionValues(values), sessionInput(connection?.address));
  if (k8s) {
    const { createK8sRowSource } = await import('./k8s-mode.js');
    return runSession(ctx, prepared, (session) =>
      createK8sRowSource({
        values,
        attach: target,
        gadgetTokens: [],
        resolveSpec,
        fieldsRead: session.fieldsRead,
        ...(reconnect ? { reconnect } : {}),
        logger: session.logger.child('k8s'),
        counters: session.counters,
      }),
    );
  }
  const { address, tls } = connection ?? igConnection(values);
  return runSession(ctx, prepared, (session) =>
    createGrpcRowSource({
      address,
      ...(tls ? { tls } : {}),
      attach: target,
      resolveSpec,
      fieldsRead: session.fieldsRead,
      ...(reconnect ? { reconnect } : {}),
      logger: session.logger.child('ig'),
      counters: session.counters,
      status: session.status,
    }),
  );
}

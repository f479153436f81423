import { parseSizeBytes } from '../config/units.js';
import { DEFAULT_FETCH_INTERVAL_NANO, parseAnnotations } from '../gadget-bridge/profile-presets.js';
import type { RowBatch, RowSource } from '../rows/row-batch.js';
import { IngestGate } from '../receiver/ingest-gate.js';
import { createLayoutDecoder } from '../relay/layout-decoder.js';
import { startRelayListeners } from '../relay/relay-listeners.js';
import { RelayRowSource } from '../relay/relay-row-source.js';
import type { LayoutChoice } from '../relay/sample-layout.js';
import { LAYOUT_CHOICES } from '../relay/sample-layout.js';
import type { ListenAddress } from '../serve/listen-address.js';
import { parseListenAddress } from '../serve/listen-address.js';
import { COMMON_HELP, parseCommand, parseDurationMs, UsageError } from './cli-options.js';
import type { CommandContext, SessionParts } from './command-context.js';
import { prepareSession, printConfig, runSession } from './command-context.js';
import { DEFAULT_GRPC_ADDRESS, DEFAULT_HTTP_ADDRESS, DEFAULT_MAX_REQUEST_SIZE } from './serve-command.js';

export const RELAY_HELP = `Usage: ig-otel-profiles relay [--grpc HOST:PORT] [--http HOST:PORT] [options]

Receives OTLP profiles from Inspektor Gadget's own otel-profiles operator (kubectl gadget run …
--otel-profiles-exporter=NAME pointed at relay) on OTLP/gRPC and OTLP/HTTP (protobuf or JSON, gzip), in
the proto v1.9 Sample layout IG sends or v1.10+, and exports them like \`export\` does: frames cleaned,
identical stacks merged, samples timed by arrival, resources per process/container, queued, retried.

Relay options:
      --grpc HOST:PORT           OTLP/gRPC listener (default ${DEFAULT_GRPC_ADDRESS})
      --http HOST:PORT           OTLP/HTTP listener, POST /v1development/profiles (default ${DEFAULT_HTTP_ADDRESS})
      --sample-layout L          auto | v1.9 | v1.10: Sample field numbering of protobuf requests
                                 (default auto: read per request from the wire, see docs/configuration.md)
      --fetch-interval D         IG's map-fetch-interval: the window one request covers (default 1s)
      --max-request-size SIZE    refuse larger requests with 413 / RESOURCE_EXHAUSTED (default ${DEFAULT_MAX_REQUEST_SIZE})

${COMMON_HELP}

IG's side (daemon config, e.g. the gadget ConfigMap's config.yaml):
  operator:
    otel-profiles:
      exporters:
        relay: {exporter: otlp-grpc, endpoint: 127.0.0.1:4317, insecure: true}
then: kubectl gadget run profile_cpu --otel-profiles-exporter=relay

Examples:
  ig-otel-profiles relay --endpoint https://otlp.example.com:4317
  ig-otel-profiles relay -c config.yaml --otel-profiles-exporter pyroscope --report-json /tmp/relay.json

SIGINT/SIGTERM: stop accepting, flush and drain within --shutdown-timeout, exit.
Exit status: 0 everything delivered; 1 fatal error; 2 usage or configuration error;
3 finished, but some data was refused, dropped or is still pending in a persistent queue (see the report).`;

export async function relayCommand(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const { values } = parseCommand(
    argv,
    {
      grpc: { type: 'string' },
      http: { type: 'string' },
      'sample-layout': { type: 'string' },
      'fetch-interval': { type: 'string' },
      'max-request-size': { type: 'string' },
    },
    false,
  );
  if (values.help) {
    ctx.stdout(RELAY_HELP + '\n');
    return 0;
  }
  if (values['print-config']) return printConfig(ctx, values);
  const address = (flag: 'grpc' | 'http', fallback: string): ListenAddress => {
    try {
      return parseListenAddress((values[flag] as string | undefined) ?? fallback, `--${flag}`);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  };
  const grpc = address('grpc', DEFAULT_GRPC_ADDRESS);
  const http = address('http', DEFAULT_HTTP_ADDRESS);
  const layout = (values['sample-layout'] as string | undefined) ?? 'auto';
  if (!LAYOUT_CHOICES.includes(layout as LayoutChoice))
    throw new UsageError(`--sample-layout ${layout}: expected ${LAYOUT_CHOICES.join(', ')}`);
  const fetchIntervalNano =
    values['fetch-interval'] !== undefined
      ? BigInt(parseDurationMs(values['fetch-interval'] as string, '--fetch-interval')) * 1_000_000n
      : DEFAULT_FETCH_INTERVAL_NANO;
  const sizeText = (values['max-request-size'] as string | undefined) ?? DEFAULT_MAX_REQUEST_SIZE;
  const maxRequestBytes = parseSizeBytes(sizeText);
  if (maxRequestBytes === undefined || maxRequestBytes < 1024)
    throw new UsageError(`--max-request-size ${sizeText}: expected a size of at least 1KiB, like 64MiB`);
  let annotations;
  try {
    annotations = parseAnnotations((values.annotate as string[] | undefined) ?? []);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const prepared = prepareSession(ctx, values, {
    kind: 'otlp',
    initial: { state: 'connecting', detail: 'starting the OTLP listeners' },
  });

  return runSession(ctx, prepared, (parts: SessionParts): RowSource => {
    const logger = parts.logger.child('relay');
    const gateRef: { gate?: IngestGate } = {};
    const relay = new RelayRowSource({
      fieldsRead: parts.fieldsRead,
      fetchIntervalNano,
      counters: parts.counters,
      logger,
      annotations,
      onStop: () => void gateRef.gate?.drain(),
    });
    const gate = new IngestGate(relay, logger, undefined, (reason) => relay.countRefused(reason));
    gateRef.gate = gate;
    const listening = startRelayListeners({
      grpc,
      http,
      gate,
      decode: createLayoutDecoder(layout as LayoutChoice, () => relay.countUndecodable()),
      maxRequestBytes,
      logger,
      onRefusedBeforeDecode: () => relay.countUndecodable(),
    });
    // A listener that cannot bind fails the session (its batches throw) instead of an unhandled rejection.
    listening.catch(() => undefined);
    return {
      async *batches(): AsyncIterable<RowBatch> {
        const listeners = await listening;
        const where = `OTLP/gRPC ${listeners.grpcAddress}, OTLP/HTTP http://${listeners.httpAddress}`;
        logger.info(`listening: ${where}`);
        // Senders push to relay: it is ready to take their data once both listeners are up.
        parts.status.setInput({ state: 'connected', detail: `listening: ${where}` });
        try {
          yield* relay.batches();
        } finally {
          await gate.drain();
          await listeners.close();
        }
      },
      stop: () => relay.stop(),
    };
  });
}

import { basename } from 'node:path';
import { EXPORTER_NAME, EXPORTER_VERSION } from '../util/version.js';
import { UsageError } from './cli-options.js';
import type { CommandContext } from './command-context.js';
import { EXIT_FATAL, EXIT_USAGE } from './export-session.js';
import { errorText } from '../util/error-text.js';

const MAIN_HELP = `${EXPORTER_NAME} ${EXPORTER_VERSION}: continuous profiling for Inspektor Gadget, exported as OTLP profiles.

Usage: ig-otel-profiles <command> [options]

Commands:
  demo        start serve, replay the bundled profile_cpu capture into it over OTLP and print the page's URL
              (demo --files: OTLP and pprof files instead, no server)
  serve       receive OTLP profiles (gRPC/HTTP), store them (DuckDB) and show them in the browser, live
  relay       receive what IG's own otel-profiles operator sends (OTLP, proto v1.9 or v1.10+) and export it
  export      read IG JSON output (stdin, a file, or a command after --) and export it
  run         run a gadget on IG's daemon over gRPC (or on every node with --k8s) and export it
  attach      attach to a headless gadget instance and export it
  validate    check OTLP profile files against every profcheck conformance rule
  help        show this help (help <command>: that command's help)
  version     print the version

As a kubectl plugin (kubectl-otel_profiles on PATH): kubectl otel-profiles <command> …

Run "ig-otel-profiles <command> --help" for a command's options and examples.`;

type Command = (argv: readonly string[], ctx: CommandContext) => Promise<number>;

/**
 * Commands load on demand: `export` never pays for the Kubernetes client or the IG gRPC API
 * (megabytes of code held in memory for the life of a DaemonSet pod).
 */
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  export: async () => (await import('./export-command.js')).exportCommand,
  run: async () => (await import('./run-command.js')).runCommand,
  attach: async () => (await import('./run-command.js')).attachCommand,
  demo: async () => (await import('./demo-command.js')).demoCommand,
  serve: async () => (await import('./serve-command.js')).serveCommand,
  relay: async () => (await import('./relay-command.js')).relayCommand,
  validate: async () => (await import('./validate-command.js')).validateCommand,
};

/** Errors that come from what the user gave us (config, flags) rather than from the run. */
function isUserError(err: unknown): boolean {
  return err instanceof UsageError || (err instanceof Error && err.name === 'ConfigError');
}

export async function main(
  argv: readonly string[],
  overrides: Partial<CommandContext> = {},
): Promise<number> {
  const ctx: CommandContext = {
    env: process.env,
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    handleSignals: true,
    invokedAs: basename(process.argv[1] ?? EXPORTER_NAME),
    ...overrides,
  };
  const [first, ...afterFirst] = argv;
  // `help export` is `export --help`.
  const helpFor = first === 'help' && afterFirst[0] !== undefined ? afterFirst[0] : undefined;
  const name = helpFor ?? first;
  const rest = helpFor !== undefined ? ['--help'] : afterFirst;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    ctx.stdout(MAIN_HELP + '\n');
    return name === undefined ? EXIT_USAGE : 0;
  }
  if (name === 'version' || name === '--version') {
    ctx.stdout(`${EXPORTER_NAME} ${EXPORTER_VERSION}\n`);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    ctx.stderr(
      `${EXPORTER_NAME}: unknown command "${name}". Commands: ${Object.keys(COMMANDS).join(', ')} (see --help)\n`,
    );
    return EXIT_USAGE;
  }
  try {
    const command = await load();
    return await command(rest, ctx);
  } catch (err) {
    const message = errorText(err);
    if (isUserError(err)) {
      ctx.stderr(`${EXPORTER_NAME} ${name}: ${message}\n(see: ${EXPORTER_NAME} ${name} --help)\n`);
      return EXIT_USAGE;
    }
    ctx.stderr(`${EXPORTER_NAME} ${name}: ${message}\n`);
    return EXIT_FATAL;
  }
}

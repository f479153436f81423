/**
 * Child-process entry of the delivery benchmarks: runs the real CLI in this process, i.e.
 * `node --import tsx bench/export-child.ts export [flags…]` behaves like
 * `ig-otel-profiles export [flags…]` (src/cli/main.ts), reading IG JSON lines from stdin.
 *
 * If `src/cli/main.ts` cannot be loaded (a command module still being written), it runs the
 * `export` command module itself through the same CommandContext main() would build, and says so
 * on stderr (`bench-launcher: …`), so the report can name what ran.
 */
import { basename } from 'node:path';

type Main = (argv: readonly string[]) => Promise<number>;

async function loadMain(): Promise<{ run: Main; via: string }> {
  try {
    const mod = await import('../src/cli/main.js');
    return { run: (argv) => mod.main(argv), via: 'src/cli/main.ts main()' };
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    const { exportCommand } = await import('../src/cli/export-command.js');
    const run: Main = async ([command, ...rest]) => {
      if (command !== 'export')
        throw new Error(`bench/export-child.ts: only "export" is supported without main.ts`);
      return exportCommand(rest, {
        env: process.env,
        stdout: (t) => void process.stdout.write(t),
        stderr: (t) => void process.stderr.write(t),
        handleSignals: true,
        invokedAs: basename(process.argv[1] ?? 'ig-otel-profiles'),
      });
    };
    return { run, via: `src/cli/export-command.ts exportCommand() (main.ts not loadable: ${why})` };
  }
}

const { run, via } = await loadMain();
process.stderr.write(`bench-launcher: ${via}\n`);
process.exitCode = await run(process.argv.slice(2));

// The CLI as a standalone process for tests that need real signals and exit codes.
import { main } from '../../src/cli/main.js';

const EXIT_GRACE_MS = 2000;

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Everything is flushed and reported; a connection that lingers (a watch whose response never
    // started, a peer that ignores a close handshake) must not keep the process from exiting.
    setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  },
  (err: unknown) => {
    process.stderr.write(`cli-child: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);

#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm install` (the prepare script).
import { main } from '../dist/cli/main.js';

/** How long after the report the process may take to wind down on its own. */
const EXIT_GRACE_MS = 2000;

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Everything is flushed and reported; a connection that lingers (a watch whose response never
    // started, a peer that ignores a close handshake) must not keep the process from exiting.
    setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  },
  (err) => {
    process.stderr.write(
      `ig-otel-profiles: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  },
);

/**
 * The CLI's entry: `pnpm --filter @repo/cli start -- <command>` (node with tsx). Errors end as
 * one message on stderr and an exit code (errors.ts), never a stack trace.
 */
import { CommanderError } from "commander";

import { configDir } from "./config";
import { env } from "./env";
import { EXIT, toCliError } from "./errors";
import { buildProgram } from "./program";

const aborter = new AbortController();
let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => {
    // A second Ctrl-C leaves at once; the first lets the command close its files.
    if (interrupted) process.exit(EXIT.interrupted);
    interrupted = true;
    aborter.abort();
  });

const program = buildProgram(
  {
    configDir: configDir(env.TRACKER_CONFIG_DIR),
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    signal: aborter.signal,
  },
  { url: env.TRACKER_URL },
);

try {
  await program.parseAsync();
  process.exitCode = EXIT.ok;
} catch (error) {
  if (error instanceof CommanderError)
    // --help and --version end here too (exit code 0); commander has printed the message.
    process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  else {
    const failure = toCliError(error);
    process.stderr.write(`error: ${failure.message}\n`);
    process.exitCode = failure.exitCode;
  }
}

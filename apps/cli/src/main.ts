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

let exitCode: number = EXIT.ok;
try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof CommanderError)
    // --help and --version end here too (exit code 0); commander has printed the message.
    exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  else {
    const failure = toCliError(error);
    process.stderr.write(`error: ${failure.message}\n`);
    exitCode = failure.exitCode;
  }
}
// Every command has awaited its work (writes answered or kept in the outbox file, files
// closed); what can still hold the event loop is an aborted live shape request's socket, which
// kept `watch` alive for up to a long-poll after Ctrl-C. Exit once the output is flushed.
await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
await new Promise<void>((resolve) => process.stderr.write("", () => resolve()));
process.exit(exitCode);

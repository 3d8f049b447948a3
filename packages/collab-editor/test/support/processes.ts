import { spawn } from "node:child_process";
import { dirname, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

// From the string, not `new URL(…)`: DOM test environments replace the global URL class.
const repoRoot = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "../../../..",
);

export interface ChildServer {
  /** What the server printed on its ready line (e.g. the port). */
  readonly ready: RegExpExecArray;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/**
 * Node with tsx's loader, `args` run in `dir` (relative to the repo root), ready once a line
 * of its stdout matches `readyLine`. Node itself, not the tsx CLI: the PID stopped is the
 * server's.
 */
export function startServerProcess(options: {
  dir: string;
  args: string[];
  env?: Record<string, string>;
  /** Node options before the loader (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
  readyLine: RegExp;
  timeoutMs?: number;
}): Promise<ChildServer> {
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), "--import", "tsx", ...options.args],
    {
      cwd: resolve(repoRoot, options.dir),
      env: options.env ?? {},
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    // Not started at all (no such directory): no exit event follows.
    child.once("error", () => resolve());
  });
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${options.dir} ${options.args.join(" ")}: not ready`));
    }, options.timeoutMs ?? 30_000);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${options.dir} ${options.args.join(" ")} exited`));
    });
    createInterface({ input: child.stdout }).on("line", (line) => {
      const ready = options.readyLine.exec(line);
      if (!ready) return;
      clearTimeout(timer);
      resolve({ ready, pid: child.pid, stop });
    });
  });
}

/**
 * A background job of a long-running server process: `run` on a timer that does not keep the
 * process alive, never two runs at once, failures reported and the next run kept on schedule.
 */
export interface IntervalJob {
  /** Runs once now (or joins the run in progress); resolves with what it returned. */
  runNow(): Promise<number>;
  /** Stops the timer and waits for a running run to finish. */
  stop(): Promise<void>;
}

export function startIntervalJob(job: {
  /** Named in the default error report. */
  name: string;
  intervalMs: number;
  run: () => Promise<number>;
  onDone?: (result: number) => void;
  onError?: (error: unknown) => void;
}): IntervalJob {
  let running: Promise<number> | undefined;
  const runNow = () =>
    (running ??= job
      .run()
      .then((result) => {
        job.onDone?.(result);
        return result;
      })
      .finally(() => (running = undefined)));
  const timer = setInterval(() => {
    runNow().catch(
      job.onError ??
        ((error: unknown) => console.error(`${job.name} failed`, error)),
    );
  }, job.intervalMs);
  // A pending run must not keep the process alive.
  timer.unref();
  return {
    runNow,
    stop: async () => {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}

export interface WaitForOptions {
  /** Give up after this long. Default 15 s. */
  timeoutMs?: number;
  /** Time between checks. Default 50 ms. */
  intervalMs?: number;
  /** What the timeout error says (evaluated then, e.g. the output seen so far). */
  describe?: () => string;
}

/**
 * Resolves once `check()` holds, checking every `intervalMs`; rejects after `timeoutMs`, or
 * with whatever `check` throws (e.g. "the process exited"). For conditions that no event
 * announces, such as rows a background job deletes or a line another process prints; await
 * the event itself where there is one.
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  options: WaitForOptions = {},
): Promise<void> {
  const { timeoutMs = 15_000, intervalMs = 50 } = options;
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms${options.describe ? `: ${options.describe()}` : ""}`,
      );
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

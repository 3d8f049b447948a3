import type { Awareness } from "y-protocols/awareness";

/**
 * Resolves once `check()` holds, looking again at each `change` of `awareness`; rejects after
 * `timeoutMs`.
 */
export function untilAwareness(
  awareness: Awareness,
  check: () => boolean,
  timeoutMs = 10_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      clearTimeout(timer);
      awareness.off("change", onChange);
      if (error) reject(error);
      else resolve();
    };
    const onChange = () => {
      if (check()) done();
    };
    const timer = setTimeout(
      () => done(new Error(`awareness: timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    awareness.on("change", onChange);
    onChange();
  });
}

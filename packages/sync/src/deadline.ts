/**
 * A call to the api given up after a while. A request on a connection that died without
 * closing (a laptop's network switched, a proxy's stalled stream) never settles, and whoever
 * waits on it (the outbox, a collaborative field's provider) would wait for good. The signal
 * asks the call to let go; racing it lets go of one that does not listen.
 */

/** The api left a call unanswered past its deadline: retried like a network failure. */
export class DeadlineError extends Error {
  override name = "DeadlineError";
}

export async function withDeadline<T>(
  ms: number,
  what: string,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new DeadlineError(`${what} unanswered after ${ms} ms`);
      abort.abort(error);
      reject(error);
    }, ms);
  });
  try {
    return await Promise.race([call(abort.signal), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Call `fn` on every item, in order, with at most `limit` calls in flight. Once a call rejects
 * (including synchronously, e.g. a leader check at its start), no further call starts; the calls
 * already in flight settle, then the first error is thrown. So a caller that checks a condition
 * at the start of `fn` issues nothing after the check first fails, and at most `limit - 1` calls
 * started before it can still be running.
 */
export async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  let next = 0;
  let failure: { err: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw failure.err;
}

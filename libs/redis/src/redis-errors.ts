/**
 * Whether an error from an ioredis call means "Redis cannot be reached right now" (down,
 * restarting, connection lost), as opposed to an answer from Redis (a reply error such as
 * WRONGTYPE or a script's refusal). Callers retry the former later instead of treating it as a
 * failure of the work: the API answers 503 with Retry-After, the worker delays the delivery.
 */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return (
    err.name === 'MaxRetriesPerRequestError' ||
    err.message === 'Connection is closed.' ||
    /enableOfflineQueue|Stream isn't writeable/.test(err.message) ||
    ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTCONN'].includes(code)
  );
}

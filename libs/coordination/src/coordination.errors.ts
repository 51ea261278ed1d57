/**
 * A leader-only write was refused because the caller's lease is gone or a newer leader took over
 * (its epoch is no longer the current one). The caller must stop acting as leader.
 */
export class StaleEpochError extends Error {
  constructor(
    readonly epoch: number,
    detail = 'the lease or the epoch changed',
  ) {
    super(`stale leader epoch ${epoch}: ${detail}`);
    this.name = 'StaleEpochError';
  }
}

/** Leader work was attempted by an instance that is not (or may no longer be) the leader. */
export class NotLeaderError extends Error {
  constructor(detail = 'this instance is not the leader') {
    super(detail);
    this.name = 'NotLeaderError';
  }
}

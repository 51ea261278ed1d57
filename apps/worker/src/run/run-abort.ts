/** Why a run's AbortSignal fired; decides the record's final status. */
export type RunAbortKind = 'cancelled' | 'timeout' | 'lock-lost' | 'shutdown';

export class RunAbort extends Error {
  constructor(
    readonly kind: RunAbortKind,
    message: string,
  ) {
    super(message);
    this.name = 'RunAbort';
  }
}

export function abortKindOf(signal: AbortSignal): RunAbortKind | undefined {
  return signal.aborted && signal.reason instanceof RunAbort ? signal.reason.kind : undefined;
}

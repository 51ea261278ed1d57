/** `2026-11-22T02-00-00Z`: the slot time in UTC, safe in file and object names on every platform. */
export function slotStamp(scheduledForMs: number): string {
  return new Date(scheduledForMs)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
}

/** `<jobId>/<jobId>-<slot as YYYY-MM-DDTHH-MM-SSZ>-<executionId>.tar.gz` (ARCHITECTURE.md §3). */
export function bundleObjectName(jobId: string, scheduledForMs: number, executionId: string): string {
  return `${jobId}/${bundleFileName(jobId, scheduledForMs, executionId)}`;
}

export function bundleFileName(jobId: string, scheduledForMs: number, executionId: string): string {
  return `${jobId}-${slotStamp(scheduledForMs)}-${executionId}.tar.gz`;
}

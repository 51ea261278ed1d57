import { forEachBounded } from './bounded';

/** A call that resolves when the test says so. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('forEachBounded', () => {
  it('calls fn once per item, in order, never more than `limit` at once', async () => {
    const started: number[] = [];
    let inFlight = 0;
    let peak = 0;
    await forEachBounded(
      Array.from({ length: 200 }, (_, i) => i),
      7,
      async (i) => {
        started.push(i);
        peak = Math.max(peak, ++inFlight);
        await new Promise<void>((r) => setImmediate(r));
        inFlight--;
      },
    );
    expect(started).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(peak).toBe(7);
  });

  it('after the first rejection starts nothing more, lets the calls in flight settle, then throws it', async () => {
    const gates = Array.from({ length: 10 }, () => deferred());
    const started: number[] = [];
    const settled: number[] = [];
    const run = forEachBounded(
      gates.map((_, i) => i),
      3,
      async (i) => {
        if (i === 4) throw new Error('not the leader');
        started.push(i);
        await gates[i].promise;
        settled.push(i);
      },
    );
    expect(started).toEqual([0, 1, 2]);
    gates[0].resolve(); // lane 0 goes on to item 3
    await new Promise<void>((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2, 3]);
    gates[1].resolve(); // lane 1 takes item 4, which throws: nothing after it starts
    await new Promise<void>((r) => setImmediate(r));
    let done = false;
    void run.catch(() => (done = true));
    await new Promise<void>((r) => setImmediate(r));
    expect(done).toBe(false); // items 2 and 3 are still in flight
    gates[2].resolve();
    gates[3].resolve();
    await expect(run).rejects.toThrow('not the leader');
    expect(started).toEqual([0, 1, 2, 3]);
    expect(settled.sort()).toEqual([0, 1, 2, 3]);
  });

  it('handles no items, and refuses a limit below 1', async () => {
    const fn = jest.fn(async () => undefined);
    await forEachBounded([], 64, fn);
    expect(fn).not.toHaveBeenCalled();
    await expect(forEachBounded([1], 0, fn)).rejects.toThrow(RangeError);
  });
});

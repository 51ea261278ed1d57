import { Readable } from 'node:stream';
import { MemorySink } from '../test-helpers';
import { BundleBudget } from './bundle-budget';

describe('BundleBudget', () => {
  it('passes files that fit, refuses the first that does not, and counts as exhausted from then on', async () => {
    const sink = new MemorySink();
    const budget = new BundleBudget(sink, 10);
    await expect(budget.addFile('a.txt', '12345')).resolves.toMatchObject({ written: true, truncated: false });
    expect(budget.exhausted).toBe(false);
    await expect(budget.addFile('b.txt', '123456')).resolves.toEqual({ written: false, truncated: true, bytes: 0 });
    expect(budget.exhausted).toBe(true);
    expect(budget.truncatedPaths).toEqual(['b.txt']);
    expect([...sink.files.keys()]).toEqual(['a.txt']);
  });

  it('cuts known-size and unknown-size streams at the budget', async () => {
    const sink = new MemorySink();
    const budget = new BundleBudget(sink, 10);
    const known = await budget.addStream('k.bin', Readable.from([Buffer.alloc(6, 1)]), 6);
    expect(known).toMatchObject({ truncated: false });
    const unknown = await budget.addStream('u.bin', Readable.from([Buffer.alloc(3, 2), Buffer.alloc(3, 3)]));
    expect(unknown.truncated).toBe(true);
    expect(sink.files.get('u.bin')).toEqual(Buffer.from([2, 2, 2, 3]));
    expect(budget.usedBytes).toBe(10);
    const refused = await budget.addStream('late.bin', Readable.from([Buffer.alloc(1)]), 1);
    expect(refused).toEqual({ written: false, truncated: true, bytes: 0 });
    expect(budget.truncatedPaths).toEqual(['u.bin', 'late.bin']);
  });

  it('concurrent writers never pass the budget together', async () => {
    const sink = new MemorySink();
    const budget = new BundleBudget(sink, 1000);
    const chunks = () => Readable.from(Array.from({ length: 20 }, () => Buffer.alloc(25)));
    await Promise.all(Array.from({ length: 5 }, (_, i) => budget.addStream(`s${i}`, chunks())));
    const total = [...sink.files.values()].reduce((n, b) => n + b.length, 0);
    expect(total).toBe(1000);
    expect(budget.exhausted).toBe(true);
  });
});

import { StaleAttemptError, type AttemptWrites } from '@cronbundle/executions';
import { waitFor } from '@cronbundle/testing';
import { RunJournal } from './run-journal';

/** The store's `append`, recorded; each call can be held open or made to fail. */
class AppendPort {
  readonly calls: AttemptWrites[] = [];
  private next: (() => Promise<void>) | undefined;

  async append(_id: string, _attempt: number, writes: AttemptWrites): Promise<void> {
    this.calls.push(structuredClone(writes));
    const behaviour = this.next;
    this.next = undefined;
    if (behaviour) await behaviour();
  }
  /** The next append waits for the returned release function. */
  hold(): () => void {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    this.next = () => gate;
    return release;
  }
  /** The next append runs `during`, then fails with `err`. */
  failNext(err: Error, during: () => void = () => undefined): void {
    this.next = async () => {
      during();
      throw err;
    };
  }
}

const messages = (w: AttemptWrites) => (w.logs ?? []).map((l) => l.message);

describe('RunJournal (buffered log lines and stage timings of one attempt)', () => {
  it('a run that ends before the flush interval writes nothing until its final write, which gets everything in order', async () => {
    const port = new AppendPort();
    const journal = new RunJournal(port, 'E1', 1, { flushMs: 60_000 });
    journal.log('info', 'collector', 'one');
    journal.stage('collect', 5);
    journal.log('debug', 'analyze', 'two');
    journal.stage('analyze', 1);
    const writes = await journal.take();
    expect(port.calls).toEqual([]);
    expect(messages(writes)).toEqual(['one', 'two']);
    expect(writes.stages).toEqual({ collect: 5, analyze: 1 });
    // Closed: later lines (e.g. the notify hook's, after the record is final) are not kept.
    journal.log('info', 'notify', 'late');
    expect(await journal.take()).toEqual({ logs: [], stages: {} });
  });

  it('a running attempt flushes what it buffered within the interval, in one append, and the rest goes with the final write', async () => {
    const port = new AppendPort();
    const journal = new RunJournal(port, 'E1', 1, { flushMs: 20 });
    journal.log('info', 'collector', 'a');
    journal.stage('collect', 10);
    journal.log('info', 'collector', 'b');
    await waitFor(() => port.calls.length === 1 || undefined, { timeoutMs: 2_000, what: 'a flush' });
    expect(messages(port.calls[0])).toEqual(['a', 'b']);
    expect(port.calls[0].stages).toEqual({ collect: 10 });
    journal.log('info', 'collector', 'c');
    const writes = await journal.take();
    expect(messages(writes)).toEqual(['c']);
    expect(port.calls).toHaveLength(1);
  });

  it('the final write waits for a flush in flight, so lines keep their order', async () => {
    const port = new AppendPort();
    const release = port.hold();
    const journal = new RunJournal(port, 'E1', 1, { flushMs: 10 });
    journal.log('info', 'c', 'first');
    await waitFor(() => port.calls.length === 1 || undefined, { timeoutMs: 2_000, what: 'a flush in flight' });
    journal.log('info', 'c', 'second');
    let taken: AttemptWrites | undefined;
    const taking = journal.take().then((w) => (taken = w));
    await Promise.resolve();
    expect(taken).toBeUndefined();
    release();
    await taking;
    expect(messages(port.calls[0])).toEqual(['first']);
    expect(messages(taken!)).toEqual(['second']);
  });

  it('a flush that fails (Redis away) keeps its lines for the next write, ahead of newer ones', async () => {
    const port = new AppendPort();
    const journal = new RunJournal(port, 'E1', 1, { flushMs: 10 });
    // A line arrives while the failing flush is in flight.
    port.failNext(new Error('Connection is closed.'), () => journal.log('info', 'c', 'newer'));
    journal.log('info', 'c', 'kept');
    journal.stage('collect', 3);
    await waitFor(() => port.calls.length === 2 || undefined, { timeoutMs: 2_000, what: 'the retried flush' });
    expect(messages(port.calls[1])).toEqual(['kept', 'newer']);
    expect(port.calls[1].stages).toEqual({ collect: 3 });
    expect(await journal.take()).toEqual({ logs: [], stages: {} });
  });

  it('a flush refused as stale calls onStale once and stops buffering', async () => {
    const port = new AppendPort();
    const stale = new StaleAttemptError('E1', 1);
    port.failNext(stale);
    const onStale = jest.fn();
    const journal = new RunJournal(port, 'E1', 1, { flushMs: 10, onStale });
    journal.log('info', 'c', 'x');
    await waitFor(() => onStale.mock.calls.length === 1 || undefined, { timeoutMs: 2_000, what: 'onStale' });
    expect(onStale).toHaveBeenCalledWith(stale);
    journal.log('info', 'c', 'after');
    expect(await journal.take()).toEqual({ logs: [], stages: {} });
    expect(port.calls).toHaveLength(1);
  });

  it('keeps only the newest maxEntries lines, as the record would', async () => {
    const journal = new RunJournal(new AppendPort(), 'E1', 1, { flushMs: 60_000, maxEntries: 3 });
    for (let i = 0; i < 6; i++) journal.log('info', 'c', `l${i}`);
    expect(messages(await journal.take())).toEqual(['l3', 'l4', 'l5']);
  });
});

// A raw BullMQ worker: a no-op processor (or one that sleeps SLEEP_MS), nothing of cronbundle.
import './count-commands';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const url = process.env.REDIS_URL!;
const queue = process.env.QUEUE ?? 'noop';
const prefix = process.env.PREFIX ?? 'raw';
const concurrency = Number(process.env.CONCURRENCY ?? 100);
const sleepMs = Number(process.env.SLEEP_MS ?? 0);
/** Report each job start on stdout: `start <jobId> <epoch ms>` (fire lag, redelivery). */
const reportStarts = process.env.REPORT_STARTS === 'true';

const worker = new Worker(
  queue,
  async (job) => {
    if (reportStarts) process.stdout.write(`start ${job.id} ${Date.now()}\n`);
    if (sleepMs) await new Promise((r) => setTimeout(r, sleepMs));
  },
  {
    connection: new Redis(url, { maxRetriesPerRequest: null }),
    prefix,
    concurrency,
    ...(process.env.LOCK_DURATION_MS ? { lockDuration: Number(process.env.LOCK_DURATION_MS) } : {}),
    ...(process.env.STALLED_INTERVAL_MS ? { stalledInterval: Number(process.env.STALLED_INTERVAL_MS) } : {}),
  },
);
worker.on('error', (err) => process.stderr.write(`raw worker error: ${err.message}\n`));
void worker.waitUntilReady().then(() => process.stdout.write('ready\n'));
process.once('SIGTERM', () => void worker.close().then(() => process.exit(0)));

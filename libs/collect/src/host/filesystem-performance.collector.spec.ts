import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectHost } from '../test-helpers';
import {
  FS_PROBE_LIMITS,
  latencyStats,
  parseQuantity,
  probePlan,
  type LatencyStats,
} from './filesystem-performance.collector';

interface FioLike {
  jobs: {
    jobname: string;
    'job options': Record<string, string>;
    write: { io_bytes: number; total_ios: number; lat_ns: LatencyStats };
    sync: { total_ios: number; lat_ns: LatencyStats };
  }[];
}

describe('filesystemPerformance host collector (real filesystem)', () => {
  let root: string;
  let allowed: string;
  let outside: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'cronbundle-fsperf-'));
    allowed = join(root, 'allowed');
    outside = join(root, 'outside');
    await mkdir(join(allowed, 'data'), { recursive: true });
    await mkdir(outside);
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('writes N fdatasync-ed blocks and reports fio-shaped latencies with plausible values', async () => {
    const dir = join(allowed, 'data');
    const { sink, summary } = await collectHost(
      [
        {
          filesystemPerformance: { collectorName: 'etcd-disk', directory: dir, operationSize: 4096, fileSize: '64Ki' },
        },
      ],
      { allowedPaths: [allowed] },
    );
    expect(summary.failed).toBe(0);
    const fio = sink.json('host-collectors/filesystemPerformance/etcd-disk.json') as FioLike;
    const job = fio.jobs[0]!;
    expect(job.jobname).toBe('fsperf'); // the job troubleshoot's analyzer looks for
    expect(job['job options']).toMatchObject({
      bs: '4096',
      size: '65536',
      rw: 'write',
      fdatasync: '1',
      directory: dir,
    });
    expect(job.write).toMatchObject({ io_bytes: 65536, total_ios: 16 });
    expect(job.sync.total_ios).toBe(16);
    const lat = job.sync.lat_ns;
    expect(lat.N).toBe(16);
    expect(lat.min).toBeGreaterThan(0);
    const p = (k: number) => lat.percentile[k.toFixed(6)]!;
    expect(lat.min).toBeLessThanOrEqual(p(1));
    expect(p(50)).toBeLessThanOrEqual(p(90));
    expect(p(90)).toBeLessThanOrEqual(p(99));
    expect(p(99)).toBeLessThanOrEqual(lat.max);
    expect(p(99.99)).toBe(lat.max);
    expect(lat.mean).toBeGreaterThanOrEqual(lat.min);
    expect(lat.mean).toBeLessThanOrEqual(lat.max);
    expect(job.write.lat_ns.N).toBe(16);
    // The probe's temp directory and file are gone.
    expect(await readdir(dir)).toEqual([]);
  });

  it('uses the default title and troubleshoot’s 1 KiB block size when the spec sets neither', async () => {
    const { sink } = await collectHost([{ filesystemPerformance: { directory: allowed, fileSize: '8Ki' } }], {
      allowedPaths: [allowed],
    });
    const fio = sink.json('host-collectors/filesystemPerformance/filesystemPerformance.json') as FioLike;
    expect(fio.jobs[0]!.sync.lat_ns.N).toBe(8);
    expect(fio.jobs[0]!['job options'].bs).toBe('1024');
  });

  it('refuses a directory outside allowedPaths, through a symlink, missing, or with none configured', async () => {
    await symlink(outside, join(allowed, 'escape'));
    const { sink, summary } = await collectHost(
      [
        { filesystemPerformance: { collectorName: 'outside', directory: outside } },
        { filesystemPerformance: { collectorName: 'escape', directory: join(allowed, 'escape') } },
        { filesystemPerformance: { collectorName: 'missing', directory: join(allowed, 'nope') } },
        { filesystemPerformance: { collectorName: 'no-dir' } },
      ],
      { allowedPaths: [allowed] },
    );
    expect(summary.failed).toBe(4);
    const error = (name: string) => (sink.json(`host-collectors/errors/${name}-error.json`) as { error: string }).error;
    expect(error('outside')).toBe(
      `directory ${outside} is outside the allowed paths (allowedPaths / COLLECT_ALLOWED_PATHS)`,
    );
    expect(error('escape')).toMatch(/is outside the allowed paths/);
    expect(error('missing')).toBe(`directory ${join(allowed, 'nope')} does not exist`);
    expect(error('no-dir')).toBe('directory is required to collect filesystem performance');
    expect(await readdir(outside)).toEqual([]);
    expect([...sink.files.keys()].filter((k) => k.includes('filesystemPerformance/'))).toEqual([]);

    const none = await collectHost([{ filesystemPerformance: { collectorName: 'x', directory: allowed } }]);
    expect(none.summary.results[0]!.error).toMatch(/outside the allowed paths/);
  });
});

describe('filesystemPerformance probe plan and statistics', () => {
  it('caps operations, block size and time whatever the spec asks', () => {
    expect(probePlan({ fileSize: '1Gi', operationSize: 512 }, 30_000)).toEqual({
      operationSize: 512,
      ops: FS_PROBE_LIMITS.maxOps,
      timeMs: FS_PROBE_LIMITS.defaultTimeMs,
      syncCall: 'fdatasync',
    });
    expect(probePlan({ operationSize: 1e9 }, 30_000)).toMatchObject({ operationSize: 1024 * 1024, ops: 10 });
    expect(probePlan({ timeout: '2s', runTime: '120' }, 1_000)).toMatchObject({ timeMs: 800 });
    expect(probePlan({ runTime: '1' }, 30_000)).toMatchObject({ timeMs: 1000 });
    expect(probePlan({ sync: true }, 30_000).syncCall).toBe('fsync');
    expect(() => probePlan({ fileSize: 'ten megs' }, 30_000)).toThrow('fileSize "ten megs" is not a positive quantity');
  });

  it('parses Kubernetes quantities', () => {
    expect(parseQuantity('10Mi')).toBe(10 * 1024 * 1024);
    expect(parseQuantity('10M')).toBe(10_000_000);
    expect(parseQuantity('4096')).toBe(4096);
    expect(parseQuantity('1.5Ki')).toBe(1536);
    expect(parseQuantity('-1')).toBeUndefined();
  });

  it('computes nearest-rank percentiles like troubleshoot', () => {
    const stats = latencyStats(Array.from({ length: 100 }, (_, i) => 100 - i)); // 100..1, unsorted
    expect(stats).toMatchObject({ min: 1, max: 100, N: 100 });
    expect(stats.mean).toBe(51); // 50.5 rounded
    expect(stats.percentile['50.000000']).toBe(50);
    expect(stats.percentile['90.000000']).toBe(90);
    expect(stats.percentile['99.000000']).toBe(99);
    expect(stats.percentile['99.500000']).toBe(100);
    expect(stats.percentile['1.000000']).toBe(1);
  });
});

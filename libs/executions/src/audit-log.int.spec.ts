import { RedisKeys } from '@cronbundle/redis';
import { connectTestRedis, deletePrefix, testPrefix } from '@cronbundle/testing';
import { AuditLog, stripSecrets } from './audit-log';

describe('AuditLog against a real redis-server', () => {
  const redis = connectTestRedis();
  const keys = new RedisKeys(testPrefix());
  const log = new AuditLog(redis, keys, 1000);

  afterAll(async () => {
    await deletePrefix(redis, keys.prefix);
    redis.disconnect();
  });

  it('appends entries and pages them newest first without gaps or repeats', async () => {
    for (let i = 0; i < 25; i++)
      await log.append({ actor: 'alice', action: 'job.update', target: `job/j${i}`, before: null, after: { i } });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await log.list({ limit: 10, cursor });
      seen.push(...page.items.map((e) => e.target));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `job/j${24 - i}`));
  });

  it('never stores a secret value', async () => {
    await log.append({
      actor: 'bob',
      action: 'job.create',
      target: 'job/x',
      before: null,
      after: {
        upload: { url: 's3://u:hunter2@bucket/p', credentialsRef: 'env:BUNDLES', options: { password: 'hunter2' } },
        headers: { Authorization: 'Bearer hunter2' },
      },
    });
    const raw = JSON.stringify(await redis.xrange(keys.audit, '-', '+'));
    expect(raw).not.toContain('hunter2');
    expect(raw).toContain('env:BUNDLES');
  });

  it('stripSecrets keeps structure and non-secret values', () => {
    expect(stripSecrets({ a: 1, token: 'x', nested: [{ secretAccessKey: 'y', b: 'z' }] })).toEqual({
      a: 1,
      token: '[redacted]',
      nested: [{ secretAccessKey: '[redacted]', b: 'z' }],
    });
  });
});

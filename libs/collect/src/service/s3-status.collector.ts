import * as http from 'node:http';
import * as https from 'node:https';
import { isIP } from 'node:net';
// Types only: the SDK loads on first use (docs/BENCHMARKS.md, memory).
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { defineCollector } from '../framework/collector.types';
import { AddressGuard } from '../framework/net-guard';
import type { ClusterCollectorSpec } from '../spec/collector-schemas';
import { CONNECT_TIMEOUT_MS, errorMessage } from './database-common';

export type S3StatusSpec = ClusterCollectorSpec<'s3Status'>;

/**
 * What cronbundle writes for `s3Status` (TROUBLESHOOT-COMPAT.md lists no file for it):
 * `s3Status/<collectorName|s3Status>.json`. `isConnected`: the endpoint answered over HTTP at all;
 * `exists`: HeadBucket succeeded (the bucket exists and these credentials may read it).
 */
export interface S3StatusResult {
  bucketName: string;
  exists: boolean;
  isConnected: boolean;
  error?: string;
}

export const s3StatusCollector = defineCollector<S3StatusSpec>({
  type: 's3Status',
  scope: 'cluster',
  defaultTitle: 's3Status',
  async collect(ctx) {
    const bucketName = ctx.spec.bucketName;
    if (!bucketName) throw new Error('s3Status needs bucketName');
    const result = await probeS3Bucket(ctx.spec, {
      timeoutMs: ctx.limits.timeoutMs,
      signal: ctx.signal,
      guard: new AddressGuard(ctx.policy.httpAllow),
    });
    // The bucket name as written (a `${env:}` reference stays a reference), messages scrubbed.
    result.bucketName = ctx.rawSpec.bucketName ?? bucketName;
    if (result.error !== undefined) result.error = ctx.scrub(result.error);
    await ctx.output.addJson(`s3Status/${ctx.rawSpec.collectorName || 's3Status'}.json`, result);
  },
});

/** Client settings from troubleshoot's fields; no credentials in the spec → unsigned (anonymous) requests. */
export function s3ClientConfig(spec: S3StatusSpec, timeoutMs: number, guard: AddressGuard): S3ClientConfig {
  const lookup = guard.lookup as unknown as http.AgentOptions['lookup'];
  const config: S3ClientConfig = {
    region: spec.region || 'us-east-1',
    forcePathStyle: spec.usePathStyle === true,
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: Math.min(timeoutMs, CONNECT_TIMEOUT_MS),
      requestTimeout: timeoutMs,
      httpAgent: new http.Agent({ lookup }),
      httpsAgent: new https.Agent({ lookup, rejectUnauthorized: spec.insecure !== true }),
    },
  };
  if (spec.endpoint) config.endpoint = spec.endpoint;
  if (spec.accessKeyID || spec.secretAccessKey) {
    config.credentials = { accessKeyId: spec.accessKeyID ?? '', secretAccessKey: spec.secretAccessKey ?? '' };
  } else {
    // Never fall back to the worker's own AWS credentials (or its instance metadata endpoint).
    config.credentials = { accessKeyId: '', secretAccessKey: '' };
    config.signer = { sign: async (request) => request };
  }
  return config;
}

export async function probeS3Bucket(
  spec: S3StatusSpec,
  options: { timeoutMs: number; signal: AbortSignal; guard: AddressGuard },
): Promise<S3StatusResult> {
  const bucketName = spec.bucketName ?? '';
  const result = (exists: boolean, isConnected: boolean, error?: string): S3StatusResult => ({
    bucketName,
    exists,
    isConnected,
    ...(error !== undefined ? { error } : {}),
  });
  let client: S3Client;
  try {
    if (spec.endpoint) {
      const url = new URL(spec.endpoint);
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw new Error(`endpoint must be an http:// or https:// URL`);
      // http(s) skips `lookup` for IP literals, so those are checked here.
      const host = url.hostname.replace(/^\[|\]$/g, '');
      if (isIP(host)) {
        const refusal = options.guard.refusal(host, host);
        if (refusal) return result(false, false, refusal);
      }
    }
    const { S3Client } = await import('@aws-sdk/client-s3');
    client = new S3Client(s3ClientConfig(spec, options.timeoutMs, options.guard));
  } catch (err) {
    return result(false, false, errorMessage(err));
  }
  try {
    const { HeadBucketCommand } = await import('@aws-sdk/client-s3');
    await client.send(new HeadBucketCommand({ Bucket: bucketName }), { abortSignal: options.signal });
    return result(true, true);
  } catch (err) {
    if (options.signal.aborted) throw err;
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    // A status means the endpoint answered: the bucket is missing or not ours to read.
    if (typeof status === 'number' && status > 0) return result(false, true, httpError(status, err));
    return result(false, false, errorMessage(err));
  } finally {
    client.destroy();
  }
}

function httpError(status: number, err: unknown): string {
  // HeadBucket answers have no body, so the SDK's message is often just the status name.
  if (status === 404) return `bucket not found (HTTP 404)`;
  if (status === 403) return `access denied (HTTP 403)`;
  if (status === 301) return `bucket is in another region (HTTP 301)`;
  const name = err instanceof Error ? err.name : 'error';
  return `${name} (HTTP ${status})`;
}

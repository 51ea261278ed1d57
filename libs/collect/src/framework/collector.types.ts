import type { Readable } from 'node:stream';
import type { ReferenceResolver } from './references';

export type CollectorScope = 'host' | 'cluster';

/** Where the collectors' files go: the BundleWriter, or anything with the same two methods. */
export interface BundleSink {
  addFile(path: string, content: Buffer | string): Promise<{ written: boolean; truncated: boolean; bytes: number }>;
  addStream(
    path: string,
    source: Readable,
    size?: number,
    options?: { omitIfEmpty?: boolean },
  ): Promise<{ written: boolean; truncated: boolean; bytes: number }>;
  /** A relative symlink (the BundleWriter has it; a sink without it gets no links). */
  addSymlink?(path: string, target: string): Promise<{ written: boolean; truncated: boolean; bytes: number }>;
}

/** A collector's view of the bundle: paths are troubleshoot paths relative to the bundle root. */
export interface CollectorOutput {
  addFile(path: string, content: Buffer | string): Promise<void>;
  addJson(path: string, value: unknown): Promise<void>;
  /** Unknown `size` is spooled by the bundle; `omitIfEmpty` writes nothing for an empty stream. */
  addStream(path: string, source: Readable, size?: number, options?: { omitIfEmpty?: boolean }): Promise<void>;
  /** A relative symlink to `target` (troubleshoot's logs layout); false when the sink cannot hold links. */
  addSymlink(path: string, target: string): Promise<boolean>;
  /** Bytes this collector has written so far. */
  readonly bytes: number;
}

export interface CollectorLimits {
  timeoutMs: number;
  /** Cap on the bytes one collector may put in the bundle; past it files are cut or dropped. */
  maxOutputBytes: number;
}

/** Filesystem roots the host collectors read; tests point them at fixtures. */
export interface HostPaths {
  proc: string;
  sys: string;
  etc: string;
  run: string;
  /** Kernel modules tree (`/lib/modules`). */
  modules: string;
}

export interface CollectPolicy {
  /** `run` collectors execute only when true. */
  allowRun: boolean;
  /** Roots `copy` may read below (after resolving symlinks); empty refuses every copy. */
  allowedPaths: string[];
  /** CIDRs, IPs or host names `http` may reach even when they are link-local/metadata addresses. */
  httpAllow: string[];
  /** Parent environment for `run` (filtered); nothing else reads it. */
  env: Record<string, string | undefined>;
  host: HostPaths;
}

export interface CollectorLogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  collector: string;
  name: string;
}

export interface CollectorContext<B = Record<string, unknown>> {
  type: string;
  scope: CollectorScope;
  /** Title: collectorName or the type's default; names output files and error files. */
  title: string;
  /** The body with `${env:…}`/`${file:…}` references resolved: use for doing the work. */
  spec: B;
  /** The body as written in the spec: use for anything that lands in the bundle. */
  rawSpec: B;
  signal: AbortSignal;
  output: CollectorOutput;
  limits: CollectorLimits;
  policy: CollectPolicy;
  /** Replace resolved secret values in a text with their reference (for messages written out). */
  scrub(text: string): string;
  log(level: CollectorLogEntry['level'], message: string): void;
}

export interface Collector<B = Record<string, unknown>> {
  type: string;
  scope: CollectorScope;
  /** troubleshoot's default title when the entry has no collectorName. */
  defaultTitle: string;
  collect(ctx: CollectorContext<B>): Promise<void>;
}

/** Registry-friendly erasure of a collector's body type. */
export function defineCollector<B>(collector: Collector<B>): Collector {
  // The parser validated the body against this type's schema before the collector sees it.
  return collector as unknown as Collector;
}

export type { ReferenceResolver };

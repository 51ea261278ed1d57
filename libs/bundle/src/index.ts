export { BundleWriter } from './bundle-writer';
export type { AddResult, AddStreamOptions, BundleSummary, BundleWriterOptions } from './bundle-writer';
export { BundleError, bundleFolderName, normalizeEntryPath } from './bundle-name';
export { readBundleEntries } from './bundle-reader';
export type { BundleEntry } from './bundle-reader';

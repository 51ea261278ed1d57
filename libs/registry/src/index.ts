export { JobRegistry } from './job-registry';
export type {
  JobPage,
  JobRegistryOptions,
  ListJobsQuery,
  RebuildDependantsResult,
  RegistryEvent,
  RegistryEventType,
  RegistrySubscription,
  SyncResult,
} from './job-registry';
export { JobsDirectorySource } from './jobs-directory.source';
export type {
  DirectoryLoad,
  DirectorySyncReport,
  JobFileError,
  JobsDirectorySourceOptions,
} from './jobs-directory.source';
export { JOB_REGISTRY_OPTIONS, RegistryModule } from './registry.module';
export type { RegistryModuleOptions } from './registry.module';

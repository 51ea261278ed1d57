/** Where one bundle goes: the destination URL of the job (`upload.url`) plus the object's name. */
export interface UploadRequest {
  /** Local file holding the finished `.tar.gz`. */
  file: string;
  /** Destination prefix, e.g. `file:///var/bundles/`, `s3://bucket/prefix/`. */
  destination: string;
  /** Path below the destination, `/`-separated, e.g. `daily-check/daily-check-...tar.gz`. */
  objectName: string;
  sizeBytes?: number;
  sha256?: string;
  signal?: AbortSignal;
}

export interface UploadResult {
  /** Full URL of the stored object. */
  url: string;
}

/** One destination scheme (file, s3, http). Implementations must leave no partial object behind. */
export interface Uploader {
  readonly schemes: readonly string[];
  upload(request: UploadRequest): Promise<UploadResult>;
}

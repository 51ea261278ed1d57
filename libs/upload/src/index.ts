export type { Uploader, UploadRequest, UploadResult } from './uploader.types';
export { FileUploader } from './file.uploader';
export { Uploaders } from './uploaders';
export { bundleFileName, bundleObjectName, slotStamp } from './object-name';

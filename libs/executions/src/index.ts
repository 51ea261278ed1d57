export { AuditLog, stripSecrets } from './audit-log';
export type { AuditEntry, AuditInput } from './audit-log';

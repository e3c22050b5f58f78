export { AuditLog, argDigest, eventColumns, type AuditInput, type AuditEvent } from './writer.js';
export type { AuditDetail } from '../db/schema/shapes.js';

export { AuditLog, argDigest, type AuditInput, type AuditEvent } from './writer.js';

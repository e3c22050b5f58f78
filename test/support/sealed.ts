import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { App } from '../../src/app.js';
import { secrets } from '../../src/db/schema/index.js';

/**
 * The org secret `name` of `orgId` reads back as `value` through the product, while neither its row
 * nor the SQLite file (WAL checkpointed) holds the value in clear.
 */
export function expectOrgSecretSealed(app: App, orgId: string, name: string, value: string): void {
  expect(app.policy.secrets.get(orgId, 'org', orgId, name)?.reveal()).toBe(value);
  const row = app.db
    .select()
    .from(secrets)
    .all()
    .find((s) => s.name === name)!;
  expect(JSON.stringify(row)).not.toContain(value);
  app.db.$client.pragma('wal_checkpoint(TRUNCATE)');
  expect(readFileSync(app.config.databasePath).includes(Buffer.from(value))).toBe(false);
}

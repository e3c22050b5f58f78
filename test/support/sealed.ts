import { sql } from 'drizzle-orm';
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { App } from '../../src/app.js';

/**
 * The org secret `name` of `orgId` reads back as `value` through the product, while neither its row
 * nor the SQLite file (WAL checkpointed) holds the value in clear.
 */
export async function expectOrgSecretSealed(app: App, orgId: string, name: string, value: string): Promise<void> {
  expect((await app.policy.secrets.get(orgId, 'org', orgId, name))?.reveal()).toBe(value);
  const row = (await app.store.rows(app.store.db.select().from(app.store.t.secrets))).find((s) => s.name === name)!;
  expect(JSON.stringify(row)).not.toContain(value);
  await app.store.execute(sql`pragma wal_checkpoint(TRUNCATE)`);
  expect(readFileSync(app.config.databasePath).includes(Buffer.from(value))).toBe(false);
}

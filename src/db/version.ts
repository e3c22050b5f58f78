// The schema version: how many of its dialect's migrations the database was brought to, recorded in
// `schema_version` after every migration run. Code that knows fewer migrations than the database
// has refuses to start: it would read and write a shape it does not know (the migrator alone would
// silently skip the unknown ones).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CodedError } from '../errors.js';

/** The database was migrated by a newer onbehalf than this one. */
export class SchemaTooNewError extends CodedError {
  readonly code = 'schema_too_new';
}

/** The version of this onbehalf, from its package.json. */
export const appVersion: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** The schema version this code knows for a migrations folder: the number of migrations in its journal. */
export function knownSchemaVersion(migrationsFolder: string): number {
  const journal = JSON.parse(readFileSync(path.join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as {
    entries: unknown[];
  };
  return journal.entries.length;
}

/** What `schema_version` holds. */
export interface RecordedVersion {
  version: number;
  appVersion: string;
}

/** The key of the one row of `schema_version`. */
export const SCHEMA_VERSION_ROW = 'current';

/** Throws SchemaTooNewError when the database is at a schema version this code does not know. */
export function refuseNewerSchema(found: RecordedVersion | undefined, known: number): void {
  if (!found || found.version <= known) return;
  throw new SchemaTooNewError(
    `the database was migrated by a newer onbehalf (${found.appVersion}, schema version ${found.version}; ` +
      `this is ${appVersion}, which knows schema version ${known}); run that version or restore a backup`,
  );
}

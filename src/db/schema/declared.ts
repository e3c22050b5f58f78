// Objects a config file (ONBEHALF_CONFIG) declares: which file owns each, so chat leaves them alone
// and an object the file no longer declares is removed at the next apply.
import { sql } from 'drizzle-orm';
import { sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt, id } from './columns.js';
import { orgId } from './identity.js';

/** One object a config file owns. */
export const declaredObjects = sqliteTable(
  'declared_objects',
  {
    id: id(),
    orgId: orgId(),
    /** `admin`, `team`, `provider`, `server`, `rule` or `approval`. */
    kind: text('kind', { enum: ['admin', 'team', 'provider', 'server', 'rule', 'approval'] }).notNull(),
    /** The object's name in the file: a slug, server or team name, `server tools` of an approval, `#n` of a rule. */
    key: text('key').notNull(),
    /** The row it stands for where the key names none (an access rule's id). */
    objectId: text('object_id'),
    /** The file that declared it, as the operator named it. */
    file: text('file').notNull(),
    /** What the file said that the object does not keep (a provider's declaration, its secret's `env:`/`file:` reference). */
    detail: text('detail', { mode: 'json' })
      .$type<{ secretRef?: string; spec?: unknown }>()
      .notNull()
      .default(sql`'{}'`),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('declared_objects_org_kind_key').on(t.orgId, t.kind, t.key)],
);

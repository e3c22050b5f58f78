import { and, count, desc, eq, getTableColumns, inArray, lt, sql, type Column, type SQL } from 'drizzle-orm';
import { encoded, prepared, preparedSql, preparedWrite, slot, type Builder } from '../db/index.js';
import { eventColumns } from '../audit/index.js';
import type { toolCalls } from '../db/schema/index.js';
import type { Delivery, StoredOutcome } from '../db/schema/shapes.js';

// The statements every call runs (db/prepared.ts), for CallStore (calls.ts).

export type CallStatus = (typeof toolCalls.$inferSelect)['status'];

export type TransitionPatch = {
  outcome?: StoredOutcome;
  parkedProviderId?: string | null;
  attempts?: number;
  /** The whole delivery record (a call's end sets its `posting` marker with it: Reporter.finish). */
  delivery?: Delivery;
};
export type CallInsert = Omit<typeof toolCalls.$inferInsert, 'updatedAt' | 'status'>;
export type CallColumns = typeof toolCalls.$inferInsert;

export const byId = prepared('calls.byId', ({ db, t }) =>
  db
    .select()
    .from(t.toolCalls)
    .where(eq(t.toolCalls.id, sql.placeholder('id'))),
);
/** The row and, in the same statement, the configuration's version (db/config-cache.ts): how a worker begins a call. */
export const byIdWithConfig = prepared('calls.byIdWithConfig', ({ db, t }) =>
  db
    .select({
      ...getTableColumns(t.toolCalls),
      // Postgres answers a bigint as a string.
      configSeen: sql<
        number | string | null
      >`(select ${t.configVersion.v} from ${t.configVersion} where ${t.configVersion.id} = 'current')`,
    })
    .from(t.toolCalls)
    .where(eq(t.toolCalls.id, sql.placeholder('id'))),
);
export const deliveryOf = prepared('calls.delivery', ({ db, t }) =>
  db
    .select({ delivery: t.toolCalls.delivery })
    .from(t.toolCalls)
    .where(eq(t.toolCalls.id, sql.placeholder('id'))),
);
export const setOutcomeOf = preparedWrite('calls.setOutcome', ({ db, t }) =>
  db
    .update(t.toolCalls)
    .set({ outcome: slot<StoredOutcome>('outcome'), updatedAt: slot<number>('now') })
    .where(eq(t.toolCalls.id, sql.placeholder('id'))),
);
export const setDeliveryOf = preparedWrite('calls.setDelivery', ({ db, t }) =>
  db
    .update(t.toolCalls)
    .set({ delivery: slot<Delivery>('delivery'), updatedAt: slot<number>('now') })
    .where(eq(t.toolCalls.id, sql.placeholder('id'))),
);
/** `select onbehalf_insert_call(…)` with the server id `serverId` (a value or a column), then `tail`. */
const insertCallSql = (serverId: SQL, tail: SQL = sql``) =>
  sql`select onbehalf_insert_call(${sql.placeholder('lock')}, ${sql.placeholder('max')}::bigint, ${sql.placeholder('id')},
      ${sql.placeholder('orgId')}, ${sql.placeholder('userId')}, ${serverId}, ${sql.placeholder('tool')},
      ${sql.placeholder('args')}::jsonb, ${sql.placeholder('replyTarget')}::jsonb, ${sql.placeholder('requestId')},
      ${sql.placeholder('turnId')}, ${sql.placeholder('now')}::bigint) as result ${tail}`;
/** Postgres: `onbehalf_insert_call` (drizzle/postgres/0005), the user's lock, count and insert in one statement. */
export const insertCallOnServer = preparedSql<{ result: 'inserted' | 'duplicate' | 'full' }>(
  'calls.insertOnServer',
  () => insertCallSql(sql`${sql.placeholder('serverId')}`),
);
/**
 * Postgres: the same for the org's server named `server`, looked up in the statement: no row when the
 * org has none by that name (its unique index on org and name: at most one row, so one insert).
 */
export const insertNamedCallOnServer = preparedSql<{ result: 'inserted' | 'duplicate' | 'full' }>(
  'calls.insertNamedOnServer',
  ({ t }) =>
    insertCallSql(
      sql`${t.mcpServers.id}`,
      sql`from ${t.mcpServers} where ${t.mcpServers.orgId} = ${sql.placeholder('orgId')} and ${t.mcpServers.name} = ${sql.placeholder('server')}`,
    ),
);
/** Statuses after which a call never runs again. */
export const terminal: CallStatus[] = ['succeeded', 'failed', 'denied', 'cancelled', 'interrupted'];

/**
 * Statuses a call counts against its user's queued-calls cap in (accepted, not finished, not parked).
 * Also written out in the index tool_calls_pending and in Postgres's onbehalf_insert_call (a test holds them together).
 */
export const pending: CallStatus[] = ['queued', 'running', 'awaiting_approval'];

/** The lock key that serialises one user's count-then-write (enqueue's cap, parking's). */
export const userLock = (row: { orgId: string; userId: string }) => `calls:${row.orgId}:${row.userId}`;

/** The values `onbehalf_insert_call` takes for `row` (insertCallOnServer, insertNamedCallOnServer). */
export const onServerValues = (row: Omit<CallInsert, 'serverId'>, max: number) => ({
  ...row,
  lock: userLock(row),
  max,
  turnId: row.turnId ?? null,
  now: Date.now(),
  args: JSON.stringify(row.args),
  replyTarget: JSON.stringify(row.replyTarget),
});

/** The columns an enqueued call is inserted with (any other shape is built per call). */
export const insertKeys = [
  'id',
  'orgId',
  'userId',
  'serverId',
  'tool',
  'args',
  'replyTarget',
  'requestId',
  'turnId',
] as const;
export const insertCall = preparedWrite('calls.insert', ({ db, t }) =>
  db
    .insert(t.toolCalls)
    .values({
      ...(Object.fromEntries(insertKeys.map((k) => [k, slot(k)])) as Omit<CallColumns, 'status' | 'updatedAt'>),
      status: 'queued',
      updatedAt: slot<number>('now'),
    })
    .onConflictDoNothing(),
);
export const isEnqueueShape = (row: CallInsert) =>
  Object.keys(row).length === insertKeys.length && insertKeys.every((k) => k in row);
/** Whether a row sets no column but enqueue's (any of them may be left out). */
export const hasOnlyEnqueueKeys = (row: CallInsert) =>
  Object.keys(row).every((k) => (insertKeys as readonly string[]).includes(k));

/** The count of one user's calls in one of `statuses`. */
export function countIn(statuses: CallStatus[]) {
  return prepared(`calls.count:${statuses.join(',')}`, ({ db, t }) =>
    db
      .select({ n: count() })
      .from(t.toolCalls)
      .where(
        and(
          eq(t.toolCalls.orgId, sql.placeholder('orgId')),
          eq(t.toolCalls.userId, sql.placeholder('userId')),
          inArray(t.toolCalls.status, statuses),
        ),
      ),
  );
}

/** Where a user's latest call was asked for. */
export const lastTargetOf = prepared('calls.lastTarget', ({ db, t }) =>
  db
    .select({ replyTarget: t.toolCalls.replyTarget })
    .from(t.toolCalls)
    .where(and(eq(t.toolCalls.orgId, sql.placeholder('orgId')), eq(t.toolCalls.userId, sql.placeholder('userId'))))
    .orderBy(desc(t.toolCalls.createdAt))
    .limit(1),
);

/** A user's calls parked for one provider. */
export const parkedForOf = prepared('calls.parkedFor', ({ db, t }) =>
  db
    .select()
    .from(t.toolCalls)
    .where(
      and(
        eq(t.toolCalls.orgId, sql.placeholder('orgId')),
        eq(t.toolCalls.userId, sql.placeholder('userId')),
        eq(t.toolCalls.status, 'parked'),
        eq(t.toolCalls.parkedProviderId, sql.placeholder('providerId')),
      ),
    ),
);

/** Calls in `status` last touched before the placeholder `before` (the sweeps of parked and held calls). */
const untouchedIn = (status: CallStatus) =>
  prepared(`calls.untouched:${status}`, ({ db, t }) =>
    db
      .select()
      .from(t.toolCalls)
      .where(and(eq(t.toolCalls.status, status), lt(t.toolCalls.updatedAt, sql.placeholder('before')))),
  );
export const parkedUntouched = untouchedIn('parked');
export const heldUntouched = untouchedIn('awaiting_approval');

/** A transition's values, the columns it sets, and the key of its statement's shape. */
export function transitionShape(id: string, from: CallStatus[], to: CallStatus, patch: TransitionPatch) {
  const values: Record<string, unknown> = { id, now: Date.now() };
  if (patch.outcome !== undefined) values['outcome'] = patch.outcome;
  if (patch.attempts !== undefined) values['attempts'] = patch.attempts;
  if ('parkedProviderId' in patch) values['parkedProviderId'] = patch.parkedProviderId ?? null;
  if (patch.delivery !== undefined) values['delivery'] = patch.delivery;
  const columns = Object.keys(values).filter((k) => k !== 'id' && k !== 'now') as (keyof TransitionPatch)[];
  return { key: `${from.join(',')}>${to}:${columns.join(',')}`, values, columns };
}

/** The conditional update of one transition shape: to `to`, only from one of `from`, setting `columns`. */
export function moveStatement(key: string, from: CallStatus[], to: CallStatus, columns: (keyof TransitionPatch)[]) {
  return preparedWrite(`calls.move:${key}`, (q) => moveOf(q, from, to, columns));
}

/** The same, answering the row's delivery record when it moved (no row: it did not). */
export function moveReturningDelivery(
  key: string,
  from: CallStatus[],
  to: CallStatus,
  columns: (keyof TransitionPatch)[],
) {
  return prepared(`calls.move+delivery:${key}`, (q) =>
    moveOf(q, from, to, columns).returning({ delivery: q.t.toolCalls.delivery }),
  );
}

function moveOf({ db, t }: Builder, from: CallStatus[], to: CallStatus, columns: (keyof TransitionPatch)[]) {
  const set: Partial<CallColumns> = { status: to, updatedAt: slot<number>('now') };
  for (const c of columns) (set as Record<string, unknown>)[c] = slot(c);
  return db
    .update(t.toolCalls)
    .set(set)
    .where(and(eq(t.toolCalls.id, sql.placeholder('id')), inArray(t.toolCalls.status, from)));
}

/**
 * Postgres: a transition and its audit event (every column of `eventColumns`) as one statement
 * (CallStore.endAudited), prepared once per transition shape (`key`, from transitionShape). The update answers the
 * row's delivery record; the event is inserted from that answer, so it is stored exactly when the
 * call moved, in the same implicit transaction. Its values: `endAuditedValues`.
 */
export function endAuditedStatement(
  key: string,
  from: CallStatus[],
  to: CallStatus,
  columns: readonly (keyof TransitionPatch)[],
) {
  return preparedSql<{ delivery: unknown }>(`calls.endAudited:${key}`, ({ t }) => {
    const c = t.toolCalls as unknown as Record<string, Column>;
    const a = t.auditEvents as unknown as Record<string, Column>;
    const assignments = sql.join(
      [
        sql`${sql.identifier(c['status']!.name)} = ${to}`,
        ...['updatedAt', ...columns].map((k) => sql`${sql.identifier(c[k]!.name)} = ${encoded(`s_${k}`, c[k]!)}`),
      ],
      sql`, `,
    );
    return sql`with moved as (
      update ${t.toolCalls} set ${assignments}
      where ${t.toolCalls.id} = ${sql.placeholder('id')} and ${t.toolCalls.status} in (${sql.join(
        from.map((s) => sql`${s}`),
        sql`, `,
      )})
      returning ${t.toolCalls.delivery}),
    event as (
      insert into ${t.auditEvents} (${sql.join(
        eventColumns.map((k) => sql.identifier(a[k]!.name)),
        sql`, `,
      )})
      select ${sql.join(
        eventColumns.map((k) => encoded(`e_${k}`, a[k]!)),
        sql`, `,
      )} from moved)
    select delivery from moved`;
  });
}

/** The values of an `endAuditedStatement`: the transition's (transitionShape) and the event's (AuditLog.row). */
export function endAuditedValues(shape: ReturnType<typeof transitionShape>, event: Record<string, unknown>) {
  const v: Record<string, unknown> = { id: shape.values['id'], s_updatedAt: shape.values['now'] };
  for (const k of shape.columns) v[`s_${k}`] = shape.values[k];
  for (const [k, x] of Object.entries(event)) v[`e_${k}`] = x;
  return v;
}

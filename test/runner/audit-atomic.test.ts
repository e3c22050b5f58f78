// A call's end and its audit event are stored as one: an auditor never finds a call that ended
// (and was answered in chat) with no event naming its caller. The audit store is made to refuse
// the event of a call's success (a trigger, on either database) to stand for a crash between them.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../src/crypto/index.js';
import { startMcpHttpServer, type TestMcpHttpServer } from '../support/mcp-servers/index.js';
import { queuesIdle } from '../support/queues.js';
import { startTestRedis } from '../support/redis.js';
import { startHarness, type Harness } from './harness.js';

const REFUSE = {
  sqlite: [
    `create trigger audit_down before insert on audit_events when new.tool = 'whoami' and new.outcome = 'ok'
     begin select raise(abort, 'audit store down'); end`,
  ],
  postgres: [
    `create function audit_down() returns trigger language plpgsql as $$ begin
       if new.tool = 'whoami' and new.outcome = 'ok' then raise exception 'audit store down'; end if;
       return new; end $$`,
    `create trigger audit_down before insert on audit_events for each row execute function audit_down()`,
  ],
};
const RESTORE = { sqlite: ['drop trigger audit_down'], postgres: ['drop trigger audit_down on audit_events'] };

describe('a call whose audit event cannot be stored', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let http: TestMcpHttpServer;
  let h: Harness;
  const run = async (statements: string[]) => {
    for (const s of statements) await h.app.store.execute(sql.raw(s));
  };
  const eventsOf = async (callId: string) =>
    (await h.audit.query(h.org.id, { userId: (await h.user('alice')).id })).filter(
      (e) => e.category === 'tool_call' && e.detail?.['callId'] === callId,
    );

  beforeAll(async () => {
    redis = await startTestRedis();
    http = await startMcpHttpServer();
    h = await startHarness(redis.url, { tuning: { attempts: 2, backoffMs: 50 } });
    await h.policy.addServer(h.org.id, { name: 'web', transport: 'http', url: http.url, timeoutMs: 5000 });
    await h.policy.bind(h.org.id, 'web', 'header', 'Authorization', 'user_secret:token', 'Bearer {token}');
    await h.policy.setSecret(h.org.id, 'user', (await h.user('alice')).id, 'token', new Secret('alice-token'));
  });

  afterAll(async () => {
    await h?.stop();
    await http?.stop();
    await redis?.stop();
  });

  it('is not recorded as a success the audit log does not name; once the audit store takes events, calls end audited', async () => {
    const dialect = h.app.store.dialect;
    await run(REFUSE[dialect]);
    const id = await h.call('alice', 'web', 'whoami');
    await queuesIdle(redis.url, 20_000);
    const row = await h.app.runner.executor.calls.get(id);
    // The success and its event went together, or neither did: with no attempt left the call is
    // recorded failed, and that is what the audit log says of it.
    expect(row?.status).toBe('failed');
    expect((await eventsOf(id)).map((e) => e.outcome)).toEqual(['error']);
    expect(http.calls.filter((c) => c.tool === 'whoami').length).toBeGreaterThanOrEqual(1);

    await run(RESTORE[dialect]);
    const next = await h.call('alice', 'web', 'whoami');
    await queuesIdle(redis.url, 20_000);
    expect((await h.app.runner.executor.calls.get(next))?.status).toBe('succeeded');
    expect((await eventsOf(next)).map((e) => [e.outcome, e.onBehalfOfUserId])).toEqual([
      ['ok', (await h.user('alice')).id],
    ]);
  });
});

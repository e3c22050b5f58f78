import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { and, eq } from 'drizzle-orm';
import { world } from '../support/world.js';

/** One line, no stack trace: what every refusal must look like. */
function oneLine(out: string) {
  const lines = out.split('\n').filter(Boolean);
  expect(lines, out).toHaveLength(1);
  expect(out).not.toMatch(/\n\s+at |Error:|undefined/);
  return lines[0]!;
}

/** The shared world (shell users, MCP servers `open` and `tools`, provider `gh`) plus a view of BullMQ's tool queue. */
async function capsWorld(env: Record<string, string>, startWorkers: boolean) {
  const w = await world({
    provider: 'gh',
    client: { id: 'cid', secret: 'caps-client-secret' },
    servers: [{ name: 'open' }, { name: 'tools', grant: true }],
    env,
    app: { runner: { startWorkers } },
  });
  const { t } = w;
  const queueRedis = new Redis(w.redis!.url, { maxRetriesPerRequest: null });
  const queue = new Queue('tool', { connection: queueRedis, prefix: 'onbehalf' });
  return {
    t,
    mcp: w.mcp,
    as: w.as,
    /** Every tool job BullMQ holds, in any state. */
    async jobs() {
      const c = await queue.getJobCounts(
        'waiting',
        'active',
        'delayed',
        'completed',
        'failed',
        'prioritized',
        'waiting-children',
      );
      return Object.values(c).reduce((a, b) => a + b, 0);
    },
    async calls(user: string, status?: 'parked' | 'failed' | 'queued') {
      const u = await w.user(user);
      const { store } = t.app;
      const { toolCalls } = store.t;
      return store.rows(
        store.db
          .select()
          .from(toolCalls)
          .where(status ? and(eq(toolCalls.userId, u.id), eq(toolCalls.status, status)) : eq(toolCalls.userId, u.id)),
      );
    },
    async stop() {
      await queue.close();
      queueRedis.disconnect();
      await w.stop();
    },
  };
}

describe('per-user cap on queued calls', () => {
  let w: Awaited<ReturnType<typeof capsWorld>>;
  // No workers: accepted calls stay queued, as behind a busy or stalled worker.
  beforeAll(async () => {
    w = await capsWorld({ ONBEHALF_MAX_QUEUED_PER_USER: '3' }, false);
  });
  afterAll(async () => w?.stop());

  it('the 4th call of a user with 3 queued is refused in one line and nothing is queued; another user is unaffected', async () => {
    const sam = w.as('sam');
    for (let i = 0; i < 3; i++)
      expect(await sam.send(`/onbehalf run open.echo {"text":"call ${i}"}`)).toMatch(/Running `open\.echo` as you/);
    expect(await w.jobs()).toBe(3);
    const refused = oneLine(await sam.send('/onbehalf run open.echo {"text":"one too many"}'));
    expect(refused).toMatch(
      /`open\.echo` was not run: you already have 3 calls waiting to run; wait for them to finish, then try again\./,
    );
    expect(await w.jobs()).toBe(3);
    expect(await w.calls('sam')).toHaveLength(3);
    expect((await w.calls('sam')).map((c) => c.args['text'])).not.toContain('one too many');
    // The cap is per user.
    expect(await w.as('tess').send('/onbehalf run open.echo {"text":"mine"}')).toMatch(/Running `open\.echo` as you/);
    expect(await w.jobs()).toBe(4);
  });
});

describe('per-user cap on parked calls', () => {
  let w: Awaited<ReturnType<typeof capsWorld>>;
  beforeAll(async () => {
    w = await capsWorld({ ONBEHALF_MAX_PARKED_PER_USER: '2' }, true);
  });
  afterAll(async () => w?.stop());

  it('a 3rd call that must wait for a grant, with 2 already waiting, fails with one line telling the user to connect first; nothing more is parked', async () => {
    const pat = w.as('pat');
    for (let i = 0; i < 2; i++) {
      const from = pat.output.length;
      await pat.send('/onbehalf run tools.whoami {}');
      await pat.waitFor(/→ Connect gh: \S+/, from);
    }
    expect(await w.calls('pat', 'parked')).toHaveLength(2);
    const from = pat.output.length;
    await pat.send('/onbehalf run tools.whoami {}');
    const line = (await pat.waitFor(/.*`tools\.whoami` failed: .*/, from))[0];
    oneLine(line);
    expect(line).toMatch(
      /you already have 2 calls waiting for an account to be connected; connect gh \(`\/onbehalf connect gh`\) or let the waiting calls finish, then run it again/,
    );
    expect(pat.output.slice(from)).not.toMatch(/→ Connect gh/);
    expect(await w.calls('pat', 'parked')).toHaveLength(2);
    expect(await w.calls('pat', 'failed')).toHaveLength(1);
    expect(w.mcp.calls.filter((c) => c.tool === 'whoami')).toHaveLength(0);
    // The cap is per user: another user's call still parks and prompts.
    const quinn = w.as('quinn');
    const q = quinn.output.length;
    await quinn.send('/onbehalf run tools.whoami {}');
    await quinn.waitFor(/→ Connect gh: \S+/, q);
    expect(await w.calls('quinn', 'parked')).toHaveLength(1);
  });
});

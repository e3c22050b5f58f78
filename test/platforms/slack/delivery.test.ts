import { sql } from 'drizzle-orm';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TestApp } from '../../support/app.js';
import type { TestMcpHttpServer } from '../../support/mcp-servers/index.js';
import { startSlackApi, type SlackApi } from '../../support/slack-api.js';
import { SlackSigner } from '../../support/slack-signing.js';
import { world, type World } from '../../support/world.js';

const SIGNING = 'delivery-signing-secret-9f8e7d';
const BOT_TOKEN = 'xoxb-delivery-bot-4a5b6c';
const TEAM = 'TDELIV';
const NOTE =
  /^I could not post in the channel where you asked \((not_in_channel|channel_not_found|is_archived)\), so here it is privately\./;

type Row = { id: string; status: string; request_id: string; outcome: string | null; delivery: string | null };

// Issue 14 part 1, through the real app: signed slash commands into Bolt, the BullMQ runner, a loopback
// MCP server and the fake Slack Web API, which keeps each channel's visible messages and serves response URLs.
describe('Slack: no answer is ever lost', () => {
  let w: World;
  let slack: SlackApi;
  let mcp: TestMcpHttpServer;
  let t: TestApp;
  const signer = new SlackSigner(SIGNING);
  let n = 0;
  const command = async (channelId: string, line: string, responseUrl?: string, userId = 'UALICE') => {
    const res = await signer.post(
      `${t.baseUrl}/slack/events`,
      signer.command({
        teamId: TEAM,
        userId,
        channelId,
        text: line,
        triggerId: `trig-${++n}`,
        ...(responseUrl ? { responseUrl } : {}),
      }),
    );
    expect(res.status, res.text).toBe(200);
    return res.text ? String((JSON.parse(res.text) as { text?: string }).text ?? '') : '';
  };
  const rows = () => t.app.store.execute<Row>(sql`select id, status, request_id, outcome, delivery from tool_calls`);
  const audit = async (callId: string) =>
    (
      await t.app.store.execute<{ action: string; outcome: string; detail: string }>(
        sql`select action, outcome, detail from audit_events`,
      )
    ).filter((e) => e.detail?.includes(callId));
  const lastRow = async () => (await rows()).at(-1)!;

  beforeAll(async () => {
    slack = await startSlackApi();
    // Nothing set up but the peers: the admin adds the server in chat.
    w = await world({
      platform: 'slack',
      workspace: TEAM,
      env: { ...slack.appEnv(SIGNING, BOT_TOKEN), ONBEHALF_ADMINS: `slack:${TEAM}:UADMIN` },
      shell: false,
    });
    ({ t, mcp } = w);
    expect(await command('CADMIN', `admin server add web http ${mcp.url}`, undefined, 'UADMIN')).toContain('web');
  });
  afterAll(async () => {
    await w?.stop();
    await slack?.stop();
  });

  it('in a channel the bot is in, a placeholder is posted before the tool runs and the answer edits it: one visible message', async () => {
    expect(await command('CJOINED', 'run web.echo {"text":"hello joined"}')).toContain('Running `web.echo` as you');
    await vi.waitFor(
      () => expect(slack.visible('CJOINED').map((m) => m.text)).toEqual([expect.stringContaining('hello joined')]),
      { timeout: 20_000, interval: 50 },
    );
    const [placeholder] = slack.callsTo('chat.postMessage').filter((c) => c.body['channel'] === 'CJOINED');
    expect(String(placeholder!.body['text'])).toBe('Running `web.echo`…');
    // The placeholder's ts is stored in the call row, and the edit went to that ts.
    await vi.waitFor(async () => expect(JSON.parse((await lastRow()).outcome!)).toMatchObject({ notified: true }), {
      timeout: 5000,
      interval: 50,
    });
    const row = await lastRow();
    const ts = (JSON.parse(row.delivery!) as { messageId: string }).messageId;
    expect(
      slack
        .callsTo('chat.update')
        .filter((c) => c.body['channel'] === 'CJOINED')
        .map((c) => c.body['ts']),
    ).toEqual([ts]);
  });

  for (const error of ['not_in_channel', 'channel_not_found'] as const) {
    it(`${error}: the person gets the answer through the command's response_url, saying why`, async () => {
      const channel = `C_${error.toUpperCase()}`;
      slack.channelError(channel, error);
      const hook = `hook-${error}`;
      await command(channel, `run web.echo {"text":"answer for ${error}"}`, slack.responseUrl(hook));
      await vi.waitFor(() => expect(slack.responses(hook)).toHaveLength(1), { timeout: 20_000, interval: 50 });
      const posted = slack.responses(hook)[0]!;
      expect(posted).toMatchObject({ response_type: 'ephemeral' });
      expect(String(posted['text'])).toMatch(NOTE);
      expect(String(posted['text'])).toContain(error);
      expect(String(posted['text'])).toContain(`answer for ${error}`);
      expect(slack.visible(channel)).toEqual([]);
      await vi.waitFor(async () => expect(JSON.parse((await lastRow()).outcome!)).toMatchObject({ notified: true }), {
        timeout: 5000,
        interval: 50,
      });
    });
  }

  it('is_archived with a response_url outside Slack: nothing is sent there; the person gets a DM saying why', async () => {
    const elsewhere: string[] = [];
    const attacker: Server = createServer((req, res) => (elsewhere.push(req.url ?? ''), res.end('ok')));
    await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', r));
    try {
      slack.channelError('CARCHIVED', 'is_archived');
      await command(
        'CARCHIVED',
        'run web.echo {"text":"answer for archived"}',
        `http://localhost:${(attacker.address() as AddressInfo).port}/hooks/x`,
      );
      const dm = await slack.waitFor(
        'chat.postMessage',
        (c) => c.body['channel'] === 'DUALICE' && String(c.body['text']).includes('answer for archived'),
        20_000,
      );
      expect(String(dm.body['text'])).toMatch(NOTE);
      expect(String(dm.body['text'])).toContain('is_archived');
      expect(slack.callsTo('conversations.open').at(-1)!.body['users']).toBe('UALICE');
      expect(elsewhere).toEqual([]);
      expect(t.logs.containing(`:${(attacker.address() as AddressInfo).port}/hooks/x`)).toEqual([]);
    } finally {
      await new Promise<void>((r) => attacker.close(() => r()));
    }
  });

  it('when every route fails, the call row and the audit say notify_failed, never a silent ok; logged once at warn', async () => {
    slack.failAll();
    try {
      await command('CFAIL', 'run web.echo {"text":"nobody will see this"}', slack.responseUrl('hook-fail'));
      await vi.waitFor(
        async () =>
          expect(JSON.parse((await lastRow()).outcome ?? '{}')).toMatchObject({
            notified: false,
            notifyFailed: { error: expect.stringContaining('fatal_error') },
          }),
        { timeout: 20_000, interval: 50 },
      );
      const row = await lastRow();
      expect(row.status).toBe('succeeded');
      const events = await audit(row.id);
      expect(events.map((e) => [e.action, e.outcome])).toEqual([
        ['call', 'ok'],
        ['notify', 'notify_failed'],
      ]);
      expect(t.logs.lines.filter((l) => l.includes(row.id) && l.includes('could not be delivered'))).toHaveLength(1);
    } finally {
      slack.failAll(false);
    }
  });
});

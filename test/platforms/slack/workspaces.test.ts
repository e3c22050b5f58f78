import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { Secret } from '../../../src/crypto/index.js';
import { startSlackBed, type SlackBed } from './harness.js';
import { sealedTables } from '../../../src/db/sealed.js';

const CLIENT_SECRET = 'client-secret-canary-5e6f';
const INSTALL_TOKEN = 'xoxb-installed-canary-123abc';
let h: SlackBed;
beforeAll(async () => {
  h = await startSlackBed({
    botToken: undefined,
    adminsFromWorkspace: true,
    install: {
      clientId: '111.222',
      clientSecret: new Secret(CLIENT_SECRET),
      stateSecret: new Secret('state-secret-for-tests-0123'),
    },
  });
});
afterAll(async () => {
  await h?.stop();
});

const wsRow = (teamId: string) => {
  const { workspaces } = h.store.t;
  return h.store.first(
    h.store.db
      .select()
      .from(workspaces)
      .where(and(eq(workspaces.platform, 'slack'), eq(workspaces.workspaceId, teamId)))
      .limit(1),
  );
};

describe('Slack workspaces (multi-workspace install flow)', () => {
  it('an install through /slack/install and /slack/oauth_redirect stores the bot token sealed, one org per workspace', async () => {
    h.slack.installs.set('code-1', { code: 'code-1', teamId: 'TACME', teamName: 'Acme', botToken: INSTALL_TOKEN });
    const start = await fetch(`${h.baseUrl}/slack/install`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    const location = new URL(start.headers.get('location')!);
    expect(location.searchParams.get('client_id')).toBe('111.222');
    expect(location.searchParams.get('scope')).toContain('app_mentions:read');
    const state = location.searchParams.get('state')!;
    const cookie = start.headers.get('set-cookie')!.split(';')[0]!;

    const done = await fetch(`${h.baseUrl}/slack/oauth_redirect?code=code-1&state=${encodeURIComponent(state)}`, {
      headers: { cookie },
    });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('onbehalf is installed');
    const exchange = h.slack.callsTo('oauth.v2.access')[0]!;
    expect(exchange.body).toMatchObject({ code: 'code-1', client_id: '111.222' });

    const row = (await wsRow('TACME'))!;
    expect(row.name).toBe('Acme');
    expect(row.botTokenSealed).toMatch(/^v2\./);
    expect(row.botTokenSealed).not.toContain(INSTALL_TOKEN);
    expect(h.keyring.open(row.botTokenSealed!, sealedTables.workspaces.ctx(row, 'botTokenSealed'))).toBe(INSTALL_TOKEN);
    expect(h.logs.containing(INSTALL_TOKEN, CLIENT_SECRET)).toEqual([]);
  });

  it('a callback with a forged state stores nothing', async () => {
    h.slack.installs.set('code-2', { code: 'code-2', teamId: 'TEVIL', botToken: 'xoxb-evil' });
    const res = await fetch(`${h.baseUrl}/slack/oauth_redirect?code=code-2&state=forged`);
    expect(res.status).toBe(400);
    expect(await wsRow('TEVIL')).toBeUndefined();
  });

  it("events of an installed workspace are answered with that workspace's token; a workspace owner becomes admin", async () => {
    h.slack.users.set('UOWNER', { id: 'UOWNER', is_owner: true });
    h.inbound.answer = async () => ({ private: { text: 'hi owner' } });
    const ev = {
      type: 'app_mention',
      user: 'UOWNER',
      text: '<@UBOT> hello',
      ts: '1700000100.000100',
      channel: 'CACME',
    };
    expect((await h.signer.post(h.eventsUrl, h.signer.event(ev, { teamId: 'TACME', eventId: 'EvAcme1' }))).status).toBe(
      200,
    );
    expect(h.inbound.events).toHaveLength(1);
    expect((await h.slack.waitFor('chat.postEphemeral')).token).toBe(INSTALL_TOKEN);
    expect(h.slack.callsTo('users.info')[0]!.body).toMatchObject({ user: 'UOWNER' });
    const { user } = await h.identity.resolve({ platform: 'slack', workspaceId: 'TACME', userId: 'UOWNER' });
    const { users } = h.store.t;
    expect((await h.store.first(h.store.db.select().from(users).where(eq(users.id, user.id))))!.role).toBe('admin');
  });

  it('a member who is not a workspace admin stays a member', async () => {
    h.slack.users.set('UMEMBER', { id: 'UMEMBER' });
    const ev = {
      type: 'app_mention',
      user: 'UMEMBER',
      text: '<@UBOT> hello',
      ts: '1700000101.000100',
      channel: 'CACME',
    };
    await h.signer.post(h.eventsUrl, h.signer.event(ev, { teamId: 'TACME', eventId: 'EvAcme2' }));
    expect((await h.identity.resolve({ platform: 'slack', workspaceId: 'TACME', userId: 'UMEMBER' })).user.role).toBe(
      'member',
    );
  });

  it("app_uninstalled removes the workspace's bot token; its later events reach nothing", async () => {
    const before = h.inbound.events.length;
    const uninstall = JSON.stringify({
      team_id: 'TACME',
      api_app_id: 'A_FAKE',
      type: 'event_callback',
      event_id: 'EvUninst',
      event: { type: 'app_uninstalled' },
    });
    expect((await h.signer.post(h.eventsUrl, h.signer.sign(uninstall, 'json'))).status).toBe(200);
    expect((await wsRow('TACME'))!.botTokenSealed).toBeNull();
    const ev = {
      type: 'app_mention',
      user: 'UOWNER',
      text: '<@UBOT> still there?',
      ts: '1700000102.000100',
      channel: 'CACME',
    };
    expect((await h.signer.post(h.eventsUrl, h.signer.event(ev, { teamId: 'TACME', eventId: 'EvAcme3' }))).status).toBe(
      200,
    );
    expect(h.inbound.events).toHaveLength(before);
    await expect(
      h.platform.outbound.reply(
        { platform: 'slack', workspaceId: 'TACME', channelId: 'C', userId: 'U', isDirect: false },
        { text: 'x' },
      ),
    ).rejects.toMatchObject({ slackError: 'workspace_not_installed' });
  });
});

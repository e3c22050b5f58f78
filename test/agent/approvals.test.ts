import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { world, type World } from '../support/world.js';
import type { TestApp } from '../support/app.js';
import { OAuthTestServer, authorizeInBrowser } from '../support/oauth-server.js';
import type { TestMcpHttpServer } from '../support/mcp-servers/index.js';
import { startLlmServer, toolResults, type LlmRequest, type LlmReply } from '../support/llm-server.js';

const textOf = (m: LlmRequest['messages'][number]) =>
  typeof m.content === 'string' ? m.content : JSON.stringify(m.content);

/**
 * A model that obeys: `<server> note <text>` calls `<server>__create_note`, `who am I` calls the
 * read-only `tools__whoami`; a tool result or a resumed call is repeated back.
 */
function model(req: LlmRequest): LlmReply {
  const last = req.messages.at(-1)!;
  const content = textOf(last);
  const system = String(req.messages.find((m) => m.role === 'system')?.content ?? '');
  if (last.role === 'tool' && system.includes('waited for') && system.includes('to approve it'))
    return { text: `Resumed: ${toolResults(req).at(-1) ?? ''}` };
  if (last.role === 'user') {
    const note = content.match(/^(\w+) note (.+)$/);
    const name = note ? `${note[1]}__create_note` : 'tools__whoami';
    if (!req.tools?.some((t) => t.function.name === name)) return { text: `I have no tool ${name}.` };
    return { toolCalls: [{ name, args: note ? { text: note[2]! } : {} }] };
  }
  const result = toolResults(req).at(-1) ?? '';
  if (result.includes('Waiting for approval')) return { text: 'I asked you to approve it.' };
  return { text: `The tool said: ${result}` };
}

describe('tools that change things wait for the caller (shell)', () => {
  let w: World;
  let t: TestApp;
  let oauth: OAuthTestServer;
  let mcp: TestMcpHttpServer;
  let llm: Awaited<ReturnType<typeof startLlmServer>>;
  const as = (user: string) => w.as(user);
  const notes = (text: string) => mcp.calls.filter((c) => c.tool === 'create_note' && c.args['text'] === text);
  const row = async (callId: string) => (await t.app.runner.executor.calls.get(callId))!;
  const auditOf = (callId: string) =>
    t.app.store.execute<Record<string, string>>(
      sql`select * from audit_events where json_extract(detail, '$.callId') = ${callId} order by at`,
    );
  /** Sends `line` as `user` and waits for the private approval prompt; returns its call id. */
  const ask = async (user: string, line: string) => {
    const s = as(user);
    const from = s.output.length;
    await s.send(line);
    const id = (await s.waitFor(/→ Approve: \/onbehalf approve (\S+)/, from))[1]!;
    await s.waitFor(/onbehalf: I asked you to approve it\./, from);
    return { id, from };
  };

  beforeAll(async () => {
    w = await world({ env: { ONBEHALF_ADMINS: 'shell:local:ada' }, llm: model });
    ({ t, oauth, mcp } = w);
    llm = w.llm!;
    const e = oauth.endpoints;
    const ada = as('ada');
    await ada.send(
      `/onbehalf admin provider add gh oauth2 test-client --authorize ${e.authorizeUrl} --token ${e.tokenUrl} --userinfo ${e.userinfoUrl}`,
    );
    await ada.send('');
    for (const name of ['tools', 'open', 'trusted'])
      await ada.send(`/onbehalf admin server add ${name} http ${mcp.url}`);
    await ada.send('/onbehalf admin bind tools header Authorization oauth:gh --template "Bearer {token}"');
    for (const user of ['alice', 'bob']) {
      const link = (await as(user).send('/onbehalf connect gh')).match(/→ Connect gh: (\S+)/)![1]!;
      oauth.login = `${user}-at-vendor`;
      const r = await authorizeInBrowser(link);
      if (!('callbackUrl' in r)) throw new Error(`authorize failed: ${r.status}`);
      const from = as(user).output.length;
      await r.browser.fetch(r.callbackUrl);
      const [, yes] = await as(user).waitFor(/Yes, that's me: \/onbehalf (connect confirm gh)/, from);
      await as(user).send(`/onbehalf ${yes}`);
      await as(user).waitFor(/is now connected/);
    }
  });
  afterAll(async () => {
    await w?.stop();
  });

  it("the model's create_note waits for Alice; Bob cannot approve it; two approvals run it once (SECURITY 35)", async () => {
    const { id, from } = await ask('alice', 'tools note buy milk');
    const prompt = as('alice').output.slice(from);
    expect(prompt).toMatch(/onbehalf \(only you\): The assistant wants to run `tools\.create_note` as you/);
    expect(prompt).toContain('• text: buy milk');
    expect(prompt).toContain('It will use your gh account (@alice-at-vendor).');
    expect(prompt).toContain(`→ Deny: /onbehalf deny ${id}`);
    expect(as('bob').output).not.toContain(id);
    expect(notes('buy milk')).toEqual([]);
    expect((await row(id)).status).toBe('awaiting_approval');

    // Bob learns the id and types the approval himself: refused in one line, audited, still held.
    const bobSaid = await as('bob').send(`/onbehalf approve ${id}`);
    expect(bobSaid).toBe(
      'onbehalf (only you): Only the person the assistant asked can answer this request; nothing was changed.',
    );
    expect((await auditOf(id)).find((a) => a['decision'] === 'refused')).toMatchObject({
      action: 'approve',
      outcome: 'not_the_caller',
      chat_identity: 'shell:local:bob',
    });
    expect((await row(id)).status).toBe('awaiting_approval');
    expect(notes('buy milk')).toEqual([]);

    // Alice double-clicks Approve: both clicks arrive at once; the call runs once.
    const { identity, target } = {
      identity: {
        platform: 'shell' as const,
        workspaceId: 'local',
        userId: 'alice',
        displayName: 'alice',
        workspaceName: 'local',
      },
      target: { platform: 'shell' as const, workspaceId: 'local', channelId: 'shell', userId: 'alice', isDirect: true },
    };
    const click = () =>
      t.app.chat.handle({ kind: 'button', identity, target, actionId: 'command', value: `approve ${id}` });
    const answers = (await Promise.all([click(), click()])).map((a) => a?.private?.text);
    expect(answers.sort()).toEqual([
      'Approved: `tools.create_note` runs now as you; the assistant continues with its result.',
      'That call was already approved; it runs once.',
    ]);
    await as('alice').waitFor(
      /onbehalf: Resumed: The person approved this call\. `tools\.create_note`:\s+note #\d+: buy milk/,
      from,
    );
    await expect.poll(async () => (await row(id)).status).toBe('succeeded');
    expect(notes('buy milk')).toHaveLength(1);
    expect(notes('buy milk')[0]!.seen['authorization']).toMatch(/^Bearer /);
    const final = (await auditOf(id)).at(-1)!;
    expect(final).toMatchObject({ outcome: 'ok', decision: 'allowed' });
    expect(JSON.parse(final['detail']!).approval).toMatchObject({
      decision: 'approved',
      by: 'shell:local:alice',
      at: expect.any(Number),
    });
  });

  it('Deny: the call never reaches the server and the agent is told', async () => {
    const { id, from } = await ask('alice', 'tools note wipe everything');
    expect(await as('alice').send(`/onbehalf deny ${id}`)).toBe(
      'onbehalf (only you): Denied: `tools.create_note` will not run, and the assistant is told.',
    );
    await as('alice').waitFor(
      /onbehalf: Resumed: The person denied this call; it did not run\. `tools\.create_note` was not run: the person chose Deny/,
      from,
    );
    expect(await as('alice').send(`/onbehalf approve ${id}`)).toBe(
      'onbehalf (only you): That call was already denied; nothing more happens.',
    );
    expect(notes('wipe everything')).toEqual([]);
    expect((await row(id)).status).toBe('denied');
    expect(JSON.parse((await auditOf(id)).at(-1)!['detail']!).approval).toMatchObject({
      decision: 'denied',
      by: 'shell:local:alice',
    });
  });

  it('unanswered for 10 minutes (the default): cancelled, never run, and the agent is told', async () => {
    const { id, from } = await ask('alice', 'tools note maybe later');
    expect(await t.app.runner.sweepHeld(Date.now() + 9 * 60_000)).toBe(0);
    expect(await t.app.runner.sweepHeld(Date.now() + 10 * 60_000 + 1000)).toBe(1);
    await as('alice').waitFor(
      /onbehalf: Resumed: The person did not answer the approval prompt in time; the call did not run\. `tools\.create_note` was cancelled: the person did not approve it within 10 minute\(s\)/,
      from,
    );
    expect(await as('alice').send(`/onbehalf approve ${id}`)).toMatch(/That request expired or was cancelled/);
    expect(notes('maybe later')).toEqual([]);
    expect((await row(id)).status).toBe('cancelled');
    expect(JSON.parse((await auditOf(id)).at(-1)!['detail']!).approval).toMatchObject({ decision: 'expired' });
  });

  it('read-only tools, `always` tools and typed runs need no approval; `never` tools are not offered to the model', async () => {
    const alice = as('alice');
    const ada = as('ada');
    expect(await ada.send('/onbehalf admin approve open create_note never')).toContain(
      'open tools matching create_note now are never offered to the model',
    );
    await ada.send('/onbehalf admin approve open * always');
    await ada.send('/onbehalf admin approve trusted create_* always');
    expect(await ada.send('/onbehalf admin approve open')).toMatch(
      /most specific glob wins\):\n\s+• create_note: never\n\s+• \*: always$/,
    );
    expect(await alice.send('/onbehalf admin approve open create_note always')).toMatch(/for admins only/);

    let from = alice.output.length;
    await alice.send('who am I');
    await alice.waitFor(/onbehalf: The tool said: /, from);
    expect(alice.output.slice(from)).not.toContain('Approve');
    from = alice.output.length;
    await alice.send('trusted note no questions asked');
    await alice.waitFor(/onbehalf: The tool said: `trusted\.create_note`:\s+note #\d+: no questions asked/, from);
    expect(alice.output.slice(from)).not.toContain('Approve');
    expect(notes('no questions asked')).toHaveLength(1);

    from = alice.output.length;
    await alice.send('open note via the model');
    await alice.waitFor(/onbehalf: I have no tool open__create_note\./, from);
    const offered = llm.requests
      .find((r) => r.messages.some((m) => textOf(m) === 'open note via the model'))!
      .tools!.map((x) => x.function.name);
    expect(offered).not.toContain('open__create_note');
    expect(offered).toEqual(expect.arrayContaining(['open__whoami', 'tools__create_note', 'trusted__create_note']));

    // The person typing the call is explicit: it runs at once, under the access rules only.
    from = alice.output.length;
    await alice.send('/onbehalf run open.create_note {"text":"typed by alice"}');
    await alice.waitFor(/onbehalf: `open\.create_note`:\s+note #\d+: typed by alice/, from);
    expect(alice.output.slice(from)).not.toContain('Approve');
    expect(notes('typed by alice')).toHaveLength(1);
    const [typed] = await t.app.store.execute<{ detail: string }>(
      sql`select detail from audit_events where tool = 'create_note' and server = 'open' and outcome = 'ok'`,
    );
    expect(JSON.parse(typed!.detail).approval).toEqual({ decision: 'typed' });
    const [always] = await t.app.store.execute<{ detail: string }>(
      sql`select detail from audit_events where tool = 'create_note' and server = 'trusted' and outcome = 'ok'`,
    );
    expect(JSON.parse(always!.detail).approval).toEqual({ decision: 'policy_always', rule: 'create_*' });
  });
});

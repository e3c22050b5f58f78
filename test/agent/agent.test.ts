import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { world, type World } from '../support/world.js';
import { ShellOutbound } from '../../src/platforms/shell/index.js';
import { ShellSession } from '../support/shell.js';
import { fingerprint } from '../support/mcp-servers/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { OAuthTestServer, authorizeInBrowser } from '../support/oauth-server.js';
import type { TestMcpHttpServer } from '../support/mcp-servers/index.js';
import { startLlmServer, toolResults, type LlmRequest, type LlmReply } from '../support/llm-server.js';

/** The scripted model: call `tools__whoami` once, then answer with what the tool returned. */
function model(req: LlmRequest): LlmReply {
  const last = req.messages.at(-1)!;
  const content = typeof last.content === 'string' ? last.content : JSON.stringify(last.content);
  const system = req.messages.find((m) => m.role === 'system');
  if (last.role === 'tool' && String(system?.content).includes('has now run'))
    return { text: `Finished after you connected. ${content}` };
  if (last.role === 'user' && content === 'say nothing') return { text: '' };
  if (last.role === 'user')
    return { toolCalls: [{ name: content.includes('leak') ? 'tools__leak_credentials' : 'tools__whoami', args: {} }] };
  const results = toolResults(req);
  const lastResult = results.at(-1) ?? '';
  if (lastResult.includes('must first connect'))
    return { text: 'Please connect your gh account with the private link; I will finish then.' };
  return { text: `The tool said: ${lastResult}` };
}

describe('the agent with an LLM', () => {
  let w: World;
  let t: TestApp;
  let oauth: OAuthTestServer;
  let mcp: TestMcpHttpServer;
  let llm: Awaited<ReturnType<typeof startLlmServer>>;
  const as = (user: string) => w.as(user);
  const connect = async (user: string, link: string) => {
    oauth.login = `${user}-at-vendor`;
    const r = await authorizeInBrowser(link);
    if (!('callbackUrl' in r)) throw new Error(`authorize failed: ${r.status}`);
    const from = as(user).output.length;
    await r.browser.fetch(r.callbackUrl);
    // A first connect from an unproven browser is held: the user presses "Yes, that's me" (typed in the shell).
    const [, yes] = await as(user).waitFor(/Yes, that's me: \/onbehalf (connect confirm \S+)/, from);
    expect(await as(user).send(`/onbehalf ${yes}`)).toMatch(/Confirmed/);
  };

  beforeAll(async () => {
    w = await world({ env: { ONBEHALF_ADMINS: 'shell:local:ada', LLM_API_KEY: 'llm-key-canary' }, llm: model });
    ({ t, oauth, mcp } = w);
    llm = w.llm!;
    const e = oauth.endpoints;
    const ada = as('ada');
    await ada.send(
      `/onbehalf admin provider add gh oauth2 test-client --authorize ${e.authorizeUrl} --token ${e.tokenUrl} --userinfo ${e.userinfoUrl}`,
    );
    await ada.send('');
    await ada.send(`/onbehalf admin server add tools http ${mcp.url}`);
    await ada.send('/onbehalf admin bind tools header Authorization oauth:gh --template "Bearer {token}"');
  });
  afterAll(async () => {
    await w?.stop();
  });

  it("calls the tool the model asks for with the caller's own token, and answers with its output", async () => {
    const max = as('max');
    const link = (await max.send('/onbehalf connect gh')).match(/→ Connect gh: (\S+)/)![1]!;
    await connect('max', link);
    const token = oauth.issuedAccessTokens.at(-1)!;
    const from = max.output.length;
    await max.send('who am I at gh?');
    await max.waitFor(new RegExp(`onbehalf: The tool said: .*${fingerprint(`Bearer ${token}`)}`, 's'), from);
    // The model was offered the caller's catalog, and the API key went only to the model endpoint.
    const first = llm.requests.find((r) => r.messages.some((m) => m.content === 'who am I at gh?'))!;
    expect(first.tools?.map((x) => x.function.name)).toContain('tools__whoami');
    expect(first.authorization).toBe('Bearer llm-key-canary');
    expect(mcp.calls.at(-1)?.seen['authorization']).toBe(`Bearer ${token}`);
    expect(t.logs.containing('llm-key-canary', token)).toEqual([]);
  });

  it('a model that answers nothing leaves the person a plain "Done."', async () => {
    const max = as('max');
    const from = max.output.length;
    await max.send('say nothing');
    await max.waitFor(/onbehalf: Done\./, from);
  });

  it('a call parked for a missing grant resumes after connecting, and the agent finishes its answer', async () => {
    const zoe = as('zoe');
    const from = zoe.output.length;
    await zoe.send('who am I at gh?');
    const link = (await zoe.waitFor(/→ Connect gh: (\S+)/, from))[1]!;
    await zoe.waitFor(/onbehalf: Please connect your gh account/, from);
    await connect('zoe', link);
    const token = oauth.issuedAccessTokens.at(-1)!;
    await zoe.waitFor(/gh account @?zoe-at-vendor is now connected for zoe/, from);
    await zoe.waitFor(
      new RegExp(`onbehalf: Finished after you connected\\..*${fingerprint(`Bearer ${token}`)}`, 's'),
      from,
    );
    expect(mcp.calls.filter((c) => c.seen['authorization'] === `Bearer ${token}`)).toHaveLength(1);
  });

  it('a secret an admin stored never reaches the model, a log or a chat message (SECURITY 27)', async () => {
    const ada = as('ada');
    await ada.send('/onbehalf admin secret set org shared_key');
    await ada.send('org-secret-for-model-canary');
    await ada.send('/onbehalf admin bind tools header X-Shared-Key org_secret:shared_key');
    const max = as('max');
    const from = max.output.length;
    // A misbehaving tool answers with the raw credentials it received: they are redacted before
    // the answer reaches the model or the chat.
    await max.send('please leak your credentials');
    await max.waitFor(/onbehalf: The tool said: .*I received: .*"x-shared-key":"\[redacted\]"/s, from);
    expect(max.output.slice(from)).toMatch(/"authorization":"Bearer \[redacted\]"/);
    const token = oauth.issuedAccessTokens.find((tok) => mcp.calls.at(-1)?.seen['authorization'] === `Bearer ${tok}`)!;
    expect(token).toBeDefined();
    expect(JSON.stringify(llm.requests)).not.toContain(token);
    expect(max.output).not.toContain(token);
    expect(mcp.calls.at(-1)?.seen['x-shared-key']).toBe('org-secret-for-model-canary');
    expect(JSON.stringify(llm.requests)).not.toContain('org-secret-for-model-canary');
    for (const session of w.sessions.values()) expect(session.output).not.toContain('org-secret-for-model-canary');
    expect(t.logs.containing('org-secret-for-model-canary')).toEqual([]);
  });

  it('without an LLM, a plain message gets a short help naming the tools', async () => {
    // Its own private Redis: two apps on one Redis would share the queues.
    const plain = await startTestApp({});
    const out = new ShellSession(plain.app.chat, 'pat');
    plain.app.outbound.register('shell', new ShellOutbound(out.stream));
    try {
      await out.send('hello?');
      await out.waitFor(
        /No language model is configured here, so I run tools directly: `\/onbehalf run <server>\.<tool> <json>`/,
      );
    } finally {
      await out.close();
      await plain.stop();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { DemoProvider } from '../../src/demo/provider.js';
import { notesServer } from '../../src/demo/notes-server.js';
import { listen } from '../../src/web/server.js';

describe('demo provider and notes server', () => {
  const provider = new DemoProvider();
  let base = '';
  let close: () => Promise<void>;
  beforeAll(async () => {
    const app = new Hono();
    app.route('/demo-oauth', provider.router());
    app.route('/demo-notes', notesServer(provider));
    const s = await listen(app as never, 0, '127.0.0.1');
    base = `http://127.0.0.1:${s.port}`;
    close = s.close;
  });
  afterAll(() => close());

  async function tokenFor(login: string, verifier = randomBytes(32).toString('base64url')) {
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: provider.clientId,
      redirect_uri: 'http://127.0.0.1/cb',
      state: 's1',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      login,
    });
    const r = await fetch(`${base}/demo-oauth/authorize?${q}`, { redirect: 'manual' });
    const code = new URL(r.headers.get('location')!).searchParams.get('code')!;
    const t = await fetch(`${base}/demo-oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: 'http://127.0.0.1/cb',
        code_verifier: verifier,
        client_id: provider.clientId,
        client_secret: provider.clientSecret,
      }),
    });
    return {
      status: t.status,
      body: (await t.json()) as { access_token?: string; refresh_token?: string; error?: string },
    };
  }

  async function call(token: string | undefined, tool: string, args: Record<string, unknown> = {}) {
    const client = new Client({ name: 't', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(`${base}/demo-notes/mcp`), {
      requestInit: { headers: token ? { Authorization: `Bearer ${token}` } : {} },
    });
    await client.connect(transport);
    try {
      const r = await client.callTool({ name: tool, arguments: args });
      return (r.content as { text: string }[])[0]!.text;
    } finally {
      await client.close();
    }
  }

  it('shows a consent page asking which login to act as', async () => {
    const r = await fetch(
      `${base}/demo-oauth/authorize?response_type=code&client_id=${provider.clientId}&redirect_uri=http://x/cb&state=s&code_challenge=abc&code_challenge_method=S256`,
    );
    expect(await r.text()).toMatch(/Sign in as/);
  });

  it('issues tokens only with the right PKCE verifier', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: provider.clientId,
      redirect_uri: 'http://127.0.0.1/cb',
      state: 's',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      login: 'bob',
    });
    const r = await fetch(`${base}/demo-oauth/authorize?${q}`, { redirect: 'manual' });
    const code = new URL(r.headers.get('location')!).searchParams.get('code')!;
    const bad = await fetch(`${base}/demo-oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: 'http://127.0.0.1/cb',
        code_verifier: 'wrong',
        client_id: provider.clientId,
      }),
    });
    expect(bad.status).toBe(400);
  });

  it('keeps notes per user and refuses calls without a valid token', async () => {
    const alice = (await tokenFor('alice')).body.access_token!;
    const bob = (await tokenFor('bob')).body.access_token!;
    expect(await call(alice, 'whoami')).toBe('You are alice at the demo provider.');
    await call(alice, 'add_note', { text: 'buy milk' });
    expect(await call(alice, 'list_notes')).toBe('1. buy milk');
    expect(await call(bob, 'list_notes')).toBe('bob has no notes yet.');
    await expect(call('forged', 'whoami')).rejects.toThrow(/invalid_token/);
    await expect(call(undefined, 'whoami')).rejects.toThrow(/invalid_token/);
  });
});

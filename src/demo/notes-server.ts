import { Hono } from 'hono';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { z } from 'zod';
import type { DemoProvider } from './provider.js';

/**
 * The demo MCP server: per-user notes over Streamable HTTP. Every request needs a bearer token
 * the demo provider issued; notes are kept per login, so each person sees only their own.
 */
export function notesServer(provider: DemoProvider): Hono {
  const notes = new Map<string, string[]>();
  const app = new Hono();

  app.all('/mcp', async (c) => {
    const token = c.req.header('authorization')?.match(/^Bearer (.+)$/)?.[1];
    const grant = token ? provider.introspect(token) : undefined;
    if (!grant) return c.json({ error: 'invalid_token' }, 401, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    const login = grant.login;
    const server = new McpServer({ name: 'demo-notes', version: '1.0.0' });
    server.registerTool(
      'whoami',
      { description: 'Which demo account this call acts as', inputSchema: {}, annotations: { readOnlyHint: true } },
      async () => ({ content: [{ type: 'text', text: `You are ${login} at the demo provider.` }] }),
    );
    server.registerTool(
      'add_note',
      { description: 'Save a note for the calling user', inputSchema: { text: z.string().min(1).max(500) } },
      async ({ text }) => {
        notes.set(login, [...(notes.get(login) ?? []), text]);
        return { content: [{ type: 'text', text: `Saved note #${notes.get(login)!.length} for ${login}.` }] };
      },
    );
    server.registerTool(
      'list_notes',
      { description: "List the calling user's notes", inputSchema: {}, annotations: { readOnlyHint: true } },
      async () => {
        const mine = notes.get(login) ?? [];
        return {
          content: [
            {
              type: 'text',
              text: mine.length ? mine.map((n, i) => `${i + 1}. ${n}`).join('\n') : `${login} has no notes yet.`,
            },
          ],
        };
      },
    );
    // Stateless: one transport per request, so each request is served as its own token's user.
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await server.connect(transport);
    return transport.handleRequest(c.req.raw);
  });
  return app;
}

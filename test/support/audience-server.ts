import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

/** A loopback MCP server that takes only tokens meant for itself. */
export interface AudienceServer {
  /** `http://127.0.0.1:PORT/mcp` */
  url: string;
  /** The bearer token of every request it received, accepted or not. */
  tokens: string[];
  stop(): Promise<void>;
}

/**
 * An MCP server (Streamable HTTP, stateless) that asks the issuer which audience each bearer token
 * was issued for (`audienceOf`, as token introspection would) and answers 401 unless it is its own
 * URL. Its `whoami` tool answers with that audience.
 */
export async function startAudienceServer(
  audienceOf: (token: string) => string | undefined,
  /** Publish RFC 9728 metadata naming this authorization server (and point the 401 at it). Default none. */
  authorizationServer?: string,
): Promise<AudienceServer> {
  const tokens: string[] = [];
  const app = express();
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const url = `${base}/mcp`;
  const metadata = `${base}/.well-known/oauth-protected-resource/mcp`;
  if (authorizationServer)
    app.get('/.well-known/oauth-protected-resource/mcp', (_req, res) => {
      res.json({ resource: url, authorization_servers: [authorizationServer], bearer_methods_supported: ['header'] });
    });
  app.post('/mcp', express.json(), async (req, res) => {
    const token = req.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
    if (token) tokens.push(token);
    const audience = token ? audienceOf(token) : undefined;
    if (audience !== url)
      return void res
        .status(401)
        .set(
          'www-authenticate',
          `Bearer error="invalid_token"${authorizationServer ? `, resource_metadata="${metadata}"` : ''}`,
        )
        .json({ error: 'invalid_token', error_description: 'not meant for this server' });
    const mcp = new McpServer({ name: 'audience-test', version: '1.0.0' });
    mcp.registerTool('whoami', { description: 'The audience of the token it was called with' }, async () => ({
      content: [{ type: 'text', text: JSON.stringify({ audience }) }],
    }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => void transport.close());
    await mcp.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  return {
    url,
    tokens,
    stop: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

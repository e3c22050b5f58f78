import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the rogue endpoint misbehaves. */
export type RogueMode =
  /** Accepts the request and never answers. */
  | 'hang'
  /** Answers 200 `application/json` with a body that is not JSON. */
  | 'garbage'
  /** Answers 200 with valid JSON that is not a JSON-RPC message. */
  | 'not-jsonrpc'
  /** Answers a JSON-RPC result for the request's id whose shape is not what the method returns. */
  | 'wrong-result';

/** A running rogue endpoint; `mode` may be changed at any time. */
export interface RogueMcpServer {
  /** `http://127.0.0.1:<port>/mcp` */
  url: string;
  mode: RogueMode;
  /** Requests received. */
  requests: number;
  stop(): Promise<void>;
}

/**
 * A loopback HTTP endpoint that speaks broken MCP (Streamable HTTP): it hangs, answers invalid
 * JSON, JSON that is not JSON-RPC, or a result of the wrong shape. For fault drills; stop it in afterAll.
 */
export async function startRogueMcpServer(mode: RogueMode): Promise<RogueMcpServer> {
  const srv = http.createServer(async (req, res) => {
    api.requests++;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let id: unknown = 1;
    try {
      id = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: unknown }).id ?? null;
    } catch {
      /* the client sent something odd: answer anyway */
    }
    if (req.method !== 'POST') return void res.writeHead(405).end();
    switch (api.mode) {
      case 'hang':
        return; // the socket stays open until the client gives up or stop()
      case 'garbage':
        return void res
          .writeHead(200, { 'content-type': 'application/json' })
          .end('{"jsonrpc":"2.0","id":' + JSON.stringify(id) + ',"result":{"protocolVer');
      case 'not-jsonrpc':
        return void res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ hello: 'world', answer: [1, 2, 3] }));
      case 'wrong-result':
        return void res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ jsonrpc: '2.0', id, result: { protocolVersion: 42, tools: 'none', content: null } }));
    }
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const api: RogueMcpServer = {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/mcp`,
    mode,
    requests: 0,
    async stop() {
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
  return api;
}

import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { fingerprint, registerTestTools, type SeenCall } from './tools.js';

/** A running loopback MCP server over Streamable HTTP. */
export interface TestMcpHttpServer {
  /** `http://127.0.0.1:<port>/mcp` */
  url: string;
  /** Every tool call, with the credentials it arrived with. */
  calls: SeenCall[];
  /** How many calls the server saw cancelled (`notifications/cancelled`). */
  cancelled: number;
  /** Every `notifications/cancelled` that arrived, whether or not its request was still running. */
  cancellations: { requestId: unknown; reason: unknown }[];
  /** The JSON-RPC id of every tools/call, by tool, to match cancellations to calls. */
  callIds: { id: unknown; tool: unknown }[];
  /** HTTP requests answered, including ones refused. */
  requests: number;
  /** `params.arguments` of every tools/call request as JSON text, parsed from the wire before any schema (unknown and `__proto__` keys kept). */
  rawArguments: string[];
  /** The Authorization header (or '') of every tools/list request: whose credentials each listing used. */
  listedWith: string[];
  /**
   * Every tools/call request as it arrived, with the caller `callerOf` named from the request's
   * client port (when set), and whether its answer has been sent yet.
   */
  arrivals: { tool: string; args: Record<string, unknown>; from?: number; answered: boolean }[];
  /** Names the process behind a connection by its client and server ports (e.g. `ownerOfPort`); unset, arrivals carry no `from`. */
  callerOf?: (remotePort: number, localPort: number) => number | undefined;
  /** Answer 401 to any request whose `Authorization: Bearer <token>` is on the deny list. */
  deny(token: string): void;
  allow(token: string): void;
  /** While true, every bearer token is answered 401 (a server that distrusts even refreshed tokens). */
  rejectAll: boolean;
  /** Tokens that carry a scope; `admin_op` answers 403 insufficient_scope without `admin`. */
  grantScope(token: string, scope: string): void;
  /** Answer the next `n` tools/call requests with `status` (default 503) instead of running them. */
  failNext(n: number, status?: number): void;
  /** The person finished the page of `needs_visit`: later calls succeed, and every session is told it is complete. */
  completeVisit(): Promise<void>;
  stop(): Promise<void>;
}

const bearer = (h: string | undefined) => h?.match(/^Bearer (.+)$/)?.[1];

/**
 * Starts a Streamable HTTP MCP server on 127.0.0.1 (stateful sessions) offering the shared test
 * tools; `whoami` reports the Authorization and X-* headers it saw. Control 401s with `deny`,
 * 403 insufficient_scope with `grantScope`, 5xx with `failNext`. With `callerTools`, a session
 * opened with a bearer token also lists `only_for_<fingerprint of the token>` (listings differ per
 * caller). Stop it in afterAll.
 */
export async function startMcpHttpServer(
  opts: {
    /** Answer POSTs as SSE streams instead of JSON. Default false. */ sse?: boolean;
    /** List a per-caller tool. Default false. */ callerTools?: boolean;
    /** Also list these read-only tools by name, each answering with its own name. Default none. */ extraTools?: string[];
  } = {},
): Promise<TestMcpHttpServer> {
  const denied = new Set<string>();
  const scopes = new Map<string, Set<string>>();
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  let failing = { n: 0, status: 503 };
  let visited = false;
  const servers: McpServer[] = [];
  const state = {
    calls: [] as SeenCall[],
    cancelled: 0,
    requests: 0,
    cancellations: [] as { requestId: unknown; reason: unknown }[],
    callIds: [] as { id: unknown; tool: unknown }[],
    rawArguments: [] as string[],
    listedWith: [] as string[],
    arrivals: [] as TestMcpHttpServer['arrivals'],
  };

  const newSession = async (authorization: string | undefined) => {
    const server = new McpServer({ name: 'test-http', version: '1.0.0' });
    servers.push(server);
    if (opts.callerTools && authorization) {
      server.registerTool(
        `only_for_${fingerprint(authorization).slice(3, 11)}`,
        { description: 'Listed only to this caller', inputSchema: {} },
        async () => ({ content: [{ type: 'text' as const, text: 'yours' }] }),
      );
    }
    for (const name of opts.extraTools ?? [])
      server.registerTool(
        name,
        { description: name, inputSchema: {}, annotations: { readOnlyHint: true } },
        async () => ({
          content: [{ type: 'text' as const, text: name }],
        }),
      );
    registerTestTools(server, {
      credentials: (extra) => {
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(extra.requestInfo?.headers ?? {})) {
          if ((k === 'authorization' || k.startsWith('x-')) && typeof v === 'string') out[k] = v;
        }
        return out;
      },
      record: (c) => state.calls.push(c),
      cancelled: () => state.cancelled++,
      env: () => ({}),
      visited: () => visited,
    });
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: !opts.sse,
      onsessioninitialized: (id) => void sessions.set(id, transport),
    });
    transport.onclose = () => transport.sessionId && sessions.delete(transport.sessionId);
    await server.connect(transport);
    return transport;
  };

  const srv = http.createServer(async (req, res) => {
    state.requests++;
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = raw ? JSON.parse(raw) : undefined;
      for (const m of [body].flat()) {
        if (m?.method === 'notifications/cancelled')
          state.cancellations.push({ requestId: m.params?.requestId, reason: m.params?.reason });
        if (m?.method === 'tools/call') state.callIds.push({ id: m.id, tool: m.params?.name });
      }
      if (body?.method === 'tools/call') {
        state.rawArguments.push(JSON.stringify(body.params?.arguments ?? null));
        const arrival = {
          tool: String(body.params?.name),
          args: (body.params?.arguments ?? {}) as Record<string, unknown>,
          from:
            req.socket.remotePort === undefined || req.socket.localPort === undefined
              ? undefined
              : api.callerOf?.(req.socket.remotePort, req.socket.localPort),
          answered: false,
        };
        state.arrivals.push(arrival);
        res.once('finish', () => (arrival.answered = true));
      }
      if (body?.method === 'tools/list') state.listedWith.push(req.headers.authorization ?? '');
      const token = bearer(req.headers.authorization);
      if (token && (denied.has(token) || api.rejectAll)) {
        res
          .writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"', 'content-type': 'application/json' })
          .end('{"error":"invalid_token"}');
        return;
      }
      if (body?.method === 'tools/call') {
        if (failing.n > 0) {
          failing.n--;
          res.writeHead(failing.status, { 'content-type': 'text/plain' }).end('server trouble');
          return;
        }
        if (body.params?.name === 'admin_op' && !(token && scopes.get(token)?.has('admin'))) {
          res
            .writeHead(403, {
              'www-authenticate': 'Bearer error="insufficient_scope", scope="admin"',
              'content-type': 'application/json',
            })
            .end('{"error":"insufficient_scope"}');
          return;
        }
      }
      const sid = req.headers['mcp-session-id'];
      let transport = typeof sid === 'string' ? sessions.get(sid) : undefined;
      if (!transport) {
        if (body?.method !== 'initialize') {
          res
            .writeHead(404, { 'content-type': 'application/json' })
            .end('{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}');
          return;
        }
        transport = await newSession(req.headers.authorization);
      }
      await transport.handleRequest(req, res, body);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500).end(String((err as Error).message));
    }
  });
  // The SDK counts cancellations through the tool's AbortSignal; notifications arrive as POSTs.
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  const api: TestMcpHttpServer = {
    rejectAll: false,
    url: `http://127.0.0.1:${port}/mcp`,
    get calls() {
      return state.calls;
    },
    get arrivals() {
      return state.arrivals;
    },
    get cancelled() {
      return state.cancelled;
    },
    get callIds() {
      return state.callIds;
    },
    get cancellations() {
      return state.cancellations;
    },
    get requests() {
      return state.requests;
    },
    get rawArguments() {
      return state.rawArguments;
    },
    get listedWith() {
      return state.listedWith;
    },
    deny: (t) => void denied.add(t),
    allow: (t) => void denied.delete(t),
    grantScope: (t, s) => void scopes.set(t, new Set([...(scopes.get(t) ?? []), s])),
    failNext: (n, status = 503) => void (failing = { n, status }),
    async completeVisit() {
      visited = true;
      for (const s of servers) {
        // Only sessions whose client declared url elicitation may be told (the SDK throws for the others).
        if (!s.isConnected() || !s.server.getClientCapabilities()?.elicitation?.url) continue;
        await s.server
          .createElicitationCompletionNotifier('visit-2')()
          .catch(() => undefined);
      }
    },
    async stop() {
      for (const t of sessions.values()) await t.close().catch(() => undefined);
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
  return api;
}

// A stdio MCP server for tests: run as `node --import tsx test/support/mcp-servers/stdio-server.ts`.
// `whoami` reports its environment minus the SDK's safe list; `env_dump` the whole environment.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { registerTestTools } from './tools.js';

const SAFE = new Set(['HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER']);
// Variables node and tsx set on their own in any child; not something the parent passed.
const RUNTIME = /^(NODE_|TSX_|npm_)/;

const server = new McpServer({ name: 'test-stdio', version: '1.0.0' });
registerTestTools(
  server,
  {
    credentials: () =>
      Object.fromEntries(
        Object.entries(process.env).filter(([k, v]) => !SAFE.has(k) && !RUNTIME.test(k) && v !== undefined),
      ) as Record<string, string>,
    record: () => undefined,
    cancelled: () => undefined,
    env: () => ({ ...process.env }),
  },
  { stdio: true },
);
await server.connect(new StdioServerTransport());

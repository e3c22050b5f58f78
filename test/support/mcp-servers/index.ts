import { fileURLToPath } from 'node:url';

export { startMcpHttpServer, type TestMcpHttpServer } from './http.js';
export { fingerprint, type SeenCall } from './tools.js';

/** Command and args that start the stdio test MCP server (for `addServer(… stdio …)`). */
export const stdioServerCommand = {
  command: process.execPath,
  args: ['--import', 'tsx', fileURLToPath(new URL('./stdio-server.ts', import.meta.url))],
};

export { ShellOutbound } from './outbound.js';
export { runShell, shellIdentity, type ShellOptions } from './repl.js';

export { ShellOutbound } from './outbound.js';
export { ShellPlatform, type ShellPlatformOptions } from './platform.js';
export { runShell, shellIdentity, type ShellOptions } from './repl.js';
export { ShellScreen } from './screen.js';

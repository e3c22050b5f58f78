// Which process holds one end of a loopback TCP connection (Linux): the client port names the
// socket's inode in /proc/net/tcp{,6}, and the process among `pids` holding that inode in
// /proc/PID/fd is its owner. Lets a loopback peer tell which of several processes is calling it.
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The inode of the socket whose local port is `port`, or undefined. */
function inodeOf(port: number): string | undefined {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[1]!.endsWith(hex) && f[9] !== '0') return f[9];
    }
  }
  return undefined;
}

/** The pid among `pids` whose process holds the local end of the connection from port `port`. */
export function ownerOfPort(port: number, pids: readonly number[]): number | undefined {
  const inode = inodeOf(port);
  if (!inode) return undefined;
  const link = `socket:[${inode}]`;
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === link) return pid;
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

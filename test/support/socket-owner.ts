// Which process holds one end of a loopback TCP connection (Linux): the connection's two ports
// name the client socket's inode in /proc/net/tcp{,6}, and the process among `pids` holding that
// inode in /proc/PID/fd is its owner. Lets a loopback peer tell which of several processes is
// calling it. Both ports, because Linux hands the same ephemeral port to connections bound for
// different peers: the client port alone can name another process's socket (to Redis, say).
// The kernel writes /proc/net/tcp a page at a time while connections come and go, so one read can
// skip a live socket: a miss is read again.
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';

const hexPort = (port: number) => `:${port.toString(16).toUpperCase().padStart(4, '0')}`;

/** The inode of the socket from local port `port` to remote port `peer`, or undefined. */
function inodeOf(port: number, peer: number): string | undefined {
  const [local, remote] = [hexPort(port), hexPort(peer)];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[1]!.endsWith(local) && f[2]!.endsWith(remote) && f[9] !== '0') return f[9];
    }
  }
  return undefined;
}

/**
 * The pid among `pids` whose process holds the client end of the connection from port `port`
 * to the server's port `serverPort`.
 */
export function ownerOfPort(port: number, serverPort: number, pids: readonly number[]): number | undefined {
  for (let read = 0; read < 10; read++) {
    const owner = ownerOfInode(inodeOf(port, serverPort), pids);
    if (owner !== undefined) return owner;
  }
  return undefined;
}

function ownerOfInode(inode: string | undefined, pids: readonly number[]): number | undefined {
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

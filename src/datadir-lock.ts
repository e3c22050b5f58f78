import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CodedError } from './errors.js';

/** Another live process holds the data directory. The message is one line saying what to do. */
export class DataDirLockedError extends CodedError {
  readonly code = 'data_dir_locked';
  constructor(
    readonly dataDir: string,
    readonly holderPid: number,
    holderCommand: string,
  ) {
    super(
      `the data directory ${dataDir} is in use by process ${holderPid}${holderCommand ? ` (${holderCommand})` : ''}: ` +
        `stop that process, or set ONBEHALF_DATA_DIR to another directory`,
    );
  }
}

/** A lock this process holds on a data directory; `release` is idempotent and also runs at exit. */
export interface DataDirLock {
  file: string;
  release(): void;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** What the lock file records, and whether its process still runs. */
function holder(file: string): { pid: number; command: string } | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const [pidLine = '', command = ''] = text.split('\n');
  const pid = Number(pidLine.trim());
  return Number.isInteger(pid) && pid > 0 ? { pid, command: command.trim() } : { pid: 0, command: '' };
}

/**
 * Takes `<dataDir>/onbehalf.lock` atomically (a hard link of a file holding our pid, which fails if
 * the lock exists). A lock left by a process that is gone is taken over; a live holder is refused
 * with `DataDirLockedError`, touching nothing else in the directory.
 */
export function lockDataDir(dataDir: string, command: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'onbehalf.lock');
  const mine = `${file}.${process.pid}`;
  writeFileSync(mine, `${process.pid}\n${command}\n`);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(mine, file);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 5) throw err;
      }
      const h = holder(file);
      if (!h) continue; // released meanwhile
      if (h.pid === process.pid) break;
      if (h.pid > 0 && alive(h.pid)) throw new DataDirLockedError(dataDir, h.pid, h.command);
      // Stale: move it aside under a name only we use, and check we moved the stale one, not a
      // lock a concurrent starter took over a moment ago (that one is put back).
      const aside = `${file}.stale.${process.pid}`;
      try {
        renameSync(file, aside);
      } catch {
        continue;
      }
      const moved = holder(aside);
      if (moved && moved.pid !== h.pid) {
        try {
          linkSync(aside, file);
        } catch {
          /* someone else holds it now; the next round reports them */
        }
      }
      rmSync(aside, { force: true });
    }
  } finally {
    rmSync(mine, { force: true });
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    if (holder(file)?.pid === process.pid) rmSync(file, { force: true });
  };
  process.on('exit', release);
  return { file, release };
}

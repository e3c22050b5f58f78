import { Writable } from 'node:stream';

/** A pino destination that keeps every line, so tests can search logs for leaked values. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) if (line) this.lines.push(line);
    cb();
  }
  /** Lines containing any of `values`. */
  containing(...values: string[]): string[] {
    return this.lines.filter((l) => values.some((v) => v && l.includes(v)));
  }
  text(): string {
    return this.lines.join('\n');
  }
}

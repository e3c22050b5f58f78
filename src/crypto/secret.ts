import { inspect } from 'node:util';

/**
 * A credential in memory. Prints as `[redacted]` in logs, JSON, template strings and
 * `util.inspect`; `reveal()` is called only where a header or env var is built.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  /** The plaintext. Call only at the point of use (an HTTP header, a child's env). */
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
  [inspect.custom](): string {
    return '[redacted]';
  }
}

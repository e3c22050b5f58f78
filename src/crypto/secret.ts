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

/**
 * `text` with every occurrence of each secret's value replaced by `[redacted]`: a tool that echoes
 * the credentials it received must not carry them into chat, the audit detail or a model's context.
 * Values shorter than 6 characters are left alone (they would match ordinary words).
 */
export function redactSecrets(text: string, secrets: Secret[]): string {
  let out = text;
  for (const s of secrets) {
    const v = s.reveal();
    if (v.length >= 6) out = out.split(v).join('[redacted]');
  }
  return out;
}

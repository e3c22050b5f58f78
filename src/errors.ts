/**
 * The one base of every error this product raises on purpose, as bolt-js's `CodedError`: a stable
 * `code` to branch on and a `message` that is safe to show an operator or a person (it names what
 * is wrong and how to fix it, never a secret). Code never branches on `message`.
 *
 * Errors that change control flow are small named subclasses (as BullMQ's `UnrecoverableError`),
 * tested with `instanceof`.
 */
export abstract class CodedError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** True for every error raised on purpose: its message is one line fit to print as is. */
export function isCodedError(err: unknown): err is CodedError {
  return err instanceof CodedError;
}

/**
 * An expected outcome as a value (STYLE 5, 12): done, with what happened, or refused, with why.
 * `V` and `E` are small discriminated unions (`{ kind: 'server_added'; name }`,
 * `{ kind: 'unknown_server'; name }`); inner layers return them and `chat/` words them.
 */
export type Done<V, E> = { ok: true; value: V } | { ok: false; error: E };

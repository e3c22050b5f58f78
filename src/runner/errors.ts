import { CodedError } from '../errors.js';

/** Thrown inside a tool job to make BullMQ back off and retry; the message is safe to store in Redis. */
export class TransientCallError extends CodedError {
  readonly code = 'transient';
}

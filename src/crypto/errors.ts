import { CodedError } from '../errors.js';
/** A sealed value could not be opened: wrong key, unknown key id, malformed. Safe to show: never holds a value. */
export class SealError extends CodedError {
  readonly code: string = 'seal_open_failed';
}

/**
 * A sealed value does not open for the row and owner it was read for: moved to another row, user,
 * provider, org, scope or name; altered; sealed under a wrong key of the same id; or left in the
 * first (row-only) format after the upgrade. Names where, never what.
 */
export class SealedValueMismatch extends SealError {
  override readonly code = 'sealed_value_mismatch';
  readonly table: string;
  readonly column: string;
  readonly rowId: string;
  /** `mismatch`: the AAD or key did not match; `legacy`: a first-format value found after the upgrade. */
  readonly reason: 'mismatch' | 'legacy';

  constructor(where: { table: string; column: string; rowId: string }, reason: 'mismatch' | 'legacy') {
    super(
      reason === 'legacy'
        ? `sealed value in ${where.table}.${where.column} (row ${where.rowId}) is in the old row-only format, which is no longer opened; set it again`
        : `sealed value in ${where.table}.${where.column} (row ${where.rowId}) does not open: it was moved to another row or owner, tampered with, or sealed under a wrong key`,
    );
    this.table = where.table;
    this.column = where.column;
    this.rowId = where.rowId;
    this.reason = reason;
  }
}

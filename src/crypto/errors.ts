/** A sealed value could not be opened: wrong key, unknown key id, tampered, or moved. */
export class SealError extends Error {
  readonly code = 'seal_open_failed';
}

export { Keyring, generateKeyEntry, loadOrCreateDevKey, type SealContext } from './keyring.js';
export { Secret, redactSecrets } from './secret.js';
export { SealError } from './errors.js';
export { LinkSigner, type LinkCheck } from './links.js';
export { rotateKeys, type RotateReport } from './rotate.js';

export { Keyring, generateKeyEntry, loadOrCreateDevKey, type SealContext } from './keyring.js';
export { Secret } from './secret.js';
export { SealError } from './errors.js';
export { LinkSigner, type LinkCheck } from './links.js';
export { rotateKeys, type RotateReport } from './rotate.js';

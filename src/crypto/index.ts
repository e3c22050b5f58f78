export { Keyring, generateKeyEntry, loadOrCreateDevKey, type SealContext, type LegacySealContext } from './keyring.js';
export { Secret, redactSecrets } from './secret.js';
export { SealError, SealedValueMismatch } from './errors.js';
export { LinkSigner, type LinkCheck } from './links.js';
export { rotateKeys, type RotateReport } from './rotate.js';
export { upgradeSeals, type SealUpgradeReport } from './upgrade.js';

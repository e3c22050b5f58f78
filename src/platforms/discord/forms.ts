import { randomBytes } from 'node:crypto';
import type { SecretForm } from '../../chat/types.js';

/** Discord's limit on a custom id (buttons, modals). */
const CUSTOM_ID_LIMIT = 100;

/** Options of the form id table. */
export interface FormIdsOptions {
  /** Forms remembered for button clicks and long ids. Default 1000 (oldest dropped first). */
  capacity?: number;
}

/**
 * Carries a secret form's id through Discord custom ids (max 100 chars): inline when it fits,
 * else under a short random key remembered in this process. Also remembers each form's title
 * and fields so a button click can open the same modal.
 */
export class FormIds {
  readonly #forms = new Map<string, SecretForm>();
  readonly #capacity: number;

  constructor(opts: FormIdsOptions = {}) {
    this.#capacity = opts.capacity ?? 1000;
  }

  /** The custom id for `form` under `prefix`. */
  encode(prefix: string, form: SecretForm): string {
    this.#remember(form.formId, form);
    if (prefix.length + form.formId.length <= CUSTOM_ID_LIMIT) return prefix + form.formId;
    const key = `#${randomBytes(9).toString('base64url')}`;
    this.#remember(key, form);
    return prefix + key;
  }

  /** The form id a custom id under `prefix` carries, or undefined (not ours, or a forgotten key). */
  decode(prefix: string, customId: string): string | undefined {
    if (!customId.startsWith(prefix)) return undefined;
    const rest = customId.slice(prefix.length);
    return rest.startsWith('#') ? this.#forms.get(rest)?.formId : rest;
  }

  /** The form for a form id; a single `value` field when this process never saw it. */
  form(formId: string): SecretForm {
    return this.#forms.get(formId) ?? { formId, title: 'Private form', fields: [{ id: 'value', label: 'Value' }] };
  }

  #remember(key: string, form: SecretForm): void {
    this.#forms.delete(key);
    this.#forms.set(key, form);
    while (this.#forms.size > this.#capacity) this.#forms.delete(this.#forms.keys().next().value!);
  }
}

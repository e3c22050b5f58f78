import { randomBytes } from 'node:crypto';
import type { ModalSubmitInteraction } from 'discord.js';
import type { SecretForm } from '../../chat/types.js';
import { Secret } from '../../crypto/index.js';
import type { FormIds } from './forms.js';
import { MODAL_FIELDS, MODAL_PREFIX, modalBody } from './render.js';

/** Custom id prefix of one part of a form longer than a modal holds (`obp:<key>:<part>`). */
export const PART_MODAL_PREFIX = 'obp:';
/** Custom id prefix of the button that opens the next part (`obn:<key>:<part>`). */
export const PART_BUTTON_PREFIX = 'obn:';

/** Options of the table of part-filled forms. */
export interface FormPartsOptions {
  /** How long a part-filled form waits for its next part. Default 15 minutes (an interaction token's life). */
  ttlMs?: number;
  /** Part-filled forms kept at once. Default 200 (oldest dropped first). */
  capacity?: number;
}

interface Draft {
  form: SecretForm;
  userId: string;
  values: Record<string, Secret>;
  /** The next part expected. */
  part: number;
  expiresAt: number;
}

/** What a part's submission led to. */
export type PartSubmitted =
  /** Kept: the person opens the next part with the button in `components`. */
  | { kind: 'next'; text: string; components: unknown[] }
  /** The last part: the whole form, as if it had been one modal. */
  | { kind: 'done'; formId: string; values: Record<string, Secret> }
  /** Lapsed, out of turn, or another person's form: nothing kept. */
  | { kind: 'say'; text: string };

/** The text inputs of a modal submission, each wrapped as a secret. */
export function submittedValues(i: ModalSubmitInteraction): Record<string, Secret> {
  const values: Record<string, Secret> = {};
  for (const [id, field] of i.fields.fields)
    if ('value' in field && typeof field.value === 'string') values[id] = new Secret(field.value);
  return values;
}

const GONE = 'This form lapsed or was sent already; open it again from its message.';
const NOT_YOURS = 'This form was opened by someone else; nothing was kept.';

/**
 * Forms of more fields than a Discord modal holds (5), filled in parts: each part is a modal,
 * its submission answered with a button that opens the next (Discord lets no modal open from a
 * modal submission), and the last part sends every value at once. Values of earlier parts wait
 * here, in this process's memory only, as secrets, for the person who opened the form.
 */
export class FormParts {
  readonly #drafts = new Map<string, Draft>();
  readonly #ttlMs: number;
  readonly #capacity: number;

  constructor(
    private readonly forms: FormIds,
    opts: FormPartsOptions = {},
  ) {
    this.#ttlMs = opts.ttlMs ?? 15 * 60_000;
    this.#capacity = opts.capacity ?? 200;
  }

  /** The modal of `form` opened by `userId`: the whole form, or its first part when one modal cannot hold it. */
  modalFor(form: SecretForm, userId: string): ReturnType<typeof modalBody> {
    return this.open(form, userId) ?? modalBody(form, this.forms.encode(MODAL_PREFIX, form));
  }

  /** The first part's modal of `form` opened by `userId`, or undefined when one modal holds it. */
  open(form: SecretForm, userId: string): ReturnType<typeof modalBody> | undefined {
    if (form.fields.length <= MODAL_FIELDS) return undefined;
    const key = randomBytes(12).toString('base64url');
    this.#drafts.set(key, { form, userId, values: {}, part: 0, expiresAt: Date.now() + this.#ttlMs });
    while (this.#drafts.size > this.#capacity) this.#drafts.delete(this.#drafts.keys().next().value!);
    return this.#modal(key, form, 0);
  }

  /** A click on a next-part button: its modal, a line to say, or undefined when the button is not one. */
  next(customId: string, userId: string): { modal: ReturnType<typeof modalBody> } | { text: string } | undefined {
    const at = this.#parse(PART_BUTTON_PREFIX, customId);
    if (!at) return undefined;
    const d = this.#live(at.key);
    if (!d || d.part !== at.part) return { text: GONE };
    if (d.userId !== userId) return { text: NOT_YOURS };
    return { modal: this.#modal(at.key, d.form, at.part) };
  }

  /** A part's submission with its `values`, or undefined when the modal is not a part. */
  submit(customId: string, userId: string, values: Record<string, Secret>): PartSubmitted | undefined {
    const at = this.#parse(PART_MODAL_PREFIX, customId);
    if (!at) return undefined;
    const d = this.#live(at.key);
    if (!d || d.part !== at.part) return { kind: 'say', text: GONE };
    if (d.userId !== userId) return { kind: 'say', text: NOT_YOURS };
    const inPart = new Set(this.#fieldsOf(d.form, at.part).map((f) => f.id));
    for (const [id, v] of Object.entries(values)) if (inPart.has(id)) d.values[id] = v;
    const parts = Math.ceil(d.form.fields.length / MODAL_FIELDS);
    if (at.part + 1 >= parts) {
      this.#drafts.delete(at.key);
      return { kind: 'done', formId: d.form.formId, values: d.values };
    }
    d.part = at.part + 1;
    const label = `Continue: part ${d.part + 1} of ${parts}`;
    return {
      kind: 'next',
      text: `${d.form.title}: part ${at.part + 1} of ${parts} kept (nothing is sent before the last part). Open the next part with the button.`,
      components: [
        {
          type: 1,
          components: [{ type: 2, style: 1, label, custom_id: `${PART_BUTTON_PREFIX}${at.key}:${d.part}` }],
        },
      ],
    };
  }

  #modal(key: string, form: SecretForm, part: number) {
    const parts = Math.ceil(form.fields.length / MODAL_FIELDS);
    const suffix = ` (${part + 1}/${parts})`;
    return modalBody(
      { ...form, title: form.title.slice(0, 45 - suffix.length) + suffix, fields: this.#fieldsOf(form, part) },
      `${PART_MODAL_PREFIX}${key}:${part}`,
    );
  }

  #fieldsOf(form: SecretForm, part: number) {
    return form.fields.slice(part * MODAL_FIELDS, (part + 1) * MODAL_FIELDS);
  }

  #parse(prefix: string, customId: string): { key: string; part: number } | undefined {
    const m = customId.startsWith(prefix)
      ? /^([A-Za-z0-9_-]{16}):(\d{1,2})$/.exec(customId.slice(prefix.length))
      : null;
    return m ? { key: m[1]!, part: Number(m[2]) } : undefined;
  }

  #live(key: string): Draft | undefined {
    const d = this.#drafts.get(key);
    if (d && d.expiresAt <= Date.now()) this.#drafts.delete(key);
    return d && d.expiresAt > Date.now() ? d : undefined;
  }
}

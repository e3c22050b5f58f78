import { identityKey } from '../../identity/index.js';
import type { PendingElicitation } from '../../runner/index.js';
import type { Secret } from '../../crypto/index.js';
import { formFields, readAnswer } from '../elicit-form.js';
import type { SecretForm } from '../types.js';
import { NOT_YOUR_QUESTION, QUESTION_GONE, answerProblems, answeredText } from '../words/elicit.js';
import { say, type CommandContext, type CommandReply, type CommandSpec } from './spec.js';

/** Form ids of elicitation forms: `elicit:<question id>`. */
export const ELICIT_FORM = /^elicit:([A-Za-z0-9_-]{8,64})$/;

/** The form of a waiting question. */
export function elicitationForm(p: PendingElicitation): SecretForm {
  return {
    formId: `elicit:${p.id}`,
    title: `${p.server}.${p.tool}`,
    note: `${p.server} asks: ${p.message}`.slice(0, 2000),
    submit: 'Send',
    fields: formFields(p.schema),
  };
}

/** Records an answer refused because it was not the caller's (never its values). */
export async function auditNotYours(ctx: CommandContext, p: PendingElicitation): Promise<void> {
  await ctx.services.audit.write({
    orgId: ctx.org.id,
    category: 'tool_call',
    action: 'elicitation.answer',
    actorUserId: ctx.user.id,
    onBehalfOfUserId: p.userId,
    chatIdentity: identityKey(ctx.identity),
    server: p.server,
    tool: p.tool,
    decision: 'denied',
    outcome: 'not_yours',
    requestId: ctx.requestId,
  });
}

/** `answer <id> [decline|cancel]`: opens the form of a server's question, or declines / cancels it. Only its caller may. */
export const answerCommand: CommandSpec = {
  word: 'answer',
  usage: 'answer <id> [decline|cancel]',
  summary: 'answer a question a tool asked you during a call (Answer on its private message does the same)',
  run: async (ctx, args): Promise<CommandReply> => {
    const [id, verb] = args;
    const desk = ctx.services.elicitations;
    if (!id || !desk || (verb && verb !== 'decline' && verb !== 'cancel'))
      return say(
        'Which question? Use `/onbehalf answer <id>`, or add `decline` or `cancel` (the id is in the private message that asked you).',
      );
    const who = { orgId: ctx.org.id, userId: ctx.user.id };
    if (verb === 'decline' || verb === 'cancel') {
      const r = await desk.answer(id, who, { action: verb });
      if (r.kind === 'not_yours') await auditNotYours(ctx, r.pending);
      return say(answeredText(r));
    }
    const p = await desk.pending(id);
    if (!p) return say(QUESTION_GONE);
    if (p.orgId !== who.orgId || p.userId !== who.userId) {
      await auditNotYours(ctx, p);
      return say(NOT_YOUR_QUESTION);
    }
    // A page to open has no form: answering it is consent.
    if (p.mode === 'url') return say(answeredText(await desk.answer(id, who, { action: 'accept' })));
    return { form: elicitationForm(p) };
  },
};

/** A submitted question form: the caller's own, fitting the schema, then sent (sealed) to the call that waits. */
export async function submitElicitation(
  ctx: CommandContext,
  id: string,
  values: Record<string, Secret>,
): Promise<CommandReply> {
  const desk = ctx.services.elicitations;
  const p = await desk?.pending(id);
  if (!desk || !p || p.mode !== 'form') return say(QUESTION_GONE);
  const who = { orgId: ctx.org.id, userId: ctx.user.id };
  if (p.orgId !== who.orgId || p.userId !== who.userId) {
    await auditNotYours(ctx, p);
    return say(NOT_YOUR_QUESTION);
  }
  const read = readAnswer(p.schema, values);
  if (!read.ok) return say(answerProblems(id, read.problems));
  const r = await desk.answer(id, who, { action: 'accept', content: read.content });
  if (r.kind === 'not_yours') await auditNotYours(ctx, r.pending);
  return say(answeredText(r));
}

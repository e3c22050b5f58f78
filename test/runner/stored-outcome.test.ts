import { describe, expect, it } from 'vitest';
import { outcomeText } from '../../src/chat/outcomes.js';
import { toolOutcomeSchema } from '../../src/runner/index.js';

// Reasons are stored as coded values and worded by chat/; a row written before that holds the
// sentence itself, and the caller must still read exactly that sentence.
describe('a stored outcome', () => {
  const call = { server: 'gh', tool: 'list_issues' };

  it('is worded from its code', () => {
    const o = toolOutcomeSchema.parse({ kind: 'failed', why: { code: 'park_cap', provider: 'github', max: 20 } });
    expect(outcomeText(call, o)).toBe(
      '`gh.list_issues` failed: you already have 20 calls waiting for an account to be connected; connect github (`/onbehalf connect github`) or let the waiting calls finish, then run it again.',
    );
  });

  it('written as a sentence by an earlier version still reads as that sentence', () => {
    const denied = toolOutcomeSchema.parse({
      kind: 'denied',
      rule: 'deny gh "*"',
      reason: 'denied by rule: deny gh "*"',
    });
    expect(outcomeText(call, denied)).toBe('`gh.list_issues` was not run: denied by rule: deny gh "*".');
    const failed = toolOutcomeSchema.parse({ kind: 'failed', message: 'that server was removed' });
    expect(outcomeText(call, failed)).toBe('`gh.list_issues` failed: that server was removed.');
    const cancelled = toolOutcomeSchema.parse({ kind: 'cancelled', reason: 'the user no longer exists' });
    expect(outcomeText(call, cancelled)).toBe('`gh.list_issues` was cancelled: the user no longer exists.');
  });

  it('with neither a code nor a sentence is refused, not shown as something else', () => {
    expect(toolOutcomeSchema.safeParse({ kind: 'failed' }).success).toBe(false);
  });
});

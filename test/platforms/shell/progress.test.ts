import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toolResults, type LlmReply, type LlmRequest } from '../../support/llm-server.js';
import { world, type World } from '../../support/world.js';

/** A model that calls `github.whoami`, then `github.echo`, then says it is done. */
function model(req: LlmRequest): LlmReply {
  const results = toolResults(req);
  if (req.messages.at(-1)?.role === 'user') return { toolCalls: [{ name: 'github__whoami', args: {} }] };
  if (results.length === 1 && !results[0]!.includes('must first connect'))
    return { toolCalls: [{ name: 'github__echo', args: { text: 'hi' } }] };
  return { text: results.at(-1)!.includes('must first connect') ? 'Connect first, please.' : 'All done.' };
}

describe('the shell prints a turn as it happens', () => {
  let w: World;

  beforeAll(async () => {
    w = await world({ users: ['ada', 'bob'], provider: 'gh', servers: [{ name: 'github', grant: true }], llm: model });
    await w.connect('ada', { login: 'ada-gh' });
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('one line per tool call step, naming the account it runs as, then the answer', async () => {
    const ada = w.as('ada');
    const from = ada.output.length;
    await ada.send('who am I?');
    await ada.waitFor(/onbehalf: All done\./, from);
    const lines = ada.output
      .slice(from)
      .split('\n')
      .filter((l) => l.startsWith('onbehalf'));
    expect(lines).toEqual([
      "onbehalf · … Calling github.whoami as @ada's gh (@ada-gh)",
      "onbehalf · ✓ Called github.whoami as @ada's gh (@ada-gh)",
      "onbehalf · … Calling github.echo as @ada's gh (@ada-gh)",
      "onbehalf · ✓ Called github.echo as @ada's gh (@ada-gh)",
      'onbehalf: All done.',
    ]);
  });

  it('a call that waits for a connection says so as it parks', async () => {
    const bob = w.as('bob');
    const from = bob.output.length;
    await bob.send('who am I?');
    await bob.waitFor(/onbehalf: Connect first, please\./, from);
    expect(bob.output.slice(from)).toContain(
      "onbehalf · ⏸ github.whoami as @bob's gh: Waiting for you to connect gh (see the private link).",
    );
  });
});

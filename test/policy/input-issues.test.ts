import { describe, expect, it } from 'vitest';
import { inputIssueText } from '../../src/chat/words/input.js';
import { parseSource } from '../../src/policy/index.js';
import { firstIssue } from '../../src/policy/input.js';
import { ruleInputSchema } from '../../src/policy/admin-rules.js';
import { serverInputSchema } from '../../src/policy/servers.js';

// Admin input is judged in policy/ as coded values; chat/ words them. The admin reads one line
// naming the field and what is wrong with it.
describe('an admin input issue', () => {
  it('comes back from policy/ as a code with its field, and reads as one line', () => {
    const server = serverInputSchema.safeParse({ name: 'bad name', transport: 'http', url: 'https://x.example' });
    expect(server.success).toBe(false);
    const s = firstIssue(server.error!);
    expect(s).toEqual({ path: 'name', code: 'server_name' });
    expect(inputIssueText(s)).toBe('name: a server name is 1–40 letters, digits, dashes or underscores');

    const source = parseSource('team_secret:');
    expect(source).toEqual({ ok: false, error: { path: '', code: 'source_secret', params: { kind: 'team_secret' } } });
    if (source.ok) throw new Error('parsed');
    expect(inputIssueText(source.error)).toBe(
      'team_secret:<name> needs a secret name (1–64 letters, digits, dots, dashes or underscores)',
    );

    const rule = ruleInputSchema.safeParse({ tools: '*', args: { repo: 'acme/%2e%2e' } });
    expect(rule.success).toBe(false);
    const r = firstIssue(rule.error!);
    expect(r).toEqual({ path: 'args.repo', code: 'glob', params: { why: 'percent' } });
    expect(inputIssueText(r)).toBe(
      'args.repo: the glob holds percent-encoded characters; values like that are refused anyway',
    );
  });

  it("zod's own issues keep the library's words, not a code of ours", () => {
    const rule = ruleInputSchema.safeParse({ tools: 'x'.repeat(201) });
    const r = firstIssue(rule.error!);
    expect(r).toMatchObject({ path: 'tools', code: 'schema' });
    expect(inputIssueText(r)).toMatch(/^tools: .+/);
  });
});

import { describe, expect, it, vi } from 'vitest';

describe('command modules', () => {
  it('the member commands load first, on their own: the router imports the command tables, never the reverse', async () => {
    vi.resetModules();
    const { memberCommands } = await import('../../src/chat/commands/member.js');
    expect(memberCommands.map((c) => c.word)).toContain('connect');
    const { COMMANDS } = await import('../../src/chat/router.js');
    expect(COMMANDS.member.map((c) => c.word).slice(0, 2)).toEqual(['help', 'tools']);
  });

  it('the admin commands load first, on their own', async () => {
    vi.resetModules();
    const { adminCommands } = await import('../../src/chat/commands/admin/index.js');
    expect(adminCommands.map((c) => c.word)).toEqual([
      'provider',
      'connect',
      'disconnect',
      'services',
      'server',
      'bind',
      'allow',
      'deny',
      'secret',
      'team',
      'role',
      'org',
      'approve',
      'audit',
    ]);
  });
});

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { options } from '../../parse.js';
import type { CommandContext, CommandSpec } from '../spec.js';
import { say } from '../spec.js';
import type { AuditEvent } from '../../../audit/index.js';
import { auditExportRow, auditLine, type NameOf } from '../../words/audit.js';
import { done, userRef, wrong } from './shared.js';

const AUDIT = 'audit [--user @u] [--server s] [--since 1h] | audit export';

/** Parses `1h`, `30m`, `7d` or an ISO date into epoch ms. */
function since(v: string): number | undefined {
  const m = v.match(/^(\d+)([mhd])$/);
  if (m) return Date.now() - Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

/** The names of the people the rows refer to, looked up once each. */
async function namesOf(ctx: CommandContext, rows: AuditEvent[]): Promise<NameOf> {
  const names = new Map<string, string | undefined>();
  for (const r of rows)
    for (const id of [r.actorUserId, r.onBehalfOfUserId])
      if (id && !names.has(id)) names.set(id, (await ctx.services.identity.user(ctx.org.id, id))?.displayName);
  return (id) => names.get(id);
}

/** `admin audit …`: who did what, as whom; `export` writes a JSONL file on the server. */
export const auditCommand: CommandSpec = {
  word: 'audit',
  usage: AUDIT,
  summary: 'who did what, as whom',
  run: async (ctx, args) => {
    const { audit } = ctx.services;
    const { positional, flags } = options(args);
    const userId = typeof flags['user'] === 'string' ? (await userRef(ctx, flags['user']))?.id : undefined;
    if (typeof flags['user'] === 'string' && !userId) return say(`No user "${flags['user']}" in this workspace.`);
    const s = typeof flags['since'] === 'string' ? since(flags['since']) : undefined;
    if (typeof flags['since'] === 'string' && s === undefined)
      return wrong(AUDIT, '--since takes 30m, 2h, 7d or a date.');
    const filter = { userId, server: typeof flags['server'] === 'string' ? flags['server'] : undefined, since: s };
    if (positional[0] === 'export') {
      const rows = await audit.query(ctx.org.id, { ...filter, limit: 100_000 });
      const nameOf = await namesOf(ctx, rows);
      const dir = path.join(ctx.services.dataDir, 'exports');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const file = path.join(dir, `audit-${ctx.org.id}-${Date.now()}.jsonl`);
      writeFileSync(
        file,
        rows.map((r) => JSON.stringify(auditExportRow(r, nameOf))).join('\n') + (rows.length ? '\n' : ''),
        { mode: 0o600 },
      );
      const line = `Exported ${rows.length} audit event(s) to ${file} on the server.`;
      return done(ctx, 'audit.export', { ok: true }, line);
    }
    if (positional.length) return wrong(AUDIT);
    const rows = await audit.query(ctx.org.id, { ...filter, limit: 20 });
    if (!rows.length) return say('No audit events match.');
    const nameOf = await namesOf(ctx, rows);
    return say(rows.map((r) => auditLine(r, nameOf)).join('\n'));
  },
};

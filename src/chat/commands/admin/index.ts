import type { CommandSpec } from '../spec.js';
import { auditCommand } from './audit.js';
import { orgCommand, roleCommand } from './org.js';
import { providerCommand } from './provider.js';
import { approveCommand, ruleCommands } from './rule.js';
import { secretCommand } from './secret.js';
import { serviceCommands } from './service.js';
import { bindCommand, serverCommand } from './server.js';
import { teamCommand } from './team.js';

/** The admins' commands of `/onbehalf admin …`, in the order help lists them. Authorisation happens in the router. */
export const adminCommands: CommandSpec[] = [
  providerCommand,
  ...serviceCommands,
  serverCommand,
  bindCommand,
  ...ruleCommands,
  secretCommand,
  teamCommand,
  roleCommand,
  orgCommand,
  approveCommand,
  auditCommand,
];

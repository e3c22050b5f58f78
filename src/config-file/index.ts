// Config as code: ONBEHALF_CONFIG names a YAML file of orgs and their providers, servers, rules,
// approvals, teams and admins, applied at start and by `onbehalf config apply`. An outer layer like
// the CLI: it changes things only through the services chat's admin commands use.
import type { Config } from '../config.js';
import { applyPlan, planFile, planText } from './apply.js';
import { ConfigFileError, loadConfigFile } from './load.js';
import type { ConfigServices } from './state.js';

export { ConfigFileError, loadConfigFile, type LoadedFile } from './load.js';
export { applyPlan, exportConfig, planFile, planText, type OrgPlan } from './apply.js';
export type { ConfigServices } from './state.js';

/** Applies the file Config names (dry run: only plans); the plan as text. Throws ConfigFileError on a mistake. */
export async function applyConfigFile(
  svc: ConfigServices,
  config: Pick<Config, 'configFile'>,
  opts: { dryRun?: boolean } = {},
): Promise<string> {
  if (!config.configFile)
    throw new ConfigFileError('ONBEHALF_CONFIG is not set (example: ONBEHALF_CONFIG=./onbehalf.yaml)');
  const f = loadConfigFile(config.configFile.path, config.configFile.env);
  const plans = await planFile(svc, f);
  if (!opts.dryRun) await applyPlan(svc, f, plans);
  return planText(f, plans);
}

/**
 * `serve`'s start. Replicas started together take turns on a lock shared by every process on the
 * database (a Postgres advisory lock), so the second plans only after the first has applied and
 * finds everything in place: objects without a natural key (access rules) are made once. A replica
 * that still meets a write conflict (another process changing the same objects, e.g. `config
 * apply` run by hand) plans again and applies what is left, up to 5 tries. A mistake in the file
 * (ConfigFileError) stops at once.
 */
export async function applyAtStart(svc: ConfigServices, config: Pick<Config, 'configFile'>): Promise<string> {
  return svc.store.exclusive(CONFIG_LOCK, async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await applyConfigFile(svc, config);
      } catch (err) {
        if (err instanceof ConfigFileError || attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 400));
      }
    }
  });
}

/** The key of the lock applying the config file takes. */
export const CONFIG_LOCK = 'config-file';

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { Secret } from '../crypto/index.js';
import { CodedError } from '../errors.js';
import { fileSchema, type OrgDecl } from './schema.js';

/** A mistake in the config file: `message` names the file, line and column and what is expected. */
export class ConfigFileError extends CodedError {
  readonly code = 'config_file_invalid';
}

/** A path into the file: keys and list positions (`['orgs', 0, 'servers', 1]`). */
export type DeclPath = readonly (string | number)[];

/** The config file, parsed and checked, with what its secret references hold. */
export interface LoadedFile {
  /** The file as the operator named it (relative to the working directory when under it). */
  file: string;
  orgs: OrgDecl[];
  /** `file:line:col` of the node at `p` (or of the nearest enclosing one). */
  at(p: DeclPath): string;
  /** The secret a reference (`env:NAME`, `file:PATH`) holds. */
  secret(ref: string): Secret;
}

/** Where the file's mistakes are reported: `file:line:col`. */
function locator(file: string, doc: Document, lines: LineCounter) {
  return (p: DeclPath, keyOnly = false): string => {
    let node: Node | null | undefined = doc.contents;
    let offset = node?.range?.[0] ?? 0;
    for (const seg of p) {
      let next: Node | null | undefined;
      if (isMap(node)) {
        const pair: { key: unknown; value: unknown } | undefined = node.items.find(
          (i) => isScalar(i.key) && i.key.value === seg,
        );
        next = keyOnly && seg === p[p.length - 1] ? (pair?.key as Node) : (pair?.value as Node | null);
        if (!next && pair) next = pair.key as Node;
      } else if (isSeq(node) && typeof seg === 'number') next = node.items[seg] as Node | undefined;
      if (!next?.range) break;
      node = next;
      offset = next.range[0];
    }
    const { line, col } = lines.linePos(offset);
    return `${file}:${line}:${col}`;
  };
}

const shown = (p: DeclPath) =>
  p
    .map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`))
    .join('')
    .replace(/^\./, '');

/** The first zod issue as `file:line:col: where: what is expected`. */
function issueLine(at: ReturnType<typeof locator>, issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    return `${at([...issue.path, key] as DeclPath, true)}: ${shown([...issue.path, key] as DeclPath)}: unknown key (see the README's Config as code for the keys)`;
  }
  const what = issue.message.replace(/^Invalid input: /, '');
  return `${at(issue.path as DeclPath)}: ${shown(issue.path as DeclPath) || 'the file'}: ${what}`;
}

/**
 * Reads, parses (YAML) and checks (zod) the config file; every secret reference must resolve.
 * `env` is the environment the references read. Throws ConfigFileError on the first mistake.
 */
export function loadConfigFile(filePath: string, env: Readonly<Record<string, string | undefined>>): LoadedFile {
  const rel = path.relative(process.cwd(), filePath);
  const file = rel && !rel.startsWith('..') ? rel : filePath;
  let text: string;
  try {
    text = readFileSync(filePath, 'utf8');
  } catch (err) {
    throw new ConfigFileError(
      `${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}); ONBEHALF_CONFIG names it`,
    );
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const bad = doc.errors[0];
  if (bad) {
    const pos = bad.linePos?.[0] ?? { line: 1, col: 1 };
    throw new ConfigFileError(`${file}:${pos.line}:${pos.col}: not valid YAML: ${bad.message.split('\n')[0]}`);
  }
  const at = locator(file, doc, lines);
  const parsed = fileSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) throw new ConfigFileError(issueLine(at, parsed.error.issues[0]!));
  const orgs = parsed.data.orgs;
  checkUnique(orgs, at);
  const secrets = resolveSecrets(orgs, at, path.dirname(filePath), env);
  return {
    file,
    orgs,
    at: (p) => at(p),
    secret: (ref) => {
      const s = secrets.get(ref);
      if (!s) throw new Error(`secret reference ${ref} was not resolved when the file was loaded`);
      return s;
    },
  };
}

/** No two orgs of one workspace, nor two objects of one name in an org. */
function checkUnique(orgs: OrgDecl[], at: (p: DeclPath) => string): void {
  const dup = (p: DeclPath, what: string) => {
    throw new ConfigFileError(`${at(p)}: ${shown(p)}: ${what} is declared twice (expected each once)`);
  };
  const seenOrgs = new Set<string>();
  orgs.forEach((o, i) => {
    const k = `${o.platform}:${o.workspace}`;
    if (seenOrgs.has(k)) dup(['orgs', i, 'workspace'], `org ${k}`);
    seenOrgs.add(k);
    const lists: [string, string, string[]][] = [
      ['providers', 'provider', (o.providers ?? []).map((x) => x.slug)],
      ['servers', 'server', (o.servers ?? []).map((x) => x.name)],
      ['teams', 'team', (o.teams ?? []).map((x) => x.name)],
      ['approvals', 'approval', (o.approvals ?? []).map((x) => `${x.server} ${x.tools}`)],
      ['admins', 'admin', o.admins ?? []],
    ];
    for (const [list, label, keys] of lists) {
      const seen = new Set<string>();
      keys.forEach((k2, j) => {
        if (seen.has(k2)) dup(['orgs', i, list, j], `${label} ${k2}`);
        seen.add(k2);
      });
    }
  });
}

/** Every `client_secret` reference, read now: a missing variable or file stops start-up here. */
function resolveSecrets(
  orgs: OrgDecl[],
  at: (p: DeclPath) => string,
  dir: string,
  env: Readonly<Record<string, string | undefined>>,
): Map<string, Secret> {
  const out = new Map<string, Secret>();
  orgs.forEach((o, i) =>
    (o.providers ?? []).forEach((p, j) => {
      const ref = p.client_secret;
      if (!ref || out.has(ref)) return;
      const where = `${at(['orgs', i, 'providers', j, 'client_secret'])}: orgs[${i}].providers[${j}].client_secret`;
      if (ref.startsWith('env:')) {
        const v = env[ref.slice(4)];
        if (!v)
          throw new ConfigFileError(
            `${where}: ${ref.slice(4)} is not set (expected the client secret in that variable)`,
          );
        out.set(ref, new Secret(v));
        return;
      }
      const f = path.resolve(dir, ref.slice(5));
      try {
        out.set(ref, new Secret(readFileSync(f, 'utf8').trim()));
      } catch (err) {
        throw new ConfigFileError(
          `${where}: ${f} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}; expected a file holding the client secret)`,
        );
      }
    }),
  );
  return out;
}

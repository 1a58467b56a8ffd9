/**
 * Recognises the DDL statements that matter to capture in binlog QUERY events. The binlog
 * carries TRUNCATE and DDL only as statement text: row events never describe them.
 */
export interface DdlInfo {
  kind: 'truncate' | 'alter' | 'rename' | 'create' | 'drop' | 'other';
  /** `db.table` names the statement touches (unqualified names use the event's default database). */
  tables: string[];
  /** Columns an ALTER TABLE renames, in statement order. */
  renames: { from: string; to: string }[];
}

const NAME = '(?:`(?:[^`]|``)+`|[\\w$]+)(?:\\s*\\.\\s*(?:`(?:[^`]|``)+`|[\\w$]+))?';

const PATTERNS: [DdlInfo['kind'], RegExp][] = [
  ['truncate', new RegExp(`^TRUNCATE\\s+(?:TABLE\\s+)?(${NAME})`, 'i')],
  ['alter', new RegExp(`^ALTER\\s+(?:ONLINE\\s+)?(?:IGNORE\\s+)?TABLE\\s+(?:IF\\s+EXISTS\\s+)?(${NAME})`, 'i')],
  ['create', new RegExp(`^CREATE\\s+(?:OR\\s+REPLACE\\s+)?TABLE\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?(${NAME})`, 'i')],
];

/** Parses one statement; `defaultDb` is the QUERY event's current database. */
export function parseDdl(sql: string, defaultDb: string): DdlInfo {
  const text = sql.replace(/\/\*[^!][\s\S]*?\*\//g, ' ').trim();
  for (const [kind, re] of PATTERNS) {
    const m = re.exec(text);
    if (m === null) continue;
    const tables = [qualify(m[1]!, defaultDb)];
    const renameTo = kind === 'alter' ? new RegExp(`\\bRENAME\\s+(?:TO\\s+|AS\\s+)?(${NAME})`, 'i').exec(text.slice(m[0].length)) : null;
    if (renameTo !== null && !/^(COLUMN|INDEX|KEY)$/i.test(renameTo[1]!)) tables.push(qualify(renameTo[1]!, defaultDb));
    return { kind, tables, renames: kind === 'alter' ? columnRenames(text.slice(m[0].length)) : [] };
  }
  const rename = /^RENAME\s+TABLES?\s+([\s\S]+)$/i.exec(text);
  if (rename !== null) {
    const names = [...rename[1]!.matchAll(new RegExp(`(${NAME})\\s+TO\\s+(${NAME})`, 'gi'))].flatMap((m) => [m[1]!, m[2]!]);
    return { kind: 'rename', tables: names.map((n) => qualify(n, defaultDb)), renames: [] };
  }
  const drop = /^DROP\s+(?:TEMPORARY\s+)?TABLES?\s+(?:IF\s+EXISTS\s+)?([\s\S]+)$/i.exec(text);
  if (drop !== null) {
    const names = [...drop[1]!.matchAll(new RegExp(NAME, 'g'))].map((m) => m[0]).filter((n) => !/^(RESTRICT|CASCADE)$/i.test(n));
    return { kind: 'drop', tables: names.map((n) => qualify(n, defaultDb)), renames: [] };
  }
  return { kind: 'other', tables: [], renames: [] };
}

const COLUMN = '(`(?:[^`]|``)+`|[\\w$]+)';

/** `RENAME COLUMN a TO b` and `CHANGE [COLUMN] [IF EXISTS] a b <definition>` clauses of an ALTER TABLE. */
export function columnRenames(clauses: string): { from: string; to: string }[] {
  const re = new RegExp(`\\bRENAME\\s+COLUMN\\s+${COLUMN}\\s+TO\\s+${COLUMN}|\\bCHANGE\\s+(?:COLUMN\\s+)?(?:IF\\s+EXISTS\\s+)?${COLUMN}\\s+${COLUMN}`, 'gi');
  const out: { from: string; to: string }[] = [];
  for (const m of clauses.matchAll(re)) {
    const from = unquoteName(m[1] ?? m[3] ?? '');
    const to = unquoteName(m[2] ?? m[4] ?? '');
    if (from !== to) out.push({ from, to });
  }
  return out;
}

function unquoteName(name: string): string {
  return name.startsWith('`') ? name.slice(1, -1).replace(/``/g, '`') : name;
}

function qualify(name: string, defaultDb: string): string {
  const parts = [...name.matchAll(/`((?:[^`]|``)+)`|([\w$]+)/g)].map((m) => (m[1] ?? m[2]!).replace(/``/g, '`'));
  return parts.length === 2 ? `${parts[0]}.${parts[1]}` : `${defaultDb}.${parts[0]}`;
}

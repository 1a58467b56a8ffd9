/**
 * GTID values of both flavours, parsed into structures (never handled as strings: `0-1-10`
 * sorts before `0-1-9`, and `uuid:1-5` is a set, not a number).
 *
 * - MariaDB GTID position `domain-server-seq[,…]`: the last transaction per replication domain.
 * - MySQL GTID set `uuid:1-5:7[,uuid2:1-3]`: executed transactions as intervals per source UUID
 *   (tagged GTIDs of MySQL 8.3+, `uuid:tag:1-5`, are kept per `uuid:tag`).
 */

interface MariadbEntry {
  server: number;
  seq: bigint;
}

/** A MariaDB GTID position: domain id → last GTID applied in that domain. */
export type MariadbGtidPos = Map<number, MariadbEntry>;

/** A MySQL GTID set: `uuid` (or `uuid:tag`) → sorted, disjoint, inclusive intervals. */
export type MysqlGtidSet = Map<string, [bigint, bigint][]>;

export function isMysqlGtidSet(text: string): boolean {
  return text.includes(':');
}

export function parseMariadbGtidPos(text: string): MariadbGtidPos {
  const pos: MariadbGtidPos = new Map();
  for (const part of splitList(text)) {
    const m = /^(\d+)-(\d+)-(\d+)$/.exec(part);
    if (m === null) throw new Error(`not a MariaDB GTID: ${JSON.stringify(part)}`);
    pos.set(Number(m[1]), { server: Number(m[2]), seq: BigInt(m[3]!) });
  }
  return pos;
}

export function formatMariadbGtidPos(pos: MariadbGtidPos): string {
  return [...pos.entries()]
    .sort(([a], [b]) => a - b)
    .map(([domain, e]) => `${domain}-${e.server}-${e.seq}`)
    .join(',');
}

/** Records one committed MariaDB GTID (`domain-server-seq`) in `pos`. */
export function addMariadbGtid(pos: MariadbGtidPos, gtid: string): void {
  for (const [domain, entry] of parseMariadbGtidPos(gtid)) pos.set(domain, entry);
}

export function parseMysqlGtidSet(text: string): MysqlGtidSet {
  const set: MysqlGtidSet = new Map();
  for (const part of splitList(text)) {
    const fields = part.split(':');
    let source = fields[0]!.toLowerCase();
    if (!/^[0-9a-f-]{32,36}$/.test(source)) throw new Error(`not a MySQL GTID set: ${JSON.stringify(part)}`);
    for (const field of fields.slice(1)) {
      if (/^[a-z_][a-z0-9_]*$/i.test(field)) {
        source = `${fields[0]!.toLowerCase()}:${field.toLowerCase()}`;
        continue;
      }
      const m = /^(\d+)(?:-(\d+))?$/.exec(field);
      if (m === null) throw new Error(`not a MySQL GTID interval: ${JSON.stringify(field)}`);
      addInterval(set, source, BigInt(m[1]!), BigInt(m[2] ?? m[1]!));
    }
  }
  return set;
}

export function formatMysqlGtidSet(set: MysqlGtidSet): string {
  return [...set.keys()]
    .sort()
    .map((source) => {
      const ranges = set.get(source)!.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`));
      return `${source}:${ranges.join(':')}`;
    })
    .join(',');
}

/** Records one committed MySQL GTID (`uuid:n` or `uuid:tag:n`) in `set`. */
export function addMysqlGtid(set: MysqlGtidSet, gtid: string): void {
  for (const [source, ranges] of parseMysqlGtidSet(gtid)) {
    for (const [lo, hi] of ranges) addInterval(set, source, lo, hi);
  }
}

function addInterval(set: MysqlGtidSet, source: string, lo: bigint, hi: bigint): void {
  const merged: [bigint, bigint][] = [];
  let cur: [bigint, bigint] = [lo, hi];
  for (const r of [...(set.get(source) ?? [])].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))) {
    if (r[1] + 1n < cur[0] || cur[1] + 1n < r[0]) merged.push(r);
    else cur = [r[0] < cur[0] ? r[0] : cur[0], r[1] > cur[1] ? r[1] : cur[1]];
  }
  merged.push(cur);
  merged.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  set.set(source, merged);
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.replace(/\s+/g, ''))
    .filter((s) => s !== '');
}

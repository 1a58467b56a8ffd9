/**
 * GTID values of both flavours, parsed into structures and compared structurally (never as
 * strings: `0-1-10` sorts before `0-1-9`, and `uuid:1-5` is a set, not a number).
 *
 * - MariaDB GTID position `domain-server-seq[,…]`: the last transaction per replication domain.
 * - MySQL GTID set `uuid:1-5:7[,uuid2:1-3]`: executed transactions as intervals per source UUID
 *   (tagged GTIDs of MySQL 8.3+, `uuid:tag:1-5`, are kept per `uuid:tag`).
 */

/** Result of a structural comparison; `null` when neither value includes the other. */
export type GtidOrder = -1 | 0 | 1 | null;

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

/**
 * Orders two MariaDB positions by sequence number per domain. A position is before another
 * when every domain it lists is at or below the other's; domains missing on one side or
 * mixed directions make them incomparable.
 */
export function compareMariadbGtidPos(a: MariadbGtidPos, b: MariadbGtidPos): GtidOrder {
  let less = false;
  let greater = false;
  for (const domain of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(domain);
    const y = b.get(domain);
    if (x === undefined) less = true;
    else if (y === undefined) greater = true;
    else if (x.seq < y.seq) less = true;
    else if (x.seq > y.seq) greater = true;
  }
  return combine(less, greater);
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

/** Orders two MySQL GTID sets by inclusion: -1 when `a` ⊂ `b`, 1 when `a` ⊃ `b`. */
export function compareMysqlGtidSet(a: MysqlGtidSet, b: MysqlGtidSet): GtidOrder {
  const aInB = includes(b, a);
  const bInA = includes(a, b);
  return aInB && bInA ? 0 : aInB ? -1 : bInA ? 1 : null;
}

/** Compares two GTID strings of the same flavour; throws when the flavours differ. */
export function compareGtid(a: string, b: string): GtidOrder {
  const mysqlA = isMysqlGtidSet(a);
  if (a !== '' && b !== '' && mysqlA !== isMysqlGtidSet(b)) {
    throw new Error('cannot compare a MySQL GTID set with a MariaDB GTID position');
  }
  return mysqlA || isMysqlGtidSet(b)
    ? compareMysqlGtidSet(parseMysqlGtidSet(a), parseMysqlGtidSet(b))
    : compareMariadbGtidPos(parseMariadbGtidPos(a), parseMariadbGtidPos(b));
}

/** True when every transaction of `inner` is in `outer`. */
function includes(outer: MysqlGtidSet, inner: MysqlGtidSet): boolean {
  for (const [source, ranges] of inner) {
    const have = outer.get(source) ?? [];
    for (const [lo, hi] of ranges) {
      if (!have.some(([l, h]) => l <= lo && hi <= h)) return false;
    }
  }
  return true;
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

function combine(less: boolean, greater: boolean): GtidOrder {
  return less && greater ? null : less ? -1 : greater ? 1 : 0;
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.replace(/\s+/g, ''))
    .filter((s) => s !== '');
}

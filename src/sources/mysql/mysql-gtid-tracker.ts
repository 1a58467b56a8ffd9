import {
  addMariadbGtid,
  addMysqlGtid,
  formatMariadbGtidPos,
  formatMysqlGtidSet,
  isMysqlGtidSet,
  parseMariadbGtidPos,
  parseMysqlGtidSet,
  type MariadbGtidPos,
  type MysqlGtidSet,
} from './mysql-gtid.js';

/**
 * The GTID state after each committed transaction, for information in positions. MariaDB: the
 * last GTID per domain (exact for every domain seen since `start`, or since the stream began when
 * `start` was unknown). MySQL: the executed set, only when the starting set was known (a partial
 * set would claim too little).
 */
export class GtidTracker {
  private maria: MariadbGtidPos | undefined;
  private mysql: MysqlGtidSet | undefined;
  private text: string | undefined;

  constructor(start?: string) {
    if (start === undefined || start === '') return;
    if (isMysqlGtidSet(start)) this.mysql = parseMysqlGtidSet(start);
    else this.maria = parseMariadbGtidPos(start);
    this.text = start;
  }

  /** Records a committed transaction's GTID (`domain-server-seq` or `uuid:n`). */
  add(gtid: string): void {
    if (isMysqlGtidSet(gtid)) {
      if (this.mysql === undefined) return;
      addMysqlGtid(this.mysql, gtid);
      this.text = formatMysqlGtidSet(this.mysql);
    } else {
      this.maria ??= new Map<number, { server: number; seq: bigint }>();
      addMariadbGtid(this.maria, gtid);
      this.text = formatMariadbGtidPos(this.maria);
    }
  }

  current(): string | undefined {
    return this.text;
  }
}

/**
 * A source position, tagged by source kind. Positions are plain JSON and opaque outside their
 * connector: only the connector that produced one may parse, order or format it
 * (see `sources/<kind>/<kind>-position.ts`). Never compare positions as strings.
 */
export type Position = PgPosition | MysqlPosition;

/**
 * A PostgreSQL position. `lsn` is the commit LSN of the last transaction included; `seq`, when
 * present, says only the first `seq` events of that transaction are included (a transaction too
 * large for one batch). `ackLsn` is what may be acknowledged to the server once this position is
 * durable: the end LSN of the last whole transaction.
 */
export interface PgPosition {
  kind: 'pg';
  lsn: string;
  ackLsn: string;
  seq?: number;
}

/**
 * A MySQL/MariaDB position: binlog file and offset of the last whole transaction, the GTID set
 * executed up to it when the server has GTIDs, and `seq` for a transaction split across batches.
 */
export interface MysqlPosition {
  kind: 'mysql';
  file: string;
  pos: number;
  gtid?: string;
  seq?: number;
}

export type SourceKind = Position['kind'];

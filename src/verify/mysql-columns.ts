import { mapColumn, type MysqlColumn } from '../sources/mysql/mysql-types.js';
import { cls, duckDecimalScale, notCompared, type Classified } from './column-class.js';

/** The class of a MySQL/MariaDB column (normalised as the pipeline reads it, see mysql-types.ts). */
export function classifyMysqlColumn(col: MysqlColumn): Classified {
  const { column, kind } = mapColumn(col);
  switch (kind) {
    case 'int':
    case 'bit':
    case 'year':
      return cls('int');
    case 'decimal': {
      const scale = duckDecimalScale(column.duckType);
      return scale === null ? cls('text') : { cls: { kind: 'decimal', scale } };
    }
    case 'float':
    case 'double':
      return cls('float');
    case 'text':
      return col.type.startsWith('char(') ? cls('char') : cls('text');
    case 'enum':
    case 'inet4':
    case 'inet6':
      return cls('text');
    case 'binary':
      return cls('bytes');
    case 'date':
      return cls('date');
    case 'datetime':
      return cls('timestamp');
    case 'timestamp':
      return cls('timestamptz');
    case 'time':
      return cls('time');
    case 'json':
      return cls('json');
    case 'set':
      return cls('set');
    case 'uuid':
      return cls('uuid');
    case 'geometry':
      return notCompared('geometry values are not compared');
    case 'other':
      return notCompared('no canonical form for this type');
  }
}

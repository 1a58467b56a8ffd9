import { mapPgType, type PgTypeInfo } from '../sources/postgres/postgres-types.js';
import { cls, duckDecimalScale, notCompared, type Classified } from './column-class.js';

const INTS = new Set(['int2', 'int4', 'int8', 'oid']);
const TEXTS = new Set(['text', 'varchar', 'name', 'citext', 'char']);

/** Follows domains to their base type (and the typmod that applies there). */
function resolveDomain(type: PgTypeInfo, typmod: number): { type: PgTypeInfo; typmod: number } {
  let t = type;
  let mod = typmod;
  for (let depth = 0; t.typtype === 'd' && t.base !== null && depth < 16; depth++) {
    mod = t.baseTypmod >= 0 ? t.baseTypmod : mod;
    t = t.base;
  }
  return { type: t, typmod: mod };
}

/**
 * The class of a PostgreSQL column. Types the pipeline stages as PostgreSQL's own text output
 * (inet, money, xml, ranges, numeric without a fitting precision, ...) compare as that text;
 * arrays, intervals and times with a zone are not compared.
 */
export function classifyPgColumn(type: PgTypeInfo, typmod: number): Classified {
  const { type: t, typmod: mod } = resolveDomain(type, typmod);
  if (t.typtype === 'e') return cls('text');
  if (t.category === 'A') return notCompared('arrays are not compared');
  if (INTS.has(t.name)) return cls('int');
  if (TEXTS.has(t.name)) return cls('text');
  switch (t.name) {
    case 'numeric': {
      const scale = duckDecimalScale(mapPgType(t, mod, 0, () => undefined).duckType);
      return scale === null ? cls('text') : { cls: { kind: 'decimal', scale } };
    }
    case 'float4':
    case 'float8':
      return cls('float');
    case 'bool':
      return cls('bool');
    case 'bpchar':
      return cls('char');
    case 'date':
      return cls('date');
    case 'timestamp':
      return cls('timestamp');
    case 'timestamptz':
      return cls('timestamptz');
    case 'time':
      return cls('time');
    case 'timetz':
      return notCompared('times with a zone offset are not compared');
    case 'interval':
      return notCompared('intervals are not compared (months, days and microseconds have no shared canonical form)');
    case 'uuid':
      return cls('uuid');
    case 'json':
    case 'jsonb':
      return cls('json');
    case 'bytea':
      return cls('bytes');
  }
  // Everything else is staged as PostgreSQL's text output into a VARCHAR column.
  return mapPgType(t, mod, 0, () => undefined).duckType === 'VARCHAR' ? cls('text') : notCompared('no canonical form for this type');
}

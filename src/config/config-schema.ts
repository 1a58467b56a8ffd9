import { z } from 'zod';
import { parseTableRef } from '../model/table-name.js';
import { INTERVAL_HINT, intervalSeconds, parseInterval } from '../model/interval.js';
import { DEFAULT_LAKE_UPKEEP } from '../model/pipeline-spec.js';

const pipelineName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,40}$/, 'use lowercase letters, digits, - and _ (start with a letter, at most 41 characters)');

const tableName = z
  .string()
  .refine((t) => parseTableRef(t) !== null, {
    error:
      'write tables as schema.table (database.table for MySQL), or schema.* for every table of a schema; ' +
      'quote a name holding a dot, a space or a quote: "my schema"."Odd Name" (`db`.`Odd Name` also works); schema names cannot hold a dot',
  });

const noSecrets = {
  password: z.never({ error: 'passwords never go in ducktail.yaml; export it in the worker environment and set passwordEnv: NAME_OF_THAT_VARIABLE' }).optional(),
  passwordEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'name an environment variable, e.g. PGPASSWORD').optional(),
};

export const postgresSourceSchema = z.strictObject({
  kind: z.literal('postgres'),
  url: z.string().optional(),
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(1).max(65535).default(5432),
  database: z.string().min(1).default('postgres'),
  user: z.string().min(1).default('postgres'),
  ...noSecrets,
  tables: z.array(tableName).min(1, 'list at least one table to replicate'),
  slot: z.string().regex(/^[a-z0-9_]{1,63}$/, 'slot names use lowercase letters, digits and _').optional(),
  publication: z.string().regex(/^[A-Za-z0-9_]{1,63}$/, 'publication names use letters, digits and _').optional(),
  ssl: z.boolean().default(false),
});

export const mysqlSourceSchema = z.strictObject({
  kind: z.literal('mysql'),
  url: z.string().optional(),
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(1).max(65535).default(3306),
  user: z.string().min(1).default('root'),
  ...noSecrets,
  tables: z.array(tableName).min(1, 'list at least one table to replicate'),
  serverId: z.number().int().min(1).max(4294967295).optional(),
});

const duckdbDestinationSchema = z.strictObject({
  kind: z.literal('duckdb'),
  path: z.string({ error: 'give the DuckDB file path, e.g. ./ducktail.duckdb' }).min(1, 'give the DuckDB file path, e.g. ./ducktail.duckdb'),
});

const interval = (what: string) =>
  z
    .string()
    .refine((v) => parseInterval(v) !== null, { error: `${what}: ${INTERVAL_HINT}` })
    .transform((v) => parseInterval(v) ?? v);

/** Files a load wrote but has not committed yet look unused to upkeep: it leaves younger files alone. */
const MIN_KEEP_FILES_SECONDS = 600;

/** Lake upkeep (compaction, snapshot expiry, file cleanup) on a schedule. */
const upkeepSchema = z.strictObject({
  every: interval('how often upkeep runs').default(DEFAULT_LAKE_UPKEEP.every),
  keepSnapshots: interval('how long snapshots are kept for time travel').default(DEFAULT_LAKE_UPKEEP.keepSnapshots),
  keepFiles: interval('how long files the lake no longer uses are kept')
    .refine((v) => intervalSeconds(v) >= MIN_KEEP_FILES_SECONDS, {
      error: 'keep unused files at least 10m: a load writes its files before it commits them, and younger files would be taken for unused',
    })
    .default(DEFAULT_LAKE_UPKEEP.keepFiles),
});

const envVariable = (holding: string, example: string) =>
  z
    .string({ error: `name the environment variable holding ${holding}, e.g. ${example}` })
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, `name an environment variable, e.g. ${example}`);

const inlineKey = (field: string, example: string) =>
  z
    .never({ error: `keys never go in ducktail.yaml; export it in the worker environment and set destination.storage.${field}: NAME_OF_THAT_VARIABLE (e.g. ${example})` })
    .optional();

/** An S3-compatible store for the lake's data files: only the names of the variables holding its keys. */
const storageSchema = z.strictObject({
  kind: z.literal('s3', { error: 'destination.storage.kind is s3 (AWS S3, MinIO, R2, or GCS through its S3-compatible endpoint)' }),
  region: z.string().min(1).optional(),
  endpoint: z
    .string()
    .regex(/^[^\s/:]+(:\d{1,5})?$/, 'give the endpoint as host or host:port, without http:// (e.g. 127.0.0.1:9000; set useSsl: false for plain http)')
    .optional(),
  urlStyle: z.enum(['path', 'vhost'], { error: 'urlStyle is path (endpoint/bucket/key, e.g. MinIO) or vhost (bucket.endpoint/key)' }).optional(),
  useSsl: z.boolean().optional(),
  keyIdEnv: envVariable('the access key id', 'AWS_ACCESS_KEY_ID'),
  secretEnv: envVariable('the secret key', 'AWS_SECRET_ACCESS_KEY'),
  sessionTokenEnv: envVariable('a session token', 'AWS_SESSION_TOKEN').optional(),
  keyId: inlineKey('keyIdEnv', 'AWS_ACCESS_KEY_ID'),
  secret: inlineKey('secretEnv', 'AWS_SECRET_ACCESS_KEY'),
  sessionToken: inlineKey('sessionTokenEnv', 'AWS_SESSION_TOKEN'),
  accessKeyId: inlineKey('keyIdEnv', 'AWS_ACCESS_KEY_ID'),
  secretAccessKey: inlineKey('secretEnv', 'AWS_SECRET_ACCESS_KEY'),
});

/** Catalogs Ducktail can reach: PostgreSQL (through DuckDB's postgres extension). */
const LAKE_CATALOG = /^postgres:/;

const ducklakeDestinationSchema = z.strictObject({
  kind: z.literal('ducklake'),
  catalog: z
    .string()
    .regex(LAKE_CATALOG, 'give the DuckLake catalog as postgres:<libpq connection string>, e.g. "postgres:dbname=lake host=127.0.0.1 user=postgres" (other catalog databases are not supported yet)')
    .refine((c) => !/(^|[\s:])password\s*=/i.test(c), {
      error: 'passwords never go in ducktail.yaml; export it in the worker environment and set destination.passwordEnv: NAME_OF_THAT_VARIABLE',
    }),
  dataPath: z.string().min(1, 'give where the lake keeps its data files: a directory (e.g. ./lake-data) or a URL (e.g. s3://bucket/lake/)'),
  ...noSecrets,
  upkeep: z
    .union([z.literal(false), upkeepSchema], { error: 'destination.upkeep is false (no upkeep) or { every, keepSnapshots, keepFiles }' })
    .default(DEFAULT_LAKE_UPKEEP),
  storage: storageSchema.optional(),
}).refine((d) => d.storage === undefined || /^s3:\/\/[^/]+/i.test(d.dataPath), {
  path: ['storage'],
  error: 'destination.storage is for data files on S3-compatible storage: write dataPath as s3://bucket/path/, or remove storage',
});

/** `kind` defaults to duckdb, so configs written before lakes existed keep their meaning. */
const destinationSchema = z.preprocess(
  (v) => (typeof v === 'object' && v !== null && !('kind' in v) ? { ...v, kind: 'duckdb' } : v),
  z.discriminatedUnion('kind', [duckdbDestinationSchema, ducklakeDestinationSchema], {
    error: 'destination.kind must be duckdb (a DuckDB file: path) or ducklake (catalog, dataPath)',
  }),
);

const batchSchema = z
  .strictObject({
    maxRows: z.number().int().min(1).default(100_000),
    maxBytes: z.number().int().min(1024).default(64 * 1024 * 1024),
    maxWaitMs: z.number().int().min(0).default(400),
    // A capture that finds nothing waits this long (long poll) unless the workflow interrupts it.
    idleWaitMs: z.number().int().min(100).max(600_000).default(60_000),
  })
  .prefault({});

const snapshotSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    chunkRows: z.number().int().min(1).default(50_000),
  })
  .prefault({});

const retentionSchema = z
  .strictObject({
    warnBytes: z.number().int().min(0).default(1024 ** 3),
    checkSeconds: z.number().int().min(5).max(3600).default(60),
  })
  .prefault({});

export const pipelineSchema = z.strictObject({
  name: pipelineName,
  source: z.discriminatedUnion('kind', [postgresSourceSchema, mysqlSourceSchema], {
    error: 'source.kind must be postgres or mysql',
  }),
  destination: destinationSchema,
  mode: z.enum(['merge', 'append'], { error: 'mode is merge (current state) or append (audit log)' }).default('merge'),
  keyless: z.enum(['error', 'append'], { error: 'keyless is error or append' }).default('error'),
  batch: batchSchema,
  snapshot: snapshotSchema,
  retention: retentionSchema,
});

export const configSchema = z.strictObject({
  temporal: z
    .strictObject({
      address: z.string().optional(),
      namespace: z.string().min(1).default('default'),
      taskQueue: z.string().min(1).default('ducktail'),
    })
    .prefault({}),
  pipelines: z.array(pipelineSchema).min(1, 'define at least one pipeline'),
});

export type RawConfig = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
export type ParsedPipeline = z.output<typeof pipelineSchema>;

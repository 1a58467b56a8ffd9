import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { ConfigError, InvalidSpecError } from '../errors.js';
import type { DestinationSpec, LakeStorageSpec, PipelineSpec } from '../model/pipeline-spec.js';
import { configSchema, pipelineSchema, type ParsedPipeline } from './config-schema.js';
import { applySourceUrl } from './source-url.js';

export interface DucktailConfig {
  /** Absolute path of the file the config came from. */
  file: string;
  temporal: { address?: string; namespace: string; taskQueue: string };
  pipelines: PipelineSpec[];
}

/** Reads and validates ducktail.yaml; every problem is reported with its field path and the fix. */
export async function loadConfig(file: string): Promise<DucktailConfig> {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch {
    throw new ConfigError(`cannot read config file ${absolute}`, 'create it (see README, "Configuration") or pass --config PATH');
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    const detail = err instanceof YAMLParseError ? err.message : String(err);
    throw new ConfigError(`${absolute} is not valid YAML: ${detail}`);
  }
  return parseConfig(raw, absolute);
}

export function parseConfig(raw: unknown, file: string): DucktailConfig {
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(`invalid config ${file}:\n${formatIssues(result.error)}`);
  const names = new Set<string>();
  for (const p of result.data.pipelines) {
    if (names.has(p.name)) throw new ConfigError(`invalid config ${file}:\n  pipelines: the name "${p.name}" is used twice; pipeline names must be unique`);
    names.add(p.name);
  }
  return {
    file,
    temporal: result.data.temporal,
    pipelines: result.data.pipelines.map((p) => resolvePipeline(p, path.dirname(file))),
  };
}

/**
 * Validates a pipeline spec given as JSON (e.g. pasted into the Temporal UI as workflow input);
 * throws `InvalidSpecError` naming each bad field.
 */
export function parsePipelineSpec(raw: unknown): PipelineSpec {
  const result = pipelineSchema.safeParse(raw);
  if (!result.success) throw new InvalidSpecError(`invalid pipeline spec:\n${formatIssues(result.error)}`, INVALID_SPEC_FIX);
  try {
    return resolvePipeline(result.data, process.cwd());
  } catch (err) {
    if (err instanceof ConfigError && !(err instanceof InvalidSpecError)) throw new InvalidSpecError(`invalid pipeline spec: ${err.message}`);
    throw err;
  }
}

const INVALID_SPEC_FIX = 'correct the workflow input and start the workflow again (`ducktail spec NAME` prints a valid one)';

function resolvePipeline(p: ParsedPipeline, baseDir: string): PipelineSpec {
  const id = p.name.replace(/-/g, '_');
  const source = applySourceUrl(p.source);
  const common = { name: p.name, mode: p.mode, keyless: p.keyless, batch: p.batch, snapshot: p.snapshot, retention: p.retention };
  const destination = resolveDestination(p.destination, baseDir);
  if (source.kind === 'postgres') {
    const { url, password, ...rest } = source;
    return {
      ...common,
      destination,
      source: { ...rest, slot: rest.slot ?? `ducktail_${id}`, publication: rest.publication ?? `ducktail_${id}` },
    };
  }
  const { url, password, ...rest } = source;
  return { ...common, destination, source: { ...rest, serverId: rest.serverId ?? defaultServerId(p.name) } };
}

/** Local paths become absolute (from the config's directory); a DuckDB file's spec keeps its old shape, `{ path }`. */
function resolveDestination(d: ParsedPipeline['destination'], baseDir: string): DestinationSpec {
  if (d.kind === 'duckdb') return { path: path.resolve(baseDir, d.path) };
  const { password, storage, ...lake } = d;
  const dataPath = URL_LIKE.test(lake.dataPath) ? lake.dataPath : path.resolve(baseDir, lake.dataPath);
  return { ...lake, dataPath, ...(storage === undefined ? {} : { storage: resolveStorage(storage) }) };
}

/** The storage block as the spec keeps it: the settings and the names of the key variables. */
function resolveStorage(storage: NonNullable<Extract<ParsedPipeline['destination'], { kind: 'ducklake' }>['storage']>): LakeStorageSpec {
  const { keyId, secret, sessionToken, accessKeyId, secretAccessKey, ...spec } = storage;
  return spec;
}

const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;

/** A stable replica server id per pipeline name, away from the small ids servers usually use. */
function defaultServerId(name: string): number {
  let h = 2166136261;
  for (const ch of name) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return 100_000 + (h % 1_000_000_000);
}

function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length === 0 ? '(top level)' : formatPath(issue.path);
      return `  ${where}: ${issue.message}`;
    })
    .join('\n');
}

function formatPath(parts: readonly PropertyKey[]): string {
  return parts.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

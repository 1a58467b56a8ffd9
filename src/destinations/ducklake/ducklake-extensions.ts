import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { version, type DuckDBConnection } from '@duckdb/node-api';

/**
 * The project-local extension directory `npm run setup` fills from PyPI's
 * duckdb-extension-<name> wheels (scripts/install-duckdb-extensions.sh), laid out as DuckDB's
 * `extension_directory` expects: `<dir>/<version>/<platform>/<name>.duckdb_extension`. Both
 * src/ and dist/ sit one level below the project root.
 */
export const LOCAL_EXTENSION_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../.tools/duckdb-extensions');

/** The extensions a lake with a PostgreSQL catalog loads (as DuckDB names their files). */
const LAKE_EXTENSIONS = ['ducklake', 'postgres_scanner'];

/** True when set-up installed the lake's extensions for the bundled DuckDB version locally. */
export function lakeExtensionsInstalled(dir: string = LOCAL_EXTENSION_DIR): boolean {
  const versionDir = path.join(dir, version());
  if (!existsSync(versionDir)) return false;
  return readdirSync(versionDir).some((platform) =>
    LAKE_EXTENSIONS.every((name) => existsSync(path.join(versionDir, platform, `${name}.duckdb_extension`))),
  );
}

/**
 * Options for a DuckDB instance that attaches lakes: DuckDB loads the extensions from the local
 * directory when set-up filled it (no internet needed), else from its own per-user directory.
 */
export function lakeInstanceOptions(): Record<string, string> {
  return lakeExtensionsInstalled() ? { extension_directory: LOCAL_EXTENSION_DIR } : {};
}

/** True when set-up installed the extension `name` for the bundled DuckDB version locally. */
function installedLocally(name: string, dir: string = LOCAL_EXTENSION_DIR): boolean {
  const versionDir = path.join(dir, version());
  return existsSync(versionDir) && readdirSync(versionDir).some((platform) => existsSync(path.join(versionDir, platform, `${name}.duckdb_extension`)));
}

/**
 * Makes the lake's extensions loadable on `connection`: nothing to do with the local directory;
 * otherwise DuckDB's normal `INSTALL` (downloads once per user and DuckDB version). With data
 * files on object storage, httpfs is installed the same way and loaded.
 */
export async function prepareLakeExtensions(connection: DuckDBConnection, { remoteData = false }: { remoteData?: boolean } = {}): Promise<void> {
  const local = lakeExtensionsInstalled();
  if (!local) {
    await connection.run('INSTALL ducklake');
    await connection.run('INSTALL postgres');
  }
  if (!remoteData) return;
  // The local directory is DuckDB's only when it holds the lake's extensions (lakeInstanceOptions).
  if (!(local && installedLocally('httpfs'))) await connection.run('INSTALL httpfs');
  await connection.run('LOAD httpfs');
}

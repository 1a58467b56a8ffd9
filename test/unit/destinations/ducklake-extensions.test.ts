import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { version } from '@duckdb/node-api';
import { lakeExtensionsInstalled } from '../../../src/destinations/ducklake/ducklake-extensions.js';
import { tempDir } from '../../helpers/pipelines.js';

describe('DuckLake extensions directory', () => {
  test('counts as installed only with ducklake and postgres_scanner of the bundled DuckDB version on one platform', async () => {
    const dir = await tempDir('lake-ext');
    assert.equal(lakeExtensionsInstalled(dir), false);
    const platform = path.join(dir, version(), 'linux_amd64');
    await mkdir(platform, { recursive: true });
    await writeFile(path.join(platform, 'ducklake.duckdb_extension'), 'x');
    assert.equal(lakeExtensionsInstalled(dir), false, 'postgres_scanner is missing');
    await writeFile(path.join(platform, 'postgres.duckdb_extension'), 'x');
    assert.equal(lakeExtensionsInstalled(dir), false, 'postgres must be named postgres_scanner');
    await writeFile(path.join(platform, 'postgres_scanner.duckdb_extension'), 'x');
    assert.equal(lakeExtensionsInstalled(dir), true);
    const other = await tempDir('lake-ext');
    await mkdir(path.join(other, 'v0.0.1', 'linux_amd64'), { recursive: true });
    await writeFile(path.join(other, 'v0.0.1', 'linux_amd64', 'ducklake.duckdb_extension'), 'x');
    await writeFile(path.join(other, 'v0.0.1', 'linux_amd64', 'postgres_scanner.duckdb_extension'), 'x');
    assert.equal(lakeExtensionsInstalled(other), false, 'another DuckDB version does not count');
  });
});

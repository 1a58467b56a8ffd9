import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { chromium, type Browser, type Page } from 'playwright-core';
import { stringify } from 'yaml';
import { pipelineHandle, workflowId } from '../../src/temporal/pipeline-contract.js';
import { PHASE_KEY } from '../../src/workflows/search-attributes.js';
import { pgE2E } from '../helpers/pg-e2e.js';
import { waitForStatus } from '../helpers/pipelines.js';
import { PG_HOST, PG_PORT, PG_USER } from '../helpers/postgres.js';
import { runCli } from '../helpers/temporal.js';
import { waitFor } from '../helpers/wait.js';

// The invalid input's failed run is expected: keep the SDK's warning about it out of the output.
Runtime.install({ logger: new DefaultLogger('ERROR') });

const DB = 'ducktail_e2e';
const TQ = 'e2e-temporal-ui';

/** Debian's chromium (scripts/install-chromium.sh), another Chromium on PATH, or DUCKTAIL_CHROMIUM. */
function findChromium(): string | undefined {
  const named = process.env.DUCKTAIL_CHROMIUM;
  if (named !== undefined && existsSync(named)) return named;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
      if (dir !== '' && existsSync(path.join(dir, name))) return path.join(dir, name);
    }
  }
  return undefined;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const executablePath = findChromium();
const uiPort = await freePort();
const ui = `http://127.0.0.1:${uiPort}/namespaces/default`;

/** What `ducktail spec` prints to type into the form: `Workflow ID:   ducktail-x` etc. on stderr. */
function formField(stderr: string, label: string): string {
  const m = new RegExp(`${label}:\\s+(\\S+)`).exec(stderr);
  assert.ok(m?.[1] !== undefined, `ducktail spec names the ${label}:\n${stderr}`);
  return m[1];
}

/** The workflow's current details as the UI renders them (markdown, in a frame of their own). */
async function shownDetails(page: Page): Promise<string> {
  const frame = page.frames().filter((f) => f.url().includes('/render?') && !f.isDetached()).at(-1);
  return frame === undefined ? '' : frame.locator('body').innerText();
}

/** Opens the workflow's User Metadata tab and waits until its current details match `pattern` (pressing R, the UI's refresh). */
async function seeDetails(page: Page, id: string, pattern: RegExp, what: string): Promise<string> {
  if (!page.url().includes(`/workflows/${id}/`)) await page.goto(`${ui}/workflows/${id}`);
  await page.getByRole('tab', { name: 'User Metadata' }).click();
  return waitFor(what, async () => {
    const text = await shownDetails(page).catch(() => '');
    if (pattern.test(text)) return text;
    await page.keyboard.press('r');
    return undefined;
  }, { timeoutMs: 30_000, intervalMs: 1_000 });
}

describe('the Temporal UI in a real browser: start from the Start Workflow form, details, pause, cancel (real Temporal UI, worker, PostgreSQL, DuckDB)', {
  skip: executablePath === undefined ? 'no chromium installed: `bash scripts/install-chromium.sh` (part of `npm run setup`) installs Debian\'s chromium' : false,
}, () => {
  const h = pgE2E({
    taskQueue: TQ,
    slotPrefix: 'ducktail_e2e_tui',
    schemaSql: 'DROP SCHEMA IF EXISTS e2e_tui CASCADE; CREATE SCHEMA e2e_tui; CREATE TABLE e2e_tui.t (id int PRIMARY KEY); INSERT INTO e2e_tui.t SELECT generate_series(1, 5)',
    server: { uiPort, searchAttributes: true },
  });
  let browser: Browser | undefined;
  after(async () => browser?.close());

  /** Runs `body` with a fresh page; on failure leaves a screenshot in the test's temp dir. */
  async function withPage(name: string, body: (page: Page) => Promise<void>): Promise<void> {
    browser ??= await chromium.launch({ executablePath, args: ['--no-sandbox'] });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(15_000);
    try {
      await body(page);
    } catch (err) {
      const shot = path.join(h.dir, `${name}-failure.png`);
      await page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
      throw new Error(`${(err as Error).message}\n(screenshot: ${shot})`, { cause: err });
    } finally {
      await page.close();
    }
  }

  /** Fills the Start Workflow form as a person would, and starts the workflow. */
  async function startFromForm(
    page: Page,
    fields: { workflowId: string; taskQueue: string; workflowType: string; input: string; searchAttributes?: Record<string, string> },
  ): Promise<void> {
    await page.goto(`${ui}/workflows/start-workflow`);
    await page.getByLabel('Workflow ID').fill(fields.workflowId);
    await page.getByLabel('Task Queue').fill(fields.taskQueue);
    await page.getByLabel('Workflow Type').fill(fields.workflowType);
    const data = page.getByRole('textbox', { name: 'Data' });
    // As printed by `ducktail spec`: one field a line (the form did not take a one-line JSON filled in this way).
    await data.fill(JSON.stringify(JSON.parse(fields.input), null, 2));
    assert.deepEqual(JSON.parse(await data.innerText()), JSON.parse(fields.input), 'the editor holds the input as typed');
    const attributes = Object.entries(fields.searchAttributes ?? {});
    if (attributes.length > 0) await page.getByRole('button', { name: 'More options' }).click();
    for (const [i, [name, value]] of attributes.entries()) {
      await page.getByRole('button', { name: 'Add' }).click();
      await page.getByTestId('search-attribute-select-button').nth(i).click();
      await page.getByRole('option', { name: new RegExp(`^${name}`) }).click();
      await page.getByLabel('Value').nth(i).fill(value);
    }
    await page.getByRole('button', { name: 'Start Workflow' }).click();
    await waitFor('the workflow started', async () => (await h.server.env.client.workflow.getHandle(fields.workflowId).describe().then(() => true, () => undefined)), { timeoutMs: 15_000 });
  }

  const spec = (name: string) => ({
    name,
    source: { kind: 'postgres', host: PG_HOST, port: PG_PORT, user: PG_USER, database: DB, tables: ['e2e_tui.t'] },
    destination: { path: path.join(h.dir, `${name}.duckdb`) },
  });

  test('started with the JSON `ducktail spec` prints, the details show it streaming; the signal action pauses it (status says paused); Request Cancellation stops it', { timeout: 90_000 }, async () => {
    const config = path.join(h.dir, 'ducktail.yaml');
    await writeFile(config, stringify({ temporal: { address: h.server.address, taskQueue: TQ }, pipelines: [spec('e2e_tui')] }));
    const printed = await runCli(['spec', 'e2e_tui', '--config', config]);
    assert.equal(printed.code, 0, printed.stderr);
    const client = h.server.env.client;

    await withPage('start', async (page) => {
      await startFromForm(page, {
        workflowId: formField(printed.stderr, 'Workflow ID'),
        taskQueue: formField(printed.stderr, 'Task Queue'),
        workflowType: formField(printed.stderr, 'Workflow Type'),
        input: printed.stdout,
        // As the README says: the phase search attribute, for the workflow list (the workflow keeps it current).
        searchAttributes: { DucktailPhase: 'starting' },
      });
      await waitForStatus(client, 'e2e_tui', 'the snapshot loaded', (s) => s.events === 5 && s.phase === 'streaming', 30_000);

      const details = await seeDetails(page, workflowId('e2e_tui'), /Phase: streaming/, 'the current details in the UI');
      assert.match(details, /Loaded: \d+ batches, 5 changes/);
      assert.match(details, /Replicates: postgres:\/\/postgres@127\.0\.0\.1:\d+\/ducktail_e2e → .*e2e_tui\.duckdb \(merge\)/);
      assert.match(details, /Position: [0-9A-F]+\/[0-9A-F]+/);
      await page.getByRole('tab', { name: 'Timeline' }).click();
      await page.getByText(/loadBatch • batch 1: 5 changes, 1 table/).waitFor();

      // Pause with the UI's signal action.
      await page.getByRole('button', { name: 'More Actions' }).click();
      await page.getByRole('menuitem', { name: 'Send a Signal' }).click();
      const signal = page.getByRole('dialog').filter({ hasText: 'Send a Signal' });
      await signal.getByTestId('signal-select-button').click();
      await signal.getByRole('option', { name: 'pause', exact: true }).click();
      await signal.getByRole('button', { name: 'Submit' }).click();
      await waitForStatus(client, 'e2e_tui', 'paused', (s) => s.phase === 'paused', 30_000);
      const status = await runCli(['status', 'e2e_tui', '--config', config]);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /e2e_tui: paused — running workflow ducktail-e2e_tui/);
      assert.equal((await pipelineHandle(client, 'e2e_tui').describe()).typedSearchAttributes.get(PHASE_KEY), 'paused');
      await page.goto(`${ui}/workflows?query=${encodeURIComponent('DucktailPhase = "paused"')}`);
      await page.getByRole('link', { name: workflowId('e2e_tui') }).first().waitFor();
      assert.match(await seeDetails(page, workflowId('e2e_tui'), /Paused\s+Send the signal/, 'the paused details in the UI'), /Send the signal resume \(or ducktail resume e2e_tui\)[\s\S]*Phase: paused/);

      // Cancel with the UI's Request Cancellation: a graceful stop.
      await page.getByRole('button', { name: 'Request Cancellation' }).click();
      await page.getByRole('dialog').filter({ hasText: 'Cancel Workflow' }).getByRole('button', { name: 'Confirm' }).click();
      assert.equal((await pipelineHandle(client, 'e2e_tui').result()).phase, 'stopped');
      await page.reload();
      await page.getByText('Completed', { exact: true }).first().waitFor();
    });
  });

  test('an input without the defaults (only what has none) runs, on the validated spec', { timeout: 60_000 }, async () => {
    await withPage('minimal', async (page) => {
      await startFromForm(page, { workflowId: workflowId('e2e_tui_min'), taskQueue: TQ, workflowType: 'pipelineWorkflow', input: JSON.stringify({ spec: spec('e2e_tui_min') }) });
      const s = await waitForStatus(h.server.env.client, 'e2e_tui_min', 'the snapshot loaded', (x) => x.events === 5, 30_000);
      assert.equal(s.source, `postgres://${PG_USER}@${PG_HOST}:${PG_PORT}/${DB}`);
      await seeDetails(page, workflowId('e2e_tui_min'), /Loaded: \d+ batches, 5 changes/, 'the current details in the UI');
      await pipelineHandle(h.server.env.client, 'e2e_tui_min').cancel();
      assert.equal((await pipelineHandle(h.server.env.client, 'e2e_tui_min').result()).phase, 'stopped');
    });
  });

  test('an invalid input fails the run with the validation error, shown in the UI', { timeout: 60_000 }, async () => {
    await withPage('invalid', async (page) => {
      const bad = { spec: { ...spec('e2e_tui_bad'), source: { kind: 'postgres', tables: ['no_schema'] } } };
      await startFromForm(page, { workflowId: workflowId('e2e_tui_bad'), taskQueue: TQ, workflowType: 'pipelineWorkflow', input: JSON.stringify(bad) });
      const handle = h.server.env.client.workflow.getHandle(workflowId('e2e_tui_bad'));
      await assert.rejects(handle.result(), /Workflow execution failed/);
      assert.equal((await handle.describe()).status.name, 'FAILED');
      await page.goto(`${ui}/workflows/${workflowId('e2e_tui_bad')}`);
      await page.getByText('Failed', { exact: true }).first().waitFor();
      await page.getByText(/source\.tables\[0\]: write tables as schema\.table/).first().waitFor();
      // `status` says why the run failed and how to go on.
      const config = path.join(h.dir, 'ducktail-bad.yaml');
      await writeFile(config, stringify({ temporal: { address: h.server.address, taskQueue: TQ }, pipelines: [spec('e2e_tui_bad')] }));
      const status = await runCli(['status', 'e2e_tui_bad', '--config', config]);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /e2e_tui_bad: failed \(workflow ducktail-e2e_tui_bad\)/);
      assert.match(status.stdout, /source\.tables\[0\]: write tables as schema\.table/);
      assert.match(status.stdout, /start it again once fixed: ducktail start e2e_tui_bad/);
    });
  });
});

/**
 * The Samsa Console end to end in a real browser: Debian's Chromium, headless, driven by
 * playwright-core, against a live cluster (3 controllers, 3 brokers) and `samsa console` started
 * by the test. What the page shows is checked against what the CLI says, and the other way round.
 * Screenshots of each view go to packages/console/test-output/ (gitignored).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noopLogger } from '@samsa/client';
import { startStandaloneWorker, type StandaloneWorker } from '@samsa/connect';
import { startSchemaRegistryServer, type RunningSchemaRegistry } from '@samsa/registry';
import { freePort, waitFor } from '@samsa/testkit';
import { startCluster, type TestCluster } from '../../cli/test/helpers/cluster.js';
import { CLI, runCliAsync, stopProcess } from '../../cli/test/helpers/processes.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = fileURLToPath(new URL('../test-output/', import.meta.url));
// A closed network: nothing of Chromium's own may try to reach outside 127.0.0.1.
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

let cluster: TestCluster;
let consoleProcess: ChildProcess;
// Both are closed by their own cases, while the cluster is still up (closing them after the last
// case has stopped every broker waits on the cluster); afterAll closes what a failed case left.
let registry: RunningSchemaRegistry | undefined;
let connectWorker: StandaloneWorker | undefined;
let consoleUrl: string;
let context: BrowserContext;
let page: Page;
let userDataDir: string;
let bootstrap: string;
const outside: string[] = [];

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const go = async (hash: string) => {
  await page.goto(`${consoleUrl}/#/${hash}`);
};
const text = (selector: string) => page.locator(selector).innerText({ timeout: 5_000 });

async function cli(args: string[], input?: string) {
  const r = await runCliAsync([args[0]!, '--bootstrap-server', bootstrap, ...args.slice(1)], {
    ...(input === undefined ? {} : { input }),
    timeoutMs: 60_000,
  });
  expect(r.status, `samsa ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/ci-deps.sh (apt-get install chromium)`);
  mkdirSync(SHOTS, { recursive: true });
  cluster = await startCluster({
    metrics: true,
    heartbeatIntervalMs: 250,
    sessionTimeoutMs: 2_000,
    brokerArgs: ['--replica-lag-time-max-ms', '2000'],
  });
  bootstrap = cluster.bootstrap.join(',');
  // A real schema registry on the cluster's `_schemas` log, as `cluster up` starts one.
  const reg = await startSchemaRegistryServer({ bootstrapServers: cluster.bootstrap, listener: 'http://127.0.0.1:0' });
  registry = reg;
  // A real standalone Connect worker (in this process) with its REST API.
  const worker = await startStandaloneWorker(
    { 'bootstrap.servers': bootstrap, 'rest.host.name': '127.0.0.1', 'rest.port': String(await freePort()) },
    [],
    noopLogger,
  );
  connectWorker = worker;
  consoleProcess = spawn(
    process.execPath,
    [
      CLI,
      'console',
      '--bootstrap-server',
      bootstrap,
      '--listen',
      '127.0.0.1:0',
      '--metrics-servers',
      cluster.brokers.map((b) => `127.0.0.1:${b.metricsPort}`).join(','),
      '--schema-registry',
      reg.url,
      '--connect',
      `http://127.0.0.1:${worker.restPort}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  consoleProcess.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  consoleProcess.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  consoleUrl = await waitFor(
    'samsa console to print its URL',
    () => {
      if (consoleProcess.exitCode !== null) throw new Error(`samsa console exited ${consoleProcess.exitCode}: ${out}`);
      return /Samsa Console: (http:\/\/127\.0\.0\.1:\d+)\//.exec(out)?.[1];
    },
    30_000,
  );
  userDataDir = mkdtempSync(join(tmpdir(), 'samsa-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('request', (r) => {
    if (!r.url().startsWith(consoleUrl) && !r.url().startsWith('data:')) outside.push(r.url());
  });
}, 180_000);

afterAll(async () => {
  await context?.close();
  if (consoleProcess) await stopProcess(consoleProcess, 'SIGTERM');
  await connectWorker?.stop();
  await registry?.close();
  await cluster?.stop();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

describe('Samsa Console in Chromium', { timeout: 180_000 }, () => {
  it('shows three unfenced brokers and the quorum, reachable by keyboard', async () => {
    await go('overview');
    await waitFor(
      'three unfenced brokers on the page',
      async () => (await page.locator('[data-broker] .state').allInnerTexts()).filter((s) => s.trim() === 'unfenced').length === 3,
      30_000,
      200,
    );
    expect(await page.locator('[data-testid=quorum] tbody tr').count()).toBe(3);
    await shot('overview');

    // Keyboard: Tab from the top reaches the nav; Enter on "Topics" opens the topics view.
    await page.keyboard.press('Tab'); // the skip link
    for (let i = 0; i < 2; i++) await page.keyboard.press('Tab'); // Overview, Topics
    expect(
      await page.evaluate(
        () =>
          (globalThis as unknown as { document: { activeElement: { textContent: string | null } | null } }).document.activeElement
            ?.textContent,
      ),
    ).toBe('Topics');
    await page.keyboard.press('Enter');
    await page.locator('#h-topics').waitFor({ timeout: 5_000 });
  });

  it('a topic created in the UI is listed by samsa topics --list; one created by the CLI appears in the UI', async () => {
    await go('topics');
    const form = page.locator('[data-testid=create-topic]');
    await form.locator('input[name=name]').fill('ui-topic');
    await form.locator('input[name=partitions]').fill('3');
    await form.locator('input[name=replicationFactor]').fill('3');
    await form.locator('button[type=submit]').click();
    await expect.poll(() => form.locator('[role=status]').innerText(), { timeout: 20_000 }).toBe('Created topic ui-topic.');
    expect((await cli(['topics', '--list'])).split('\n')).toContain('ui-topic');

    await cli(['topics', '--create', '--topic', 'cli-topic', '--partitions', '3', '--replication-factor', '3']);
    await page.locator('[data-topic="cli-topic"]').waitFor({ timeout: 10_000 });
    await shot('topics');

    // The UI refuses a bad config with the broker's words, and creates nothing.
    await form.locator('input[name=name]').fill('bad-config-topic');
    await form.locator('textarea[name=configs]').fill('no.such.config=1');
    await form.locator('button[type=submit]').click();
    await expect
      .poll(() => form.locator('[role=status]').innerText(), { timeout: 20_000 })
      .toMatch(/^INVALID_CONFIG \[40\]: .*no\.such\.config/);
    expect((await cli(['topics', '--list'])).split('\n')).not.toContain('bad-config-topic');
  });

  it('deletes a topic only after the confirmation is accepted, and the CLI no longer lists it', async () => {
    await cli(['topics', '--create', '--topic', 'doomed-topic', '--partitions', '1', '--replication-factor', '1']);
    await go('topics/doomed-topic');
    await page.locator('[data-testid=partitions] tr[data-partition="0"]').waitFor({ timeout: 15_000 });
    const asked: string[] = [];
    page.once('dialog', (d) => {
      asked.push(d.message());
      void d.dismiss();
    });
    await page.getByRole('button', { name: 'Delete topic' }).click();
    await waitFor('the confirmation to be asked', () => asked.length === 1, 5_000, 50);
    expect(asked[0]).toBe('Delete topic doomed-topic? Its records are lost.');
    // Dismissed: the page stays and the topic is still there.
    expect(await page.locator('#h-topic').innerText()).toBe('Topic doomed-topic');
    expect((await cli(['topics', '--list'])).split('\n')).toContain('doomed-topic');
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Delete topic' }).click();
    await page.locator('#h-topics').waitFor({ timeout: 15_000 });
    await waitFor(
      'samsa topics --list without doomed-topic',
      async () => !(await cli(['topics', '--list'])).split('\n').includes('doomed-topic'),
      30_000,
      500,
    );
  });

  it('records produced by the CLI appear in the message browser with keys, headers and JSON values', async () => {
    const lines = [1, 2, 3].map((i) => `source:cli,n:${i}\tkey-${i}\t{"order":${i},"item":"widget"}`).join('\n') + '\n';
    await cli(
      ['produce', '--topic', 'cli-topic', '--partition', '1', '--property', 'parse.key=true', '--property', 'parse.headers=true'],
      lines,
    );
    await go('topics/cli-topic/messages');
    const browse = page.locator('[data-testid=browse]');
    await browse.locator('input[name=partition]').fill('1');
    await browse.locator('select[name=from]').selectOption('earliest');
    await browse.locator('button[type=submit]').click();
    await page.locator('[data-testid=records] tr[data-offset="2"]').waitFor({ timeout: 15_000 });
    const row = page.locator('[data-testid=records] tr[data-offset="1"]');
    expect(await row.locator('.key').innerText()).toBe('key-2');
    expect(JSON.parse(await row.locator('.value').innerText())).toEqual({ order: 2, item: 'widget' });
    expect(await row.locator('.headers').innerText()).toBe('source=cli\nn=2');
    await shot('messages');
  });

  it('a record produced from the form is read by samsa consume', async () => {
    await go('topics/ui-topic/messages');
    const form = page.locator('[data-testid=produce]');
    await form.locator('input[name=key]').fill('form-key');
    await form.locator('textarea[name=value]').fill('{"from":"the form"}');
    await form.locator('textarea[name=headers]').fill('via=console');
    await form.locator('input[name=partition]').fill('0');
    await form.locator('button[type=submit]').click();
    await expect.poll(() => form.locator('[role=status]').innerText(), { timeout: 20_000 }).toBe('Produced to partition 0 at offset 0.');
    const out = await cli([
      'consume',
      '--topic',
      'ui-topic',
      '--partition',
      '0',
      '--offset',
      'earliest',
      '--max-messages',
      '1',
      '--timeout-ms',
      '20000',
      '--property',
      'print.key=true',
    ]);
    expect(out.trim()).toBe('form-key\t{"from":"the form"}');
  });

  it("a group's lag on the page equals samsa groups --describe", async () => {
    const lines = Array.from({ length: 12 }, (_, i) => `v${i}`).join('\n') + '\n';
    await cli(['produce', '--topic', 'ui-topic'], lines);
    // A fresh group right after the cluster started: the first join must succeed even when the
    // coordinator moves or reloads between the two KIP-394 joins (UNKNOWN_MEMBER_ID → join again).
    const consumeArgs = [
      'consume',
      '--bootstrap-server',
      bootstrap,
      '--topic',
      'ui-topic',
      '--group',
      'e2e-group',
      '--from-beginning',
      '--max-messages',
      '5',
      '--timeout-ms',
      '20000',
    ];
    const consumed = await runCliAsync(consumeArgs, { timeoutMs: 60_000 });
    expect(consumed.status, consumed.stderr).toBe(0);
    const describe = await cli(['groups', '--describe', '--group', 'e2e-group']);
    const cliLag = new Map<string, string>();
    for (const line of describe.split('\n')) {
      const m = /^e2e-group\s+(ui-topic)\s+(\d+)\s+\S+\s+\S+\s+(\S+)/.exec(line);
      if (m) cliLag.set(`${m[1]}-${m[2]}`, m[3]!);
    }
    expect(cliLag.size, describe).toBeGreaterThan(0);
    await go('groups');
    await page.locator('[data-group="e2e-group"] a').click();
    await page.locator('[data-testid=group-offsets]').waitFor({ timeout: 15_000 });
    expect(await page.locator('[data-testid=group-offsets] tbody tr').count()).toBe(cliLag.size);
    for (const [tp, lag] of cliLag) expect(await text(`[data-tp="${tp}"] .lag`)).toBe(lag);
    const total = [...cliLag.values()].reduce((s, l) => s + (l === '-' ? 0 : Number(l)), 0);
    expect(await text('[data-testid=total-lag]')).toBe(String(total));
    await page.waitForTimeout(2_500); // a few lag samples on the chart for the screenshot
    await shot('group');

    // Reset offsets: the dry run changes nothing; execute moves the committed offsets.
    const reset = page.locator('[data-testid=reset]');
    await reset.locator('select').selectOption('latest');
    await reset.getByRole('button', { name: 'Dry run' }).click();
    await reset.locator('caption').filter({ hasText: 'Dry run' }).waitFor({ timeout: 15_000 });
    expect(await cli(['groups', '--describe', '--group', 'e2e-group'])).toMatch(/e2e-group\s+ui-topic\s+\d\s+\S+\s+\d+\s+[1-9]/);
    await reset.getByRole('button', { name: 'Execute' }).click();
    await reset.locator('caption').filter({ hasText: 'Offsets reset' }).waitFor({ timeout: 15_000 });
    await expect.poll(() => text('[data-testid=total-lag]'), { timeout: 10_000 }).toBe('0');
  });

  it('shows produce/fetch rates, bytes and latency charts from /metrics', async () => {
    await go('metrics');
    await page.locator('[data-testid=chart-requests] canvas').waitFor({ timeout: 15_000 });
    await cli(['produce', '--topic', 'cli-topic'], Array.from({ length: 50 }, (_, i) => `m${i}`).join('\n') + '\n');
    // The CLI's producer pipelines its calls over ProduceStream: they count as produce requests.
    await waitFor(
      "a metrics point with the CLI's produce traffic",
      async () => {
        const m = (await (await fetch(`${consoleUrl}/api/metrics`)).json()) as {
          history: Array<{ produceRequestsPerSec: number; bytesInPerSec: number }>;
        };
        return m.history.some((p) => p.produceRequestsPerSec > 0 && p.bytesInPerSec > 0);
      },
      20_000,
      500,
    );
    await page.waitForTimeout(2_000); // the page's next polls draw it
    expect(await page.locator('.chart canvas').count()).toBe(3);
    await shot('metrics');
  });

  it('the Schemas view lists a registered subject, shows the diff between its versions and checks compatibility', async () => {
    const reg = registry!;
    const record = (fields: unknown[]) => JSON.stringify({ type: 'record', name: 'Order', namespace: 'shop', fields });
    for (const schema of [
      record([{ name: 'id', type: 'long' }]),
      record([
        { name: 'id', type: 'long' },
        { name: 'note', type: 'string', default: '' },
      ]),
    ]) {
      const res = await fetch(`${reg.url}/subjects/orders-value/versions`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
        body: JSON.stringify({ schema }),
      });
      expect(res.status, await res.text()).toBe(200);
    }
    await go('schemas');
    await page.locator('[data-subject="orders-value"] a').click({ timeout: 10_000 });
    await expect.poll(() => text('[data-testid=compatibility]'), { timeout: 10_000 }).toBe('BACKWARD');
    await expect
      .poll(async () => (await page.locator('[data-testid=diff] .add').allInnerTexts()).join('\n'), { timeout: 10_000 })
      .toContain('"note"');
    await page
      .locator('[data-testid=compat]')
      .getByLabel('Schema', { exact: true })
      .fill(record([{ name: 'qty', type: 'int' }]));
    await page.locator('[data-testid=compat] button[type=submit]').click();
    await expect.poll(() => text('[data-testid=compat-result]'), { timeout: 10_000 }).toContain('Not compatible');
    await shot('schemas');

    // Register through the form: a compatible v3 is stored by the registry and shown; an
    // incompatible one is refused with the registry's 409 and its sentence, and stores nothing.
    const form = page.locator('[data-testid=register]');
    await form.locator('textarea[name=schema]').fill(
      record([
        { name: 'id', type: 'long' },
        { name: 'note', type: 'string', default: '' },
        { name: 'tag', type: ['null', 'string'], default: null },
      ]),
    );
    await form.locator('button[type=submit]').click();
    await expect
      .poll(() => form.locator('[data-testid=register-result]').innerText(), { timeout: 15_000 })
      .toMatch(/^Registered orders-value version 3 \(schema id \d+\)\.$/);
    const versions = async () => (await (await fetch(`${reg.url}/subjects/orders-value/versions`)).json()) as number[];
    expect(await versions()).toEqual([1, 2, 3]);
    await page.getByRole('button', { name: 'v3' }).waitFor({ timeout: 10_000 });
    await form.locator('textarea[name=schema]').fill(record([{ name: 'qty', type: 'int' }]));
    await form.locator('button[type=submit]').click();
    await expect
      .poll(() => form.locator('[data-testid=register-result]').innerText(), { timeout: 15_000 })
      .toMatch(/^INVALID_REQUEST \[42\] \(HTTP 409, error_code 409\): schema registry: ./);
    expect(await form.locator('[data-testid=register-result]').getAttribute('role')).toBe('alert');
    expect(await versions()).toEqual([1, 2, 3]);
    await shot('schemas-register-refused');

    // A new subject from the list view, as JSON Schema.
    await go('schemas');
    const create = page.locator('[data-testid=register]');
    await create.locator('input[name=subject]').fill('ui-events-value');
    await create.locator('select[name=schemaType]').selectOption('JSON');
    await create.locator('textarea[name=schema]').fill('{"type":"object","properties":{"n":{"type":"integer"}}}');
    await create.locator('button[type=submit]').click();
    await page.locator('[data-subject="ui-events-value"]').waitFor({ timeout: 15_000 });
    const latest = (await (await fetch(`${reg.url}/subjects/ui-events-value/versions/latest`)).json()) as { schemaType?: string };
    expect(latest.schemaType).toBe('JSON');
    await reg.close();
    registry = undefined;
  });

  it('the Connect view shows a running connector and its task, and pauses and resumes it', async () => {
    const worker = connectWorker!;
    await cli(['topics', '--create', '--topic', 'gen-tweets', '--partitions', '1', '--replication-factor', '3']);
    await worker.herder.putConnectorConfig(
      'gen',
      { 'connector.class': 'DatagenConnector', 'kafka.topic': 'gen-tweets', quickstart: 'tweets', 'max.interval': '200' },
      false,
    );
    await go('connect');
    await expect.poll(() => text('[data-connector="gen"] .state'), { timeout: 15_000 }).toBe('RUNNING');
    await expect.poll(() => text('[data-connector="gen"] .tasks'), { timeout: 15_000 }).toContain('#0 RUNNING');
    await page.getByRole('button', { name: 'pause gen' }).click();
    await expect.poll(() => text('[data-connector="gen"] .state'), { timeout: 15_000 }).toBe('PAUSED');
    expect(worker.herder.connectorStatus('gen').connector.state).toBe('PAUSED');
    await shot('connect');
    await page.getByRole('button', { name: 'resume gen' }).click();
    await expect.poll(() => text('[data-connector="gen"] .state'), { timeout: 15_000 }).toBe('RUNNING');
    expect(worker.herder.connectorStatus('gen').connector.state).toBe('RUNNING');
    await worker.stop();
    connectWorker = undefined;
  });

  it('SIGKILL a broker: it shows fenced, the ISR shrinks and the leader moves; restarted, the ISR grows back', async () => {
    await go('topics/cli-topic');
    await waitFor(
      'cli-topic fully replicated on screen',
      async () => (await text('[data-partition="0"] .isr')).split(',').length === 3,
      30_000,
      200,
    );
    const leader = Number(await text('[data-partition="0"] .leader'));
    const victim = cluster.brokers.find((b) => b.nodeId === leader)!;
    await cluster.kill(victim, 'SIGKILL');
    const killedAt = Date.now();

    await waitFor(
      'the topic view to show a new leader and the shrunk ISR',
      async () => {
        const l = Number(await text('[data-partition="0"] .leader'));
        const isr = (await text('[data-partition="0"] .isr')).split(',').map(Number);
        return l !== leader && l > 0 && !isr.includes(leader) && isr.length === 2;
      },
      60_000,
      100,
    );
    const topicSeconds = (Date.now() - killedAt) / 1000;
    await shot('topic-broker-killed');

    await go('overview');
    await waitFor(
      'the overview to show the broker fenced',
      async () => (await text(`[data-broker="${leader}"] .state`)) === 'fenced',
      60_000,
      100,
    );
    expect(Number(await text('[data-testid=under-replicated] .value'))).toBeGreaterThan(0);
    const fencedSeconds = (Date.now() - killedAt) / 1000;
    await shot('overview-broker-killed');
    process.stdout.write(
      `console e2e: new leader and shrunk ISR on screen ${topicSeconds.toFixed(1)} s after SIGKILL; fenced on the overview at ${fencedSeconds.toFixed(1)} s\n`,
    );

    await cluster.start(victim);
    await go('topics/cli-topic');
    await waitFor(
      'the ISR to grow back on screen',
      async () => (await text('[data-partition="0"] .isr')).split(',').map(Number).includes(leader),
      90_000,
      200,
    );
    await go('overview');
    await waitFor('the broker unfenced again', async () => (await text(`[data-broker="${leader}"] .state`)) === 'unfenced', 60_000, 200);
    await go('topics/cli-topic');
    await page.locator('[data-testid=partitions]').waitFor();
    await shot('topic');
  });

  it('loaded nothing from outside the console server', () => {
    expect(outside).toEqual([]);
  });

  it('says the cluster does not answer when every broker is down', async () => {
    for (const b of cluster.brokers) await cluster.kill(b, 'SIGKILL');
    await go('overview');
    await page.locator('[data-testid=error]').waitFor({ timeout: 60_000 });
    expect(await text('[data-testid=error]')).toMatch(/Cannot load the overview: the cluster does not answer \(are the brokers down\?\)/);
    expect(await page.locator('[data-testid=error]').getAttribute('data-kind')).toBe('down');
    await shot('cluster-down');
  });
});

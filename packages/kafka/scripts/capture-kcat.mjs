#!/usr/bin/env node
// Regenerates test/fixtures/kcat-frames.json: the request frames kcat 1.7.1 (librdkafka 2.0.2, a
// client no one here wrote) sends to the test FakeBroker for -L, an idempotent acks=all -P, a -C
// from the beginning, a -Q offsets-for-times and a -G group consumer. These are the golden bytes
// of the flexible protocol versions KafkaJS never uses. Needs `kcat` on PATH and a built package
// (node scripts/bootstrap.mjs). Usage: node packages/kafka/scripts/capture-kcat.mjs
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');
const require = createRequire(import.meta.url);
const ts = require(join(pkg, '../../node_modules/typescript'));

// The FakeBroker is a TypeScript test helper; transpile it once, pointed at the built package.
const dist = pathToFileURL(join(pkg, 'dist/index.js')).href;
const source = readFileSync(join(pkg, 'test/helpers/fakeBroker.ts'), 'utf8');
const js = ts
  .transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } })
  .outputText.replace("'../../src/index.js'", JSON.stringify(dist));
const tmp = mkdtempSync(join(tmpdir(), 'kcat-capture-'));
writeFileSync(join(tmp, 'fakeBroker.mjs'), js);
const { FakeBroker } = await import(pathToFileURL(join(tmp, 'fakeBroker.mjs')).href);

const version = spawnSync('kcat', ['-V'], { encoding: 'utf8' });
if (version.status !== 0) throw new Error('kcat is not installed');
const kcatVersion = (version.stdout.split('\n').find((l) => l.startsWith('Version ')) ?? '').replace(/ builtin\.features=.*/, '').trim();

const broker = new FakeBroker();
await broker.start();
const bootstrap = `127.0.0.1:${broker.port}`;
const common = ['-b', bootstrap, '-X', 'client.id=kcat-golden', '-X', 'socket.timeout.ms=5000'];

// Runs kcat asynchronously (the fake broker lives in this process), bounded by a timeout.
function kcat(args, input) {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', [...common, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`kcat ${args.join(' ')} failed (${code ?? signal}): ${err}`));
    });
    child.stdin.end(input ?? '');
  });
}
const steps = [];
async function step(name, args, input) {
  const before = broker.frames.length;
  const output = await kcat(args, input);
  steps.push({ name, args: args.join(' '), output: output.trim(), frames: broker.frames.slice(before) });
}

try {
  await step('metadata', ['-L', '-t', 'golden-topic']);
  await step(
    'produce',
    ['-P', '-t', 'golden-topic', '-K', ':', '-X', 'acks=all', '-X', 'enable.idempotence=true'],
    'k1:first value\nk2:second value\n',
  );
  await step('consume', ['-C', '-t', 'golden-topic', '-o', 'beginning', '-e', '-f', '%k=%s\\n']);
  await step('offsets-for-times', ['-Q', '-t', 'golden-topic:0:1700000000000']);
  await step('group', ['-G', 'golden-group', '-o', 'beginning', '-e', '-X', 'session.timeout.ms=6000', '-f', '%k=%s\\n', 'golden-topic']);
} finally {
  await broker.stop();
  rmSync(tmp, { recursive: true, force: true });
}
if (broker.errors.length > 0) throw broker.errors[0];

const fixture = {
  generatedBy: 'packages/kafka/scripts/capture-kcat.mjs',
  client: kcatVersion,
  steps: steps.map((s) => ({
    name: s.name,
    args: s.args,
    output: s.output,
    frames: s.frames.map((f) => ({ apiKey: f.header.apiKey, apiVersion: f.header.apiVersion, hex: f.frame.toString('hex') })),
  })),
};
const out = join(pkg, 'test/fixtures/kcat-frames.json');
writeFileSync(out, JSON.stringify(fixture, null, 1) + '\n');
console.log(`wrote ${out}: ${fixture.steps.map((s) => `${s.name} ${s.frames.length} frames`).join(', ')}`);

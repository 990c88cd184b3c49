import { eventually } from '@paas/platform/testing';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { BUILDER_CATALOG } from '../src/build-settings';

// Every builder of the catalog honours the source-to-image contract as the official s2i CLI
// reads it: `s2i build` makes an image from a sample app, and that image answers on its port.
// The CLI is S2I_BIN, else ../shared/tools/s2i beside the repository, else `s2i` on PATH.

const REPO_ROOT = path.resolve(__dirname, '../../..');
const LABEL = `paas.dev/test=s2i-cli-${randomUUID().slice(0, 8)}`;
const IMAGE_REPOSITORY = 'paas-test/s2i-cli';
const execFileAsync = promisify(execFile);

function s2iCli(): string | undefined {
  const found = [process.env.S2I_BIN, path.join(REPO_ROOT, '../shared/tools/s2i')].find((file) => file && existsSync(file));
  if (found) return found;
  return spawnSync('s2i', ['version']).status === 0 ? 's2i' : undefined;
}

interface Sample {
  files: Record<string, string>;
  /** What the app answers on `/`. */
  answer: string;
}

const pythonServer = (answer: string) => `import os
from http.server import BaseHTTPRequestHandler, HTTPServer

class Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"${answer}")

HTTPServer(("", int(os.environ["PORT"])), Hello).serve_forever()
`;

/** One sample per builder of the catalog (the test fails for a builder without one), and variants. */
const SAMPLES: Record<string, Sample> = {
  nodejs: {
    files: {
      'package.json': JSON.stringify({ name: 'hello', version: '1.0.0', scripts: { start: 'node server.js' }, dependencies: { ms: '2.1.3' } }),
      'server.js': "const ms = require('ms');\nrequire('node:http').createServer((q, s) => s.end('hello from nodejs ' + ms(60000))).listen(process.env.PORT);\n",
    },
    answer: 'hello from nodejs 1m',
  },
  python: {
    files: {
      'requirements.txt': 'flask==3.0.3\ngunicorn==23.0.0\n',
      'app.py': 'from flask import Flask\n\napp = Flask(__name__)\n\n@app.get("/")\ndef hello():\n    return "hello from flask under gunicorn"\n',
    },
    answer: 'hello from flask under gunicorn',
  },
  'python (asgi)': {
    files: {
      'requirements.txt': 'uvicorn==0.30.6\n',
      'main.py': 'async def app(scope, receive, send):\n    await send({"type": "http.response.start", "status": 200, "headers": []})\n    await send({"type": "http.response.body", "body": b"hello from uvicorn"})\n',
    },
    answer: 'hello from uvicorn',
  },
  'python (no packages)': { files: { 'app.py': pythonServer('hello from python') }, answer: 'hello from python' },
  static: { files: { 'public/index.html': '<h1>hello from static</h1>\n', 'README.md': 'the site is in public/\n' }, answer: '<h1>hello from static</h1>\n' },
};

/** The nodejs sample's lockfile, as npm 10 writes it. */
const NODEJS_LOCKFILE = JSON.stringify({
  name: 'hello',
  version: '1.0.0',
  lockfileVersion: 3,
  requires: true,
  packages: {
    '': { name: 'hello', version: '1.0.0', dependencies: { ms: '2.1.3' } },
    'node_modules/ms': { version: '2.1.3', integrity: 'sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==', license: 'MIT' },
  },
});

const builderOf = (sample: string) => sample.split(' ')[0];
const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim();

const cli = s2iCli();
if (!cli) console.warn('builders.int-spec: no s2i CLI (S2I_BIN, ../shared/tools/s2i or s2i on PATH): the s2i CLI tests are skipped');

(cli ? describe : describe.skip)('the builder images, built by the official s2i CLI', () => {
  const s2i = cli ?? 's2i'; // found, or the tests are skipped
  const dirs: string[] = [];
  const images = new Set<string>();

  afterAll(() => {
    const containers = docker('ps', '-aq', '--filter', `label=${LABEL}`).split('\n').filter(Boolean);
    if (containers.length > 0) docker('rm', '-f', ...containers);
    if (images.size > 0) spawnSync('docker', ['image', 'rm', '-f', ...images]);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  function sourceOf(sample: Sample): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'paas-s2i-cli-'));
    dirs.push(dir);
    for (const [name, content] of Object.entries(sample.files)) {
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      writeFileSync(path.join(dir, name), content);
    }
    return dir;
  }

  /** `s2i build`; answers its output (the build log), or fails with it. */
  async function s2iBuild(source: string, builder: string, image: string, ...flags: string[]): Promise<string> {
    images.add(image);
    const build = execFileAsync(s2i, ['build', source, builder, image, '--pull-policy', 'never', ...flags], { timeout: 120_000, killSignal: 'SIGKILL', maxBuffer: 64 << 20 });
    const { stdout, stderr } = await build.catch((error: { code?: number; signal?: string; stdout: string; stderr: string }) => {
      throw new Error(`s2i build ${builder} ended with ${error.code ?? error.signal}:\n${error.stdout}${error.stderr}`);
    });
    return `${stdout}${stderr}`;
  }

  /** Runs the image as a pod would (an init, port 8080 published on loopback) and answers what `/` says. */
  async function answerOf(image: string): Promise<string> {
    const container = docker('run', '-d', '--init', '--label', LABEL, '-p', '127.0.0.1::8080', image);
    const port = docker('port', container, '8080/tcp').split('\n')[0].split(':').pop();
    try {
      return await eventually(`${image} answering`, async () => (await fetch(`http://127.0.0.1:${port}/`)).text(), 30_000);
    } finally {
      docker('rm', '-f', container);
    }
  }

  it('has a sample app for every builder of the catalog', () => {
    expect(Object.keys(BUILDER_CATALOG).filter((builder) => !Object.keys(SAMPLES).some((sample) => builderOf(sample) === builder))).toEqual([]);
  });

  it.each(Object.keys(BUILDER_CATALOG))('%s: s2i usage prints how to use the image', async (builder) => {
    const { stdout, stderr } = await execFileAsync(s2i, ['usage', BUILDER_CATALOG[builder], '--pull-policy', 'never'], { timeout: 60_000, killSignal: 'SIGKILL' });
    expect(`${stdout}${stderr}`).toContain(`paas-builder/${builder}: a source-to-image (S2I) builder`);
  });

  it.each(Object.keys(SAMPLES))('%s: s2i build makes an image that runs the app', async (sample) => {
    const image = `${IMAGE_REPOSITORY}:${sample.replace(/\W+/g, '-')}`;
    await s2iBuild(sourceOf(SAMPLES[sample]), BUILDER_CATALOG[builderOf(sample)], image);
    expect(docker('image', 'inspect', '--format', '{{json .Config.Cmd}} {{.Config.User}}', image)).toBe('["/usr/libexec/s2i/run"] 1001');
    await expect(answerOf(image)).resolves.toBe(SAMPLES[sample].answer);
  });

  it('nodejs: an incremental s2i build keeps the restored node_modules without npm while package.json and the lockfile are unchanged, and runs npm once they change', async () => {
    const source = sourceOf({ ...SAMPLES.nodejs, files: { ...SAMPLES.nodejs.files, 'package-lock.json': NODEJS_LOCKFILE } });
    const image = `${IMAGE_REPOSITORY}:nodejs-incremental`;
    expect(await s2iBuild(source, BUILDER_CATALOG.nodejs, image)).toContain('---> npm ci');
    const kept = await s2iBuild(source, BUILDER_CATALOG.nodejs, image, '--incremental', '--incremental-pull-policy', 'never');
    expect(kept).toContain('Restoring node_modules from the previous build');
    expect(kept).toContain('its node_modules kept, npm not run');
    expect(kept).not.toContain('---> npm ');
    await expect(answerOf(image)).resolves.toBe(SAMPLES.nodejs.answer);

    writeFileSync(path.join(source, 'package.json'), JSON.stringify({ ...JSON.parse(SAMPLES.nodejs.files['package.json']), description: 'changed' }));
    expect(await s2iBuild(source, BUILDER_CATALOG.nodejs, image, '--incremental', '--incremental-pull-policy', 'never')).toContain('---> npm install');
  });

  it("python: an incremental s2i build keeps the previous image's virtualenv without pip while requirements.txt is unchanged, and lets pip bring it up to date once it changes", async () => {
    const source = sourceOf(SAMPLES.python);
    const image = `${IMAGE_REPOSITORY}:python-incremental`;
    await s2iBuild(source, BUILDER_CATALOG.python, image);
    const kept = await s2iBuild(source, BUILDER_CATALOG.python, image, '--incremental', '--incremental-pull-policy', 'never');
    expect(kept).toContain('Restoring the virtualenv from the previous build');
    expect(kept).toContain('its virtualenv kept, pip not run');
    await expect(answerOf(image)).resolves.toBe(SAMPLES.python.answer);

    writeFileSync(path.join(source, 'requirements.txt'), `${SAMPLES.python.files['requirements.txt']}# pinned\n`);
    const updated = await s2iBuild(source, BUILDER_CATALOG.python, image, '--incremental', '--incremental-pull-policy', 'never');
    expect(updated).toMatch(/Requirement already satisfied: flask==3\.0\.3/i);
  });
});

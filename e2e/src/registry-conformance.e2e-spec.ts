import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '@paas/platform/config';
import { api, deleteNamespace, randomSuffix } from './support';

const REPO_ROOT = path.resolve(__dirname, '../..');
const REGISTRY_URL = `http://${loadConfig().registryHost}`;

interface ConformanceSummary {
  passed: number;
  failed: number;
  namespaces: string[];
  failures: { name: string; message: string; exchange?: { request: string; status: number; body: string } }[];
  unsupported: { name: string; message: string }[];
}

/**
 * The OCI distribution-spec conformance suite (built with Go by the script, cached in
 * .paas/tools) against the platform's registry: pull, push, content discovery and content
 * management all enabled, and --strict, so an API answered as "unsupported" fails too. The
 * first run on a machine builds the suite (about a minute); a run takes a few seconds.
 */
describe('the platform registry passes the OCI distribution-spec conformance suite', () => {
  const namespace = `conformance-${randomSuffix()}`;
  // The script pushes into <namespace>/repo and mounts across into <namespace>-mount/repo.
  const namespaces = [namespace, `${namespace}-mount`];

  beforeAll(async () => {
    for (const name of namespaces) {
      const created = await api().post('/api/v1/namespaces').send({ metadata: { name } });
      expect(created.status).toBe(201);
    }
  });

  afterAll(async () => {
    for (const name of namespaces) await deleteNamespace(name);
    for (const name of namespaces) expect((await api().get(`/api/v1/namespaces/${name}`)).status).toBe(404);
  });

  it('passes with every workflow category enabled', async () => {
    const { code, stdout, stderr } = await runScript(['--url', REGISTRY_URL, '--repo', `${namespace}/repo`, '--strict', '--json']);
    const summary = lastJsonLine(stdout);
    if (!summary) throw new Error(`the conformance script printed no summary (exit ${code}):\n${stdout}\n${stderr}`);
    expect(summary.namespaces).toEqual(namespaces);
    // Named one per line, so a failing run says what broke without opening the report.
    const oneLine = ({ name, message, exchange }: ConformanceSummary['failures'][number]) =>
      `${name.replace(/^OCI Conformance Test\//, '')}: ${message.split('\n')[0]}${exchange ? ` [${exchange.request.slice(0, 160)} → ${exchange.status}]` : ''}`;
    expect(summary.failures.map(oneLine)).toEqual([]);
    expect(summary.unsupported.map(({ name, message }) => `${name}: ${message}`)).toEqual([]);
    expect(summary.passed).toBeGreaterThan(400); // the whole suite ran, not a filtered part of it
    expect(code).toBe(0);
  }, 600_000);
});

function lastJsonLine(stdout: string): ConformanceSummary | undefined {
  try {
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as ConformanceSummary;
  } catch {
    return undefined;
  }
}

async function runScript(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['scripts/registry-conformance.mjs', ...args], {
      cwd: REPO_ROOT,
      maxBuffer: 64 << 20,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

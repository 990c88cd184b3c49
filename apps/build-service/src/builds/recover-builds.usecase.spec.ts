import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import type { Build, BuildPhase } from '@paas/contracts/builds';
import { BuildLogFiles } from '../adapters/build-log-files';
import type { BuildStore } from './build.repository';
import { RUNNER_ANNOTATION } from './build-runner';
import type { ContainerRuntime, ContainerSummary } from './pipeline/container-runtime';
import { RecoverBuilds } from './recover-builds.usecase';

/** This process on this host, as a fresh instance: another live pid here is another replica. */
const HOST = hostname();
const SELF = `${HOST}/1/now`;

function build(name: string, phase: BuildPhase, runner?: string): Build {
  return {
    metadata: { name, namespace: 'demo', uid: `uid-${name}`, labels: { buildconfig: 'app' }, annotations: runner ? { [RUNNER_ANNOTATION]: runner } : {} },
    status: { phase, stages: [] },
  } as unknown as Build;
}

describe('RecoverBuilds on start-up', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'recover-spec-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('fails builds of a dead runner, removes their containers and scratch dirs, keeps live ones, answers the New ones', async () => {
    const deadPid = 2 ** 22 + 1; // above Linux's pid_max: certainly not running
    const builds = new Map(
      [
        build('app-1', 'Running', `${HOST}/${deadPid}/old`),
        build('app-2', 'Pending', `${HOST}/${process.pid}/x`),
        build('app-3', 'New'),
        build('app-4', 'Complete', `node-a/${deadPid}/old`),
      ].map((b) => [b.metadata.name, b]),
    );
    const store = {
      list: async () => [...builds.values()].map((b) => structuredClone(b)),
      updateStatus: async (_ns: string, name: string, mutate: (s: Build['status'], b: Build) => Build['status']) => {
        const current = builds.get(name) as Build;
        current.status = mutate(structuredClone(current.status), current);
        return current;
      },
    } as unknown as BuildStore;
    const containers: ContainerSummary[] = ['app-1', 'app-2', 'app-4', 'gone-9'].map((name) => ({ id: `c-${name}`, name: `paas-build-demo.${name}`, labels: { 'paas.dev/build': `demo.${name}` } }));
    const removed: string[] = [];
    const runtime = { listBuildContainers: async () => containers, remove: async (id: string) => void removed.push(id) } as unknown as ContainerRuntime;
    const published: { type: string; data: unknown }[] = [];
    const logs = new BuildLogFiles(dir);
    for (const scratch of ['demo.app-1-abc', 'demo.app-2-def']) mkdirSync(path.join(dir, 'work', scratch), { recursive: true });

    const recover = new RecoverBuilds(store, runtime, { publish: async (type, data) => void published.push({ type, data }) }, logs, { buildsDir: dir } as never, SELF);

    const pending = await recover.execute();

    expect(pending.map((b) => b.metadata.name)).toEqual(['app-3']);
    expect(builds.get('app-1')?.status).toMatchObject({ phase: 'Error', reason: 'BuildPodDeleted' });
    expect(builds.get('app-2')?.status.phase).toBe('Pending');
    expect(builds.get('app-4')?.status.phase).toBe('Complete');
    expect(removed).toEqual(['c-app-1', 'c-app-4', 'c-gone-9']);
    expect(published).toEqual([{ type: 'build.failed', data: expect.objectContaining({ name: 'app-1', reason: 'BuildPodDeleted' }) }]);
    expect((await logs.read('demo', 'app-1', 0)).text).toContain('stopped before it finished');
    expect(existsSync(path.join(dir, 'work', 'demo.app-1-abc'))).toBe(false);
    expect(existsSync(path.join(dir, 'work', 'demo.app-2-def'))).toBe(true);
  });
});


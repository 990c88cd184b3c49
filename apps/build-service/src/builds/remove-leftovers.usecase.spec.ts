import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Build, BuildPhase } from '@paas/contracts/builds';
import type { ContainerSummary } from './pipeline/container-runtime';
import { RemoveBuildLeftovers } from './remove-leftovers.usecase';

function build(name: string, phase: BuildPhase): Build {
  return { metadata: { name, namespace: 'demo', uid: `uid-${name}` }, status: { phase, stages: [] } } as unknown as Build;
}

describe('RemoveBuildLeftovers on start-up', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'leftovers-spec-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('removes the containers and scratch directories of finished or deleted builds, and keeps those of builds in flight', async () => {
    const builds = [build('app-1', 'Running'), build('app-2', 'Pending'), build('app-3', 'Complete'), build('app-4', 'Failed')];
    const containers: ContainerSummary[] = ['app-1', 'app-3', 'gone-9'].map((name) => ({ id: `c-${name}`, name: `paas-build-demo.${name}`, labels: { 'paas.dev/build': `demo.${name}` } }));
    const removed: string[] = [];
    for (const scratch of ['demo.app-2-def', 'demo.app-4-ghi']) mkdirSync(path.join(dir, 'work', scratch), { recursive: true });

    await new RemoveBuildLeftovers(
      { list: async () => builds },
      { listBuildContainers: async () => containers, remove: async (id: string) => void removed.push(id) },
      { buildsDir: dir },
    ).execute();

    expect(removed).toEqual(['c-app-3', 'c-gone-9']);
    expect(existsSync(path.join(dir, 'work', 'demo.app-2-def'))).toBe(true);
    expect(existsSync(path.join(dir, 'work', 'demo.app-4-ghi'))).toBe(false);
  });
});

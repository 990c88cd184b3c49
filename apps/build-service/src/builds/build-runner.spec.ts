import type { Build } from '@paas/contracts/builds';
import { RUNNER_ANNOTATION, runnerIsGone } from './build-runner';

function claimedBy(runner?: string): Build {
  return { metadata: { annotations: runner ? { [RUNNER_ANNOTATION]: runner } : {} } } as unknown as Build;
}

describe('runnerIsGone', () => {
  const self = 'node-a/100/new';
  const alive = (pid: number) => pid === 200;

  it('judges runners on this host by their pid and instance', () => {
    expect(runnerIsGone(claimedBy('node-a/300/x'), self, alive)).toBe(true);
    expect(runnerIsGone(claimedBy('node-a/200/x'), self, alive)).toBe(false);
    expect(runnerIsGone(claimedBy('node-a/100/old'), self, alive)).toBe(true);
    expect(runnerIsGone(claimedBy(self), self, alive)).toBe(false);
  });

  it('cannot judge another host, and treats an unclaimed build as orphaned', () => {
    expect(runnerIsGone(claimedBy('node-b/300/x'), self, alive)).toBe(false);
    expect(runnerIsGone(claimedBy(), self, alive)).toBe(true);
  });
});

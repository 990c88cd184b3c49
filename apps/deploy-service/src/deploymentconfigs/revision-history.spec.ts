import { revisionHistoryLimit, revisionsToPrune } from './revision-history';
import type { RevisionState } from './rollout-plan';

const rev = (version: number, phase: RevisionState['phase'], desired = 0, current = desired): RevisionState => ({
  name: `web-${version}`,
  version,
  desired,
  current,
  ready: current,
  phase,
  createdAt: 0,
  progressAt: 0,
});

describe('revisionsToPrune', () => {
  it('keeps the newest `limit` old revisions and deletes the older ones', () => {
    const revisions = [rev(1, 'Complete'), rev(2, 'Complete'), rev(3, 'Failed'), rev(4, 'Complete'), rev(5, 'Complete', 1)];
    expect(revisionsToPrune(2, 5, revisions)).toEqual(['web-2', 'web-1']);
    expect(revisionsToPrune(4, 5, revisions)).toEqual([]);
    expect(revisionsToPrune(0, 5, revisions)).toEqual(['web-4', 'web-3', 'web-2', 'web-1']);
  });

  it('never deletes the newest revision, nor the last Complete one while a newer one rolls out or has failed', () => {
    const revisions = [rev(1, 'Complete'), rev(2, 'Complete', 1), rev(3, 'Failed'), rev(4, 'Running')];
    expect(revisionsToPrune(0, 4, revisions)).toEqual(['web-3', 'web-1']);
    // Recreate has scaled the last Complete one to 0 while the new one comes up: it stays, to roll back to.
    expect(revisionsToPrune(0, 3, [rev(1, 'Complete'), rev(2, 'Complete'), rev(3, 'Running', 1)])).toEqual(['web-1']);
    // A first release that failed: nothing completed, the newest stays.
    expect(revisionsToPrune(0, 1, [rev(1, 'Failed', 2)])).toEqual([]);
  });

  it('keeps an old revision that is asked for pods or still has one stopping, and counts it', () => {
    const revisions = [rev(1, 'Complete'), rev(2, 'Complete', 0, 1), rev(3, 'Complete', 1), rev(4, 'Running', 1)];
    expect(revisionsToPrune(0, 4, revisions)).toEqual(['web-1']);
    expect(revisionsToPrune(1, 4, revisions)).toEqual(['web-1']);
  });
});

describe('revisionHistoryLimit', () => {
  it('is 10 for a DeploymentConfig stored before the field existed', () => {
    expect(revisionHistoryLimit({})).toBe(10);
    expect(revisionHistoryLimit({ revisionHistoryLimit: 0 })).toBe(0);
  });
});

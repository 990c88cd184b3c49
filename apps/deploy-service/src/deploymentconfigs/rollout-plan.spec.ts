import { minAvailable, nextDeadline, planRollout, rollingBounds, type RevisionState } from './rollout-plan';

const strategy = { type: 'Rolling' as const, rollingParams: { maxSurge: 1, maxUnavailable: 0, timeoutSeconds: 600 } };
const spec = (replicas: number) => ({ replicas, strategy, paused: false, progressDeadlineSeconds: 60 });
const rev = (version: number, desired: number, current: number, ready: number, phase: RevisionState['phase'], createdAt = 0): RevisionState => ({
  name: `web-${version}`,
  version,
  desired,
  current,
  ready,
  phase,
  createdAt,
  progressAt: createdAt,
});

describe('planRollout (Rolling, maxSurge 1, maxUnavailable 0)', () => {
  it('scales the first revision straight to the desired replicas', () => {
    expect(planRollout(spec(2), 1, [rev(1, 0, 0, 0, 'Pending')], 0)).toEqual({ scale: { 'web-1': 2 }, phases: { 'web-1': 'Running' }, latestPhase: 'Running' });
  });

  it('surges one new pod and keeps every old pod while the new one is not ready', () => {
    const plan = planRollout(spec(1), 2, [rev(1, 1, 1, 1, 'Complete'), rev(2, 0, 0, 0, 'Pending')], 0);
    expect(plan.scale).toEqual({ 'web-2': 1 });
    expect(plan.latestPhase).toBe('Running');
  });

  it('scales the old revision down only once the new pod is ready', () => {
    expect(planRollout(spec(1), 2, [rev(1, 1, 1, 1, 'Complete'), rev(2, 1, 1, 0, 'Running')], 0).scale).toEqual({});
    expect(planRollout(spec(1), 2, [rev(1, 1, 1, 1, 'Complete'), rev(2, 1, 1, 1, 'Running')], 0).scale).toEqual({ 'web-1': 0 });
  });

  it('with 3 replicas never has fewer than 3 ready pods: one new ready pod frees one old one', () => {
    const step1 = planRollout(spec(3), 2, [rev(1, 3, 3, 3, 'Complete'), rev(2, 0, 0, 0, 'Pending')], 0);
    expect(step1.scale).toEqual({ 'web-2': 1 });
    const step2 = planRollout(spec(3), 2, [rev(1, 3, 3, 3, 'Complete'), rev(2, 1, 1, 1, 'Running')], 0);
    expect(step2.scale).toEqual({ 'web-1': 2 });
    const step3 = planRollout(spec(3), 2, [rev(1, 2, 2, 2, 'Complete'), rev(2, 1, 1, 1, 'Running')], 0);
    expect(step3.scale).toEqual({ 'web-2': 2 });
  });

  it('updatePeriodSeconds: a step waits until that long after the last scaling, and asks to be looked at again then; a failure does not wait', () => {
    const paced = { ...spec(3), strategy: { ...strategy, rollingParams: { ...strategy.rollingParams, updatePeriodSeconds: 5 } } };
    const revisions = () => [{ ...rev(1, 3, 3, 3, 'Complete'), scaledAt: 10_000 }, { ...rev(2, 1, 1, 1, 'Running'), scaledAt: 9_000 }];
    expect(planRollout(paced, 2, revisions(), 12_000)).toEqual({ scale: {}, phases: {}, latestPhase: 'Running', holdUntil: 15_000 });
    expect(planRollout(paced, 2, revisions(), 15_000)).toMatchObject({ scale: { 'web-1': 2 }, latestPhase: 'Running' });
    expect(planRollout(paced, 2, revisions(), 601_000)).toMatchObject({ scale: { 'web-2': 0 }, outcome: 'failed' });
  });

  it('completes when the new revision is fully ready and the old one has no pods left', () => {
    expect(planRollout(spec(1), 2, [rev(1, 0, 1, 0, 'Complete'), rev(2, 1, 1, 1, 'Running')], 0).outcome).toBeUndefined();
    expect(planRollout(spec(1), 2, [rev(1, 0, 0, 0, 'Complete'), rev(2, 1, 1, 1, 'Running')], 0)).toEqual({
      scale: {},
      phases: { 'web-2': 'Complete' },
      latestPhase: 'Complete',
      outcome: 'rolled',
    });
  });

  it('fails a revision past rollingParams.timeoutSeconds and scales the last complete one back up', () => {
    const late = 601_000;
    const progressing = { ...rev(2, 1, 1, 0, 'Running'), progressAt: late - 1_000 };
    const plan = planRollout(spec(1), 2, [rev(1, 0, 0, 0, 'Complete'), progressing], late);
    expect(plan).toEqual({
      scale: { 'web-2': 0, 'web-1': 1 },
      phases: { 'web-2': 'Failed' },
      latestPhase: 'Failed',
      outcome: 'failed',
      failure: { reason: 'ProgressDeadlineExceeded', message: 'revision 2 did not complete within 600 s (rollingParams.timeoutSeconds); revision 1 serves again' },
    });
    // Once failed it stays so, without announcing it again.
    expect(planRollout(spec(1), 2, [rev(1, 1, 1, 1, 'Complete'), rev(2, 0, 0, 0, 'Failed')], late + 1)).toEqual({ scale: {}, phases: {}, latestPhase: 'Failed' });
  });

  it('fails a revision that makes no progress for progressDeadlineSeconds, counted from its last pod to become ready', () => {
    const stalled = { ...rev(2, 2, 2, 1, 'Running'), progressAt: 30_000 };
    expect(planRollout(spec(2), 2, [rev(1, 1, 1, 1, 'Complete'), stalled], 90_000).outcome).toBeUndefined();
    expect(planRollout(spec(2), 2, [rev(1, 1, 1, 1, 'Complete'), stalled], 90_001)).toMatchObject({
      scale: { 'web-2': 0, 'web-1': 2 },
      failure: { reason: 'ProgressDeadlineExceeded', message: expect.stringContaining('no progress for 60 s') },
    });
  });

  it('does not count the progress deadline before the revision was asked for a pod (a late reconcile is not the app stalling)', () => {
    const unasked = rev(1, 0, 0, 0, 'Pending');
    expect(planRollout(spec(2), 1, [unasked], 120_000)).toEqual({ scale: { 'web-1': 2 }, phases: { 'web-1': 'Running' }, latestPhase: 'Running' });
    const asked = { ...rev(1, 2, 0, 0, 'Running'), progressAt: 100_000 };
    expect(planRollout(spec(2), 1, [asked], 160_000).outcome).toBeUndefined();
    expect(planRollout(spec(2), 1, [asked], 160_001).failure).toMatchObject({ reason: 'ProgressDeadlineExceeded' });
  });

  it('fails a revision whose pod crash-loops at once, and rolls back to the last complete one', () => {
    const crashing = { ...rev(2, 1, 1, 0, 'Running', 5_000), crashLoop: 'exited with code 3' };
    expect(planRollout(spec(1), 2, [rev(1, 1, 1, 1, 'Complete'), crashing], 6_000)).toEqual({
      scale: { 'web-2': 0 },
      phases: { 'web-2': 'Failed' },
      latestPhase: 'Failed',
      outcome: 'failed',
      failure: { reason: 'CrashLoopBackOff', message: 'a pod of revision 2 crash-loops: exited with code 3; revision 1 serves again' },
    });
  });

  it('keeps the pods of a failed first revision, with nothing to roll back to', () => {
    const crashing = { ...rev(1, 2, 2, 0, 'Running'), crashLoop: 'exited with code 1' };
    expect(planRollout(spec(2), 1, [crashing], 1_000)).toMatchObject({ scale: {}, phases: { 'web-1': 'Failed' }, latestPhase: 'Failed', outcome: 'failed' });
  });

  it('applies a scale change of a complete revision directly and does nothing while paused', () => {
    expect(planRollout(spec(3), 1, [rev(1, 1, 1, 1, 'Complete')], 0).scale).toEqual({ 'web-1': 3 });
    expect(planRollout({ ...spec(3), paused: true }, 1, [rev(1, 1, 1, 1, 'Complete')], 0).scale).toEqual({});
  });
});

describe('rollingParams as percentages (Kubernetes rounding)', () => {
  const percent = (replicas: number, maxSurge: number | string, maxUnavailable: number | string) => ({
    ...spec(replicas),
    strategy: { type: 'Rolling' as const, rollingParams: { maxSurge, maxUnavailable, timeoutSeconds: 600 } },
  });

  it('rounds maxSurge up and maxUnavailable down, of spec.replicas', () => {
    expect(rollingBounds(percent(10, '25%', '25%'))).toEqual({ maxSurge: 3, maxUnavailable: 2 });
    expect(rollingBounds(percent(1, '25%', '25%'))).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    expect(minAvailable(percent(10, '25%', '25%'))).toBe(8);
    expect(minAvailable(percent(3, 1, '100%'))).toBe(0);
  });

  it('assumes a surge of one when both resolve to 0, as with integers', () => {
    expect(rollingBounds(percent(3, '0%', '10%'))).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    expect(rollingBounds(percent(0, '50%', 0))).toEqual({ maxSurge: 1, maxUnavailable: 0 });
  });

  it('surges 50% and takes 25% down at once: 4 replicas start 2 new pods and keep 3 old ones', () => {
    const plan = planRollout(percent(4, '50%', '25%'), 2, [rev(1, 4, 4, 4, 'Complete'), rev(2, 0, 0, 0, 'Pending')], 0);
    expect(plan.scale).toEqual({ 'web-2': 2, 'web-1': 3 });
  });
});

describe('planRollout (Recreate)', () => {
  const recreate = (replicas: number, recreateParams?: { timeoutSeconds: number }) => ({
    ...spec(replicas),
    strategy: { ...strategy, type: 'Recreate' as const, ...(recreateParams ? { recreateParams } : {}) },
  });

  it('scales every old revision to 0 first and starts no new pod while one of theirs exists', () => {
    const older = [rev(1, 2, 2, 2, 'Complete'), rev(2, 1, 1, 0, 'Failed')];
    expect(planRollout(recreate(2), 3, [...older, rev(3, 0, 0, 0, 'Pending')], 0)).toEqual({ scale: { 'web-2': 0, 'web-1': 0 }, phases: { 'web-3': 'Running' }, latestPhase: 'Running' });
    // Scaled to 0 but one pod still stopping: the new revision waits.
    expect(planRollout(recreate(2), 3, [rev(1, 0, 1, 0, 'Complete'), rev(3, 0, 0, 0, 'Running')], 0).scale).toEqual({});
  });

  it('scales the new revision to replicas once no old pod exists, and completes when all its pods are ready', () => {
    expect(planRollout(recreate(2), 2, [rev(1, 0, 0, 0, 'Complete'), rev(2, 0, 0, 0, 'Running')], 0).scale).toEqual({ 'web-2': 2 });
    expect(planRollout(recreate(2), 2, [rev(1, 0, 0, 0, 'Complete'), rev(2, 2, 2, 1, 'Running')], 0)).toEqual({ scale: {}, phases: {}, latestPhase: 'Running' });
    expect(planRollout(recreate(2), 2, [rev(1, 0, 0, 0, 'Complete'), rev(2, 2, 2, 2, 'Running')], 0)).toEqual({
      scale: {},
      phases: { 'web-2': 'Complete' },
      latestPhase: 'Complete',
      outcome: 'rolled',
    });
  });

  it('scales a first revision straight to replicas', () => {
    expect(planRollout(recreate(3), 1, [rev(1, 0, 0, 0, 'Pending')], 0).scale).toEqual({ 'web-1': 3 });
  });

  it('fails a crash-looping revision at once and gives the last complete one every replica back', () => {
    const crashing = { ...rev(2, 2, 2, 0, 'Running'), crashLoop: 'exited with code 1' };
    expect(planRollout(recreate(2), 2, [rev(1, 0, 0, 0, 'Complete'), crashing], 1_000)).toMatchObject({
      scale: { 'web-2': 0, 'web-1': 2 },
      phases: { 'web-2': 'Failed' },
      outcome: 'failed',
      failure: { reason: 'CrashLoopBackOff', message: 'a pod of revision 2 crash-loops: exited with code 1; revision 1 serves again' },
    });
  });

  it('bounds the rollout by recreateParams.timeoutSeconds (600 s without recreateParams), not rollingParams', () => {
    const slow = (at: number) => [rev(1, 0, 0, 0, 'Complete'), { ...rev(2, 2, 2, 1, 'Running'), progressAt: at - 1_000 }];
    expect(planRollout(recreate(2, { timeoutSeconds: 120 }), 2, slow(120_001), 120_001).failure).toEqual({
      reason: 'ProgressDeadlineExceeded',
      message: 'revision 2 did not complete within 120 s (recreateParams.timeoutSeconds); revision 1 serves again',
    });
    expect(planRollout(recreate(2), 2, slow(120_001), 120_001).outcome).toBeUndefined();
    expect(planRollout(recreate(2), 2, slow(600_001), 600_001).failure?.message).toContain('within 600 s (recreateParams.timeoutSeconds)');
    expect(nextDeadline({ ...recreate(2, { timeoutSeconds: 120 }), progressDeadlineSeconds: 3600 }, rev(2, 2, 2, 1, 'Running'))).toBe(120_000);
  });

  it('counts every replica as required to be available: a recreate has a gap in service', () => {
    expect(minAvailable(recreate(3))).toBe(3);
  });
});

describe('planRollout with lifecycle hooks', () => {
  const hook = (failurePolicy: 'Abort' | 'Retry' | 'Ignore') => ({ failurePolicy, execNewPod: { command: ['migrate'], env: [], containerName: 'web' } });
  const rolling = (hooks: object) => ({ ...spec(1), strategy: { ...strategy, rollingParams: { ...strategy.rollingParams, ...hooks } } });
  const recreate = (hooks: object) => ({ ...spec(1), strategy: { type: 'Recreate' as const, rollingParams: strategy.rollingParams, recreateParams: { timeoutSeconds: 600, ...hooks } } });

  it('pre: nothing is scaled until the hook has completed; then the rollout starts', () => {
    const dc = rolling({ pre: hook('Abort') });
    expect(planRollout(dc, 2, [rev(1, 1, 1, 1, 'Complete'), rev(2, 0, 0, 0, 'Pending')], 0)).toEqual({ scale: {}, phases: { 'web-2': 'Running' }, latestPhase: 'Running', hook: 'pre' });
    const done = { ...rev(2, 0, 0, 0, 'Running'), hooks: { pre: { phase: 'Complete' as const, message: 'succeeded' } } };
    expect(planRollout(dc, 2, [rev(1, 1, 1, 1, 'Complete'), done], 0)).toMatchObject({ scale: { 'web-2': 1 }, latestPhase: 'Running' });
  });

  it('an aborting hook that failed fails the revision, and the last complete one serves again', () => {
    const failed = { ...rev(2, 0, 0, 0, 'Running'), hooks: { pre: { phase: 'Failed' as const, message: 'exited with code 3' } } };
    const plan = planRollout(rolling({ pre: hook('Abort') }), 2, [rev(1, 1, 1, 1, 'Complete'), failed], 0);
    expect(plan).toMatchObject({ outcome: 'failed', latestPhase: 'Failed', failure: { reason: 'HookFailed', message: 'the pre hook of revision 2 failed: exited with code 3; revision 1 serves again' } });
    expect(plan.hook).toBeUndefined();
  });

  it('a running hook holds off the progress deadline, not the strategy timeout', () => {
    // Its pods were all ready long ago (progress at 0): a slow post hook is not a stalled rollout.
    const ready = rev(2, 1, 1, 1, 'Running');
    expect(planRollout(rolling({ post: hook('Retry') }), 2, [rev(1, 0, 0, 0, 'Complete'), ready], 120_000)).toMatchObject({ hook: 'post', latestPhase: 'Running' });
    expect(planRollout(rolling({ post: hook('Retry') }), 2, [rev(1, 0, 0, 0, 'Complete'), ready], 601_000)).toMatchObject({ outcome: 'failed', failure: { reason: 'ProgressDeadlineExceeded' } });
    expect(planRollout(rolling({}), 2, [rev(1, 1, 1, 1, 'Complete'), rev(2, 1, 1, 0, 'Running')], 120_000)).toMatchObject({ outcome: 'failed' });
  });

  it('Recreate mid: runs once the old pods are gone, before the new revision gets any', () => {
    const dc = recreate({ mid: hook('Abort') });
    expect(planRollout(dc, 2, [rev(1, 1, 1, 1, 'Complete'), rev(2, 0, 0, 0, 'Running')], 0)).toMatchObject({ scale: { 'web-1': 0 } });
    expect(planRollout(dc, 2, [rev(1, 0, 0, 0, 'Complete'), rev(2, 0, 0, 0, 'Running')], 0)).toEqual({ scale: {}, phases: {}, latestPhase: 'Running', hook: 'mid' });
    const done = { ...rev(2, 0, 0, 0, 'Running'), hooks: { mid: { phase: 'Complete' as const, message: 'succeeded' } } };
    expect(planRollout(dc, 2, [rev(1, 0, 0, 0, 'Complete'), done], 0).scale).toEqual({ 'web-2': 1 });
  });

  it('post: the revision is Complete only once the hook after its last pod is ready has completed', () => {
    const dc = rolling({ post: hook('Ignore') });
    expect(planRollout(dc, 2, [rev(1, 0, 0, 0, 'Complete'), rev(2, 1, 1, 1, 'Running')], 0)).toEqual({ scale: {}, phases: {}, latestPhase: 'Running', hook: 'post' });
    const done = { ...rev(2, 1, 1, 1, 'Running'), hooks: { post: { phase: 'Complete' as const, message: 'exited with code 1, ignored' } } };
    expect(planRollout(dc, 2, [rev(1, 0, 0, 0, 'Complete'), done], 0)).toMatchObject({ latestPhase: 'Complete', outcome: 'rolled' });
  });
});

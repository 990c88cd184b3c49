import type { DeploymentConfigSpec } from '@paas/contracts/deployments';
import { rolloutLogLines } from './rollout-log';

const rolling = (replicas: number, maxSurge: number | string, maxUnavailable: number | string): Pick<DeploymentConfigSpec, 'replicas' | 'strategy'> => ({
  replicas,
  strategy: { type: 'Rolling', rollingParams: { maxSurge, maxUnavailable, timeoutSeconds: 600 } },
});

describe('rolloutLogLines', () => {
  it('Rolling: the plan names every older revision that serves, and the bounds maxSurge and maxUnavailable give', () => {
    const started = [
      { name: 'web-1', replicas: 1 },
      { name: 'web-2', replicas: 3 },
      { name: 'web-3', replicas: 0 },
    ];
    expect(rolloutLogLines(rolling(4, '25%', '25%'), { latest: 'web-3', started, scaled: [{ name: 'web-3', from: 0, to: 1 }] })).toEqual([
      "--> Scaling up web-3 from 0 to 4, scaling down web-1 from 1 to 0, scaling down web-2 from 3 to 0 (keep 3 pods available, don't exceed 5 pods)",
      '    Scaling web-3 up to 1',
    ]);
  });

  it('Recreate: the older revisions go to zero first; a first revision only scales up', () => {
    const recreate: Pick<DeploymentConfigSpec, 'replicas' | 'strategy'> = { ...rolling(2, 1, 0), strategy: { ...rolling(2, 1, 0).strategy, type: 'Recreate' } };
    const started = [
      { name: 'web-1', replicas: 2 },
      { name: 'web-2', replicas: 0 },
    ];
    expect(rolloutLogLines(recreate, { latest: 'web-2', started, scaled: [{ name: 'web-1', from: 2, to: 0 }] })).toEqual(['--> Recreate: scaling web-1 down to zero, then scaling web-2 up to 2', '    Scaling web-1 down to 0']);
    expect(rolloutLogLines(recreate, { latest: 'web-1', started: [{ name: 'web-1', replicas: 0 }], scaled: [] })).toEqual(['--> Recreate: scaling web-1 up to 2']);
  });

  it('ends with Success, or with why it failed', () => {
    expect(rolloutLogLines(rolling(1, 1, 0), { latest: 'web-2', scaled: [], rolled: true })).toEqual(['--> Success']);
    const failure = { reason: 'ProgressDeadlineExceeded' as const, message: 'revision 2 made no progress for 60 s' };
    expect(rolloutLogLines(rolling(1, 1, 0), { latest: 'web-2', scaled: [{ name: 'web-2', from: 1, to: 0 }], failure })).toEqual([
      '    Scaling web-2 down to 0',
      '--> Failed (ProgressDeadlineExceeded): revision 2 made no progress for 60 s',
    ]);
  });

  it('says nothing for a step that changed nothing', () => {
    expect(rolloutLogLines(rolling(1, 1, 0), { latest: 'web-2', scaled: [] })).toEqual([]);
  });
});

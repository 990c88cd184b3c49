import { loadDeploySettings } from './deploy-settings';

describe('loadDeploySettings', () => {
  it('limits pods to 512 MiB and 1024 processes, runs them as 1001:0 and backs off 10 s to 5 min by default', () => {
    expect(loadDeploySettings({})).toMatchObject({ podMemoryBytes: 512 * 1024 ** 2, podPidsLimit: 1024, podUser: '1001:0', restartBackoffMs: 10_000, restartBackoffMaxMs: 300_000 });
  });

  it('removes unused images every 5 minutes once unused for 10, and never with an interval of 0', () => {
    expect(loadDeploySettings({})).toMatchObject({ imageGcIntervalMs: 300_000, imageGcMinAgeMs: 600_000 });
    expect(loadDeploySettings({ DEPLOY_IMAGE_GC_INTERVAL_MS: '0', DEPLOY_IMAGE_GC_MIN_AGE_MS: '0' })).toMatchObject({ imageGcIntervalMs: 0, imageGcMinAgeMs: 0 });
  });

  it('takes a memory limit as a Kubernetes quantity and a user as uid[:gid]', () => {
    expect(loadDeploySettings({ DEPLOY_POD_MEMORY_LIMIT: '1Gi', DEPLOY_POD_USER: '2000', DEPLOY_POD_PIDS_LIMIT: '64' })).toMatchObject({ podMemoryBytes: 1024 ** 3, podUser: '2000', podPidsLimit: 64 });
  });

  it.each([
    [{ DEPLOY_POD_MEMORY_LIMIT: '512MB' }, 'DEPLOY_POD_MEMORY_LIMIT must be a quantity of bytes of at least 6Mi (e.g. 512Mi, 1Gi), not "512MB"'],
    [{ DEPLOY_POD_MEMORY_LIMIT: '1Mi' }, 'DEPLOY_POD_MEMORY_LIMIT must be a quantity of bytes of at least 6Mi (e.g. 512Mi, 1Gi), not "1Mi"'],
    [{ DEPLOY_POD_PIDS_LIMIT: 'lots' }, 'DEPLOY_POD_PIDS_LIMIT must be a whole number from 16 to 4194304, not "lots"'],
    [{ DEPLOY_POD_USER: '0' }, 'DEPLOY_POD_USER must name a non-root user as uid[:gid] (e.g. 1001:0), not "0"'],
    [{ DEPLOY_POD_USER: 'root:0' }, 'DEPLOY_POD_USER must name a non-root user as uid[:gid] (e.g. 1001:0), not "root:0"'],
    [{ DEPLOY_POD_USER: '1001; rm' }, 'DEPLOY_POD_USER must name a non-root user as uid[:gid] (e.g. 1001:0), not "1001; rm"'],
    [{ DEPLOY_RESTART_BACKOFF_MS: '5000', DEPLOY_RESTART_BACKOFF_MAX_MS: '1000' }, 'DEPLOY_RESTART_BACKOFF_MAX_MS must be a whole number from 5000 to 86400000, not "1000"'],
    [{ DEPLOY_IMAGE_GC_INTERVAL_MS: '5m' }, 'DEPLOY_IMAGE_GC_INTERVAL_MS must be a whole number from 0 to 86400000, not "5m"'],
  ])('refuses %j with one line naming the setting', (env, message) => {
    expect(() => loadDeploySettings(env)).toThrow(message);
  });
});

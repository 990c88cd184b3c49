import type { Build, BuildConfig, WebhookRequest } from '@paas/contracts/builds';
import { createHmac } from 'node:crypto';
import type { BuildConfigRepository } from './buildconfig.repository';
import type { InstantiateBuild } from './instantiate-build.usecase';
import { ReceiveWebhook } from './receive-webhook.usecase';

const GITHUB_SECRET = 'github-secret-1';
const GENERIC_SECRET = 'generic-secret-1';

const buildConfig = {
  metadata: { namespace: 'demo', name: 'web' },
  spec: {
    source: { git: { uri: 'https://git.example/web.git', ref: 'main' } },
    strategy: { type: 'Source', sourceStrategy: { from: { kind: 'Builder', name: 'nodejs' }, env: [] } },
    triggers: [{ type: 'ConfigChange' }, { type: 'GitHub', secret: GITHUB_SECRET }, { type: 'Generic', secret: GENERIC_SECRET }],
  },
} as unknown as BuildConfig;

function receiver() {
  const started: string[] = [];
  const commits: (string | undefined)[] = [];
  const envs: unknown[] = [];
  const buildConfigs = { find: async (namespace: string, name: string) => (namespace === 'demo' && name === 'web' ? buildConfig : undefined) };
  const instantiate = {
    execute: async (_namespace: string, name: string, message: string, options: { commit?: string; env?: unknown } = {}) => {
      started.push(message);
      commits.push(options.commit);
      envs.push(options.env);
      return { kind: 'Build', metadata: { name: `${name}-${started.length}` } } as Build;
    },
  };
  const webhook = new ReceiveWebhook(buildConfigs as unknown as BuildConfigRepository, instantiate as unknown as InstantiateBuild);
  return { webhook, started, commits, envs };
}

const AFTER = '0123456789abcdef0123456789abcdef01234567';
const push = (ref = 'refs/heads/main', after = AFTER) => JSON.stringify({ ref, after, head_commit: { message: 'Fix the title\n\nlonger text', author: { name: 'Ada' } } });
const signed = (body: string, secret = GITHUB_SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

function github(overrides: Partial<WebhookRequest> = {}): WebhookRequest {
  const body = overrides.body ?? push();
  return { namespace: 'demo', name: 'web', type: 'github', secret: GITHUB_SECRET, contentType: 'application/json', githubEvent: 'push', signature: signed(body), body, ...overrides };
}

describe('ReceiveWebhook', () => {
  it('starts a build of the pushed commit for a signed GitHub push to the built branch, saying which commit and by whom', async () => {
    const { webhook, started, commits } = receiver();
    await expect(webhook.execute(github())).resolves.toMatchObject({ kind: 'Build', metadata: { name: 'web-1' } });
    expect(started).toEqual(['GitHub WebHook: push of 0123456789ab to main by Ada: Fix the title']);
    expect(commits).toEqual([AFTER]);
  });

  it('starts nothing for a push that deleted the branch', async () => {
    const { webhook, started } = receiver();
    const body = push('refs/heads/main', '0'.repeat(40));
    await expect(webhook.execute(github({ body, signature: signed(body) }))).resolves.toMatchObject({ kind: 'Status', message: expect.stringContaining('deleted') });
    expect(started).toEqual([]);
  });

  it('accepts an unsigned GitHub push: the secret on the URL is the credential', async () => {
    const { webhook, started } = receiver();
    await webhook.execute(github({ signature: undefined }));
    expect(started).toHaveLength(1);
  });

  it('refuses a signature that is not the body signed with the secret (403), and starts nothing', async () => {
    const { webhook, started } = receiver();
    await expect(webhook.execute(github({ signature: signed(push(), 'another-secret') }))).rejects.toMatchObject({ status: { code: 403 } });
    await expect(webhook.execute(github({ signature: signed(push('refs/heads/other')) }))).rejects.toMatchObject({ status: { code: 403 } });
    expect(started).toEqual([]);
  });

  it('answers the same 404 for a wrong secret, another type’s secret, and an unknown BuildConfig', async () => {
    const { webhook, started } = receiver();
    for (const request of [github({ secret: 'wrong-secret' }), github({ secret: GENERIC_SECRET }), github({ name: 'nope' })]) {
      await expect(webhook.execute(request)).rejects.toMatchObject({ status: { code: 404, message: expect.stringContaining('has this secret') } });
    }
    expect(started).toEqual([]);
  });

  it('starts nothing for a push to another branch or a tag, or a ping, and says why', async () => {
    const { webhook, started } = receiver();
    for (const ref of ['refs/heads/feature', 'refs/tags/main']) {
      const body = push(ref);
      await expect(webhook.execute(github({ body, signature: signed(body) }))).resolves.toMatchObject({ kind: 'Status', status: 'Success', message: expect.stringContaining(ref) });
    }
    await expect(webhook.execute(github({ githubEvent: 'ping', body: '{"zen":"x"}', signature: signed('{"zen":"x"}') }))).resolves.toMatchObject({ kind: 'Status', message: expect.stringContaining('ping') });
    expect(started).toEqual([]);
  });

  it('refuses other GitHub events, payloads that are not JSON or lack a ref, and other media types, with 4xx', async () => {
    const { webhook, started } = receiver();
    const cases: [Partial<WebhookRequest>, number][] = [
      [{ githubEvent: 'issues' }, 400],
      [{ githubEvent: undefined }, 400],
      [{ body: '{not json', signature: undefined }, 400],
      [{ body: '{"after":"abc"}', signature: undefined }, 400],
      [{ body: '', signature: undefined }, 400],
      [{ contentType: 'application/x-www-form-urlencoded', signature: undefined }, 415],
    ];
    for (const [overrides, code] of cases) await expect(webhook.execute(github(overrides))).rejects.toMatchObject({ status: { code } });
    expect(started).toEqual([]);
  });

  it('starts a build from a generic call without a body, or with a payload for the built branch', async () => {
    const { webhook, started, commits } = receiver();
    const generic = (body?: string): WebhookRequest => ({ namespace: 'demo', name: 'web', type: 'generic', secret: GENERIC_SECRET, contentType: body ? 'application/json' : undefined, body });
    await webhook.execute(generic());
    await webhook.execute(generic(JSON.stringify({ git: { ref: 'main', commit: 'feedfacefeedface00', message: 'Release' } })));
    await expect(webhook.execute(generic(JSON.stringify({ git: { ref: 'develop' } })))).resolves.toMatchObject({ kind: 'Status', message: expect.stringContaining('develop') });
    await expect(webhook.execute(generic('[1]'))).rejects.toMatchObject({ status: { code: 400 } });
    expect(started).toEqual(['Generic WebHook', 'Generic WebHook of feedfacefeed: Release']);
    // A short commit id is not pinned: the branch's head is built.
    expect(commits).toEqual([undefined, undefined]);
  });

  it("hands a generic payload's env to the build, and refuses a malformed one", async () => {
    const { webhook, envs } = receiver();
    const generic = (payload: object): WebhookRequest => ({ namespace: 'demo', name: 'web', type: 'generic', secret: GENERIC_SECRET, contentType: 'application/json', body: JSON.stringify(payload) });
    await webhook.execute(generic({ env: [{ name: 'RELEASE', value: '42' }] }));
    expect(envs).toEqual([[{ name: 'RELEASE', value: '42' }]]);
    await expect(webhook.execute(generic({ env: [{ name: '1BAD', value: 'x' }] }))).rejects.toMatchObject({ status: { code: 400, message: expect.stringContaining('env.0.name') } });
  });
});

import { Injectable } from '@nestjs/common';
import { isGitSource, type Build, type WebhookRequest } from '@paas/contracts/builds';
import { envVar, type EnvVar } from '@paas/contracts/meta';
import { successStatus, type Status } from '@paas/contracts/status';
import { ApiError } from '@paas/platform/api-error';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { BuildConfigRepository } from './buildconfig.repository';
import { InstantiateBuild } from './instantiate-build.usecase';

/** The fields of a GitHub `push` the platform reads; the rest of GitHub's payload is not looked at. */
const githubPush = z.object({
  ref: z.string().min(1).max(1024),
  after: z.string().max(64).optional(),
  head_commit: z
    .object({ message: z.string().optional(), author: z.object({ name: z.string().optional() }).partial().optional() })
    .partial()
    .nullish(),
});

/** The generic webhook's optional body, as OpenShift defines it (`git.ref` decides whether the push is for this BuildConfig). */
const genericPayload = z.object({
  git: z
    .object({ uri: z.string().optional(), ref: z.string().max(1024).optional(), commit: z.string().max(64).optional(), message: z.string().optional() })
    .partial()
    .optional(),
  /** OpenShift's: variables added to the build's environment (a Source build's: assemble sees them, the image keeps them). */
  env: z.array(envVar).max(100).optional(),
});

const MESSAGE_LIMIT = 1024;

/**
 * A generic or GitHub webhook call starts a build of its BuildConfig, as OpenShift's do: the
 * secret on the URL must be that of one of the BuildConfig's triggers of the same type
 * (compared in constant time); a wrong secret, an unknown BuildConfig and one without such a
 * trigger all get the same 404, so the URL tells a caller without the secret nothing. GitHub's
 * `X-Hub-Signature-256`, when sent, must be the HMAC of the body with that secret. A push to
 * another branch (or a ping) starts nothing and says so; a malformed payload is a 400.
 */
@Injectable()
export class ReceiveWebhook {
  constructor(
    private readonly buildConfigs: BuildConfigRepository,
    private readonly instantiate: InstantiateBuild,
  ) {}

  async execute(request: WebhookRequest): Promise<Build | Status> {
    const { namespace, name, type, secret } = request;
    const bc = await this.buildConfigs.find(namespace, name);
    const trigger = bc?.spec.triggers.find((t) => t.type === (type === 'github' ? 'GitHub' : 'Generic') && 'secret' in t && sameSecret(t.secret, secret));
    if (!bc || !trigger) throw ApiError.of('NotFound', `no ${type} webhook of buildconfig ${namespace}/${name} has this secret`);
    if (!isGitSource(bc.spec.source)) throw ApiError.of('BadRequest', `buildconfig ${namespace}/${name} builds uploads (source type Binary): a webhook cannot start it; use instantiatebinary`);
    const branch = bc.spec.source.git.ref;
    const outcome = type === 'github' ? githubOutcome(request, branch) : genericOutcome(request, branch);
    if ('ignored' in outcome) return successStatus(`no build started: ${outcome.ignored}`, { kind: 'BuildConfig', name });
    if (outcome.env?.length && bc.spec.strategy.type !== 'Source') throw ApiError.of('BadRequest', `env in a generic webhook payload is for Source builds; buildconfig ${namespace}/${name} is a Docker build (give its Dockerfile ARGs as buildArgs)`);
    return this.instantiate.execute(namespace, name, outcome.message.slice(0, MESSAGE_LIMIT), { commit: outcome.commit, env: outcome.env });
  }
}

/** A build to start (of `commit`, the pushed one, when the payload names it), or why none. */
type Outcome = { message: string; commit?: string; env?: EnvVar[] } | { ignored: string };
const FULL_COMMIT_ID = /^[0-9a-f]{40}$/;
/** What GitHub sends as `after` for a push that deleted the branch. */
const NO_COMMIT = /^0{40}$/;

/** The payload's commit when it is a full commit id (anything else, a short one, is left to the branch's head). */
function pinned(commit: string | undefined): string | undefined {
  return commit && FULL_COMMIT_ID.test(commit) ? commit : undefined;
}

function githubOutcome(request: WebhookRequest, branch: string): Outcome {
  if (request.signature !== undefined && !validSignature(request.signature, request.secret, request.body ?? '')) {
    throw ApiError.of('Forbidden', 'X-Hub-Signature-256 does not match the body signed with the webhook secret');
  }
  const event = request.githubEvent;
  if (event === 'ping') return { ignored: 'a GitHub ping' };
  if (event !== 'push') throw ApiError.of('BadRequest', `X-GitHub-Event must be push (or ping), not ${event === undefined ? 'missing' : JSON.stringify(event.slice(0, 64))}`);
  const push = parsePayload(githubPush, request, 'a GitHub push');
  if (!push) throw ApiError.of('BadRequest', 'a GitHub push must have a JSON body');
  if (push.ref !== `refs/heads/${branch}`) return { ignored: `the push is to ${push.ref}, the buildconfig builds refs/heads/${branch}` };
  if (push.after && NO_COMMIT.test(push.after)) return { ignored: `the push deleted ${push.ref}` };
  const commit = push.after ? ` of ${push.after.slice(0, 12)}` : '';
  const author = push.head_commit?.author?.name ? ` by ${push.head_commit.author.name}` : '';
  const subject = firstLine(push.head_commit?.message);
  return { message: `GitHub WebHook: push${commit} to ${branch}${author}${subject ? `: ${subject}` : ''}`, commit: pinned(push.after) };
}

function genericOutcome(request: WebhookRequest, branch: string): Outcome {
  const payload = parsePayload(genericPayload, request, 'a generic webhook payload');
  const ref = payload?.git?.ref;
  if (ref !== undefined && ref !== branch && ref !== `refs/heads/${branch}`) return { ignored: `the payload names ref ${ref}, the buildconfig builds ${branch}` };
  const commit = payload?.git?.commit ? ` of ${payload.git.commit.slice(0, 12)}` : '';
  const subject = firstLine(payload?.git?.message);
  return { message: `Generic WebHook${commit}${subject ? `: ${subject}` : ''}`, commit: pinned(payload?.git?.commit), env: payload?.env };
}

/** The body as JSON checked against `schema`; undefined without a body; a 400 or 415 for anything else. */
function parsePayload<S extends z.ZodType>(schema: S, request: WebhookRequest, what: string): z.output<S> | undefined {
  if (!request.body) return undefined;
  if (!/^application\/json\b/i.test(request.contentType ?? '')) throw ApiError.of('UnsupportedMediaType', `${what} must be sent as application/json`);
  let json: unknown;
  try {
    json = JSON.parse(request.body);
  } catch {
    throw ApiError.of('BadRequest', `${what} is not valid JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw ApiError.of('BadRequest', `${what} is malformed: ${issue.path.join('.') || 'the body'}: ${issue.message}`);
  }
  return parsed.data;
}

/** Equal in constant time whatever the lengths: both are hashed first. */
function sameSecret(expected: string, given: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(expected), digest(given));
}

function validSignature(signature: string, secret: string, body: string): boolean {
  const expected = `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
  return sameSecret(expected, signature.trim().toLowerCase());
}

function firstLine(message: string | undefined): string {
  return (message ?? '').split('\n', 1)[0].trim().slice(0, 200);
}

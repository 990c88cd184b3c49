import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { redactCredentials } from '../builds/pipeline/redact-credentials';

export const GIT = Symbol('GIT');

/** Why a git call failed: unreachable/refused repository, missing ref, or timeout. */
export class GitError extends Error {
  constructor(
    message: string,
    readonly kind: 'unreachable' | 'ref-not-found' | 'timeout' | 'failed',
  ) {
    super(message);
    this.name = 'GitError';
  }
}

export interface Revision {
  commit: string;
  author: string;
  message: string;
}

/**
 * How git proves who it is to a repository (a BuildConfig's source secret): a user and a
 * password or token over http(s), with a CA to trust; or an ssh key, with the host keys to
 * check the server against.
 */
export type GitCredentials = { kind: 'basic'; username: string; password: string; caCert?: string } | { kind: 'ssh'; privateKey: string; knownHosts?: string };

/** What a path names in a commit: a file (or a symlink: its target) and its content, or a directory and the names in it. */
export type CommitEntry = { type: 'file'; content: string } | { type: 'directory'; names: string[] };

/** The fetched commit, and what each path asked for is in it (undefined: nothing there, or a submodule). */
export interface CommitRead {
  revision: Revision;
  entries: (CommitEntry | undefined)[];
}

/** The git operations builds use, run as `git` processes without a shell or prompts. */
export interface Git {
  /** Resolves when `ref` (a branch, tag or full commit id) exists in the repository at `uri`. */
  checkRef(uri: string, ref: string, timeoutMs: number, credentials?: GitCredentials): Promise<void>;
  /** Fetches `ref` at depth 1 into a new bare repository in `dir`, as its FETCH_HEAD. */
  fetch(uri: string, ref: string, dir: string, signal?: AbortSignal, credentials?: GitCredentials): Promise<void>;
  /**
   * The fetched commit, and what each of `paths` (relative to the top; '' is the top) is in it,
   * all read by one git process: a process costs a service ~10 ms of its event loop to start.
   */
  read(dir: string, paths: string[], signal?: AbortSignal): Promise<CommitRead>;
  /** Writes the fetched tree (or its `path` subtree) as an uncompressed tar to `file`, without what the glob patterns `excluded` match. */
  archive(dir: string, path: string | undefined, file: string, options?: { excluded?: string[]; signal?: AbortSignal }): Promise<void>;
  /**
   * Makes a new bare repository in `dir` holding one commit of the files `write` adds (with
   * git fast-import: nothing is written out as files), which the reads above then see as the
   * fetched commit. Answers the commit id.
   */
  importTree(dir: string, write: (add: TreeWriter) => Promise<void>, signal?: AbortSignal): Promise<string>;
}

/** Adds one file (`size` bytes of `content`, exactly) or symlink (its target as content) to a tree being imported. */
export type TreeWriter = (path: string, mode: 'file' | 'executable' | 'symlink', size: number, content: AsyncIterable<Uint8Array> | Buffer) => Promise<void>;

const FAST_IMPORT_MODES = { file: '100644', executable: '100755', symlink: '120000' } as const;

/** A path as fast-import reads it: C-style quoted, so that any name (quotes, newlines, leading spaces) is taken as it is. */
function quotedPath(name: string): string {
  const quoted = [...name].map((c) => {
    if (c === '\\' || c === '"') return `\\${c}`;
    const code = c.charCodeAt(0);
    return code < 0x20 || code === 0x7f ? `\\${code.toString(8).padStart(3, '0')}` : c;
  });
  return `"${quoted.join('')}"`;
}

const FULL_COMMIT_ID = /^[0-9a-f]{40}$/;

/** Environment for every git run: never prompt, never read the user's config for protocols. */
function gitEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: 'true',
    SSH_ASKPASS: 'true',
    GIT_SSH_COMMAND: 'ssh -o BatchMode=yes -o ConnectTimeout=10',
    GIT_ALLOW_PROTOCOL: 'file:git:http:https:ssh',
    GIT_CONFIG_NOSYSTEM: '1',
  };
}

type GitRun = { cwd?: string; timeoutMs?: number; signal?: AbortSignal; env?: Record<string, string>; input?: string };

export async function runGit(args: string[], options: GitRun = {}): Promise<string> {
  return (await gitOutput(args, options)).toString();
}

/** The most one git run may answer (a source file read past it fails the read rather than the service). */
const MAX_OUTPUT_BYTES = 16 << 20;

/** `git <args>` (with `input` on its standard input); its standard output. */
function gitOutput(args: string[], options: GitRun): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      args,
      { cwd: options.cwd, env: { ...gitEnv(), ...options.env }, timeout: options.timeoutMs, signal: options.signal, maxBuffer: MAX_OUTPUT_BYTES, killSignal: 'SIGKILL', encoding: 'buffer' },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        if ((error as NodeJS.ErrnoException).code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return reject(new GitError(`git ${args[0]} answered more than ${MAX_OUTPUT_BYTES >> 20} MiB`, 'failed'));
        const killed = (error as { killed?: boolean }).killed || error.name === 'AbortError';
        // execFile's own message repeats the command line, URL and all.
        const detail = redactCredentials(lastLine(stderr.toString()) || error.message);
        reject(new GitError(killed ? 'git timed out' : detail, killed ? 'timeout' : 'failed'));
      },
    );
    if (options.input === undefined) return;
    child.stdin?.on('error', () => undefined); // a git that died says why through its exit
    child.stdin?.end(options.input);
  });
}

interface GitObject {
  id: string;
  type: string;
  content: Buffer;
}

/** The answer of `git cat-file --batch` to `names`, in their order: an object each, undefined for one that is not there. */
function batchObjects(output: Buffer, names: string[]): (GitObject | undefined)[] {
  let at = 0;
  return names.map((name) => {
    // A name git cannot resolve comes back as it was asked, then why.
    for (const why of [' missing\n', ' ambiguous\n']) {
      const echo = Buffer.from(`${name}${why}`);
      if (output.subarray(at, at + echo.length).equals(echo)) {
        at += echo.length;
        return undefined;
      }
    }
    const headerEnd = output.indexOf(0x0a, at);
    const header = headerEnd < 0 ? null : /^([0-9a-f]{40,64}) ([a-z]+) (\d+)$/.exec(output.toString('utf8', at, headerEnd));
    if (!header) throw new GitError(`git cat-file gave no object for ${name}`, 'failed');
    const start = headerEnd + 1;
    at = start + Number(header[3]) + 1; // the content, then a newline
    return { id: header[1], type: header[2], content: output.subarray(start, at - 1) };
  });
}

/** A commit object as `git log --format='%H%n%an <%ae>%n%s'` tells it: its id, author and subject (its message's first paragraph on one line). */
function revisionOf(commit: GitObject): Revision {
  const text = commit.content.toString('utf8');
  const headersEnd = text.indexOf('\n\n');
  const headers = headersEnd < 0 ? text : text.slice(0, headersEnd);
  const message = headersEnd < 0 ? '' : text.slice(headersEnd + 2);
  const author = /^author (.*) \d+ [+-]\d{4}$/m.exec(headers)?.[1] ?? '';
  const subject = message.trimStart().split(/\n\s*\n/)[0].split('\n').map((line) => line.trim()).join(' ').trim();
  return { commit: commit.id, author, message: subject };
}

/** A blob as a file's content, a tree as the names in it; anything else (a submodule's commit) as nothing. */
function entryOf(object: GitObject | undefined): CommitEntry | undefined {
  if (object?.type === 'blob') return { type: 'file', content: object.content.toString('utf8') };
  if (object?.type !== 'tree') return undefined;
  // Entries of `<mode> <name>\0<id>`, the id as raw bytes (20 for sha1, 32 for sha256).
  const idBytes = object.id.length / 2;
  const names: string[] = [];
  for (let at = 0; at < object.content.length; ) {
    const nameStart = object.content.indexOf(0x20, at) + 1;
    const nameEnd = object.content.indexOf(0, nameStart);
    if (nameStart === 0 || nameEnd < 0) break;
    names.push(object.content.toString('utf8', nameStart, nameEnd));
    at = nameEnd + 1 + idBytes;
  }
  return { type: 'directory', names };
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter((line) => !line.startsWith('hint:')).pop()?.replace(/^fatal: /, '') ?? '';
}

/**
 * Runs `work` with the environment that hands git `credentials`, never on a command line (which
 * every user of the host may read): a user and password through a credential helper that
 * answers from the environment, configured for the repository's origin only
 * (`credential.<origin>.helper` in GIT_CONFIG_*), so no other host is ever told; an ssh key in
 * a file of a private directory, removed afterwards, with the host checked against
 * `known_hosts` when the secret has it (and not checked without, as OpenShift does).
 */
export async function withCredentials<T>(uri: string, credentials: GitCredentials | undefined, work: (env: Record<string, string>) => Promise<T>): Promise<T> {
  if (!credentials) return work({});
  const dir = await mkdtemp(path.join(tmpdir(), 'paas-git-credentials-'));
  try {
    if (credentials.kind === 'basic') {
      const config: [string, string][] = [[`credential.${originOf(uri)}.helper`, '!f() { echo "username=$PAAS_GIT_USERNAME"; echo "password=$PAAS_GIT_PASSWORD"; }; f']];
      if (credentials.caCert) {
        await writeFile(path.join(dir, 'ca.crt'), credentials.caCert, { mode: 0o600 });
        config.push(['http.sslCAInfo', path.join(dir, 'ca.crt')]);
      }
      return await work({ ...gitConfigEnv(config), PAAS_GIT_USERNAME: credentials.username, PAAS_GIT_PASSWORD: credentials.password });
    }
    const key = path.join(dir, 'id');
    await writeFile(key, credentials.privateKey.endsWith('\n') ? credentials.privateKey : `${credentials.privateKey}\n`, { mode: 0o600 });
    const knownHosts = path.join(dir, 'known_hosts');
    if (credentials.knownHosts) await writeFile(knownHosts, credentials.knownHosts, { mode: 0o600 });
    const hostChecks = credentials.knownHosts
      ? ['-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHosts}`]
      : ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'];
    const ssh = ['ssh', '-F', '/dev/null', '-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', ...hostChecks];
    return await work({ GIT_SSH_COMMAND: ssh.map((word) => `'${word}'`).join(' ') });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `scheme://host[:port]` of an http(s) URL, which git matches `credential.<url>.*` against. */
function originOf(uri: string): string {
  try {
    const url = new URL(uri);
    return `${url.protocol}//${url.host}`;
  } catch {
    return uri;
  }
}

/** Git configuration through the environment (git 2.31+), seen by the git process and its children only. */
function gitConfigEnv(entries: [string, string][]): Record<string, string> {
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(entries.length) };
  entries.forEach(([key, value], i) => Object.assign(env, { [`GIT_CONFIG_KEY_${i}`]: key, [`GIT_CONFIG_VALUE_${i}`]: value }));
  return env;
}

/** A path names the repository on this host; file:// lets --depth apply to it. */
function fetchUrl(uri: string): string {
  return uri.startsWith('/') ? `file://${uri}` : uri;
}

export class GitCli implements Git {
  async checkRef(uri: string, ref: string, timeoutMs: number, credentials?: GitCredentials): Promise<void> {
    if (ref.startsWith('-') || uri.startsWith('-')) throw new GitError('must not start with "-"', 'failed');
    let listing: string;
    try {
      listing = await withCredentials(uri, credentials, (env) => runGit(['ls-remote', '--', fetchUrl(uri)], { timeoutMs, env }));
    } catch (error) {
      const gitError = error as GitError;
      if (gitError.kind === 'timeout') throw new GitError(`repository did not answer within ${Math.round(timeoutMs / 1000)} s`, 'timeout');
      throw new GitError(`repository is not reachable: ${gitError.message}`, 'unreachable');
    }
    if (FULL_COMMIT_ID.test(ref)) return;
    const names = new Set(listing.split('\n').map((line) => line.split('\t')[1]).filter(Boolean));
    if (![ref, `refs/heads/${ref}`, `refs/tags/${ref}`].some((name) => names.has(name))) {
      throw new GitError(`no branch or tag "${ref}" in the repository`, 'ref-not-found');
    }
  }

  async fetch(uri: string, ref: string, dir: string, signal?: AbortSignal, credentials?: GitCredentials): Promise<void> {
    await runGit(['init', '--bare', '--quiet', dir], { signal });
    await withCredentials(uri, credentials, (env) => runGit(['fetch', '--quiet', '--depth', '1', '--no-tags', '--', fetchUrl(uri), ref], { cwd: dir, signal, env }));
  }

  async read(dir: string, paths: string[], signal?: AbortSignal): Promise<CommitRead> {
    const names = ['FETCH_HEAD^{commit}', ...paths.map((relative) => `FETCH_HEAD:${relative}`)];
    // -z: a name is ended by NUL, so that any path (a newline in it too) is asked for as it is.
    const output = await gitOutput(['cat-file', '--batch', '-z'], { cwd: dir, signal, input: names.map((name) => `${name}\0`).join('') });
    const [commit, ...objects] = batchObjects(output, names);
    if (commit?.type !== 'commit') throw new GitError('FETCH_HEAD names no commit', 'failed');
    return { revision: revisionOf(commit), entries: objects.map(entryOf) };
  }

  async archive(dir: string, path: string | undefined, file: string, options: { excluded?: string[]; signal?: AbortSignal } = {}): Promise<void> {
    // Pathspecs with exclude and glob magic: a pattern leaves out what it matches, a directory with all under it.
    const excluded = (options.excluded ?? []).map((pattern) => `:(exclude,glob)${pattern}`);
    const pathspecs = excluded.length ? ['--', '.', ...excluded] : [];
    await runGit(['archive', '--format=tar', `--output=${file}`, path ? `FETCH_HEAD:${path}` : 'FETCH_HEAD', ...pathspecs], { cwd: dir, signal: options.signal });
  }

  async importTree(dir: string, write: (add: TreeWriter) => Promise<void>, signal?: AbortSignal): Promise<string> {
    await runGit(['init', '--bare', '--quiet', dir], { signal });
    const child = spawn('git', ['fast-import', '--quiet', '--done'], { cwd: dir, env: gitEnv(), signal, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = `${stderr}${chunk.toString()}`.slice(-4096)));
    const exited = new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve(code ?? -1));
    });
    child.stdin.on('error', () => undefined); // a fast-import that died says why through its exit
    const put = (data: string | Uint8Array) => new Promise<void>((resolve, reject) => child.stdin.write(data, (error) => (error ? reject(error) : resolve())));
    const message = 'Binary build upload\n';
    try {
      await put(`commit refs/heads/upload\ncommitter paas <paas@localhost> 0 +0000\ndata ${Buffer.byteLength(message)}\n${message}`);
      await write(async (name, mode, size, content) => {
        await put(`M ${FAST_IMPORT_MODES[mode]} inline ${quotedPath(name)}\ndata ${size}\n`);
        let written = 0;
        for await (const chunk of Buffer.isBuffer(content) ? [content] : content) {
          written += chunk.length;
          await put(chunk);
        }
        if (written !== size) throw new GitError(`${name}: ${written} bytes where ${size} were announced`, 'failed');
        await put('\n');
      });
      await put('done\n');
      child.stdin.end();
    } catch (error) {
      child.kill('SIGKILL');
      await exited.catch(() => undefined);
      throw error;
    }
    const code = await exited;
    if (code !== 0) throw new GitError(`git fast-import failed: ${lastLine(stderr) || `exit code ${code}`}`, 'failed');
    const commit = (await runGit(['rev-parse', 'refs/heads/upload'], { cwd: dir, signal })).trim();
    await writeFile(path.join(dir, 'FETCH_HEAD'), `${commit}\t\tbinary upload\n`);
    return commit;
  }
}

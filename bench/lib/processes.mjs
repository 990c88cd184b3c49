// What the benchmarks share: Debian packages installed when missing, processes started and
// stopped by pid, free loopback ports, the CPU time a process has used, medians.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { natsKeyFile } from '../../scripts/lib/config.mjs';

/**
 * A benchmark talks to the platform's NATS as its operator (the key `npm run up` wrote), and so
 * do the services it starts, which inherit the environment; NATS_NKEY_FILE, when set, wins.
 */
export function asBusOperator() {
  if (!process.env.NATS_NKEY_FILE && existsSync(natsKeyFile('admin'))) process.env.NATS_NKEY_FILE = natsKeyFile('admin');
}

export const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Installs, with apt-get (as root or through sudo), the Debian package of each `{command: package}` whose command is missing. */
export function ensureAptPackages(commands) {
  const missing = Object.entries(commands)
    .filter(([command]) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status !== 0)
    .map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  process.stderr.write(`installing ${missing.join(', ')} (apt-get)\n`);
  const script = `apt-get update -q && apt-get install -y -q --no-install-recommends ${missing.join(' ')}`;
  const [command, ...args] = [...(process.getuid() === 0 ? [] : ['sudo']), 'sh', '-c', script];
  const result = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (result.status !== 0) throw new Error(`apt-get install ${missing.join(' ')} failed`);
}

/** Runs a command to its end; resolves with its output, rejects with its error output. */
export function exec(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`${command} ${args.join(' ')}: ${err.trim() || `exit ${code}`}`))));
    child.stdin.end(options.input);
  });
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** CPU seconds (user + system) the process has used so far. */
export function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop().split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** CPU seconds the whole machine has been busy (every state but idle and iowait), summed over its cores. */
export function machineBusySeconds() {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS;
}

/** CPU seconds of this process and of its children it has waited for (wrk, once it has ended). */
export function benchAndWrkSeconds() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ').pop().split(' ');
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
}

/** A started process, stopped by its pid (SIGTERM, then SIGKILL after 10 s). */
export function startProcess(command, args, options) {
  const child = spawn(command, args, { stdio: ['ignore', options.log, options.log], env: options.env, cwd: options.cwd });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    pid: child.pid,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * A NATS server of the benchmark's own (JetStream, no credentials) under `dir`: for a bench that
 * runs a baseline commit's service, which knows nothing of the platform's NATS credentials.
 */
export async function startPrivateNats(dir) {
  const [port, monitor] = [await freePort(), await freePort()];
  const log = `${dir}.log`;
  const proc = startProcess('nats-server', ['-a', '127.0.0.1', '-p', `${port}`, '-m', `${monitor}`, '-js', '-sd', dir], { log: openSync(log, 'a'), env: process.env });
  await waitReady('nats-server', `http://127.0.0.1:${monitor}/healthz`, proc, log);
  return { url: `nats://127.0.0.1:${port}`, proc };
}

/** Waits until `url` answers below 500; fails early, with the end of its log, when the process exits. */
export async function waitReady(name, url, proc, logFile, timeoutMs = 60_000) {
  let exit;
  void proc.exited.then((code) => (exit = code ?? 'a signal'));
  const deadline = Date.now() + timeoutMs;
  while (exit === undefined && Date.now() < deadline) {
    const status = await fetch(url).then(async (res) => (await res.arrayBuffer(), res.status), () => 0);
    if (status && status < 500) return;
    await sleep(100);
  }
  const why = exit === undefined ? `did not answer in ${timeoutMs / 1000} s` : `exited with ${exit}`;
  throw new Error(`${name} ${why}; the end of ${logFile}:\n${readFileSync(logFile, 'utf8').slice(-2000)}`);
}

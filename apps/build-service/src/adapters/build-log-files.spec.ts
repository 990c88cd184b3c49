import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BuildLogFiles, completeUtf8Length } from './build-log-files';

describe('BuildLogFiles', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'build-logs-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads from a byte offset and tells where to continue', async () => {
    const logs = new BuildLogFiles(dir);
    const log = await logs.open('demo', 'app-1');
    await log.write('one\n');
    await log.write(Buffer.from('two ✓\n'));
    await log.close();
    const first = await logs.read('demo', 'app-1', 0);
    expect(first).toEqual({ text: 'one\ntwo ✓\n', nextOffset: Buffer.byteLength('one\ntwo ✓\n') });
    expect(await logs.read('demo', 'app-1', 4)).toEqual({ text: 'two ✓\n', nextOffset: first.nextOffset });
    expect(await logs.read('demo', 'app-1', first.nextOffset)).toEqual({ text: '', nextOffset: first.nextOffset });
    expect(await logs.read('demo', 'missing', 0)).toEqual({ text: '', nextOffset: 0 });
    expect(log.tail(1)).toBe('two ✓');
  });

  it('caps a log at 10 MiB with one truncation line, and the build can go on writing', async () => {
    const logs = new BuildLogFiles(dir);
    const log = await logs.open('demo', 'app-1');
    const line = Buffer.from(`${'x'.repeat(1023)}\n`);
    for (let i = 0; i < 11 * 1024; i++) await log.write(line);
    await log.write('error: build error: assemble exited with code 1\n');
    await log.close();

    const file = path.join(dir, 'demo', 'app-1.log');
    const note = '---> log truncated at 10 MiB\n';
    expect(statSync(file).size).toBe(10 * 1024 * 1024 + note.length);
    const end = await logs.read('demo', 'app-1', 10 * 1024 * 1024 - 4);
    expect(end.text).toBe(`xxx\n${note}`);
    // One read answers at most 1 MiB.
    expect(await logs.read('demo', 'app-1', 0)).toMatchObject({ nextOffset: 1024 * 1024 });
    expect(log.tail(1)).toBe('error: build error: assemble exited with code 1');
  });

  it('cuts at the cap between characters and ends the cut line before the note', async () => {
    const logs = new BuildLogFiles(dir, 8);
    const log = await logs.open('demo', 'app-1');
    await log.write('abcdef✓✓');
    await log.write('more\n');
    await log.close();
    expect((await logs.read('demo', 'app-1', 0)).text).toBe('abcdef\n---> log truncated at 8 bytes\n');
  });

  it('counts what an earlier writer left in the file towards the cap', async () => {
    const logs = new BuildLogFiles(dir, 6);
    const first = await logs.open('demo', 'app-1');
    await first.write('1234\n');
    await first.close();
    const second = await logs.open('demo', 'app-1');
    await second.write('5678\n');
    await second.close();
    expect((await logs.read('demo', 'app-1', 0)).text).toBe('1234\n5\n---> log truncated at 6 bytes\n');
  });

  it('answers a write once the file has taken it, so output waits for the disk', async () => {
    const logs = new BuildLogFiles(dir);
    const log = await logs.open('demo', 'app-1');
    await log.write(Buffer.alloc(4 << 20, 'y'));
    expect(statSync(path.join(dir, 'demo', 'app-1.log')).size).toBe(4 << 20);
    await log.close();
  });

  it('rejects open when the file cannot be opened, instead of failing later', async () => {
    mkdirSync(path.join(dir, 'demo', 'app-1.log'), { recursive: true });
    await expect(new BuildLogFiles(dir).open('demo', 'app-1')).rejects.toMatchObject({ code: 'EISDIR' });
  });

  it('never cuts a UTF-8 character in two', () => {
    const check = Buffer.from('a✓');
    expect(completeUtf8Length(check)).toBe(4);
    expect(completeUtf8Length(check.subarray(0, 3))).toBe(1);
    expect(completeUtf8Length(check.subarray(0, 2))).toBe(1);
    expect(completeUtf8Length(Buffer.from('ab'))).toBe(2);
  });
});

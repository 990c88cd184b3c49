import { mkdtempSync, rmSync } from 'node:fs';
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
    log.write('one\n');
    log.write(Buffer.from('two ✓\n'));
    await log.close();
    const first = await logs.read('demo', 'app-1', 0);
    expect(first).toEqual({ text: 'one\ntwo ✓\n', nextOffset: Buffer.byteLength('one\ntwo ✓\n') });
    expect(await logs.read('demo', 'app-1', 4)).toEqual({ text: 'two ✓\n', nextOffset: first.nextOffset });
    expect(await logs.read('demo', 'app-1', first.nextOffset)).toEqual({ text: '', nextOffset: first.nextOffset });
    expect(await logs.read('demo', 'missing', 0)).toEqual({ text: '', nextOffset: 0 });
    expect(log.tail(1)).toBe('two ✓');
  });

  it('never cuts a UTF-8 character in two', () => {
    const check = Buffer.from('a✓');
    expect(completeUtf8Length(check)).toBe(4);
    expect(completeUtf8Length(check.subarray(0, 3))).toBe(1);
    expect(completeUtf8Length(check.subarray(0, 2))).toBe(1);
    expect(completeUtf8Length(Buffer.from('ab'))).toBe(2);
  });
});

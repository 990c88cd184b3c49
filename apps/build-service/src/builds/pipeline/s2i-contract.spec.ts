import { ignorePatterns, s2iEnvironment } from './git-source-fetcher';
import { assembleUser, s2iPaths } from './s2i-roles';

describe("source-to-image's contract", () => {
  it("runs assemble as the builder's assemble-user, else as its image's user, and never as root", () => {
    const image = (user: string, labels: Record<string, string> = {}) => ({ id: 'x', labels, user });
    expect(assembleUser(image('1001'))).toEqual({ user: '1001' });
    expect(assembleUser(image('1001', { 'io.openshift.s2i.assemble-user': '1500:0' }))).toEqual({ user: '1500:0' });
    expect(assembleUser(image('node'))).toEqual({ user: 'node' });
    for (const root of ['', 'root', '0', '0:0', 'root:root', '000']) {
      expect(assembleUser(image(root))).toEqual({ user: '1001', overruled: expect.stringContaining('builds never run as root: running it as 1001') });
    }
    expect(assembleUser(image('1001', { 'io.openshift.s2i.assemble-user': 'root' })).user).toBe('1001');
  });

  it("takes each script from the source's .s2i/bin when it brings it, else from the builder's scripts-url, under its destination", () => {
    expect(s2iPaths({}, [])).toEqual({
      destination: '/tmp',
      assemble: '/usr/libexec/s2i/assemble',
      run: '/usr/libexec/s2i/run',
      saveArtifacts: '/usr/libexec/s2i/save-artifacts',
      usage: '/usr/libexec/s2i/usage',
      sourceScripts: false,
    });
    expect(s2iPaths({ 'io.openshift.s2i.scripts-url': 'image:///opt/s2i/', 'io.openshift.s2i.destination': '/opt/app/' }, ['assemble', 'save-artifacts'])).toEqual({
      destination: '/opt/app',
      assemble: '/opt/app/scripts/assemble',
      run: '/opt/s2i/run',
      saveArtifacts: '/opt/app/scripts/save-artifacts',
      usage: '/opt/s2i/usage',
      sourceScripts: true,
    });
  });

  it('fails a builder whose scripts are not in the image, saying so', () => {
    expect(() => s2iPaths({ 'io.openshift.s2i.scripts-url': 'https://scripts.example/s2i' }, [])).toThrow(
      expect.objectContaining({ reason: 'InvalidScriptsURL', message: expect.stringContaining('"https://scripts.example/s2i"') }),
    );
    expect(() => s2iPaths({ 'io.openshift.s2i.scripts-url': 'file:///opt/s2i' }, ['assemble', 'run'])).toThrow(expect.objectContaining({ reason: 'InvalidScriptsURL' }));
  });

  it('reads .s2i/environment as NAME=value lines, skipping blanks and comments, and fails on anything else with its line', () => {
    expect(s2iEnvironment('# build settings\nNPM_MIRROR=https://npm.example/\n\n  DEBUG=app:*  \nEMPTY=\n')).toEqual(['NPM_MIRROR=https://npm.example/', 'DEBUG=app:*', 'EMPTY=']);
    expect(() => s2iEnvironment('GOOD=1\nexport BAD=2\n')).toThrow(expect.objectContaining({ reason: 'InvalidS2IEnvironment', message: '.s2i/environment line 2 is not NAME=value: "export BAD=2"' }));
  });

  it('reads .s2iignore as glob patterns relative to the source root, without comments or negations', () => {
    expect(ignorePatterns('# local files\n*.log\n./tmp\n/secrets/*\n!keep.log\n\n')).toEqual(['*.log', 'tmp', 'secrets/*']);
  });
});
